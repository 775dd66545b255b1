//! ChatGPT's and Claude's exports, from files written here after their documented shapes:
//! branches and the selected path, tool steps, hidden and unknown content, attachments, times;
//! a second import adds nothing; hostile files are refused whole with a sentence.

use super::foreign::{detect, read_chatgpt, read_claude, rfc3339_ms, Source};
use crate::chats::ChatTables as _;
use parley_protocol::{ChatId, Part, Role};
use serde_json::json;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn node(
    id: &str,
    parent: Option<&str>,
    children: &[&str],
    message: serde_json::Value,
) -> (String, serde_json::Value) {
    (
        id.to_owned(),
        json!({"id": id, "parent": parent, "children": children, "message": message}),
    )
}

fn msg(role: &str, t: f64, content: serde_json::Value) -> serde_json::Value {
    json!({"author": {"role": role, "name": null}, "create_time": t, "content": content,
           "metadata": {"model_slug": "gpt-4o"}, "recipient": "all"})
}

fn text(s: &str) -> serde_json::Value {
    json!({"content_type": "text", "parts": [s]})
}

fn chatgpt_file() -> serde_json::Value {
    let mut hidden = msg("system", 1.0, text("You are ChatGPT"));
    hidden["metadata"]["is_visually_hidden_from_conversation"] = json!(true);
    let mut call = msg(
        "assistant",
        6.0,
        json!({"content_type": "code", "language": "python", "text": "print(2+2)"}),
    );
    call["recipient"] = json!("python");
    let mapping: serde_json::Map<String, serde_json::Value> = [
        node("root", None, &["sys"], serde_json::Value::Null),
        node("sys", Some("root"), &["u1", "u2"], hidden),
        node("u1", Some("sys"), &["a1"], msg("user", 2.0, text("Hello <script>alert(1)</script>"))),
        node("a1", Some("u1"), &[], msg("assistant", 3.0, text("Hi!"))),
        node("u2", Some("sys"), &["a2"], msg("user", 4.0, json!({"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "file-1"}, "What is 2+2?"]}))),
        node("a2", Some("u2"), &["t2"], call),
        node("t2", Some("a2"), &["a3"], msg("tool", 7.0, json!({"content_type": "execution_output", "text": "4"}))),
        node("a3", Some("t2"), &["a4"], msg("assistant", 8.0, text("It is **4**."))),
        node("a4", Some("a3"), &[], msg("assistant", 9.0, json!({"content_type": "hologram", "beam": 1}))),
    ]
    .into_iter()
    .collect();
    json!([{
        "title": "Arithmetic", "create_time": 1.5, "update_time": 9.5,
        "mapping": mapping, "current_node": "a4", "conversation_id": "conv-1", "id": "conv-1"
    }])
}

fn write(dir: &std::path::Path, name: &str, v: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v).unwrap();
    p
}

#[test]
fn chatgpt_branches_tools_and_unknown_content_come_in() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "conversations.json", &chatgpt_file().to_string());
        assert_eq!(detect(&file).unwrap(), Source::ChatGpt);
        let export = read_chatgpt(&file).unwrap();
        super::import::check_export(&export).unwrap();
        let chat = &export.chats[0];
        assert_eq!(chat.session.title, "Arithmetic");
        assert_eq!(chat.session.created_at, 1500);
        // The hidden system prompt and the empty root are left out.
        assert_eq!(chat.messages.len(), 7);
        assert!(chat.messages.iter().all(|m| m.role != Role::System));
        let (s, _) = crate::open_store(&dir.path().join("p.db")).unwrap();
        let added = s.import_export(&export, false).await.unwrap();
        assert_eq!((added.chats_added, added.messages_added), (1, 7));
        let h = s.history(&ChatId("chatgpt-conv-1".into())).await.unwrap().unwrap();
        // The selected path is current_node's: the second version of the question.
        let texts: Vec<String> = h.messages.iter().map(|m| m.text()).collect();
        assert_eq!(texts[0], "[Not imported: a image_asset_pointer part]\nWhat is 2+2?");
        assert_eq!(h.versions.len(), 1, "the two questions are versions");
        assert!(matches!(&h.messages[1].parts[0], Part::ToolCall { name, arguments, .. } if name == "python" && arguments == "print(2+2)"));
        assert!(matches!(&h.messages[2].parts[0], Part::ToolResult { output, .. } if output.ends_with("4")));
        assert_eq!(h.messages[3].text(), "It is **4**.");
        assert_eq!(h.messages[3].model.as_deref(), Some("gpt-4o"));
        assert!(h.messages[4].text().contains("\"hologram\""), "unknown content is kept: {}", h.messages[4].text());
        // Markup is text, never run: it is stored as written.
        let tree = s.tree(&ChatId("chatgpt-conv-1".into())).await.unwrap().unwrap();
        assert!(tree.nodes.iter().any(|n| n.preview.contains("<script>")));
        // The same file again adds nothing.
        let again = s.import_export(&read_chatgpt(&file).unwrap(), false).await.unwrap();
        assert_eq!((again.chats_added, again.messages_added), (0, 0));
    });
}

#[test]
fn claude_messages_attachments_and_times_come_in() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let v = json!([{
            "uuid": "c-1", "name": "Résumé help", "created_at": "2024-05-01T12:00:00.000000Z",
            "updated_at": "2024-05-01T12:05:00+02:00",
            "chat_messages": [
                {"uuid": "m1", "sender": "human", "text": "Read this", "created_at": "2024-05-01T12:00:01Z",
                 "content": [{"type": "text", "text": "Read this"}],
                 "attachments": [{"file_name": "cv.txt", "file_type": "txt", "file_size": 9, "extracted_content": "Jane Doe"}]},
                {"uuid": "m2", "sender": "assistant", "text": "", "created_at": "2024-05-01T12:00:09.5Z",
                 "content": [{"type": "thinking", "thinking": "Look at it"}, {"type": "text", "text": "Looks good."}, {"type": "tool_use", "name": "x"}]}
            ]
        }]);
        let file = write(dir.path(), "claude.json", &v.to_string());
        assert_eq!(detect(&file).unwrap(), Source::Claude);
        let export = read_claude(&file).unwrap();
        super::import::check_export(&export).unwrap();
        let chat = &export.chats[0];
        assert_eq!(chat.session.title, "Résumé help");
        assert_eq!(chat.session.created_at, rfc3339_ms("2024-05-01T12:00:00Z").unwrap());
        // 12:05 at +02:00 is 10:05 UTC: 1 h 55 min before it was created.
        assert_eq!(chat.session.updated_at - chat.session.created_at, -115 * 60_000);
        let m1 = &chat.messages[0];
        assert!(matches!(&m1.parts[0], Part::File { name, text, .. } if name == "cv.txt" && text == "Jane Doe"));
        let m2 = &chat.messages[1];
        assert_eq!(m2.parent_id.as_ref().unwrap().0, "claude-m1");
        assert!(matches!(&m2.parts[0], Part::Reasoning { text, .. } if text == "Look at it"));
        assert!(m2.text().starts_with("Looks good.") && m2.text().contains("tool_use"));
        assert_eq!(m2.created_at - m1.created_at, 8_500);
        let (s, _) = crate::open_store(&dir.path().join("p.db")).unwrap();
        assert_eq!(s.import_export(&export, false).await.unwrap().messages_added, 2);
        assert_eq!(s.import_export(&read_claude(&file).unwrap(), false).await.unwrap().messages_added, 0);
    });
}

#[test]
fn hostile_exports_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "[{{\"mapping\": {}{}}}]",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let cases: Vec<(&str, String)> = vec![
        ("deep", deep),
        (
            "wrong shape",
            r#"[{"mapping": {"a": {"message": 5}}}]"#.into(),
        ),
        ("truncated", chatgpt_file().to_string()[..300].to_owned()),
        ("trailing", format!("{} [", chatgpt_file())),
    ];
    for (name, text) in cases {
        let file = write(dir.path(), &format!("{name}.json"), &text);
        let err = read_chatgpt(&file).unwrap_err().to_info().message;
        assert!(err.contains("could not be imported"), "{name}: {err}");
    }
    let claude = write(
        dir.path(),
        "c.json",
        r#"[{"chat_messages": [{"uuid": "x"}, {"uuid": "x"}]}]"#,
    );
    let err = read_claude(&claude).unwrap_err().to_info().message;
    assert!(err.contains("appears twice"), "{err}");
    let neither = write(dir.path(), "n.json", "\"just a string\"");
    assert!(detect(&neither).is_err());
    // A cycle in the mapping (a hostile file) does not hang or crash.
    let cyc = json!([{"mapping": {
        "a": {"parent": "b", "children": ["b"], "message": msg("user", 1.0, text("a"))},
        "b": {"parent": "a", "children": ["a"], "message": msg("assistant", 2.0, text("b"))}
    }, "conversation_id": "cyc"}]);
    let file = write(dir.path(), "cyc.json", &cyc.to_string());
    let export = read_chatgpt(&file).unwrap();
    super::import::check_export(&export).unwrap();
}

#[test]
fn times_are_read_as_written() {
    assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        rfc3339_ms("2000-02-29T00:00:00.123Z"),
        Some(951_782_400_123)
    );
    assert_eq!(
        rfc3339_ms("2024-05-01T14:00:00+02:00"),
        rfc3339_ms("2024-05-01T12:00:00Z")
    );
    assert_eq!(
        rfc3339_ms("2024-05-01T12:00:00.999999Z"),
        Some(rfc3339_ms("2024-05-01T12:00:00Z").unwrap() + 999)
    );
    for bad in [
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-05-01",
        "2024-05-01T12:00:00+2",
    ] {
        assert_eq!(rfc3339_ms(bad), None, "{bad}");
    }
}
