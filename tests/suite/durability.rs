//! Durability across processes and under a full or read-only disk: one running turn per chat
//! whichever process sends, a dead process's turn does not block the chat, and a failed write
//! says why and loses nothing.

use super::cli::{add_local, newest_chat, parley, run};
use super::engine::{fast_http, run_turn};
use parley_protocol::{EventMsg, ProviderKind, SendOptions, TurnStatus};
use parley_tests::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Waits until the database in `dir` has a running turn whose answer so far ("Partial") is
/// stored; returns its chat's id.
async fn running_turn(dir: &Path) -> String {
    let db = dir.join("parley.db");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert!(Instant::now() < deadline, "no turn started");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(c) =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            continue;
        };
        // Running, with its first words journaled.
        let found: Option<String> = c
            .query_row(
                &format!(
                    "SELECT t.session_id FROM turns t JOIN parts p ON p.message_id = t.assistant_message_id
                     WHERE t.status = 'streaming' AND {PART_TEXT_SQL} = 'Partial'"
                ),
                [],
                |r| r.get(0),
            )
            .ok();
        if let Some(id) = found {
            return id;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_answers_one_message_at_a_time_whichever_process_sends() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![ev_text("Partial"), sleep_ms(60_000)]));
    server.push(Reply::sse(text_answer(&["Third ", "answered"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let mut first = parley(dir.path())
        .args(["ask", "first"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sid = running_turn(dir.path()).await;

    // Another process sends in the same chat while the first answers: refused, nothing stored.
    let second = run(dir.path(), &["ask", "--session", &sid, "second"]).await;
    assert_ne!(second.code, 0, "{}", second.stdout);
    assert!(
        second.stderr.contains("still answering"),
        "{}",
        second.stderr
    );
    assert_eq!(
        server.received().len(),
        1,
        "the refused send reached the provider"
    );

    // The first process dies: its turn no longer blocks the chat.
    first.start_kill().unwrap();
    let status = first.wait().await.unwrap();
    assert!(!status.success());
    let third = run(dir.path(), &["ask", "--session", &sid, "third"]).await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(third.stdout.contains("Third answered"), "{}", third.stdout);

    let h = newest_chat(dir.path(), Some(1)).await;
    let texts: Vec<String> = h.messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["first", "Partial", "third", "Third answered"]);
    let statuses: Vec<TurnStatus> = h.turns.iter().map(|t| t.status).collect();
    assert_eq!(statuses, [TurnStatus::Interrupted, TurnStatus::Completed]);
}

/// A tmpfs of `size` mounted on `dir` for the test's lifetime (unmounted on drop).
pub(super) struct Mount(PathBuf);

impl Mount {
    pub(super) fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(dir.to_owned())),
            Ok(o) => {
                eprintln!(
                    "skipped: this test mounts a small filesystem and could not ({}); run it as root (CI does)",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: `mount` could not run: {e}");
                None
            }
        }
    }

    /// Remounts with `option` (`ro`, `rw`). Going read-only needs every file on it closed for
    /// writing: the database threads of a dropped core end on their own, so this waits for
    /// them (the kernel says "busy" until then).
    async fn remount(&self, option: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = std::process::Command::new("mount")
                .args(["-o", &format!("remount,{option}")])
                .arg(&self.0)
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                err.contains("busy") && Instant::now() < deadline,
                "remount {option}: {err}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let out = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .output();
        if let Ok(o) = out {
            if !o.status.success() {
                eprintln!(
                    "umount {}: {}",
                    self.0.display(),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

/// Fills the filesystem holding `dir` until it refuses another byte.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&block).and_then(|()| f.sync_all()) {
            assert_eq!(e.raw_os_error(), Some(28), "{e}");
            break;
        }
    }
    // What a partial block left: fill it byte by byte.
    while f.write_all(&[0]).and_then(|()| f.sync_all()).is_ok() {}
    filler
}

fn texts(h: &parley_protocol::ChatHistory) -> Vec<String> {
    h.messages.iter().map(|m| m.text()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_or_read_only_disk_fails_the_send_with_a_clear_sentence_and_loses_nothing() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let Some(mount) = Mount::tmpfs(&data, "4m") else {
        return;
    };
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["Stored ", "answer"], 0)));
    let core = open_core(&data, fast_http()).await;
    add_provider(
        &core,
        "local",
        ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "m",
        None,
    )
    .await;
    let sid = core.chats().create_chat(None).await.unwrap().id;
    let events = run_turn(&core, &sid, "before the disk filled").await;
    assert!(events
        .iter()
        .any(|e| matches!(e, EventMsg::TurnCompleted { .. })));
    let history = |core: &parley_core::Core| {
        let (core, sid) = (core.clone(), sid.clone());
        async move { core.history().get_history(&sid, None, 100).await.unwrap() }
    };
    let kept = texts(&history(&core).await);
    assert_eq!(kept, ["before the disk filled", "Stored answer"]);

    let filler = fill(&data);
    // The WAL reuses its space after a checkpoint; a long message needs new pages whatever.
    let long = "words that need room on the disk ".repeat(2000);
    let err = core
        .chats()
        .send_message(&sid, &long, SendOptions::default())
        .await
        .err()
        .expect("the send fails on a full disk");
    let info = err.to_info();
    assert!(
        info.message.contains("The disk is full"),
        "{}",
        info.message
    );
    assert!(
        info.message.contains("Nothing saved earlier is lost"),
        "{}",
        info.message
    );
    assert_eq!(texts(&history(&core).await), kept);

    // Space freed: the same chat works again.
    std::fs::remove_file(&filler).unwrap();
    let events = run_turn(&core, &sid, "after space was freed").await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::TurnCompleted { .. })),
        "{events:?}"
    );
    let kept = texts(&history(&core).await);
    assert_eq!(kept.len(), 4, "{kept:?}");

    // A read-only data folder: Parley says so when it starts, and loses nothing.
    drop(core);
    mount.remount("ro").await;
    let err = parley_core::Core::open(parley_core::CoreOptions {
        data_dir: data.clone(),
        secrets: std::sync::Arc::new(parley_core::secrets::MemoryStore::new()),
        http: fast_http(),
    })
    .await
    .err()
    .expect("Parley cannot start on a read-only folder");
    let info = err.to_info();
    assert!(info.message.contains("read-only"), "{}", info.message);
    assert!(
        info.message.contains("Nothing saved earlier is lost"),
        "{}",
        info.message
    );
    mount.remount("rw").await;
    let core = open_core(&data, fast_http()).await;
    assert_eq!(texts(&history(&core).await), kept);
    let events = run_turn(&core, &sid, "writable again").await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::TurnCompleted { .. })),
        "{events:?}"
    );
    assert_eq!(texts(&history(&core).await).len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_from_the_command_line_bring_back_a_deleted_chat() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["Worth ", "keeping"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let asked = run(dir.path(), &["ask", "remember this"]).await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let id = newest_chat(dir.path(), Some(1)).await.session.id.0;

    let file = dir.path().join("my-backup.db");
    let file_arg = file.display().to_string();
    let backed = run(dir.path(), &["backup", &file_arg]).await;
    assert_eq!(backed.code, 0, "{}", backed.stderr);
    assert!(backed.stdout.contains(&file_arg), "{}", backed.stdout);
    // Never over an existing file.
    let again = run(dir.path(), &["backup", &file_arg]).await;
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
    // Without a file: into the backups folder.
    let auto = run(dir.path(), &["backup"]).await;
    assert_eq!(auto.code, 0, "{}", auto.stderr);
    assert!(
        auto.stdout
            .contains(&dir.path().join("backups").display().to_string()),
        "{}",
        auto.stdout
    );

    let deleted = run(dir.path(), &["sessions", "delete", &id]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let restored = run(dir.path(), &["restore", &file_arg]).await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert!(
        restored.stdout.contains("Added 1 chat and 2 messages"),
        "{}",
        restored.stdout
    );
    let h = newest_chat(dir.path(), Some(1)).await;
    assert_eq!(h.session.id.0, id);
    let texts: Vec<String> = h.messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["remember this", "Worth keeping"]);
    // Restoring twice adds nothing; a file that is not there is a clear error.
    let twice = run(dir.path(), &["restore", &file_arg]).await;
    assert!(
        twice.stdout.contains("Added 0 chats and 0 messages"),
        "{}",
        twice.stdout
    );
    let missing = run(dir.path(), &["restore", "/nonexistent/backup.db"]).await;
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("is not a file"),
        "{}",
        missing.stderr
    );
}
