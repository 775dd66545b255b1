//! Parley's export format on real SQLite files: a tree with every part type goes out and comes
//! back equal, a second import adds nothing, and broken, foreign, newer and inconsistent files
//! are refused with a sentence and add nothing.

use super::parley_format::read_export;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, Placement, TurnEnd};
use crate::store::Store;
use parley_protocol::{ChatId, ExportFile, Part, ToolCallStatus, Usage, EXPORT_FORMAT};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn every_part() -> Vec<Part> {
    vec![
        Part::Reasoning {
            text: "Thinking <b>hard</b>".into(),
            signature: Some("sig-123".into()),
        },
        Part::ToolCall {
            call_id: "call-1".into(),
            name: "read_file".into(),
            arguments: r#"{"path":"a.txt"}"#.into(),
            status: ToolCallStatus::Completed,
        },
        Part::ToolResult {
            call_id: "call-1".into(),
            output: "```\nfenced\n```".into(),
            is_error: false,
        },
        Part::Text {
            text: "The answer: **42** ✓ 東京".into(),
        },
    ]
}

/// A chat with two versions of its question, each answered with every kind of part.
async fn tree(s: &Store) -> ChatId {
    let sid = ChatId("chat".into());
    s.create_chat(sid.clone(), String::new()).await.unwrap();
    let b = s
        .begin_turn(&sid, "q1".into(), "p".into(), "m".into(), "me".into())
        .await
        .unwrap();
    let ops = |b: &crate::chats::BegunTurn| -> Vec<JournalOp> {
        every_part()
            .into_iter()
            .enumerate()
            .map(|(i, part)| JournalOp::InsertPart {
                message_id: b.assistant_message_id.clone(),
                index: i as u32,
                part,
            })
            .collect()
    };
    let mut end = TurnEnd::completed();
    end.usage = Some(Usage {
        input_tokens: 10,
        output_tokens: 20,
        reasoning_tokens: Some(5),
        cached_input_tokens: None,
    });
    s.finish_turn(&b.turn_id, ops(&b), end.clone())
        .await
        .unwrap();
    let at = Placement {
        edit: Some(b.user_message.id.clone()),
        seen: None,
        attachments: Vec::new(),
    };
    let b2 = s
        .begin_turn_at(
            &sid,
            "q1, edited".into(),
            "p".into(),
            "m2".into(),
            "me".into(),
            at,
        )
        .await
        .unwrap();
    s.finish_turn(&b2.turn_id, ops(&b2), end).await.unwrap();
    sid
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_tree_with_every_part_goes_out_and_comes_back_equal_once() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = crate::open_store(&dir.path().join("a.db")).unwrap();
        let sid = tree(&a).await;
        let out = ExportFile {
            format: EXPORT_FORMAT.into(),
            version: parley_protocol::EXPORT_VERSION,
            exported_at: 1,
            chats: a.export_chats(Some(vec![sid.clone()])).await.unwrap(),
        };
        assert_eq!(out.chats[0].messages.len(), 4);
        assert_eq!(out.chats[0].turns.len(), 2);
        let file = write(dir.path(), "x.json", &serde_json::to_string(&out).unwrap());
        let back = read_export(&file).unwrap();
        assert_eq!(back, out);

        let (b, _) = crate::open_store(&dir.path().join("b.db")).unwrap();
        let added = b.import_export(&back, false).await.unwrap();
        assert_eq!((added.chats_added, added.messages_added), (1, 4));
        let again = b.export_chats(None).await.unwrap();
        assert_eq!(again, out.chats, "the round trip changed the chat");
        // The selected path and the versions came along.
        let h = b.history(&sid).await.unwrap().unwrap();
        assert_eq!(h.messages[0].text(), "q1, edited");
        assert_eq!(h.versions.len(), 1);
        // A second import adds nothing and changes nothing.
        let twice = b.import_export(&back, false).await.unwrap();
        assert_eq!((twice.chats_added, twice.messages_added), (0, 0));
        assert_eq!(b.export_chats(None).await.unwrap(), out.chats);
    });
}

#[test]
fn one_branch_goes_out_alone_and_comes_back_as_that_branch() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = crate::open_store(&dir.path().join("a.db")).unwrap();
        let sid = tree(&a).await;
        let mut chats = a.export_chats(Some(vec![sid.clone()])).await.unwrap();
        super::export::keep_selected_path(&mut chats[0]);
        let chat = &chats[0];
        assert_eq!(
            chat.messages.len(),
            2,
            "the selected question and its answer"
        );
        assert_eq!(chat.messages[0].text(), "q1, edited");
        assert_eq!(chat.turns.len(), 1);
        assert_eq!(chat.turns[0].model.as_deref(), Some("m2"));
        let (b, _) = crate::open_store(&dir.path().join("b.db")).unwrap();
        let file = ExportFile {
            format: EXPORT_FORMAT.into(),
            version: 1,
            exported_at: 1,
            chats: chats.clone(),
        };
        let added = b.import_export(&file, false).await.unwrap();
        assert_eq!((added.chats_added, added.messages_added), (1, 2));
        let h = b.history(&sid).await.unwrap().unwrap();
        assert_eq!(h.messages.len(), 2);
        assert!(h.versions.is_empty(), "the other version stayed behind");
    });
}

#[test]
fn bad_files_are_refused_with_a_sentence_and_add_nothing() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = crate::open_store(&dir.path().join("a.db")).unwrap();
        let sid = tree(&a).await;
        let good = ExportFile {
            format: EXPORT_FORMAT.into(),
            version: 1,
            exported_at: 1,
            chats: a.export_chats(Some(vec![sid])).await.unwrap(),
        };
        let json = serde_json::to_string(&good).unwrap();
        let mut orphan = good.clone();
        orphan.chats[0].messages.remove(0);
        let mut foreign = good.clone();
        foreign.chats[0].messages[1].chat_id = ChatId("other".into());
        let mut twice = good.clone();
        let copy = twice.chats[0].clone();
        twice.chats.push(copy);
        let mut headless = good.clone();
        headless.chats[0].head = Some(parley_protocol::MessageId("nowhere".into()));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "truncated",
                json[..json.len() / 2].to_owned(),
                "not a Parley export",
            ),
            (
                "not json",
                "<html><script>alert(1)</script></html>".into(),
                "not a Parley export",
            ),
            (
                "another format",
                r#"{"format":"chatgpt","version":1,"chats":[]}"#.into(),
                "not a Parley export",
            ),
            (
                "newer",
                json.replace("\"version\":1", "\"version\":99"),
                "newer Parley",
            ),
            (
                "no version",
                r#"{"format":"parley-chats","chats":[]}"#.into(),
                "no format version",
            ),
            (
                "wrong shape",
                r#"{"format":"parley-chats","version":1,"exported_at":1,"chats":[{"session":5}]}"#
                    .into(),
                "shape",
            ),
            ("deep nesting", deep, "not a Parley export"),
            (
                "orphan",
                serde_json::to_string(&orphan).unwrap(),
                "not listed before it",
            ),
            (
                "foreign message",
                serde_json::to_string(&foreign).unwrap(),
                "belongs to",
            ),
            (
                "repeated chat",
                serde_json::to_string(&twice).unwrap(),
                "repeated",
            ),
            (
                "head elsewhere",
                serde_json::to_string(&headless).unwrap(),
                "not one of its messages",
            ),
        ];
        let (b, _) = crate::open_store(&dir.path().join("b.db")).unwrap();
        for (name, text, says) in cases {
            let file = write(dir.path(), &format!("{name}.json"), &text);
            let err = read_export(&file).unwrap_err().to_info().message;
            assert!(err.contains(says), "{name}: {err}");
            assert!(b.export_chats(None).await.unwrap().is_empty(), "{name}");
        }
    });
}
