//! Anthropic Messages: recorded streams (../shared/fixtures, when present) and the repo's own,
//! whole and re-chunked; the replay request shape of REQUESTS.md; and a turn through the engine.

use parley_core::providers::anthropic::{build_messages, AnthropicMapper};
use parley_core::providers::StreamEvent;
use parley_core::ProviderError;
use parley_protocol::{EventMsg, Message, Part, ProviderKind, Role, SendOptions, ToolCallStatus};
use parley_tests::*;
use proptest::prelude::*;
use serde_json::{json, Value};

type Item = Result<StreamEvent, ProviderError>;

fn map(chunks: &[&[u8]]) -> Vec<Item> {
    map_sse(AnthropicMapper::new(), chunks)
}

fn fixtures() -> &'static Vec<(String, Vec<u8>, Value)> {
    static SET: std::sync::OnceLock<Vec<(String, Vec<u8>, Value)>> = std::sync::OnceLock::new();
    SET.get_or_init(|| load_fixtures("anthropic", "sse"))
}

const SHAPE: ExpectShape = ExpectShape {
    reasoning: "reasoning",
    reasoning_tokens: None,
    error_code: Some("type"),
    local_ids: None,
};

fn check(name: &str, items: &[Item], expect: &Value) {
    let g = check_stream(name, items, expect, SHAPE);
    let want_sigs: Vec<String> = expect["thinking_blocks"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| b["signature"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        g.signatures, want_sigs,
        "{name}: signatures, verbatim and in order"
    );
}

#[test]
fn every_anthropic_stream_maps_to_its_expectation() {
    let set = fixtures();
    assert!(!set.is_empty());
    for (name, bytes, expect) in set {
        check(name, &map(&[bytes]), expect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn anthropic_chunking_never_changes_the_events(cuts in proptest::collection::vec(0usize..1_000_000, 0..40)) {
        for (name, bytes, expect) in fixtures() {
            let pieces = split_at_cuts(bytes, &cuts);
            let chunked = map(&pieces);
            prop_assert_eq!(&chunked, &map(&[bytes]), "{}", name);
            check(name, &chunked, expect);
        }
    }
}

fn msg(role: Role, parts: Vec<Part>) -> Message {
    message(role, parts, None)
}

#[test]
fn replay_matches_the_recorded_thinking_tool_request() {
    let Some(shared) = shared_fixtures() else {
        eprintln!("note: ../shared/fixtures is absent; skipping the recorded request comparison");
        return;
    };
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(shared.join("anthropic/R1-thinking-then-tool-result.request.json")).unwrap(),
    )
    .unwrap();
    let want = &recorded["body"]["messages"];
    // Rebuild the same conversation from Parley's parts.
    let user_text = want[0]["content"][0]["text"].as_str().unwrap();
    let a = &want[1]["content"];
    let parts = vec![
        Part::Reasoning {
            text: a[0]["thinking"].as_str().unwrap().into(),
            signature: Some(a[0]["signature"].as_str().unwrap().into()),
        },
        Part::Text {
            text: a[1]["text"].as_str().unwrap().into(),
        },
        Part::ToolCall {
            call_id: a[2]["id"].as_str().unwrap().into(),
            name: a[2]["name"].as_str().unwrap().into(),
            arguments: a[2]["input"].to_string(),
            status: ToolCallStatus::Completed,
        },
        Part::ToolResult {
            call_id: want[2]["content"][0]["tool_use_id"]
                .as_str()
                .unwrap()
                .into(),
            output: want[2]["content"][0]["content"].as_str().unwrap().into(),
            is_error: false,
        },
    ];
    let got = json_items(serde_json::to_value(build_messages(&[
        msg(
            Role::User,
            vec![Part::Text {
                text: user_text.into(),
            }],
        ),
        msg(Role::Assistant, parts),
    ])));
    let strip = |v: &Value| -> Value {
        // Compare the fields REQUESTS.md requires; key order does not matter in JSON.
        let mut v = v.clone();
        if let Some(arr) = v.as_array_mut() {
            for m in arr {
                for b in m["content"].as_array_mut().unwrap() {
                    b.as_object_mut().unwrap().remove("caller");
                    b.as_object_mut().unwrap().remove("cache_control");
                }
            }
        }
        v
    };
    assert_eq!(strip(&Value::Array(got)), strip(want));
}

#[test]
fn unsigned_reasoning_and_failed_answers_are_not_replayed() {
    let got = json_items(serde_json::to_value(build_messages(&[
        msg(Role::User, vec![Part::Text { text: "q".into() }]),
        msg(Role::Assistant, vec![]),
        msg(
            Role::User,
            vec![Part::Text {
                text: "again".into(),
            }],
        ),
        msg(
            Role::Assistant,
            vec![
                Part::Reasoning {
                    text: "from another provider".into(),
                    signature: None,
                },
                Part::Text { text: "a".into() },
            ],
        ),
    ])));
    assert_eq!(
        Value::Array(got),
        // Roles must alternate: the unanswered question and the next one form one user turn.
        json!([
            {"role": "user", "content": [{"type": "text", "text": "q"}, {"type": "text", "text": "again"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}]}
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anthropic_turn_streams_keeps_signed_thinking_blocks_and_sends_the_key_as_x_api_key() {
    let server = MockServer::start().await;
    let body =
        std::fs::read(own_fixtures().join("anthropic/thinking-blocks-and-tool.sse")).unwrap();
    server.push(Reply::sse(vec![Step::Bytes(body)]));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    add_provider(
        &core,
        "claude",
        ProviderKind::Anthropic,
        &server.base_url(),
        "claude-test",
        Some("sk-ant-test-key-0000000000"),
    )
    .await;
    let s = core.chats().create_chat(None).await.unwrap();
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "read ü.txt",
            SendOptions {
                system: Some("Be brief.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    loop {
        let ev = h.events.recv().await.unwrap();
        if matches!(
            ev.msg,
            EventMsg::TurnCompleted { .. } | EventMsg::TurnFailed { .. }
        ) {
            assert!(
                matches!(ev.msg, EventMsg::TurnCompleted { .. }),
                "{:?}",
                ev.msg
            );
            break;
        }
    }
    let req = &server.received()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some("sk-ant-test-key-0000000000"));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert!(req.header("authorization").is_none());
    let body = req.json();
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(body["stream"], true);
    assert!(body["max_tokens"].as_u64().unwrap() > 0);
    let hist = core.history().full_history(&s.id).await.unwrap();
    let parts = &hist.messages[1].parts;
    assert_eq!(
        parts[0],
        Part::Reasoning {
            text: "First 🤔 ".into(),
            signature: Some("sigA==".into())
        }
    );
    assert_eq!(
        parts[1],
        Part::Reasoning {
            text: "second".into(),
            signature: Some("sigB==".into())
        }
    );
    assert_eq!(
        parts[2],
        Part::Text {
            text: "Lookup: مرحبا".into()
        }
    );
    assert!(
        matches!(&parts[3], Part::ToolCall { call_id, arguments, .. } if call_id == "toolu_1" && arguments == "{\"path\": \"ü.txt\"}")
    );
    // The next request replays both signed thinking blocks first, in order.
    server.push(Reply::sse(vec![Step::Bytes(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"done\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec())]));
    let mut h = core
        .chats()
        .send_message(&s.id, "thanks", SendOptions::default())
        .await
        .unwrap();
    while !matches!(
        h.events.recv().await.unwrap().msg,
        EventMsg::TurnCompleted { .. }
    ) {}
    let replay = server.received()[1].json();
    let assistant = &replay["messages"][1]["content"];
    assert_eq!(
        assistant[0],
        json!({"type": "thinking", "thinking": "First 🤔 ", "signature": "sigA=="})
    );
    assert_eq!(
        assistant[1],
        json!({"type": "thinking", "thinking": "second", "signature": "sigB=="})
    );
    assert_eq!(assistant[3]["input"], json!({"path": "ü.txt"}));
    // The (error) tool result opens the next user message, before its text.
    let next_user = &replay["messages"][2]["content"];
    assert_eq!(next_user[0]["type"], "tool_result");
    assert_eq!(next_user[0]["tool_use_id"], "toolu_1");
    assert_eq!(next_user[1], json!({"type": "text", "text": "thanks"}));
}

/// Events are decoded into typed wire events: unknown event, block and delta types, and known
/// types with fields of an unknown shape, are ignored; only a payload that is not JSON at all
/// ends the stream with a protocol error.
#[test]
fn unknown_event_shapes_are_ignored_and_garbage_is_a_protocol_error() {
    let start =
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n";
    let end = "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n";
    for (middle, want_text, want_error) in [
        ("data: {\"type\":\"ping\"}\n\n", "", false),
        ("data: {\"type\":\"future_event\",\"x\":[1,2]}\n\n", "", false),
        ("data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"image_gen\"}}\n\n", "", false),
        ("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"citations_delta\"}}\n\n", "", false),
        ("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":7}}\n\n", "", false),
        ("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n", "hi", false),
        ("data: {not json\n\n", "", true),
    ] {
        let body = format!("{start}{middle}{end}");
        let g = gather(&map(&[body.as_bytes()]));
        assert_eq!(g.text, want_text, "{middle}");
        let protocol_error = g
            .error
            .as_ref()
            .is_some_and(|(kind, ..)| *kind == parley_core::ProviderErrorKind::Protocol);
        assert_eq!(protocol_error, want_error, "{middle}: {:?}", g.error);
        assert_eq!(g.finish.is_some(), !want_error, "{middle}");
    }
}
