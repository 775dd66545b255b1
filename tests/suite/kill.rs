//! Kill anywhere: `parley` is SIGKILLed at random moments of every kind of work — an answer
//! streaming, a tool running, an approval waited for, a retry after a 429, a chat deleted or
//! renamed, a backup restored, an old database migrated (`kill_ops.rs`) — and after each kill a
//! new process opens the database. Every user message whose event went out is stored with its
//! text; the stored answer holds everything that arrived more than 250 ms before the kill; no
//! turn stays running and short answers are folded; every tool call has exactly one
//! result; an operation happened whole or not at all; `PRAGMA integrity_check` is ok.
//!
//! `PARLEY_KILLS` sets the count (default 24, three per kind; `cargo xtask soak` runs 200),
//! `PARLEY_KILL_SEED` repeats a run. Prints the count per kind, the seed and the worst loss.

use super::cli::{parley, run};
use super::kill_ops::{self as ops, Env};
use parley_protocol::{ChatHistory, Event, EventMsg, Message};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// What the test saw on the killed process's stdout, with when each line arrived.
type Seen = Arc<Mutex<Vec<(Instant, Event)>>>;

/// A small deterministic generator (xorshift), seeded per run and printed, so a failing run
/// can be repeated with `PARLEY_KILL_SEED`.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A running `parley` to be killed, with its JSON events as they arrive.
pub(super) struct Victim {
    child: tokio::process::Child,
    seen: Seen,
    lines: tokio::task::JoinHandle<()>,
    errors: tokio::task::JoinHandle<String>,
}

/// What a kill left: when it was sent, whether the process was still working (killed by the
/// signal rather than ended on its own), the events it had printed and its stderr.
pub(super) struct Killed {
    pub(super) at: Instant,
    pub(super) interrupted: bool,
    pub(super) seen: Vec<(Instant, Event)>,
    pub(super) stderr: String,
}

impl Killed {
    /// The user message the process acknowledged (its turn-started event went out).
    pub(super) fn acknowledged(&self) -> Option<Message> {
        self.seen.iter().find_map(|(_, e)| match &e.msg {
            EventMsg::TurnStarted { user_message, .. } => Some(user_message.clone()),
            _ => None,
        })
    }
}

impl Victim {
    /// Starts `parley ARGS` on `dir` with stdout read as JSON events.
    pub(super) fn spawn(dir: &Path, args: &[&str]) -> Victim {
        Victim::spawn_with(parley(dir).args(args).stdin(Stdio::null()), None)
    }

    /// Starts a prepared command; its stdout is read here, its stderr kept (or, given a
    /// terminal, written there).
    pub(super) fn spawn_with(
        cmd: &mut tokio::process::Command,
        terminal: Option<std::os::fd::OwnedFd>,
    ) -> Victim {
        match terminal {
            Some(fd) => cmd.stderr(Stdio::from(fd)),
            None => cmd.stderr(Stdio::piped()),
        };
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let seen: Seen = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take();
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            if let Some(mut e) = stderr {
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut e, &mut text).await;
            }
            text
        });
        let lines = {
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
        Victim {
            child,
            seen,
            lines,
            errors,
        }
    }

    /// SIGKILLs it `ms` milliseconds from now.
    pub(super) async fn kill_after(mut self, ms: u64) -> Killed {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let at = Instant::now();
        let _ = self.child.start_kill();
        let status = self.child.wait().await.unwrap();
        let _ = self.lines.await;
        let stderr = self.errors.await.unwrap_or_default();
        let seen = self.seen.lock().unwrap().clone();
        use std::os::unix::process::ExitStatusExt;
        Killed {
            at,
            interrupted: status.signal().is_some(),
            seen,
            stderr,
        }
    }
}

/// After a kill: a new process opens the database (and recovers what the dead one left), and
/// the file is whole: no running turn, short answers folded, one result per tool call,
/// integrity.
pub(super) async fn healthy(dir: &Path, what: &str) {
    let list = run(dir, &["sessions", "list", "--json"]).await;
    assert_eq!(list.code, 0, "{what}: {}", list.stderr);
    let c = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM turns WHERE status IN ('pending', 'streaming')"),
        0,
        "{what}: a turn stayed running"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM part_chunks GROUP BY message_id, idx
             HAVING sum(length(CAST(body AS BLOB))) <= {})",
            parley_core::chats::FOLD_AT_MOST
        )),
        0,
        "{what}: a short answer's streamed output was not folded when its turn ended"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM parts p JOIN messages cm ON cm.id = p.message_id
             WHERE p.kind = 'tool_call' AND (
               SELECT count(*) FROM parts r JOIN messages rm ON rm.id = r.message_id
               WHERE r.kind = 'tool_result' AND rm.session_id = cm.session_id
                 AND json_extract(r.meta, '$.call_id') = json_extract(p.meta, '$.call_id')) != 1"
        ),
        0,
        "{what}: a tool call without exactly one result"
    );
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{what}");
    search_index_exact(&c, what);
}

/// The search index matches the chats exactly: one entry per title, per text-bearing part and
/// per streamed chunk, none for anything deleted; and words of every stored message find it.
fn search_index_exact(c: &rusqlite::Connection, what: &str) {
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count(
            "SELECT count(*) FROM search_docs d WHERE
               (d.message_id IS NULL AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = d.session_id AND s.title <> ''))
            OR (d.chunk IS NOT NULL AND NOT EXISTS (SELECT 1 FROM part_chunks k WHERE k.id = d.chunk))
            OR (d.message_id IS NOT NULL AND d.chunk IS NULL AND NOT EXISTS
                 (SELECT 1 FROM parts p WHERE p.message_id = d.message_id AND p.idx = d.idx))"
        ),
        0,
        "{what}: the index has entries for things that are gone"
    );
    assert_eq!(
        count(
            "SELECT (SELECT count(*) FROM sessions WHERE title <> '')
                  + (SELECT count(*) FROM parts WHERE kind IN ('text', 'reasoning', 'tool_call', 'tool_result', 'file'))
                  - (SELECT count(*) FROM search_docs WHERE chunk IS NULL)"
        ),
        0,
        "{what}: the index misses a title or a part (or has one twice)"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT k.message_id, k.idx, max(k.id) AS last FROM part_chunks k
                 GROUP BY k.message_id, k.idx) p
             WHERE p.last IS NOT (SELECT max(d.chunk) FROM search_docs d
                 WHERE d.message_id = p.message_id AND d.idx = p.idx)"
        ),
        0,
        "{what}: streamed text of an ended turn is not all in the index"
    );
    let texts: Vec<(String, String)> = c
        .prepare(
            "SELECT p.message_id, p.body || coalesce((SELECT group_concat(k.body, '' ORDER BY k.id)
                 FROM part_chunks k WHERE k.message_id = p.message_id AND k.idx = p.idx), '')
             FROM parts p WHERE p.kind IN ('text', 'reasoning', 'tool_result')",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut find = c
        .prepare(
            "SELECT count(*) FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid
             WHERE search_fts MATCH ?1 AND d.message_id = ?2",
        )
        .unwrap();
    for (message, text) in texts {
        for word in text
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| w.len() >= 3 && w.is_ascii())
            .take(50)
        {
            let n: i64 = find
                .query_row(rusqlite::params![format!("\"{word}\""), message], |r| {
                    r.get(0)
                })
                .unwrap();
            assert!(
                n > 0,
                "{what}: {word:?} of message {message} is not found by search"
            );
        }
    }
}

/// The acknowledged message of a killed turn is stored with its text, and its answer keeps what
/// arrived more than 250 ms before the kill. Returns the loss (how long before the kill the
/// first lost output arrived), if any was lost.
pub(super) async fn answer_kept(
    dir: &Path,
    killed: &Killed,
    question: &str,
    full: &str,
    what: &str,
) -> Option<Duration> {
    let user = killed.acknowledged()?;
    let show = run(dir, &["sessions", "show", &user.chat_id.0, "--json"]).await;
    assert_eq!(show.code, 0, "{what}: {}", show.stderr);
    let h: ChatHistory = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(
        h.messages
            .iter()
            .find(|m| m.id == user.id)
            .map(|m| m.text()),
        Some(question.to_owned()),
        "{what}: the acknowledged message is missing (its stderr: {})",
        killed.stderr
    );
    // The first answer to it (later steps of an agent turn follow as its descendants).
    let answer = h
        .messages
        .iter()
        .find(|m| m.parent_id.as_ref() == Some(&user.id))
        .map(|m| m.text())
        .unwrap_or_default();
    assert!(
        full.starts_with(&answer),
        "{what}: the stored answer is not what was sent: {answer:?}"
    );
    let mut printed = String::new();
    for (at, e) in &killed.seen {
        if let EventMsg::TextDelta { delta, .. } = &e.msg {
            printed.push_str(delta);
            if printed.len() > answer.len() {
                let loss = killed.at.saturating_duration_since(*at);
                assert!(
                    loss <= Duration::from_millis(250),
                    "{what}: output that arrived {loss:?} before the kill was lost (stored {} of {} bytes)",
                    answer.len(),
                    printed.len()
                );
                return Some(loss);
            }
        }
    }
    Some(Duration::ZERO)
}

/// The kinds of work a kill lands in, in the order they take turns.
const KINDS: [&str; 8] = [
    "streaming",
    "tool run",
    "approval wait",
    "retry after 429",
    "delete",
    "rename",
    "restore",
    "migration",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_loses_nothing_acknowledged_and_leaves_a_whole_database() {
    let kills: usize = std::env::var("PARLEY_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let seed: u64 = std::env::var("PARLEY_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| parley_core::now_ms() as u64 | 1);
    let mut env = Env::new(Rng(seed)).await;
    let mut worst_loss = Duration::ZERO;
    let mut acknowledged = 0;
    // Per kind: kills, and how many of them caught the process before it exited.
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for k in 0..kills {
        let kind = KINDS[k % KINDS.len()];
        let what = format!("kill {k} ({kind}, seed {seed})");
        let outcome = match kind {
            "streaming" => ops::streaming(&mut env, k, &what).await,
            "tool run" => ops::tool_run(&mut env, k, &what).await,
            "approval wait" => ops::approval_wait(&mut env, k, &what).await,
            "retry after 429" => ops::retry(&mut env, k, &what).await,
            "delete" => ops::delete(&mut env, k, &what).await,
            "rename" => ops::rename(&mut env, k, &what).await,
            "restore" => ops::restore(&mut env, k, &what).await,
            _ => ops::migration(&mut env, k, &what).await,
        };
        let entry = per_kind.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += usize::from(outcome.interrupted);
        if let Some(loss) = outcome.loss {
            acknowledged += 1;
            worst_loss = worst_loss.max(loss);
        }
    }
    let table: Vec<String> = per_kind
        .iter()
        .map(|(kind, (n, mid))| format!("{kind} {n} ({mid} before it exited)"))
        .collect();
    eprintln!(
        "kill test: {kills} kills, seed {seed}, {acknowledged} after a message was acknowledged, worst loss {} ms; {}",
        worst_loss.as_millis(),
        table.join(", ")
    );
    assert!(
        kills < KINDS.len() || acknowledged > 0,
        "no kill came after a message was acknowledged"
    );
}
