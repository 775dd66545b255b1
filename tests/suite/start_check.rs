//! The start after a `parley` that was killed: its lock file stays behind, so the next start
//! checks every page of the database, and a damaged file is moved aside and the CLI says where.
//! A `parley` that ends cleanly leaves no lock file (its next start reads only a few pages).

use super::cli::{add_local, parley, run};
use parley_tests::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn lock_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("locks"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock"))
        .collect()
}

/// Waits until a turn is streaming in `dir`'s database.
async fn streaming(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert!(Instant::now() < deadline, "no turn started");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(c) = rusqlite::Connection::open_with_flags(
            dir.join("parley.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            continue;
        };
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM turns WHERE status = 'streaming'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if n > 0 {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_parley_makes_the_next_start_check_every_page() {
    let server = MockServer::start().await;
    let long = "a long answer that fills pages of its own. ".repeat(10_000);
    server.push(Reply::sse(text_answer(&[&long], 0)));
    server.push(Reply::sse(vec![ev_text("Partial"), sleep_ms(60_000)]));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let r = run(dir.path(), &["ask", "a long one"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lock_files(dir.path()), Vec::<String>::new(), "clean ends");

    let mut killed = parley(dir.path())
        .args(["ask", "another"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    streaming(dir.path()).await;
    killed.start_kill().unwrap();
    let _ = killed.wait().await;
    assert_eq!(
        lock_files(dir.path()).len(),
        1,
        "the killed one's lock stays"
    );

    // Everything into the main file, then 64 KB in its middle scribbled over.
    let db = dir.path().join("parley.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut bytes = std::fs::read(&db).unwrap();
    let len = bytes.len();
    assert!(len > 512 * 1024, "{len} bytes");
    bytes[len / 2..len / 2 + 64 * 1024].fill(0x5a);
    std::fs::write(&db, &bytes).unwrap();

    let r = run(dir.path(), &["sessions", "list"]).await;
    assert!(
        r.stderr.contains("could not be read") && r.stderr.contains("was moved to"),
        "{}",
        r.stderr
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".unreadable-"))
        .collect();
    assert!(
        aside
            .iter()
            .any(|e| std::fs::read(e.path()).unwrap() == bytes),
        "the damaged file is kept, untouched"
    );
    assert_eq!(
        lock_files(dir.path()),
        Vec::<String>::new(),
        "tidied, clean end"
    );
}
