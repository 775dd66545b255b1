//! Saved keys never leave in what Parley stores, shows or sends: a key with no recognisable
//! shape is cut out of tool results, HTTP error bodies and the stream errors of every wire
//! format, before the turn is recorded.

use super::agent::{approval_for, calls, http, start, wait_for};
use parley_core::Core;
use parley_protocol::{ApprovalDecision, EventMsg, ProviderKind};
use parley_tests::*;

/// No shape any pattern knows: only the exact saved key can catch it.
const KEY: &str = "Zq7Lm2Xv9Tn4Rb8Kc1Wd";

async fn core_with(
    server: &MockServer,
    kind: ProviderKind,
) -> (Core, tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    add_provider(&core, "p", kind, &server.base_url(), "m", Some(KEY)).await;
    let ws = tempfile::tempdir().unwrap();
    (core, dir, ws)
}

/// Everything the database holds, as text (every table).
fn stored(dir: &std::path::Path) -> String {
    let c = rusqlite::Connection::open(dir.join("parley.db")).unwrap();
    let mut all = String::new();
    for table in ["messages", "parts", "turns", "sessions"] {
        let mut st = c.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        for row in rows {
            all.push_str(&row.unwrap());
            all.push('\n');
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_printed_by_a_tool_is_cut_before_it_is_stored_or_sent() {
    let server = MockServer::start().await;
    let (core, dir, ws) = core_with(&server, ProviderKind::OpenaiCompatible).await;
    std::fs::write(
        ws.path().join("notes.txt"),
        format!("token={KEY}\nurl=?key={KEY}&x=1\n"),
    )
    .unwrap();
    let s = core.chats().create_chat(None).await.unwrap().id;
    core.chats()
        .set_workspace(&s, Some(ws.path()))
        .await
        .unwrap();
    server.push(calls(&[
        ("r", "read_file", r#"{"path":"notes.txt"}"#),
        ("g", "grep", &format!(r#"{{"pattern":"{}"}}"#, &KEY[..6])),
        ("s", "run_shell", r#"{"command":"cat notes.txt"}"#),
    ]));
    server.push(Reply::sse(text_answer(&["ok"], 0)));
    let (mut h, mut seen) = start(&core, &s, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("s")).await;
    core.approvals()
        .decide_approval(&s, "s", ApprovalDecision::AllowOnce)
        .unwrap();
    wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
    for e in &seen {
        let text = serde_json::to_string(e).unwrap();
        assert!(!text.contains(KEY), "an event shows the key: {text}");
    }
    let sent = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(!sent.contains(KEY), "sent to the model: {sent}");
    assert!(sent.contains("[redacted]"), "{sent}");
    assert!(!stored(dir.path()).contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_echoed_in_errors_of_every_wire_format_is_cut() {
    let echo = format!("invalid credentials {KEY} (query key={KEY})");
    let cases: Vec<(ProviderKind, Reply)> = vec![
        (
            ProviderKind::OpenaiCompatible,
            Reply::json(401, &serde_json::json!({"error": {"message": echo}}).to_string()),
        ),
        (
            ProviderKind::OpenaiCompatible,
            Reply::sse(vec![
                ev_text("partial "),
                sse_data(&serde_json::json!({"error": {"message": echo}})),
            ]),
        ),
        (
            ProviderKind::Anthropic,
            Reply::sse(vec![Step::Bytes(
                format!(
                    "event: error\ndata: {}\n\n",
                    serde_json::json!({"type": "error", "error": {"type": "api_error", "message": echo}})
                )
                .into_bytes(),
            )]),
        ),
        (
            ProviderKind::Ollama,
            Reply::sse(vec![Step::Bytes(
                format!("{}\n", serde_json::json!({"error": echo})).into_bytes(),
            )])
            .content_type("application/x-ndjson"),
        ),
        (
            ProviderKind::Gemini,
            Reply::sse(vec![sse_data(
                &serde_json::json!({"error": {"code": 500, "message": echo, "status": "INTERNAL"}}),
            )]),
        ),
        (
            ProviderKind::Gemini,
            Reply::json(400, &serde_json::json!({"error": {"code": 400, "message": echo}}).to_string()),
        ),
    ];
    for (i, (kind, reply)) in cases.into_iter().enumerate() {
        let server = MockServer::start().await;
        server.push(reply);
        let (core, dir, _ws) = core_with(&server, kind).await;
        let s = core.chats().create_chat(None).await.unwrap().id;
        let (mut h, mut seen) = start(&core, &s, "go").await;
        let end = wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
        let EventMsg::TurnFailed { error, .. } = &end else {
            panic!("case {i}: {end:?}")
        };
        assert!(
            !error.message.contains(KEY),
            "case {i} ({kind:?}): {}",
            error.message
        );
        let all = serde_json::to_string(&seen).unwrap();
        assert!(!all.contains(KEY), "case {i}: {all}");
        assert!(!stored(dir.path()).contains(KEY), "case {i}: stored");
    }
}

#[test]
fn only_exact_known_secrets_are_cut_from_tool_output() {
    use parley_core::secrets::{redact_known, remember};
    let k = "Xk29vLq0Pz7Ym3Rn";
    let w = "we+ird/key=value&1";
    remember(k);
    remember(w);
    remember("short");
    let cases = [
        (format!("a {k} b"), "a [redacted] b".to_owned()),
        (format!("{k}{k}"), "[redacted][redacted]".to_owned()),
        (
            format!("?key={}", "we%2Bird%2Fkey%3Dvalue%261"),
            "?key=[redacted]".to_owned(),
        ),
        (format!("raw {w}"), "raw [redacted]".to_owned()),
        (
            "short words stay short".to_owned(),
            "short words stay short".to_owned(),
        ),
        (
            "sk-not-a-saved-key-123".to_owned(),
            "sk-not-a-saved-key-123".to_owned(),
        ),
        (k[..10].to_owned(), k[..10].to_owned()),
    ];
    for (input, want) in cases {
        assert_eq!(redact_known(&input), want, "{input}");
    }
}
