//! Durability on a real SQLite file: migrations are all or nothing with a snapshot first, a
//! corrupt file found at start is moved aside (never deleted), one running turn per chat
//! across processes (two stores on one file are two processes' connections).

use super::*;
use parley_protocol::SessionId;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A database at schema `version`, made the way that version made it (WAL, its migrations
/// one by one), holding one chat with `n` messages.
fn database_at(path: &Path, version: usize, n: usize) {
    let mut c = Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    super::tests::migrate_to(&mut c, version);
    c.execute(
        "INSERT INTO sessions(id, title, created_at, updated_at) VALUES ('s', 'Kept', 1, 1)",
        [],
    )
    .unwrap();
    for i in 0..n {
        c.execute(
            "INSERT INTO messages(id, session_id, role, created_at) VALUES (?1, 's', 'user', ?2)",
            rusqlite::params![format!("m{i:05}"), i as i64],
        )
        .unwrap();
        c.execute(
            "INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)",
            rusqlite::params![format!("m{i:05}"), format!("message {i} ").repeat(20)],
        )
        .unwrap();
    }
}

fn count(path: &Path, sql: &str) -> i64 {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_failing_migration_leaves_the_database_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    database_at(&path, 4, 50);
    let before = std::fs::read(&path).unwrap();
    // Migration 5 is the real one; a sixth fails halfway through its statements.
    let mut broken: Vec<&str> = schema::MIGRATIONS.to_vec();
    broken.push("CREATE TABLE half_done(x); INSERT INTO half_done VALUES (1); THIS IS NOT SQL;");
    let err = open_and_migrate_with(&path, &broken).expect_err("the migration fails");
    assert!(err.to_string().contains("syntax error"), "{err}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "a failed migration changed the database file"
    );
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "a failed migration left writes in the WAL"
    );
    assert_eq!(count(&path, "PRAGMA user_version"), 4);
    assert_eq!(count(&path, "SELECT count(*) FROM messages"), 50);
    // The snapshot taken before it holds the data at version 4.
    let snapshots: Vec<PathBuf> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let name = snapshots[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("parley-before-schema-5-"), "{name}");
    assert_eq!(count(&snapshots[0], "PRAGMA user_version"), 4);
    assert_eq!(count(&snapshots[0], "SELECT count(*) FROM messages"), 50);
    let check: String = Connection::open(&snapshots[0])
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // The real migrations then take it to the current schema with every message.
    let (store, report) = Store::open(&path).unwrap();
    assert_eq!(report.previous_version, 4);
    drop(store);
    assert_eq!(
        count(&path, "PRAGMA user_version"),
        schema::latest_version()
    );
    assert_eq!(count(&path, "SELECT count(*) FROM messages"), 50);
}

#[cfg(unix)]
#[test]
fn snapshots_are_the_users_only_and_never_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    database_at(&path, 3, 3);
    let (store, _) = Store::open(&path).unwrap();
    drop(store);
    let backups = dir.path().join("backups");
    assert_eq!(
        std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let snapshot = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let c = Connection::open(&path).unwrap();
    let err = backup::copy_to(&c, &snapshot).expect_err("refused");
    assert!(err.to_string().contains("never overwrites"), "{err}");
    assert_eq!(count(&snapshot, "SELECT count(*) FROM messages"), 3);
    // An up-to-date database is not copied again at every start.
    drop(c);
    let (store, _) = Store::open(&path).unwrap();
    drop(store);
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1);
}

#[test]
fn corruption_found_at_start_moves_the_file_aside_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    database_at(&path, schema::MIGRATIONS.len(), 400);
    {
        // Checkpoint everything into the main file, so the damage below is all there is.
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 20 * page, "{} bytes", bytes.len());
    // Scribble over the middle of the file, past the header and the schema page.
    for b in &mut bytes[10 * page..10 * page + 600] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (store, report) = Store::open(&path).unwrap();
    let aside = report.moved_aside.expect("moved aside");
    assert!(
        std::fs::read(&aside).unwrap() == bytes,
        "the moved file was changed"
    );
    let reason = report.reason.expect("a reason");
    assert!(
        reason.contains("quick_check") || reason.contains("malformed"),
        "{reason}"
    );
    // The new database works.
    rt().block_on(store.create_session(SessionId("n".into()), String::new()))
        .unwrap();
}

#[test]
fn one_running_turn_per_chat_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (app, _) = Store::open(&path).unwrap();
    let (cli, _) = Store::open(&path).unwrap();
    rt().block_on(async {
        let sid = SessionId("s".into());
        app.create_session(sid.clone(), String::new())
            .await
            .unwrap();
        let begin = |s: &Store, owner: &str| {
            let (s, sid, owner) = (s.clone(), sid.clone(), owner.to_owned());
            async move {
                s.begin_turn(&sid, "hi".into(), "p".into(), "m".into(), owner)
                    .await
            }
        };
        let first = begin(&app, "app").await.unwrap();
        match begin(&cli, "cli").await {
            Err(StoreError::TurnRunning { owners }) => assert_eq!(owners, ["app"]),
            other => panic!("a second turn began: {other:?}"),
        }
        // A retry is refused the same way.
        let retry = cli
            .begin_retry(
                &sid,
                &first.user_message.id,
                "p".into(),
                "m".into(),
                "cli".into(),
            )
            .await;
        assert!(
            matches!(retry, Err(StoreError::TurnRunning { .. })),
            "{retry:?}"
        );
        app.finish_turn(&first.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        begin(&cli, "cli").await.unwrap();
    });
}

#[test]
fn two_processes_sending_at_once_begin_exactly_one_turn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (a, _) = Store::open(&path).unwrap();
    let (b, _) = Store::open(&path).unwrap();
    for round in 0..25 {
        let sid = SessionId(format!("s{round}"));
        rt().block_on(a.create_session(sid.clone(), String::new()))
            .unwrap();
        let racers: Vec<_> = [(a.clone(), "a"), (b.clone(), "b")]
            .into_iter()
            .map(|(s, owner)| {
                let sid = sid.clone();
                std::thread::spawn(move || {
                    rt().block_on(s.begin_turn(
                        &sid,
                        "hi".into(),
                        "p".into(),
                        "m".into(),
                        owner.into(),
                    ))
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|h| h.join().unwrap()).collect();
        let begun = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(begun, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(StoreError::TurnRunning { .. }))));
        let turns: i64 = rt()
            .block_on(a.reader.call(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM turns WHERE session_id = ?1",
                    [&sid.0],
                    |r| r.get(0),
                )?)
            }))
            .unwrap();
        assert_eq!(turns, 1, "round {round}");
    }
}
