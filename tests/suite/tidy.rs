//! Tidy (issue 25): what interrupted imports and restores leave is swept at start; exports are
//! the user's only; a search of hundreds of words or prefixes, or of a one-letter prefix, is
//! refused at once with a sentence; an export of every chat goes on past a chat it cannot read
//! and names it.

use super::cli::run;
use parley_tests::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// The files an interrupted import, restore or backup leaves in `backups/`.
const LEFTOVERS: &[&str] = &[
    ".importing-0190a0b1.db",
    ".importing-0190a0b1.db-wal",
    ".importing-0190a0b1.db-shm",
    ".restoring-0190a0b2.db",
    ".restoring-0190a0b2.db-wal",
    ".restoring-0190a0b2.db-shm",
    ".restoring-0190a0b2.db-journal",
    "parley-daily-3.db.partial",
    "mine.db.partial",
];

/// Files that look alike but are backups (or the user's own): never swept.
const KEPT: &[&str] = &[
    "parley-daily-3.db",
    "parley-2026-01-01.db",
    "importing-notes.db",
    ".importing-notes.txt",
    "notes.partial",
];

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn leave(backups: &Path, names: &[&str], age: Duration) {
    std::fs::create_dir_all(backups).unwrap();
    for n in names {
        let f = std::fs::File::create(backups.join(n)).unwrap();
        f.set_modified(std::time::SystemTime::now() - age).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_imports_and_restores_are_swept_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let mut kept: Vec<String> = KEPT.iter().map(|s| s.to_string()).collect();
    kept.sort();

    // Nobody else runs on this folder: everything left is swept, however new.
    leave(&backups, LEFTOVERS, Duration::ZERO);
    leave(&backups, KEPT, Duration::from_secs(7200));
    drop(open_core(dir.path(), Default::default()).await);
    assert_eq!(names(&backups), kept);

    // Another Parley runs here: its fresh files may be in use and stay; those over an hour
    // old cannot be (an import or a restore takes minutes) and go.
    let other = open_core(dir.path(), Default::default()).await;
    leave(&backups, &LEFTOVERS[..4], Duration::ZERO);
    leave(&backups, &LEFTOVERS[4..], Duration::from_secs(7200));
    drop(open_core(dir.path(), Default::default()).await);
    let mut want: Vec<String> = kept
        .iter()
        .cloned()
        .chain(LEFTOVERS[..4].iter().map(|s| s.to_string()))
        .collect();
    want.sort();
    assert_eq!(names(&backups), want);

    // Once it is gone, the next start sweeps the rest. The CLI starts the same way.
    drop(other);
    let r = run(dir.path(), &["sessions", "list"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&backups), kept);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_the_users_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    data::chats(dir.path(), 2);
    let out = tempfile::tempdir().unwrap();
    for (format, name) in [("json", "all.json"), ("md", "all.md")] {
        let path = out.path().join(name);
        let p = path.display().to_string();
        let r = run(dir.path(), &["export", "--format", format, "-o", &p]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}: {mode:o}");
        // An existing file is never overwritten.
        let r = run(dir.path(), &["export", "--format", format, "-o", &p]).await;
        assert_ne!(r.code, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_of_too_many_words_or_prefixes_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    data::chats(dir.path(), 30);
    let many = |n: usize, each: &str| {
        (0..n)
            .map(|i| each.replace('N', &format!("{}", (b'a' + (i % 26) as u8) as char)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // 1,300 one-letter prefixes (the review's query took 6.9 s) fit in 4,096 characters.
    let prefixes = many(1300, "N*");
    assert!(prefixes.len() <= 4096);
    for (query, says) in [
        (prefixes.as_str(), "at most 2 prefixes"),
        (&many(3, "cN*"), "at most 2 prefixes"),
        (&many(33, "wN"), "at most 32 words"),
        (&many(2000, "N"), "at most 32 words"),
        (&"東".repeat(33), "at most 32 words"),
        ("k*", "at least 2 letters or digits before the *"),
        (
            "chat \"big d\"*",
            "at least 2 letters or digits before the *",
        ),
    ] {
        let started = Instant::now();
        let r = run(dir.path(), &["search", query]).await;
        assert_eq!(r.code, 1, "{query}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{query}: {}", r.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    for fine in [
        many(2, "cN*").as_str(),
        &many(32, "chat"),
        "Chat 0001",
        "東*",
    ] {
        let r = run(dir.path(), &["search", fine]).await;
        assert_eq!(r.code, 0, "{fine}: {}", r.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_every_chat_names_and_leaves_out_a_chat_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let ids = data::chats(dir.path(), 4);
    // Rows Parley never writes, as a crafted restore could leave them: a turn status, a part
    // kind.
    let c = rusqlite::Connection::open(dir.path().join("parley.db")).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status, started_at)
         VALUES ('t-bad', ?1, ?2, ?3, 'hijacked', 1)",
        rusqlite::params![ids[0], format!("{}-q", ids[0]), format!("{}-a", ids[0])],
    )
    .unwrap();
    c.execute(
        "UPDATE messages SET turn_id = 't-bad' WHERE id = ?1",
        [format!("{}-a", ids[0])],
    )
    .unwrap();
    c.execute(
        "UPDATE parts SET kind = 'shellcode' WHERE message_id = ?1",
        [format!("{}-a", ids[2])],
    )
    .unwrap();
    c.execute(
        "UPDATE sessions SET title = ?2 WHERE id = ?1",
        rusqlite::params![ids[2], "Bad \u{1b}[2J chat"],
    )
    .unwrap();
    drop(c);
    let out = tempfile::tempdir().unwrap();
    for (format, file) in [("json", "all.json"), ("md", "all.md")] {
        let path = out.path().join(file);
        let p = path.display().to_string();
        let r = run(dir.path(), &["export", "--format", format, "-o", &p]).await;
        assert_eq!(r.code, 3, "{format}: {}", r.stderr);
        for bad in [&ids[0], &ids[2]] {
            assert!(
                r.stderr.contains(&format!("left out chat {bad}")),
                "{}",
                r.stderr
            );
        }
        assert!(r.stderr.contains("“Bad ⟦U+001B⟧[2J chat”"), "{}", r.stderr);
        assert!(
            r.stderr
                .contains("2 chats could not be read and were left out"),
            "{}",
            r.stderr
        );
        let text = std::fs::read_to_string(&path).unwrap();
        for good in [&ids[1], &ids[3]] {
            let title = format!("Chat 000{}", &good[good.len() - 1..]);
            assert!(text.contains(&title), "{format}: {title} missing");
        }
        assert!(!text.contains("Chat 0000") && !text.contains("Chat 0002"));
        if format == "json" {
            let file: parley_protocol::ExportFile = serde_json::from_str(&text).unwrap();
            assert_eq!(file.chats.len(), 2);
        }
    }
    // To standard output (a pipe) the same, and a chat named by id still fails: it was asked.
    let r = run(dir.path(), &["export"]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("Chat 0001"));
    let r = run(dir.path(), &["export", "--chat", &ids[0]]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = run(dir.path(), &["export", "--chat", &ids[1]]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}
