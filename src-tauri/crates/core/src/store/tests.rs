//! Store tests on a real SQLite file in a temp dir.

use super::*;
use crate::approvals::GrantTables as _;
use crate::chats::ChatTables as _;
use crate::chats::{default_title, JournalOp, TurnEnd};
use parley_protocol::{ChatId, Part, StopReason, TurnStatus, Usage};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Brings `c` to schema `version` the way that version did: its migrations one by one.
pub(super) fn migrate_to(c: &mut Connection, version: usize) {
    crate::search::register(c).unwrap();
    for (i, sql) in schema::MIGRATIONS.iter().take(version).enumerate() {
        let tx = c.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
}

#[test]
fn migrations_set_user_version_and_reopen_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (_s, report) = crate::open_store(&path).unwrap();
    assert_eq!(report.previous_version, 0);
    drop(_s);
    let (_s, report) = crate::open_store(&path).unwrap();
    assert_eq!(report.previous_version, schema::latest_version());
    assert!(report.moved_aside.is_none());
}

#[test]
fn newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 999;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = crate::open_store(&path).err().unwrap();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer version of Parley"));
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the newer database was modified"
    );
}

#[test]
fn unreadable_database_is_moved_aside_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let garbage = b"this is not a sqlite database, but it is the user's file".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let (_s, report) = crate::open_store(&path).unwrap();
    let aside = report.moved_aside.expect("moved aside");
    assert!(
        std::fs::read(&aside).unwrap() == garbage,
        "moved-aside file differs"
    );
}

#[test]
fn turn_journal_and_history_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = crate::open_store(&dir.path().join("p.db")).unwrap();
    rt().block_on(async {
        let s = store
            .create_chat(ChatId("s1".into()), String::new())
            .await
            .unwrap();
        let begun = store
            .begin_turn(
                &s.id,
                "Hello there\nsecond line".into(),
                "p".into(),
                "m".into(),
                "me".into(),
            )
            .await
            .unwrap();
        let mid = begun.assistant_message_id.clone();
        store
            .journal(vec![
                JournalOp::InsertPart {
                    message_id: mid.clone(),
                    index: 0,
                    part: Part::Reasoning {
                        text: "hm".into(),
                        signature: Some("sig".into()),
                    },
                },
                JournalOp::InsertPart {
                    message_id: mid.clone(),
                    index: 1,
                    part: Part::Text { text: "Hi".into() },
                },
                JournalOp::AppendText {
                    message_id: mid.clone(),
                    index: 1,
                    text: " 👋".into(),
                },
            ])
            .await
            .unwrap();
        store
            .finish_turn(
                &begun.turn_id,
                vec![JournalOp::AppendText {
                    message_id: mid.clone(),
                    index: 1,
                    text: "!".into(),
                }],
                TurnEnd {
                    status: TurnStatus::Completed,
                    usage: Some(Usage {
                        input_tokens: 3,
                        output_tokens: 4,
                        ..Default::default()
                    }),
                    stop_reason: Some(StopReason::EndTurn),
                    finish_reason_raw: Some("stop".into()),
                    error: None,
                },
            )
            .await
            .unwrap();
        let h = store.history(&s.id).await.unwrap().unwrap();
        assert_eq!(h.session.title, "Hello there");
        assert_eq!(h.session.message_count, 2);
        assert_eq!(h.messages.len(), 2);
        assert_eq!(h.messages[0].text(), "Hello there\nsecond line");
        assert_eq!(h.messages[1].parent_id.as_ref(), Some(&h.messages[0].id));
        assert_eq!(h.messages[1].text(), "Hi 👋!");
        assert_eq!(
            h.messages[1].parts[0],
            Part::Reasoning {
                text: "hm".into(),
                signature: Some("sig".into())
            }
        );
        assert_eq!(h.turns[0].status, TurnStatus::Completed);
        assert_eq!(h.turns[0].usage.as_ref().unwrap().output_tokens, 4);

        // A second turn hangs off the first answer: the tree grows along the branch.
        let b2 = store
            .begin_turn(&s.id, "again".into(), "p".into(), "m".into(), "me".into())
            .await
            .unwrap();
        assert_eq!(b2.user_message.parent_id.as_ref(), Some(&mid));
        let h = store.history(&s.id).await.unwrap().unwrap();
        assert_eq!(h.messages.len(), 4);

        assert_eq!(store.integrity_check().await.unwrap(), "ok");
        assert!(store.delete_chat(&s.id).await.unwrap());
        assert!(store.history(&s.id).await.unwrap().is_none());
        assert_eq!(store.integrity_check().await.unwrap(), "ok");
    });
}

#[test]
fn interrupted_turns_keep_their_partial_text() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = crate::open_store(&dir.path().join("p.db")).unwrap();
    rt().block_on(async {
        let s = store
            .create_chat(ChatId("s".into()), "t".into())
            .await
            .unwrap();
        let b = store
            .begin_turn(
                &s.id,
                "q".into(),
                "p".into(),
                "m".into(),
                "dead-owner".into(),
            )
            .await
            .unwrap();
        store
            .journal(vec![JournalOp::InsertPart {
                message_id: b.assistant_message_id.clone(),
                index: 0,
                part: Part::Text {
                    text: "partial".into(),
                },
            }])
            .await
            .unwrap();
        assert_eq!(
            store.active_turn_owners().await.unwrap(),
            vec!["dead-owner"]
        );
        assert_eq!(store.interrupt_turns_of("dead-owner").await.unwrap(), 1);
        let h = store.history(&s.id).await.unwrap().unwrap();
        assert_eq!(h.turns[0].status, TurnStatus::Interrupted);
        assert_eq!(h.messages[1].text(), "partial");
        assert!(store.active_turn_owners().await.unwrap().is_empty());
    });
}

#[test]
fn default_titles() {
    assert_eq!(default_title("\n  hi there \nmore"), "hi there");
    assert_eq!(default_title("   "), "New chat");
    let long = "x".repeat(100);
    assert_eq!(default_title(&long).chars().count(), 61);
    // First words follow the rules every title follows: one visible line.
    for (text, want) in [
        ("\u{1b}]52;c;eA==\u{7}hi\u{1b}[2J", "]52;c;eA==hi[2J"),
        ("\u{1b}\u{7}\nsecond line", "second line"),
        ("rtl\u{202e}txt\u{2066} tab\there", "rtltxt tab here"),
        ("zero\u{200b}width\u{9b}", "zerowidth"),
    ] {
        assert_eq!(default_title(text), want, "{text:?}");
    }
}

#[cfg(unix)]
#[test]
fn the_data_folder_and_database_files_are_the_users_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let base = tempfile::tempdir().unwrap();
    // New: created 0700, files 0600 (the -wal and -shm files too, once written).
    let data = base.path().join("parley-new");
    let path = data.join("parley.db");
    let (s, _) = crate::open_store(&path).unwrap();
    rt().block_on(s.add_grant("/w", "run_shell", "{}")).unwrap();
    assert_eq!(mode(&data), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let f = PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    drop(s);
    // From an earlier version, world-readable: tightened.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_s, _) = crate::open_store(&path).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&path), 0o600);
    // A shared folder that is not Parley's keeps its mode.
    let shared = base.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    crate::util::private_dir(&shared).unwrap();
    assert_eq!(mode(&shared), 0o755);
}

#[test]
fn grants_saved_before_v5_apply_nowhere_but_stay_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    {
        let mut c = Connection::open(&path).unwrap();
        migrate_to(&mut c, 4);
        c.execute(
            "INSERT INTO grants(tool, arguments, created_at) VALUES ('run_shell', '{\"command\":\"./run.sh\"}', 1)",
            [],
        )
        .unwrap();
    }
    let (s, report) = crate::open_store(&path).unwrap();
    assert_eq!(report.previous_version, 4);
    let grants = rt().block_on(s.list_grants()).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].workspace, "");
    let g = crate::approvals::Grants::from_saved(grants);
    assert!(!g.covers("", "run_shell", r#"{"command":"./run.sh"}"#));
    assert!(!g.covers("/any", "run_shell", r#"{"command":"./run.sh"}"#));
    // The same call granted in two folders is two grants.
    rt().block_on(s.add_grant("/a", "run_shell", "{}")).unwrap();
    rt().block_on(s.add_grant("/b", "run_shell", "{}")).unwrap();
    rt().block_on(s.add_grant("/a", "run_shell", "{}")).unwrap();
    assert_eq!(rt().block_on(s.list_grants()).unwrap().len(), 3);
}
