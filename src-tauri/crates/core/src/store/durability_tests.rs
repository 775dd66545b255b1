//! Durability on a real SQLite file: migrations are all or nothing with a snapshot first, a
//! corrupt file found at start is moved aside (never deleted), one running turn per chat
//! across processes (two stores on one file are two processes' connections).

use super::*;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, TurnEnd};
use parley_protocol::ChatId;

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
    let err = open_and_migrate_with(&path, &broken, true, crate::search::register)
        .expect_err("the migration fails");
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
    let (store, report) = crate::open_store(&path).unwrap();
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
    let (store, _) = crate::open_store(&path).unwrap();
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
    let (store, _) = crate::open_store(&path).unwrap();
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
    let (store, report) = crate::open_store(&path).unwrap();
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
    rt().block_on(store.create_chat(ChatId("n".into()), String::new()))
        .unwrap();
}

#[test]
fn one_running_turn_per_chat_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (app, _) = crate::open_store(&path).unwrap();
    let (cli, _) = crate::open_store(&path).unwrap();
    rt().block_on(async {
        let sid = ChatId("s".into());
        app.create_chat(sid.clone(), String::new()).await.unwrap();
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
    let (a, _) = crate::open_store(&path).unwrap();
    let (b, _) = crate::open_store(&path).unwrap();
    for round in 0..25 {
        let sid = ChatId(format!("s{round}"));
        rt().block_on(a.create_chat(sid.clone(), String::new()))
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

/// A chat with one finished exchange: the question and its answer.
async fn exchange(s: &Store, sid: &str, question: &str, answer: &str) {
    let sid = ChatId(sid.into());
    if s.get_chat(&sid).await.unwrap().is_none() {
        s.create_chat(sid.clone(), String::new()).await.unwrap();
    }
    let b = s
        .begin_turn(&sid, question.into(), "p".into(), "m".into(), "me".into())
        .await
        .unwrap();
    let ops = vec![JournalOp::InsertPart {
        message_id: b.assistant_message_id.clone(),
        index: 0,
        part: parley_protocol::Part::Text {
            text: answer.into(),
        },
    }];
    s.finish_turn(&b.turn_id, ops, TurnEnd::completed())
        .await
        .unwrap();
}

async fn texts(s: &Store, sid: &str) -> Vec<String> {
    s.history(&ChatId(sid.into()))
        .await
        .unwrap()
        .map(|h| h.messages.iter().map(|m| m.text()).collect())
        .unwrap_or_default()
}

#[test]
fn restore_adds_what_is_missing_and_removes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        exchange(&s, "kept", "q1", "a1").await;
        exchange(&s, "lost", "q2", "a2").await;
        exchange(&s, "lost", "q3", "a3").await;
        let file = crate::backups::BackupService::new(s.clone())
            .backup(None)
            .await
            .unwrap();
        assert!(file.starts_with(dir.path().join("backups")), "{file:?}");
        let bytes = std::fs::read(&file).unwrap();
        // After the backup: a chat deleted, another one written on.
        assert!(s.delete_chat(&ChatId("lost".into())).await.unwrap());
        exchange(&s, "kept", "q4", "a4").await;
        let restored = crate::backups::BackupService::new(s.clone())
            .restore(&file, false)
            .await
            .unwrap();
        assert_eq!((restored.chats_added, restored.messages_added), (1, 4));
        assert_eq!(texts(&s, "lost").await, ["q2", "a2", "q3", "a3"]);
        assert_eq!(texts(&s, "kept").await, ["q1", "a1", "q4", "a4"]);
        let lost = s.get_chat(&ChatId("lost".into())).await.unwrap().unwrap();
        assert_eq!(lost.message_count, 4);
        // Again: nothing is missing any more. The backup file was never written to.
        let again = crate::backups::BackupService::new(s.clone())
            .restore(&file, false)
            .await
            .unwrap();
        assert_eq!((again.chats_added, again.messages_added), (0, 0));
        assert!(std::fs::read(&file).unwrap() == bytes, "the backup changed");
        assert_eq!(s.integrity_check().await.unwrap(), "ok");
    });
}

#[test]
fn restore_takes_older_backups_and_refuses_bad_ones_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        exchange(&s, "here", "q", "a").await;
        // A backup made at schema 3, with a chat this database does not have.
        let old = dir.path().join("old.db");
        database_at(&old, 3, 5);
        let before = std::fs::read(&old).unwrap();
        assert_eq!(
            crate::backups::BackupService::new(s.clone())
                .restore(&old, false)
                .await
                .map(|r| (r.chats_added, r.messages_added))
                .unwrap(),
            (1, 5)
        );
        // (That fixture's messages are not a thread, so count them rather than walk them.)
        let restored = s.get_chat(&ChatId("s".into())).await.unwrap().unwrap();
        assert_eq!(restored.message_count, 5);
        assert!(
            std::fs::read(&old).unwrap() == before,
            "the old backup changed"
        );
        // A file from a newer Parley, and one that is not a database: refused, nothing added.
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .execute_batch("CREATE TABLE future(x); PRAGMA user_version = 999;")
            .unwrap();
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, b"not a database at all, just text".repeat(200)).unwrap();
        for bad in [&newer, &garbage] {
            let err = crate::backups::BackupService::new(s.clone())
                .restore(bad, false)
                .await
                .expect_err("refused");
            assert!(
                matches!(
                    err,
                    crate::error::CoreError::Store(
                        StoreError::TooNew { .. } | StoreError::Sqlite(_)
                    )
                ),
                "{bad:?}: {err}"
            );
        }
        assert_eq!(texts(&s, "here").await, ["q", "a"]);
        let kept = s.get_chat(&ChatId("s".into())).await.unwrap().unwrap();
        assert_eq!(kept.message_count, 5);
        // No private copies are left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(".restoring"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    });
}

#[test]
fn daily_backups_roll_and_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    let day = 24 * 3600 * 1000;
    let t0 = 1_800_000_000_000_i64;
    rt().block_on(async {
        exchange(&s, "c", "q", "a").await;
        // Off: nothing taken.
        assert_eq!(
            crate::backups::BackupService::new(s.clone())
                .daily(0, t0)
                .await
                .unwrap(),
            None
        );
        let first = crate::backups::BackupService::new(s.clone())
            .daily(3, t0)
            .await
            .unwrap()
            .expect("the first one");
        // Within the day: not again.
        assert_eq!(
            crate::backups::BackupService::new(s.clone())
                .daily(3, t0 + day / 2)
                .await
                .unwrap(),
            None
        );
        let mut taken = vec![first];
        for d in 1..=4 {
            taken.push(
                crate::backups::BackupService::new(s.clone())
                    .daily(3, t0 + d * day)
                    .await
                    .unwrap()
                    .expect("a new day"),
            );
        }
        let names = |dir: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let left = names(&dir.path().join("backups"));
        let want: Vec<String> = taken[2..]
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, want, "only the newest 3 are kept");
        assert_eq!(count(&taken[4], "SELECT count(*) FROM messages"), 2);
        // Other backups are never pruned.
        let manual = crate::backups::BackupService::new(s.clone())
            .backup(None)
            .await
            .unwrap();
        crate::backups::BackupService::new(s.clone())
            .daily(1, t0 + 9 * day)
            .await
            .unwrap()
            .expect("a new day");
        assert!(manual.exists());
        assert_eq!(names(&dir.path().join("backups")).len(), 2);

        // What killed processes left: a half-written backup and a restore's private copy. An
        // hour old, they are removed; a fresh one may still be in use and stays.
        let backups = dir.path().join("backups");
        let hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
        for name in [
            "parley-daily-1.db.partial",
            ".restoring-old.db",
            ".restoring-old.db-wal",
        ] {
            let f = std::fs::File::create(backups.join(name)).unwrap();
            f.set_modified(hours_ago).unwrap();
        }
        std::fs::write(backups.join(".restoring-now.db"), b"in use").unwrap();
        crate::backups::BackupService::new(s.clone())
            .daily(1, t0 + 10 * day)
            .await
            .unwrap()
            .expect("a new day");
        let left = names(&backups);
        assert!(left.contains(&".restoring-now.db".to_string()), "{left:?}");
        assert!(
            !left
                .iter()
                .any(|n| n.ends_with(".partial") || n.contains("restoring-old")),
            "{left:?}"
        );
    });
}
