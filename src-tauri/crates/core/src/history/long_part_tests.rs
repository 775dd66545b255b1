//! A long part from a file (an import or a restore) is kept as a streamed answer is: an empty
//! row and its text in chunk rows, indexed in pieces — so neither SQLite nor the search index
//! ever holds megabytes as one value — and it reads, searches, exports and restores whole.
//! A backup's chunk rows that Parley never writes (on a tool call, not text) set their chat
//! aside.

use super::import_tests::{core, parley_chat, parley_file, rt, write};
use parley_protocol::{ImportAction, Part, SearchQuery};
use serde_json::{json, Value};
use std::path::Path;

/// About `len` bytes of text whose first, middle and last words are `start<tag>`,
/// `middle<tag>` and `end<tag>`, with characters of 2, 3 and 4 bytes throughout (so that
/// pieces must be cut on characters' boundaries).
fn long_text(tag: &str, len: usize) -> String {
    let mut s = format!("start{tag} ");
    let mut i = 0usize;
    while s.len() < len {
        if s.len() >= len / 2 && !s.contains(&format!("middle{tag}")) {
            s.push_str(&format!("middle{tag} "));
        }
        s.push_str(["é ", "wörd ", "€ ", "👋 ", "plain "][i % 5]);
        i += 1;
    }
    s.push_str(&format!(" end{tag}"));
    s
}

/// The parts Parley keeps as text: each kind, with a long text.
fn long_parts(len: usize) -> Vec<(&'static str, Value)> {
    vec![
        (
            "text",
            json!({"type": "text", "text": long_text("text", len)}),
        ),
        (
            "reasoning",
            json!({"type": "reasoning", "text": long_text("reasoning", len)}),
        ),
        (
            "tool_result",
            json!({"type": "tool_result", "call_id": "c1", "output": long_text("result", len), "is_error": false}),
        ),
        (
            "file",
            json!({"type": "file", "name": "notes.txt", "mime": "text/plain", "text": long_text("file", len)}),
        ),
    ]
}

fn chat_with(id: &str, parts: Vec<Value>) -> Value {
    parley_chat(
        id,
        vec![
            json!({"id": format!("{id}-q"), "session_id": id, "parent_id": null, "role": "user",
                   "created_at": 1, "parts": [{"type": "text", "text": "question"}]}),
            json!({"id": format!("{id}-a"), "session_id": id, "parent_id": format!("{id}-q"),
                   "role": "assistant", "created_at": 2, "parts": parts}),
        ],
    )
}

/// (the part row's body length, its chunk rows) of each part of message `message`.
fn stored(db: &Path, message: &str) -> Vec<(i64, i64)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT length(p.body), (SELECT count(*) FROM part_chunks k
                 WHERE k.message_id = p.message_id AND k.idx = p.idx)
             FROM parts p WHERE p.message_id = ?1 ORDER BY p.idx",
        )
        .unwrap();
    let rows = stmt
        .query_map([message], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn part_text(p: &Part) -> &str {
    match p {
        Part::Text { text } | Part::Reasoning { text, .. } | Part::File { text, .. } => text,
        Part::ToolResult { output, .. } => output,
        other => panic!("unexpected part {other:?}"),
    }
}

async fn found(core: &crate::Core, word: &str) -> usize {
    let q: SearchQuery = serde_json::from_value(json!({"text": word})).unwrap();
    core.search().search(q).await.unwrap().hits.len()
}

#[test]
fn a_long_part_is_kept_in_pieces_and_reads_searches_exports_and_restores_whole() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let parts = long_parts(300 * 1024);
        let sent: Vec<String> = parts
            .iter()
            .map(|(_, p)| {
                let part: Part = serde_json::from_value(p.clone()).unwrap();
                part_text(&part).to_owned()
            })
            .collect();
        let file = write(
            dir.path(),
            "long.json",
            &parley_file(vec![chat_with(
                "long",
                parts.iter().map(|(_, p)| p.clone()).collect(),
            )]),
        );
        let data = dir.path().join("data");
        let core = core(&data).await;
        let r = core.history().import(&file, false).await.unwrap();
        assert_eq!(r.chats_added, 1, "{r:?}");
        let answer = "long-a";
        let db = core.store().path().to_owned();
        let rows = stored(&db, answer);
        assert_eq!(rows.len(), parts.len(), "{rows:?}");
        for (k, (body, chunks)) in rows.iter().enumerate() {
            assert_eq!(*body, 0, "{}: the row holds none of the text", parts[k].0);
            assert!(*chunks >= 300 / 16, "{}: {chunks} chunk rows", parts[k].0);
        }
        // Read whole, found anywhere, exported whole.
        let exported = core.history().export(None).await.unwrap().chats;
        let got: Vec<&str> = exported[0].messages[1]
            .parts
            .iter()
            .map(part_text)
            .collect();
        assert_eq!(got, sent.iter().map(String::as_str).collect::<Vec<_>>());
        for (kind, _) in &parts {
            let tag = if *kind == "tool_result" {
                "result"
            } else {
                kind
            };
            for at in ["start", "middle", "end"] {
                assert!(found(&core, &format!("{at}{tag}")).await >= 1, "{at}{tag}");
            }
        }
        // A backup of it restores whole into another data folder.
        let backup = core.backups().backup(None).await.unwrap();
        let other = super::import_tests::core(&dir.path().join("other")).await;
        let r = other.backups().restore(&backup, false).await.unwrap();
        assert_eq!(r.chats_added, 1, "{r:?}");
        let again = other.history().export(None).await.unwrap().chats;
        assert_eq!(again[0].messages[1].parts, exported[0].messages[1].parts);
        assert!(found(&other, "endfile").await >= 1);
        let rows = stored(other.store().path(), answer);
        assert!(rows.iter().all(|(b, c)| *b == 0 && *c > 0), "{rows:?}");
    });
}

#[test]
fn a_short_part_stays_one_row() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let text = long_text("short", 60 * 1024);
        let file = write(
            dir.path(),
            "short.json",
            &parley_file(vec![chat_with(
                "short",
                vec![json!({"type": "text", "text": text})],
            )]),
        );
        let core = core(&dir.path().join("data")).await;
        let r = core.history().import(&file, false).await.unwrap();
        assert_eq!(r.chats_added, 1, "{r:?}");
        let rows = stored(core.store().path(), "short-a");
        assert_eq!(rows, vec![(text.chars().count() as i64, 0)]);
        assert!(found(&core, "endshort").await >= 1);
    });
}

/// Chunk rows Parley never writes, planted in a backup: the chat they belong to is set aside
/// with a sentence, the others are restored.
#[test]
fn a_backup_with_chunks_parley_never_writes_sets_that_chat_aside() {
    rt().block_on(async {
        let cases: [(&str, &str); 3] = [
            // Text in pieces of a tool call (its arguments are one JSON value).
            ("tool call in pieces", "INSERT INTO part_chunks(message_id, idx, body) VALUES ('bad-a', 1, 'x')"),
            // A chunk that is not text.
            ("a blob", "INSERT INTO part_chunks(message_id, idx, body) VALUES ('bad-a', 0, x'ff00fe')"),
            // Text that is not UTF-8.
            ("not UTF-8", "INSERT INTO part_chunks(message_id, idx, body) VALUES ('bad-a', 0, CAST(x'66ff6f' AS TEXT))"),
        ];
        for (name, plant) in cases {
            let dir = tempfile::tempdir().unwrap();
            let source = core(&dir.path().join("src")).await;
            let bad = chat_with(
                "bad",
                vec![
                    json!({"type": "text", "text": "fine"}),
                    json!({"type": "tool_call", "call_id": "c1", "name": "read_file",
                           "arguments": "{}", "status": "completed"}),
                ],
            );
            let good = chat_with("good", vec![json!({"type": "text", "text": "fine too"})]);
            let file = write(dir.path(), "two.json", &parley_file(vec![bad, good]));
            source.history().import(&file, false).await.unwrap();
            let backup = source.backups().backup(None).await.unwrap();
            rusqlite::Connection::open(&backup)
                .unwrap()
                .execute_batch(plant)
                .unwrap();
            let other = core(&dir.path().join("other")).await;
            let r = other.backups().restore(&backup, false).await.unwrap();
            let action = |id: &str| {
                r.chats
                    .iter()
                    .find(|c| c.id.0 == id)
                    .map(|c| c.action)
            };
            assert_eq!(action("good"), Some(ImportAction::Added), "{name}: {r:?}");
            assert_ne!(action("bad"), Some(ImportAction::Added), "{name}: {r:?}");
            assert_eq!(other.history().export(None).await.unwrap().chats.len(), 1, "{name}");
        }
    });
}

/// A backup's one chunk row of hundreds of kilobytes (Parley writes them small) is cut again as
/// it is copied: no row, and no piece of the index, holds it whole; the text comes back whole.
#[test]
fn a_backups_huge_chunk_row_is_cut_again() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let source = core(&dir.path().join("src")).await;
        let file = write(
            dir.path(),
            "one.json",
            &parley_file(vec![chat_with(
                "one",
                vec![json!({"type": "text", "text": "begin "})],
            )]),
        );
        source.history().import(&file, false).await.unwrap();
        let backup = source.backups().backup(None).await.unwrap();
        let tail = long_text("huge", 300 * 1024);
        rusqlite::Connection::open(&backup)
            .unwrap()
            .execute(
                "INSERT INTO part_chunks(message_id, idx, body) VALUES ('one-a', 0, ?1)",
                [&tail],
            )
            .unwrap();
        let other = core(&dir.path().join("other")).await;
        let r = other.backups().restore(&backup, false).await.unwrap();
        assert_eq!(r.chats_added, 1, "{r:?}");
        let c = rusqlite::Connection::open(other.store().path()).unwrap();
        let largest: i64 = c
            .query_row(
                "SELECT max(length(CAST(body AS BLOB))) FROM part_chunks",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(largest <= 16 * 1024 + 3, "a chunk row of {largest} bytes");
        let exported = other.history().export(None).await.unwrap().chats;
        assert_eq!(
            part_text(&exported[0].messages[1].parts[0]),
            format!("begin {tail}")
        );
        assert!(found(&other, "endhuge").await >= 1);
    });
}
