//! The kinds of work the kill test (`kill.rs`) lands its kills in, each with what must hold
//! after it: the message and answer kept, the operation whole or absent, the database healthy.

use super::cli::{add_named, parley, run};
use super::cli_approvals::tool_calls;
use super::kill::{answer_kept, healthy, Rng, Victim};
use parley_tests::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What one kill showed: whether the process was still working, and (when a message had been
/// acknowledged) how much output the kill lost.
pub(super) struct Outcome {
    pub(super) interrupted: bool,
    pub(super) loss: Option<Duration>,
}

/// The data folder every kill works on, and what the kinds need.
pub(super) struct Env {
    rng: Rng,
    data: tempfile::TempDir,
    scratch: tempfile::TempDir,
    ws: tempfile::TempDir,
    /// The answer the streaming provider sends (150 words, one every 10 ms).
    words: String,
    _stream: MockServer,
    _quick: MockServer,
    /// A backup holding the chat `kept` (2 messages), for the restore kills.
    backup: PathBuf,
    kept: String,
    /// The schema-1 fixture's chats: id, title, message count.
    fixture: Vec<(String, String, i64)>,
    /// How long a short `parley` command takes here (start, open, work, exit).
    command_ms: u64,
    /// Per-kill servers, kept until the end (a killed process may still be connected).
    servers: Vec<MockServer>,
}

/// Asks `question` with the quick provider, to the end; returns the new chat's id.
async fn quick_chat(dir: &Path, question: &str) -> String {
    let r = run(dir, &["ask", "--json", "--provider", "quick", question]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<parley_protocol::Event>(l).ok())
        .find_map(|e| match e.msg {
            parley_protocol::EventMsg::TurnStarted { user_message, .. } => {
                Some(user_message.chat_id.0)
            }
            _ => None,
        })
        .expect("the quick chat started")
}

fn db_count(dir: &Path, sql: &str, id: &str) -> i64 {
    let c = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
    c.query_row(sql, [id], |r| r.get(0)).unwrap()
}

/// Messages of chat `id` (and whether its row is there).
fn chat_rows(dir: &Path, id: &str) -> (i64, i64) {
    (
        db_count(dir, "SELECT count(*) FROM sessions WHERE id = ?1", id),
        db_count(
            dir,
            "SELECT count(*) FROM messages m JOIN parts p ON p.message_id = m.id WHERE m.session_id = ?1",
            id,
        ),
    )
}

impl Env {
    pub(super) async fn new(rng: Rng) -> Env {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path();
        let words: Vec<String> = (0..150).map(|i| format!("w{i} ")).collect();
        let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
        let stream = MockServer::start().await;
        stream.fallback(Reply::sse(text_answer(&pieces, 10)));
        add_named(dir, "local", &stream).await;
        let quick = MockServer::start().await;
        quick.fallback(Reply::sse(text_answer(&["Quick ", "answer"], 0)));
        add_named(dir, "quick", &quick).await;

        let kept = quick_chat(dir, "kept in the backup").await;
        let scratch = tempfile::tempdir().unwrap();
        let backup = scratch.path().join("kept.db");
        let r = run(dir, &["backup", &backup.display().to_string()]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);

        let c = rusqlite::Connection::open_with_flags(
            own_fixtures().join("schema/v1.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut q = c
            .prepare("SELECT s.id, s.title, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s")
            .unwrap();
        let fixture = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let t = Instant::now();
        let r = run(dir, &["sessions", "list", "--json"]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let command_ms = t.elapsed().as_millis() as u64;
        Env {
            rng,
            data,
            scratch,
            ws: tempfile::tempdir().unwrap(),
            words: words.concat(),
            _stream: stream,
            _quick: quick,
            backup,
            kept,
            fixture,
            command_ms,
            servers: Vec::new(),
        }
    }

    fn dir(&self) -> &Path {
        self.data.path()
    }

    /// A moment within a short command's run (and a little after it).
    fn within_a_command(&mut self) -> u64 {
        let span = self.command_ms * 3 / 2 + 20;
        self.rng.below(span)
    }

    /// A provider of its own for kill `k`, answering these replies in order.
    async fn provider(&mut self, name: &str, replies: Vec<Reply>) {
        let server = MockServer::start().await;
        for r in replies {
            server.push(r);
        }
        add_named(self.data.path(), name, &server).await;
        self.servers.push(server);
    }
}

pub(super) async fn streaming(env: &mut Env, k: usize, what: &str) -> Outcome {
    let question = format!("message {k}");
    let victim = Victim::spawn(
        env.dir(),
        &["ask", "--json", "--provider", "local", &question],
    );
    // Anywhere from before the request to after the end (a third in the first 150 ms).
    let wait = if env.rng.below(3) == 0 {
        env.rng.below(150)
    } else {
        env.rng.below(1900)
    };
    let killed = victim.kill_after(wait).await;
    let loss = answer_kept(env.dir(), &killed, &question, &env.words, what).await;
    healthy(env.dir(), what).await;
    Outcome {
        interrupted: killed.interrupted,
        loss,
    }
}

pub(super) async fn tool_run(env: &mut Env, k: usize, what: &str) -> Outcome {
    let name = format!("tools{k}");
    env.provider(
        &name,
        vec![
            tool_calls(&[("c1", "run_shell", r#"{"command":"sleep 1; echo done"}"#)]),
            Reply::sse(text_answer(&["It ", "ran"], 0)),
        ],
    )
    .await;
    let question = format!("run it {k}");
    let ws = env.ws.path().display().to_string();
    let victim = Victim::spawn(
        env.dir(),
        &[
            "ask",
            "--json",
            "--provider",
            &name,
            "--workspace",
            &ws,
            "--approve",
            "all",
            &question,
        ],
    );
    let wait = env.rng.below(1400);
    let killed = victim.kill_after(wait).await;
    // The turn is one answer: the call, its result, then the text after it.
    let loss = answer_kept(env.dir(), &killed, &question, "It ran", what).await;
    healthy(env.dir(), what).await;
    Outcome {
        interrupted: killed.interrupted,
        loss,
    }
}

/// On a terminal `parley ask` asks before a write and waits; the kill lands while it waits
/// (or before). The file is never written, and the call ends cancelled with a result.
pub(super) async fn approval_wait(env: &mut Env, k: usize, what: &str) -> Outcome {
    let name = format!("approval{k}");
    let file = format!("approval-{k}.txt");
    let args = serde_json::json!({"path": file, "content": "never approved"}).to_string();
    env.provider(
        &name,
        vec![
            tool_calls(&[("c1", "write_file", &args)]),
            Reply::sse(text_answer(&["Written"], 0)),
        ],
    )
    .await;
    let (master, slave) = open_pty();
    // Whatever the prompt says is read and dropped; the read ends when the terminal closes.
    let drain = std::thread::spawn(move || {
        use std::io::Read;
        let mut master = master;
        let mut buf = [0u8; 4096];
        while matches!(master.read(&mut buf), Ok(n) if n > 0) {}
    });
    let question = format!("write it {k}");
    let ws = env.ws.path().display().to_string();
    let mut cmd = parley(env.dir());
    cmd.args([
        "ask",
        "--json",
        "--provider",
        &name,
        "--workspace",
        &ws,
        &question,
    ])
    .stdin(Stdio::from(slave.try_clone().unwrap()));
    let victim = Victim::spawn_with(&mut cmd, Some(slave));
    // The command holds its copies of the terminal until dropped; the drain ends only when
    // every copy is closed.
    drop(cmd);
    let wait = env.rng.below(1500);
    let killed = victim.kill_after(wait).await;
    tokio::task::spawn_blocking(move || drain.join())
        .await
        .unwrap()
        .unwrap();
    let loss = answer_kept(env.dir(), &killed, &question, "Written", what).await;
    healthy(env.dir(), what).await;
    assert!(
        !env.ws.path().join(&file).exists(),
        "{what}: a call nobody approved wrote its file"
    );
    Outcome {
        interrupted: killed.interrupted,
        loss,
    }
}

/// The provider answers 429 (retry after 1 s), then streams: the kill lands before, during or
/// after the wait.
pub(super) async fn retry(env: &mut Env, k: usize, what: &str) -> Outcome {
    let name = format!("retry{k}");
    let words: Vec<String> = (0..40).map(|i| format!("r{i} ")).collect();
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    env.provider(
        &name,
        vec![
            Reply::json(
                429,
                r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#,
            )
            .header("retry-after", "1"),
            Reply::sse(text_answer(&pieces, 10)),
        ],
    )
    .await;
    let question = format!("again {k}");
    let victim = Victim::spawn(
        env.dir(),
        &["ask", "--json", "--provider", &name, &question],
    );
    let wait = env.rng.below(1900);
    let killed = victim.kill_after(wait).await;
    let loss = answer_kept(env.dir(), &killed, &question, &words.concat(), what).await;
    healthy(env.dir(), what).await;
    Outcome {
        interrupted: killed.interrupted,
        loss,
    }
}

pub(super) async fn delete(env: &mut Env, k: usize, what: &str) -> Outcome {
    let id = quick_chat(env.dir(), &format!("to delete {k}")).await;
    let wait = env.within_a_command();
    let killed = Victim::spawn(env.dir(), &["sessions", "delete", &id])
        .kill_after(wait)
        .await;
    healthy(env.dir(), what).await;
    let rows = chat_rows(env.dir(), &id);
    assert!(
        rows == (1, 2) || rows == (0, 0),
        "{what}: the chat is half deleted: {rows:?}"
    );
    Outcome {
        interrupted: killed.interrupted,
        loss: None,
    }
}

pub(super) async fn rename(env: &mut Env, k: usize, what: &str) -> Outcome {
    let old = format!("to rename {k}");
    let id = quick_chat(env.dir(), &old).await;
    let new = format!("renamed {k}");
    let wait = env.within_a_command();
    let killed = Victim::spawn(env.dir(), &["sessions", "rename", &id, &new])
        .kill_after(wait)
        .await;
    healthy(env.dir(), what).await;
    let c = rusqlite::Connection::open(env.dir().join("parley.db")).unwrap();
    let title: String = c
        .query_row("SELECT title FROM sessions WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(title == old || title == new, "{what}: title {title:?}");
    assert_eq!(chat_rows(env.dir(), &id), (1, 2), "{what}");
    Outcome {
        interrupted: killed.interrupted,
        loss: None,
    }
}

/// The chat the backup holds is deleted, then `parley restore` is killed: the chat comes back
/// whole or not at all, and a later restore still works.
pub(super) async fn restore(env: &mut Env, _k: usize, what: &str) -> Outcome {
    let kept = env.kept.clone();
    let _ = run(env.dir(), &["sessions", "delete", &kept]).await;
    assert_eq!(chat_rows(env.dir(), &kept), (0, 0));
    let wait = env.rng.below(env.command_ms * 2 + 20);
    let backup = env.backup.display().to_string();
    let killed = Victim::spawn(env.dir(), &["restore", &backup])
        .kill_after(wait)
        .await;
    healthy(env.dir(), what).await;
    let rows = chat_rows(env.dir(), &kept);
    assert!(
        rows == (1, 2) || rows == (0, 0),
        "{what}: the restore is half done: {rows:?}"
    );
    let again = run(env.dir(), &["restore", &backup]).await;
    assert_eq!(again.code, 0, "{what}: {}", again.stderr);
    assert_eq!(chat_rows(env.dir(), &kept), (1, 2), "{what}");
    Outcome {
        interrupted: killed.interrupted,
        loss: None,
    }
}

/// A schema-1 database (made by that version, tests/fixtures/schema) opened by today's
/// `parley`, killed while it snapshots, migrates and rebuilds it: the next start finishes the
/// job with every chat, and every file named as a backup is a whole database.
pub(super) async fn migration(env: &mut Env, k: usize, what: &str) -> Outcome {
    let dir = env.scratch.path().join(format!("migration-{k}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(own_fixtures().join("schema/v1.db"), dir.join("parley.db")).unwrap();
    let wait = env.rng.below(env.command_ms * 2 + 20);
    let killed = Victim::spawn(&dir, &["sessions", "list", "--json"])
        .kill_after(wait)
        .await;
    healthy(&dir, what).await;
    for (id, title, messages) in &env.fixture {
        let c = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
        let (t, n): (String, i64) = c
            .query_row(
                "SELECT title, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("{what}: chat {title:?} is missing: {e}"));
        assert_eq!((&t, n), (title, *messages), "{what}");
    }
    let c = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, parley_core::store::schema::latest_version());
    for entry in std::fs::read_dir(dir.join("backups")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("parley-") && name.ends_with(".db")) {
            continue;
        }
        let b = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let check: String = b
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap_or_else(|e| format!("{e}"));
        assert_eq!(check, "ok", "{what}: backup {name} is not whole");
        let v: i64 = b
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1, "{what}: {name}");
    }
    Outcome {
        interrupted: killed.interrupted,
        loss: None,
    }
}
