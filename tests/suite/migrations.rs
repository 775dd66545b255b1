//! Upgrades you can trust: every earlier schema version has a database made by that version's
//! own `parley` (tests/fixtures/schema, made by make.py there), and today's `parley` upgrades
//! each one — a snapshot first — keeping every chat, title, message, part and provider, then
//! goes on writing to it.

use super::cli::{add_named, run};
use parley_protocol::{ChatHistory, ChatSummary, Part, TurnStatus};
use parley_tests::*;
use std::path::Path;

/// What a message is made of, as stored: its role and each part's kind and text.
type Stored = (String, Vec<(String, String)>);

/// Every chat in an (old) database read with plain SQL: id → (title, messages oldest first).
fn read_old(db: &Path) -> Vec<(String, String, Vec<Stored>)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut chats = Vec::new();
    let mut s = c
        .prepare("SELECT id, title FROM sessions ORDER BY created_at")
        .unwrap();
    let sessions: Vec<(String, String)> = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, title) in sessions {
        let mut m = c
            .prepare(
                "SELECT id, role FROM messages WHERE session_id = ?1 ORDER BY created_at, rowid",
            )
            .unwrap();
        let messages: Vec<(String, String)> = m
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut stored = Vec::new();
        for (mid, role) in messages {
            let mut p = c
                .prepare("SELECT kind, body FROM parts WHERE message_id = ?1 ORDER BY idx")
                .unwrap();
            let parts: Vec<(String, String)> = p
                .query_map([&mid], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            stored.push((role, parts));
        }
        chats.push((id, title, stored));
    }
    chats
}

/// A message as today's `parley` shows it, in the same shape.
fn shown(h: &ChatHistory) -> Vec<Stored> {
    h.messages
        .iter()
        .map(|m| {
            let role = serde_json::to_value(m.role)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned();
            let parts = m
                .parts
                .iter()
                .map(|p| match p {
                    Part::Text { text } => ("text".into(), text.clone()),
                    Part::Reasoning { text, .. } => ("reasoning".into(), text.clone()),
                    Part::ToolCall { arguments, .. } => ("tool_call".into(), arguments.clone()),
                    Part::ToolResult { output, .. } => ("tool_result".into(), output.clone()),
                    other => panic!("a fixture has no {other:?}"),
                })
                .collect();
            (role, parts)
        })
        .collect()
}

fn pragma(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_schema_is_upgraded_with_its_data() {
    let latest = parley_core::store::schema::latest_version();
    let fixtures = own_fixtures().join("schema");
    let server = MockServer::start().await;
    for version in 1..latest {
        let fixture = fixtures.join(format!("v{version}.db"));
        assert!(
            fixture.is_file(),
            "no fixture for schema {version}: run tests/fixtures/schema/make.py"
        );
        assert_eq!(pragma(&fixture, "PRAGMA user_version"), version);
        let before = read_old(&fixture);
        assert!(before.len() >= 2, "v{version}: the fixture has chats");

        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("parley.db");
        std::fs::copy(&fixture, &db).unwrap();

        // Today's parley opens it: the list shows every chat with its title.
        let list = run(dir.path(), &["sessions", "list", "--json"]).await;
        assert_eq!(list.code, 0, "v{version}: {}", list.stderr);
        let list: Vec<ChatSummary> = serde_json::from_str(&list.stdout).unwrap();
        assert_eq!(list.len(), before.len(), "v{version}");
        for (id, title, messages) in &before {
            let summary = list.iter().find(|s| &s.id.0 == id).unwrap();
            assert_eq!(&summary.title, title, "v{version}");
            let show = run(dir.path(), &["sessions", "show", id, "--json"]).await;
            assert_eq!(show.code, 0, "v{version}: {}", show.stderr);
            let h: ChatHistory = serde_json::from_str(&show.stdout).unwrap();
            assert_eq!(&shown(&h), messages, "v{version}: chat {title}");
            assert!(h.turns.iter().all(|t| t.status == TurnStatus::Completed));
        }
        // Chats the versions made: a renamed one, unicode both ways, tool steps where it had tools.
        let all: String = format!("{before:?}");
        assert!(all.contains(&format!("Renamed chat (v{version})")));
        assert!(all.contains("漢字 and an emoji 👋"));
        if version >= 3 {
            assert!(all.contains("hello from the fixture"), "v{version}");
        }
        // What was there before search existed is searchable: titles, text, CJK.
        for query in ["\"Renamed chat\"", "漢字"] {
            let found = run(dir.path(), &["search", query, "--json"]).await;
            assert_eq!(found.code, 0, "v{version}: {}", found.stderr);
            let found: parley_protocol::SearchResults =
                serde_json::from_str(&found.stdout).unwrap();
            assert!(!found.hits.is_empty(), "v{version}: {query} not found");
        }

        // The upgraded file: the current schema, healthy, with a snapshot of the old one.
        assert_eq!(pragma(&db, "PRAGMA user_version"), latest);
        assert_eq!(pragma(&db, "PRAGMA auto_vacuum"), 2, "incremental vacuum");
        let c = rusqlite::Connection::open(&db).unwrap();
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "v{version}");
        let snapshots: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(snapshots.len(), 1, "v{version}: {snapshots:?}");
        let name = snapshots[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("parley-before-schema-{}-", version + 1)),
            "{name}"
        );
        assert_eq!(pragma(&snapshots[0], "PRAGMA user_version"), version);
        assert_eq!(read_old(&snapshots[0]), before, "v{version}: the snapshot");

        // And it goes on: a new answer in the oldest chat, next to everything it had.
        server.push(Reply::sse(text_answer(&["After ", "the upgrade"], 0)));
        add_named(dir.path(), "now", &server).await;
        let (id, _, messages) = &before[0];
        let ask = run(
            dir.path(),
            &["ask", "--session", id, "--provider", "now", "still here?"],
        )
        .await;
        assert_eq!(ask.code, 0, "v{version}: {}", ask.stderr);
        let show = run(dir.path(), &["sessions", "show", id, "--json"]).await;
        let h: ChatHistory = serde_json::from_str(&show.stdout).unwrap();
        let now = shown(&h);
        assert_eq!(&now[..messages.len()], &messages[..], "v{version}");
        assert_eq!(now.len(), messages.len() + 2);
        assert_eq!(h.messages.last().unwrap().text(), "After the upgrade");
        // The providers it had are still configured.
        let providers = run(dir.path(), &["providers", "list", "--json"]).await;
        assert!(
            providers.stdout.contains("\"local\""),
            "{}",
            providers.stdout
        );
    }
}
