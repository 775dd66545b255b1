//! Kill anywhere (streaming): `parley ask --json` is SIGKILLed at random moments — before the
//! request, while the answer streams, near its end — and after each kill a new process opens
//! the database. Every user message whose event went out is stored with its text; the stored
//! answer holds everything that arrived more than 250 ms before the kill; no turn stays
//! running; `PRAGMA integrity_check` is ok. `PARLEY_KILLS` sets the count (default 12;
//! `cargo xtask soak` runs 200). Prints the count, the seed and the worst loss observed.

use super::cli::{add_local, parley, run};
use parley_protocol::{Event, EventMsg, SessionHistory};
use parley_tests::*;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// What the test saw on the killed process's stdout, with when each line arrived.
type Seen = Arc<Mutex<Vec<(Instant, Event)>>>;

/// A small deterministic generator (xorshift), seeded per run and printed, so a failing run
/// can be repeated with `PARLEY_KILL_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_keeps_acknowledged_messages_and_the_journaled_answer() {
    let kills: usize = std::env::var("PARLEY_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("PARLEY_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| parley_core::now_ms() as u64 | 1);
    let mut rng = Rng(seed);
    // An answer of 150 words, one every 10 ms (1.5 s).
    let words: Vec<String> = (0..150).map(|i| format!("w{i} ")).collect();
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&pieces, 10)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let db = dir.path().join("parley.db");

    let mut worst_loss = Duration::ZERO;
    let mut acknowledged = 0;
    for k in 0..kills {
        let question = format!("message {k}");
        let mut child = parley(dir.path())
            .args(["ask", "--json", &question])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let seen: Seen = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let reader = {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(ev) = serde_json::from_str::<Event>(&line) {
                        seen.lock().unwrap().push((Instant::now(), ev));
                    }
                }
            })
        };
        // Anywhere from before the request to after the end (a third in the first 150 ms).
        let wait = if rng.below(3) == 0 {
            rng.below(150)
        } else {
            rng.below(1900)
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let killed_at = Instant::now();
        let _ = child.start_kill();
        let status = child.wait().await.unwrap();
        let _ = reader.await;
        let seen = seen.lock().unwrap().clone();

        // The next process opens the database (and recovers).
        let started = seen.iter().find_map(|(_, e)| match &e.msg {
            EventMsg::TurnStarted { user_message, .. } => Some(user_message.clone()),
            _ => None,
        });
        let Some(user) = started else {
            // Killed before the message was acknowledged: nothing is promised about it.
            continue;
        };
        acknowledged += 1;
        let show = run(
            dir.path(),
            &["sessions", "show", &user.session_id.0, "--json"],
        )
        .await;
        assert_eq!(show.code, 0, "kill {k} (seed {seed}): {}", show.stderr);
        let h: SessionHistory = serde_json::from_str(&show.stdout).unwrap();
        let stored_user = h.messages.iter().find(|m| m.id == user.id);
        assert_eq!(
            stored_user.map(|m| m.text()),
            Some(question.clone()),
            "kill {k} after {wait} ms (seed {seed}): the acknowledged message is missing"
        );
        let answer = h
            .messages
            .iter()
            .find(|m| m.parent_id.as_ref() == Some(&user.id))
            .map(|m| m.text())
            .unwrap_or_default();
        // What arrived, in order, and how much of it is stored.
        let mut printed = String::new();
        let mut first_lost: Option<Instant> = None;
        for (at, e) in &seen {
            if let EventMsg::TextDelta { delta, .. } = &e.msg {
                printed.push_str(delta);
                if first_lost.is_none() && printed.len() > answer.len() {
                    first_lost = Some(*at);
                }
            }
        }
        let full: String = words.concat();
        assert!(
            full.starts_with(&answer),
            "kill {k} (seed {seed}): the stored answer is not what was sent: {answer:?}"
        );
        if let Some(at) = first_lost {
            let loss = killed_at.saturating_duration_since(at);
            worst_loss = worst_loss.max(loss);
            assert!(
                loss <= Duration::from_millis(250),
                "kill {k} after {wait} ms (seed {seed}): output that arrived {loss:?} before the kill was lost (stored {} of {} bytes)",
                answer.len(),
                printed.len()
            );
        }
        let completed = h
            .turns
            .iter()
            .any(|t| t.status == parley_protocol::TurnStatus::Completed);
        assert!(
            !status.success() || completed,
            "kill {k}: the process ended on its own without completing"
        );
        let c = rusqlite::Connection::open(&db).unwrap();
        let running: i64 = c
            .query_row(
                "SELECT count(*) FROM turns WHERE status IN ('pending', 'streaming')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(running, 0, "kill {k} (seed {seed}): a turn stayed running");
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "kill {k} (seed {seed})");
    }
    eprintln!(
        "kill test: {kills} kills ({acknowledged} after the message was acknowledged), seed {seed}, worst loss {} ms",
        worst_loss.as_millis()
    );
    assert!(
        acknowledged > 0,
        "no kill came after a message was acknowledged"
    );
}
