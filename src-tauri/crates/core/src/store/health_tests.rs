//! Long-running health on a real SQLite file: streamed output is appended as chunk rows (the
//! part's row is not rewritten per flush), short parts folded at the turn's end; the WAL stays bounded;
//! deleted chats give their space back; damage found while running is reported as damage.

use super::*;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, TurnEnd};
use parley_protocol::{ChatId, Part, ToolCallStatus};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn count(s: &Store, sql: &'static str) -> i64 {
    s.reader
        .call(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

async fn start(s: &Store, sid: &str, owner: &str) -> crate::chats::BegunTurn {
    let sid = ChatId(sid.into());
    if s.get_chat(&sid).await.unwrap().is_none() {
        s.create_chat(sid.clone(), String::new()).await.unwrap();
    }
    s.begin_turn(
        &sid,
        "question".into(),
        "p".into(),
        "m".into(),
        owner.into(),
    )
    .await
    .unwrap()
}

fn append(b: &crate::chats::BegunTurn, index: u32, text: &str) -> Vec<JournalOp> {
    vec![JournalOp::AppendText {
        message_id: b.assistant_message_id.clone(),
        index,
        text: text.into(),
    }]
}

fn insert(b: &crate::chats::BegunTurn, index: u32, part: Part) -> Vec<JournalOp> {
    vec![JournalOp::InsertPart {
        message_id: b.assistant_message_id.clone(),
        index,
        part,
    }]
}

async fn answer(s: &Store, sid: &str) -> Vec<Part> {
    let h = s.history(&ChatId(sid.into())).await.unwrap().unwrap();
    h.messages.last().unwrap().parts.clone()
}

#[test]
fn a_flush_writes_a_chunk_and_the_turns_end_folds_them_into_the_part() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let b = start(&s, "c", "me").await;
        let text = |t: &str| Part::Text { text: t.into() };
        s.journal(insert(&b, 0, text(""))).await.unwrap();
        let mut expected = String::new();
        for i in 0..50 {
            let piece = format!("piece {i} ünï 👋 ");
            expected.push_str(&piece);
            s.journal(append(&b, 0, &piece)).await.unwrap();
            // Readers see the whole text while it streams…
            if i % 10 == 0 {
                assert_eq!(answer(&s, "c").await, vec![text(&expected)]);
            }
        }
        // …and the part's own row was never rewritten: every flush is one new chunk row.
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 50);
        assert_eq!(count(&s, "SELECT sum(length(body)) FROM parts").await, 8);
        s.finish_turn(&b.turn_id, append(&b, 0, "end"), TurnEnd::completed())
            .await
            .unwrap();
        expected.push_str("end");
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 0);
        assert_eq!(answer(&s, "c").await, vec![text(&expected)]);
        // The part read alone (opening a long answer) is the folded text too.
        let one = s
            .part(&ChatId("c".into()), &b.assistant_message_id, 0)
            .await
            .unwrap();
        assert_eq!(one, Some(text(&expected)));

        // A long answer keeps its chunks as its storage (folding would write it twice more),
        // and reads whole all the same.
        let b = start(&s, "long", "me").await;
        s.journal(insert(&b, 0, text(""))).await.unwrap();
        let piece = "0123456789abcdef".repeat(1024); // 16 KB
        for _ in 0..5 {
            s.journal(append(&b, 0, &piece)).await.unwrap();
        }
        s.finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 5);
        assert_eq!(answer(&s, "long").await, vec![text(&piece.repeat(5))]);
        let one = s
            .part(&ChatId("long".into()), &b.assistant_message_id, 0)
            .await
            .unwrap();
        assert_eq!(one, Some(text(&piece.repeat(5))));
        // The tree's one-line preview reads the first chunk (the part's row holds none).
        let tree = s.tree(&ChatId("long".into())).await.unwrap().unwrap();
        let previews: Vec<&str> = tree.nodes.iter().map(|n| n.preview.as_str()).collect();
        assert!(
            previews.iter().any(|p| p.starts_with("0123456789abcdef")),
            "{previews:?}"
        );
        assert!(s.delete_chat(&ChatId("long".into())).await.unwrap());
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 0);
    });
}

#[test]
fn an_interrupted_turn_keeps_its_chunks_and_a_replaced_part_drops_them() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let b = start(&s, "c", "dead-owner").await;
        s.journal(insert(&b, 0, Part::Text { text: "a".into() }))
            .await
            .unwrap();
        s.journal(append(&b, 0, "bc")).await.unwrap();
        // A tool call whose arguments streamed in, then replaced whole when they completed.
        let call = |args: &str, status| Part::ToolCall {
            call_id: "call-1".into(),
            name: "read_file".into(),
            arguments: args.into(),
            status,
        };
        s.journal(insert(&b, 1, call("", ToolCallStatus::PendingInput)))
            .await
            .unwrap();
        s.journal(append(&b, 1, "{\"path\":")).await.unwrap();
        s.journal(append(&b, 1, "\"x\"}")).await.unwrap();
        let parts = answer(&s, "c").await;
        assert_eq!(
            parts[1],
            call("{\"path\":\"x\"}", ToolCallStatus::PendingInput)
        );
        s.journal(vec![JournalOp::ReplacePart {
            message_id: b.assistant_message_id.clone(),
            index: 1,
            part: call("{\"path\":\"y\"}", ToolCallStatus::AwaitingApproval),
        }])
        .await
        .unwrap();
        assert_eq!(
            answer(&s, "c").await[1],
            call("{\"path\":\"y\"}", ToolCallStatus::AwaitingApproval)
        );
        // The owner dies: its turn is interrupted, the call cancelled, the text folded.
        assert_eq!(s.interrupt_turns_of("dead-owner").await.unwrap(), 1);
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 0);
        let parts = answer(&s, "c").await;
        assert_eq!(parts[0], Part::Text { text: "abc".into() });
        assert_eq!(
            parts[1],
            call("{\"path\":\"y\"}", ToolCallStatus::Cancelled)
        );
    });
}

#[test]
fn chunks_of_another_running_turn_are_left_alone_and_deleting_its_chat_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let running = start(&s, "a", "me").await;
        s.journal(insert(
            &running,
            0,
            Part::Text {
                text: String::new(),
            },
        ))
        .await
        .unwrap();
        s.journal(append(&running, 0, "still streaming"))
            .await
            .unwrap();
        let other = start(&s, "b", "me").await;
        s.finish_turn(&other.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 1);
        assert!(s.delete_chat(&ChatId("a".into())).await.unwrap());
        assert_eq!(count(&s, "SELECT count(*) FROM part_chunks").await, 0);
        assert_eq!(
            count(&s, "SELECT count(*) FROM pragma_foreign_key_check").await,
            0
        );
    });
}

/// The WAL stays bounded over a long session: it is checkpointed as it goes and cut back to
/// `WAL_SIZE_LIMIT`; at most one transaction's worth more is ever on disk.
#[test]
fn the_wal_stays_bounded_over_a_long_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let wal = dir.path().join("parley.db-wal");
    let (s, _) = crate::open_store(&path).unwrap();
    let answer = "a streamed answer of some length. ".repeat(600); // 20 KB
    let mut largest = 0u64;
    rt().block_on(async {
        for i in 0..2_000 {
            let b = start(&s, &format!("c{}", i % 7), "me").await;
            s.journal(insert(
                &b,
                0,
                Part::Text {
                    text: String::new(),
                },
            ))
            .await
            .unwrap();
            for piece in answer.as_bytes().chunks(4096) {
                let piece = std::str::from_utf8(piece).unwrap();
                s.journal(append(&b, 0, piece)).await.unwrap();
            }
            s.finish_turn(&b.turn_id, vec![], TurnEnd::completed())
                .await
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
    });
    let written = 2_000 * answer.len() as u64;
    // Checkpoints every 1000 pages (4 MB) plus the turn that crossed it; cut back to the limit.
    let bound = (WAL_SIZE_LIMIT as u64).max(5 * 1024 * 1024);
    assert!(
        largest <= bound,
        "the WAL reached {largest} bytes over a session that wrote {written} (bound {bound})"
    );
    assert!(
        written > 4 * bound,
        "the session wrote more than the WAL holds"
    );
}

/// Deleting chats gives their pages back to the file system (incremental vacuum), and a
/// database made before that setting existed is rebuilt with it once.
#[test]
fn deleted_chats_give_their_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (s, _) = crate::open_store(&path).unwrap();
    let size = |s: &Store| {
        let s = s.clone();
        rt().block_on(async move {
            count(
                &s,
                "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
            )
            .await
        })
    };
    rt().block_on(async {
        let b = start(&s, "small", "me").await;
        s.finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
    });
    let before = size(&s);
    rt().block_on(async {
        for i in 0..5 {
            let b = start(&s, &format!("big{i}"), "me").await;
            let text = format!("{i} ").repeat(1 << 20); // 2 MB
            s.finish_turn(
                &b.turn_id,
                insert(&b, 0, Part::Text { text }),
                TurnEnd::completed(),
            )
            .await
            .unwrap();
        }
    });
    let grown = size(&s);
    assert!(grown > before + 9 * (1 << 20), "{before} → {grown}");
    rt().block_on(async {
        for i in 0..5 {
            assert!(s.delete_chat(&ChatId(format!("big{i}"))).await.unwrap());
        }
    });
    let after = size(&s);
    assert!(
        after <= before + (1 << 20),
        "after deleting the big chats the file is {after} bytes (was {before} before them)"
    );
    assert_eq!(rt().block_on(count(&s, "PRAGMA auto_vacuum")), 2);
    drop(s);

    // A database from before: no auto_vacuum. The next open rebuilds it with it.
    let old = dir.path().join("old.db");
    {
        let mut c = Connection::open(&old).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        super::tests::migrate_to(&mut c, 5);
        assert_eq!(
            c.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            0
        );
    }
    let (s, report) = crate::open_store(&old).unwrap();
    assert_eq!(report.previous_version, 5);
    assert_eq!(rt().block_on(count(&s, "PRAGMA auto_vacuum")), 2);
}

/// Damage found after the start (a page scribbled over while Parley runs) is reported as
/// damage — never as an empty chat — and says what to do.
#[test]
fn damage_found_while_running_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (s, _) = crate::open_store(&path).unwrap();
    rt().block_on(async {
        let b = start(&s, "c", "me").await;
        let text = "an answer long enough to need its own pages. ".repeat(4000);
        s.finish_turn(
            &b.turn_id,
            insert(&b, 0, Part::Text { text }),
            TurnEnd::completed(),
        )
        .await
        .unwrap();
        let wal: i64 = s
            .writer
            .call(|c| Ok(c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(wal, 0, "checkpointed");
    });
    // Scribble over the answer's overflow pages (the file's second half), never read so far.
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 64 * 1024] {
        *b = 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = rt()
        .block_on(s.history(&ChatId("c".into())))
        .expect_err("reading the damaged answer fails");
    assert!(err.is_damaged(), "{err:?}");
    let message = crate::error::CoreError::Store(err).to_info().message;
    assert!(
        message.contains("damaged") && message.contains("restore"),
        "{message}"
    );
}

/// A backup taken while an answer streamed holds its chunks; restoring it brings the answer
/// back whole and in order, its turn interrupted and its text folded.
#[test]
fn a_backup_taken_mid_stream_restores_the_answer_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let b = start(&s, "c", "me").await;
        s.journal(insert(&b, 0, Part::Text { text: "0".into() }))
            .await
            .unwrap();
        for piece in ["1", "2", "3", "4"] {
            s.journal(append(&b, 0, piece)).await.unwrap();
        }
        // Chunks of another chat between them: ids interleave, order per part holds.
        let other = start(&s, "other", "me").await;
        s.journal(insert(&other, 0, Part::Text { text: String::new() }))
            .await
            .unwrap();
        s.journal(append(&other, 0, "x")).await.unwrap();
        s.journal(append(&b, 0, "5")).await.unwrap();
        let file = crate::backups::BackupService::new(s.clone()).backup(None).await.unwrap();
        assert!(s.delete_chat(&ChatId("c".into())).await.unwrap());
        let restored = crate::backups::BackupService::new(s.clone()).restore(&file, false).await.unwrap();
        assert_eq!(restored.chats_added, 1);
        let h = s.history(&ChatId("c".into())).await.unwrap().unwrap();
        assert_eq!(h.messages[1].text(), "012345");
        assert_eq!(h.turns[0].status, parley_protocol::TurnStatus::Interrupted);
        assert_eq!(
            count(&s, "SELECT count(*) FROM part_chunks WHERE message_id IN (SELECT id FROM messages WHERE session_id = 'c')").await,
            0,
            "folded"
        );
    });
}
