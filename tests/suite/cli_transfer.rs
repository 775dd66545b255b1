//! `parley export` and `parley import` between two data folders: the chats arrive the same
//! (every version), a second import adds nothing, a dry run writes nothing, Markdown reads
//! well, and a bad file is refused with a sentence and a non-zero exit.

use super::cli::{add_local, run};
use parley_protocol::{ChatHistory, ChatSummary, ExportFile, ImportReport};
use parley_tests::*;
use std::path::Path;

async fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args).await;
    assert_eq!(r.code, 0, "parley {args:?}: {}", r.stderr);
    r.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_move_between_data_folders_whole_and_once() {
    let server = MockServer::start().await;
    for a in ["Blue, mostly.", "Red, at sunset.", "Orange, really."] {
        server.push(Reply::sse(text_answer(&[a], 0)));
    }
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let f = from.path();
    add_local(f, &server).await;
    ok(f, &["ask", "Why is the sky blue?"]).await;
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(f, &["sessions", "list", "--json"]).await).unwrap();
    let id = list[0].id.0.clone();
    ok(f, &["ask", "--session", &id, "And at sunset?"]).await;
    ok(f, &["ask", "--session", &id, "--regenerate"]).await;

    let file = f.join("chats.json");
    ok(f, &["export", "--output", file.to_str().unwrap()]).await;
    let export: ExportFile =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        export.chats[0].messages.len(),
        5,
        "every version is exported"
    );
    // Exporting over an existing file is refused.
    let r = run(f, &["export", "--output", file.to_str().unwrap()]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("could not create"), "{}", r.stderr);

    // A dry run says what would come and writes nothing.
    let t = to.path();
    let dry: ImportReport = serde_json::from_str(
        &ok(
            t,
            &["import", file.to_str().unwrap(), "--dry-run", "--json"],
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        (dry.chats_added, dry.messages_added, dry.dry_run),
        (1, 5, true)
    );
    assert_eq!(ok(t, &["sessions", "list", "--json"]).await.trim(), "[]");

    let said = ok(t, &["import", file.to_str().unwrap()]).await;
    assert!(said.contains("Added 1 chat and 5 messages"), "{said}");
    let show = |d: &Path| {
        let id = id.clone();
        let d = d.to_owned();
        async move {
            let h: ChatHistory =
                serde_json::from_str(&ok(&d, &["sessions", "show", &id, "--json"]).await).unwrap();
            h.messages.iter().map(|m| m.text()).collect::<Vec<_>>()
        }
    };
    assert_eq!(show(t).await, show(f).await);
    assert_eq!(show(t).await[3], "Orange, really.");
    let again = ok(t, &["import", file.to_str().unwrap()]).await;
    assert!(again.contains("Added 0 chats and 0 messages"), "{again}");

    // Markdown: headings per message, the model named, nothing of the other version.
    let md = ok(f, &["export", "--chat", &id, "--format", "md"]).await;
    assert!(md.starts_with("# Why is the sky blue?"), "{md}");
    assert!(md.contains("## You\n\nAnd at sunset?"), "{md}");
    assert!(md.contains("## Assistant (tiny · local)"), "{md}");
    assert!(
        md.contains("Orange, really.") && !md.contains("Red, at sunset."),
        "{md}"
    );

    // One branch: the selected versions only, and their turns.
    let branch: ExportFile =
        serde_json::from_str(&ok(f, &["export", "--chat", &id, "--branch"]).await).unwrap();
    let texts: Vec<String> = branch.chats[0].messages.iter().map(|m| m.text()).collect();
    assert_eq!(
        texts,
        [
            "Why is the sky blue?",
            "Blue, mostly.",
            "And at sunset?",
            "Orange, really."
        ],
        "the shown branch, in order"
    );
    assert_eq!(branch.chats[0].turns.len(), 2);
    assert_eq!(branch.chats[0].session.message_count, 4);

    // Bad files: a sentence, a non-zero exit, nothing added.
    let bad = t.join("bad.json");
    std::fs::write(&bad, r#"{"format":"parley-chats","version":7,"chats":[]}"#).unwrap();
    let r = run(t, &["import", bad.to_str().unwrap()]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("newer Parley"), "{}", r.stderr);
    let r = run(t, &["import", "/no/such/file.json"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("/no/such/file.json"), "{}", r.stderr);
    let r = run(f, &["export", "--chat", "nope"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatgpt_and_claude_exports_come_in_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gpt = serde_json::json!([{
        "title": "Trip plan", "create_time": 1700000000.0, "update_time": 1700000100.0,
        "conversation_id": "g1", "current_node": "a",
        "mapping": {
            "r": {"id": "r", "parent": null, "children": ["q"], "message": null},
            "q": {"id": "q", "parent": "r", "children": ["a"], "message": {
                "author": {"role": "user"}, "create_time": 1700000001.0,
                "content": {"content_type": "text", "parts": ["Plan a trip to Lisbon"]}}},
            "a": {"id": "a", "parent": "q", "children": [], "message": {
                "author": {"role": "assistant"}, "create_time": 1700000002.0, "recipient": "all",
                "content": {"content_type": "text", "parts": ["Day 1: Alfama."]}}}
        }
    }]);
    let claude = serde_json::json!([{
        "uuid": "k1", "name": "Poem", "created_at": "2024-01-01T10:00:00Z",
        "chat_messages": [
            {"uuid": "k1a", "sender": "human", "text": "A haiku, please", "created_at": "2024-01-01T10:00:01Z"},
            {"uuid": "k1b", "sender": "assistant", "text": "Old pond, frog jumps in", "created_at": "2024-01-01T10:00:02Z"}
        ]
    }]);
    let gpt_file = d.join("conversations.json");
    std::fs::write(&gpt_file, gpt.to_string()).unwrap();
    let claude_file = d.join("claude.json");
    std::fs::write(&claude_file, claude.to_string()).unwrap();

    let dry: ImportReport = serde_json::from_str(
        &ok(
            d,
            &["import", gpt_file.to_str().unwrap(), "--dry-run", "--json"],
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        (dry.chats_in_file, dry.messages_in_file, dry.chats_added),
        (1, 2, 1)
    );
    let said = ok(d, &["import", gpt_file.to_str().unwrap()]).await;
    assert!(said.contains("Added 1 chat and 2 messages"), "{said}");
    assert!(said.contains("2023-11-14"), "{said}");
    ok(d, &["import", claude_file.to_str().unwrap()]).await;
    let again = ok(d, &["import", gpt_file.to_str().unwrap()]).await;
    assert!(again.contains("Added 0 chats and 0 messages"), "{again}");
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(d, &["sessions", "list", "--json"]).await).unwrap();
    let mut titles: Vec<&str> = list.iter().map(|s| s.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Poem", "Trip plan"]);
    // The export's ids are namespaced for this data folder: `chatgpt-<uuid>`, not its own.
    let trip = list.iter().find(|s| s.title == "Trip plan").unwrap();
    assert!(
        trip.id.0.starts_with("chatgpt-") && trip.id.0 != "chatgpt-g1",
        "{}",
        trip.id
    );
    let h: ChatHistory =
        serde_json::from_str(&ok(d, &["sessions", "show", &trip.id.0, "--json"]).await).unwrap();
    assert_eq!(
        h.messages.iter().map(|m| m.text()).collect::<Vec<_>>(),
        ["Plan a trip to Lisbon", "Day 1: Alfama."]
    );
    // Not an export at all.
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let r = run(d, &["import", junk.to_str().unwrap()]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not a Parley export"), "{}", r.stderr);
}
