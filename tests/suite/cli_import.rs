//! `parley import` of a large file as a user runs it: a progress line on a terminal and none in
//! a pipe; Ctrl-C while the file is read stops it, merges nothing and removes its staging
//! database; a SIGKILL at any moment leaves the chats all there or none of them. An imported
//! Claude chat continued with `parley ask` sends its attachments' text.

use super::cli::{parley, run};
use parley_protocol::ChatSummary;
use parley_tests::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A Parley export of `chats` chats of 40 messages (about 45 KB each).
fn export_file(dir: &Path, chats: usize) -> PathBuf {
    let file = dir.join("big.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    out.write_all(br#"{"format":"parley-chats","version":1,"exported_at":0,"chats":["#)
        .unwrap();
    let text = "an imported message of about a kilobyte ".repeat(25);
    for c in 0..chats {
        let sid = format!("big-{c}");
        let messages: Vec<serde_json::Value> = (0..40u32)
            .map(|i| {
                serde_json::json!({"id": format!("{sid}-{i}"), "session_id": sid,
                    "parent_id": if i > 0 { serde_json::Value::from(format!("{sid}-{}", i - 1)) } else { serde_json::Value::Null },
                    "role": if i.is_multiple_of(2) { "user" } else { "assistant" }, "created_at": i,
                    "parts": [{"type": "text", "text": format!("{c}.{i} {text}")}]})
            })
            .collect();
        let chat = serde_json::json!({"session": {"id": sid, "title": format!("Big {c}"),
            "created_at": 0, "updated_at": 0, "message_count": 40, "params": {}},
            "head": format!("{sid}-39"), "messages": messages, "turns": []});
        if c > 0 {
            out.write_all(b",").unwrap();
        }
        serde_json::to_writer(&mut out, &chat).unwrap();
    }
    out.write_all(b"]}").unwrap();
    out.flush().unwrap();
    file
}

/// The staging databases an import left in the data folder's backups.
fn staging_left(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("backups"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".importing-"))
        .collect()
}

async fn chats_in(data: &Path) -> usize {
    let r = run(data, &["sessions", "list", "--json", "--limit", "100000"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str::<Vec<ChatSummary>>(&r.stdout)
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progress_line_on_a_terminal_and_none_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let file = export_file(dir.path(), 400);
    // In a pipe: the report on stdout, nothing on stderr.
    let piped = dir.path().join("piped");
    let r = run(&piped, &["import", "--dry-run", file.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("400 chats"), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "progress in a pipe: {:?}", r.stderr);
    // On a terminal: "Reading: … of … MB, … chats…", rewritten in place, then cleared.
    let (master, slave) = open_pty();
    let mut child = parley(&dir.path().join("tty"))
        .args(["import", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let seen = seen.clone();
        let mut master = master;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has closed the terminal.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                seen.lock().unwrap().push_str(&text);
            }
        })
    };
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    let tty = seen.lock().unwrap().clone();
    assert!(tty.contains("Reading: "), "{tty:?}");
    assert!(tty.contains(" MB, ") && tty.contains(" chats…"), "{tty:?}");
    assert!(
        tty.ends_with("\r\x1b[2K"),
        "the line is cleared at the end: {tty:?}"
    );
}

/// Starts `parley import FILE` into `data` and waits until its staging database exists (the
/// file is being read).
async fn import_under_way(data: &Path, file: &Path) -> tokio::process::Child {
    std::fs::create_dir_all(data).unwrap();
    let child = parley(data)
        .args(["import", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while staging_left(data).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the import never started staging"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child
}

pub(super) fn signal(child: &tokio::process::Child, sig: i32) {
    let pid = child.id().unwrap() as i32;
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    #[allow(unsafe_code)]
    let r = unsafe { libc::kill(pid, sig) };
    assert_eq!(r, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_reading_merges_nothing_and_removes_the_staging_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = export_file(dir.path(), 1_500);
    let data = dir.path().join("data");
    let child = import_under_way(&data, &file).await;
    signal(&child, libc::SIGINT);
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cancelled; nothing was added"), "{stderr}");
    assert_eq!(chats_in(&data).await, 0);
    assert!(staging_left(&data).is_empty(), "{:?}", staging_left(&data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_leaves_every_chat_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let file = export_file(dir.path(), 1_500);
    // Killed while reading, and later (perhaps while merging): never part of the file.
    for after in [Duration::ZERO, Duration::from_millis(1_500)] {
        let data = dir.path().join(format!("data-{}", after.as_millis()));
        let child = import_under_way(&data, &file).await;
        tokio::time::sleep(after).await;
        signal(&child, libc::SIGKILL);
        let _ = child.wait_with_output().await.unwrap();
        let n = chats_in(&data).await;
        assert!(n == 0 || n == 1_500, "{after:?}: {n} of 1,500 chats merged");
    }
}

/// The data-loss bug of issue 27: a Claude chat's attachments (their extracted text) are sent
/// when the imported chat is continued, named and fenced, a fence inside the file included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_claude_chat_continued_sends_its_attachments_text() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Noted."], 0)));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = "boot ok\n```\nnot a fence end\n````\npanic at 12:01\n";
    let claude = serde_json::json!([{
        "uuid": "k9", "name": "Crash", "created_at": "2024-01-01T10:00:00Z",
        "chat_messages": [
            {"uuid": "k9a", "sender": "human", "text": "Why did it crash?",
             "created_at": "2024-01-01T10:00:01Z",
             "attachments": [{"file_name": "boot.log", "file_type": "txt", "extracted_content": log}]},
            {"uuid": "k9b", "sender": "assistant", "text": "The panic at 12:01.",
             "created_at": "2024-01-01T10:00:02Z"}
        ]
    }]);
    let file = d.join("claude.json");
    std::fs::write(&file, claude.to_string()).unwrap();
    let r = run(d, &["import", file.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    super::cli::add_local(d, &server).await;
    let list = run(d, &["sessions", "list", "--json"]).await;
    let chats: Vec<ChatSummary> = serde_json::from_str(&list.stdout).unwrap();
    let id = &chats[0].id.0;
    let r = run(d, &["ask", "--chat", id, "And the fix?"]).await;
    assert_eq!((r.code, r.stdout.as_str()), (0, "Noted.\n"), "{}", r.stderr);
    let body = server.received()[0].json();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages[0],
        serde_json::json!({"role": "user", "content": format!(
            "File: boot.log\n`````text\n{}\n`````\n\nWhy did it crash?",
            log.trim_end()
        )})
    );
    assert_eq!(messages[1]["content"], "The panic at 12:01.");
    assert_eq!(messages[2]["content"], "And the fix?");
}
