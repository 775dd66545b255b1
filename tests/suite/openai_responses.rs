//! OpenAI Responses API: recorded streams (../shared/fixtures, when present) and the repo's own,
//! whole and re-chunked; the stateless replay of REQUESTS.md §2 (the reasoning item from
//! `output_item.done`, the function call, the `function_call_output` by `call_id`); a turn
//! through the engine.

use parley_core::error::ProviderErrorKind;
use parley_core::providers::openai_responses::{build_input, ResponsesMapper};
use parley_core::providers::StreamEvent;
use parley_core::ProviderError;
use parley_protocol::{EventMsg, Message, Part, ProviderKind, Role, SendOptions, ToolCallStatus};
use parley_tests::*;
use proptest::prelude::*;
use serde_json::{json, Value};

type Item = Result<StreamEvent, ProviderError>;

fn map(chunks: &[&[u8]]) -> Vec<Item> {
    map_sse(ResponsesMapper::new(), chunks)
}

fn fixtures() -> &'static Vec<(String, Vec<u8>, Value)> {
    static SET: std::sync::OnceLock<Vec<(String, Vec<u8>, Value)>> = std::sync::OnceLock::new();
    SET.get_or_init(|| load_fixtures("openai-responses", "sse"))
}

/// The reasoning items as `response.output_item.done` carries them, read straight from the body
/// (independently of the mapper).
fn completed_reasoning_items(body: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter(|v| v["type"] == "response.output_item.done" && v["item"]["type"] == "reasoning")
        .filter(|v| v["item"]["encrypted_content"].as_str().is_some())
        .map(|v| v["item"].clone())
        .collect()
}

const SHAPE: ExpectShape = ExpectShape {
    reasoning: "reasoning_summary",
    reasoning_tokens: Some("reasoning_tokens"),
    error_code: Some("code"),
    local_ids: None,
};

fn check(name: &str, body: &[u8], items: &[Item], expect: &Value) {
    // The summary's parts are joined by a blank line; a cut-off call is never valid; the
    // call id is the `call_id`, not the item id.
    let g = check_stream(name, items, expect, SHAPE);
    // Each reasoning item is kept whole, with the COMPLETE encrypted content.
    let kept: Vec<Value> = g
        .signatures
        .iter()
        .map(|s| match parley_core::providers::signature::parse(s) {
            parley_core::providers::signature::Signature::OpenAiReasoning(v) => v,
            other => panic!("{name}: {other:?}"),
        })
        .collect();
    let done = completed_reasoning_items(body);
    assert_eq!(kept.len(), done.len(), "{name}: reasoning items");
    for (k, d) in kept.iter().zip(&done) {
        assert_eq!(k["id"], d["id"], "{name}");
        assert_eq!(
            k["encrypted_content"], d["encrypted_content"],
            "{name}: from .done"
        );
        assert_eq!(k["summary"], d["summary"], "{name}");
    }
    if expect["error"]["code"] == "insufficient_quota" {
        let kind = g.error.map(|(kind, ..)| kind);
        assert_eq!(kind, Some(ProviderErrorKind::QuotaExceeded), "{name}");
    }
}

#[test]
fn every_responses_stream_maps_to_its_expectation() {
    let set = fixtures();
    assert!(set.len() >= 2);
    for (name, bytes, expect) in set {
        check(name, bytes, &map(&[bytes]), expect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn responses_chunking_never_changes_the_events(cuts in proptest::collection::vec(0usize..1_000_000, 0..40)) {
        for (name, bytes, expect) in fixtures() {
            let pieces = split_at_cuts(bytes, &cuts);
            let chunked = map(&pieces);
            prop_assert_eq!(&chunked, &map(&[bytes]), "{}", name);
            check(name, bytes, &chunked, expect);
        }
    }
}

fn msg(role: Role, parts: Vec<Part>) -> Message {
    message(role, parts, Some("p"))
}

#[test]
fn replay_matches_the_recorded_stateless_request() {
    let Some(shared) = shared_fixtures() else {
        eprintln!("note: ../shared/fixtures is absent; skipping the recorded request comparison");
        return;
    };
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(
            shared
                .join("openai-responses/R1-reasoning-item-then-function-call-output.request.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let want = recorded["body"]["input"].as_array().unwrap().clone();
    let (r, c, o) = (&want[1], &want[2], &want[3]);
    let parts = vec![
        Part::Reasoning {
            text: "summary shown to the user".into(),
            signature: Some(parley_core::providers::signature::openai_reasoning(r)),
        },
        Part::ToolCall {
            call_id: c["call_id"].as_str().unwrap().into(),
            name: c["name"].as_str().unwrap().into(),
            arguments: c["arguments"].as_str().unwrap().into(),
            status: ToolCallStatus::Completed,
        },
        Part::ToolResult {
            call_id: o["call_id"].as_str().unwrap().into(),
            output: o["output"].as_str().unwrap().into(),
            is_error: false,
        },
    ];
    let got = json_items(serde_json::to_value(build_input(&[
        msg(
            Role::User,
            vec![Part::Text {
                text: want[0]["content"].as_str().unwrap().into(),
            }],
        ),
        msg(Role::Assistant, parts),
    ])));
    assert_eq!(got.len(), 4);
    // Parley names the item type explicitly (some servers, llama.cpp among them, need it).
    assert_eq!(got[0]["type"], "message");
    let mut user = got[0].clone();
    user.as_object_mut().unwrap().remove("type");
    assert_eq!(user, want[0]);
    assert_eq!(got[1], *r, "the reasoning item, byte for byte");
    // The function call: everything but the optional item id (`fc_...`), which Parley does not
    // keep; `call_id` (not the item id) pairs it with its output.
    let mut c_no_id = c.clone();
    c_no_id.as_object_mut().unwrap().remove("id");
    assert_eq!(got[2], c_no_id);
    assert_eq!(got[3], *o);
}

#[test]
fn a_reasoning_item_is_never_sent_without_the_item_that_followed_it() {
    let sig = parley_core::providers::signature::openai_reasoning(
        &json!({"type": "reasoning", "id": "rs_1", "encrypted_content": "x", "summary": []}),
    );
    let got = json_items(serde_json::to_value(build_input(&[
        msg(Role::User, vec![Part::Text { text: "q".into() }]),
        // The answer broke off right after its reasoning.
        msg(
            Role::Assistant,
            vec![Part::Reasoning {
                text: String::new(),
                signature: Some(sig),
            }],
        ),
        msg(
            Role::User,
            vec![Part::Text {
                text: "again".into(),
            }],
        ),
    ])));
    assert_eq!(
        Value::Array(got),
        json!([
            {"type": "message", "role": "user", "content": "q"},
            {"type": "message", "role": "user", "content": "again"}
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responses_turn_is_stateless_and_replays_its_reasoning_item() {
    let server = MockServer::start().await;
    let body =
        std::fs::read(own_fixtures().join("openai-responses/summary-text-call.sse")).unwrap();
    server.push(Reply::sse(vec![Step::Bytes(body)]));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    add_provider(
        &core,
        "openai",
        ProviderKind::OpenaiResponses,
        &server.base_url(),
        "gpt-5-mini",
        Some("sk-test-responses-000000"),
    )
    .await;
    let s = core.chats().create_chat(None).await.unwrap();
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "weather in Oslo?",
            SendOptions {
                system: Some("Be brief.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    loop {
        match h.events.recv().await.unwrap().msg {
            EventMsg::TurnCompleted { usage, .. } => {
                let u = usage.unwrap();
                assert_eq!((u.input_tokens, u.output_tokens), (40, 70));
                assert_eq!(u.reasoning_tokens, Some(50));
                assert_eq!(u.cached_input_tokens, Some(8));
                break;
            }
            EventMsg::TurnFailed { error, .. } => panic!("{error:?}"),
            _ => {}
        }
    }
    let req = &server.received()[0];
    assert_eq!(req.path, "/v1/responses");
    assert_eq!(
        req.header("authorization"),
        Some("Bearer sk-test-responses-000000")
    );
    let sent = req.json();
    assert_eq!(sent["store"], false);
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["instructions"], "Be brief.");
    assert_eq!(sent["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(
        sent["input"],
        json!([{"type": "message", "role": "user", "content": "weather in Oslo?"}])
    );

    let hist = core.history().full_history(&s.id).await.unwrap();
    let parts = &hist.messages[1].parts;
    assert!(
        matches!(&parts[0], Part::Reasoning { text, signature: Some(sig) } if text == "**Weather** first\n\nthen ünïcode 🌧" && sig.contains("gAAAA-COMPLETE==") && !sig.contains("PARTIAL"))
    );
    assert_eq!(
        parts[1],
        Part::Text {
            text: "Checking Oslo.".into()
        }
    );

    server.push(Reply::sse(vec![Step::Bytes(
        b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"ok\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n".to_vec(),
    )]));
    let mut h = core
        .chats()
        .send_message(&s.id, "thanks", SendOptions::default())
        .await
        .unwrap();
    while !matches!(
        h.events.recv().await.unwrap().msg,
        EventMsg::TurnCompleted { .. }
    ) {}
    let input = server.received()[1].json()["input"].clone();
    let types: Vec<String> = input
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match i["type"].as_str().unwrap() {
            "message" => format!("{}-message", i["role"].as_str().unwrap()),
            t => t.to_owned(),
        })
        .collect();
    assert_eq!(
        types,
        [
            "user-message",
            "reasoning",
            "assistant-message",
            "function_call",
            "function_call_output",
            "user-message"
        ]
    );
    assert_eq!(input[1]["encrypted_content"], "gAAAA-COMPLETE==");
    assert_eq!(input[1]["id"], "rs_1");
    assert_eq!(input[3]["call_id"], "call_A");
    assert_eq!(input[4]["call_id"], "call_A");
}

/// Events are decoded into typed wire events: unknown types and unknown shapes are ignored,
/// `response.refusal.delta` is text, a top-level `error` event keeps its code, and a payload
/// that is not JSON ends the stream with a protocol error.
#[test]
fn typed_events_ignore_unknown_shapes_and_keep_error_codes() {
    let done =
        "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n";
    for (middle, want_text, want_error) in [
        ("data: {\"type\":\"response.created\",\"response\":{}}\n\n", "", None),
        ("data: {\"type\":\"response.future.thing\",\"output_index\":0}\n\n", "", None),
        ("data: {\"no_type\":true}\n\n", "", None),
        ("data: {\"type\":\"response.output_text.delta\",\"delta\":5}\n\n", "", None),
        ("data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"hi\"}\n\n", "hi", None),
        ("data: {\"type\":\"response.refusal.delta\",\"output_index\":0,\"delta\":\"no\"}\n\n", "no", None),
        (
            "data: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}\n\n",
            "",
            Some(ProviderErrorKind::RateLimited),
        ),
        (
            "data: {\"type\":\"error\",\"error\":{\"code\":\"insufficient_quota\",\"message\":\"pay\"}}\n\n",
            "",
            Some(ProviderErrorKind::QuotaExceeded),
        ),
        ("data: {broken\n\n", "", Some(ProviderErrorKind::Protocol)),
    ] {
        let body = format!("{middle}{done}");
        let g = gather(&map(&[body.as_bytes()]));
        assert_eq!(g.text, want_text, "{middle}");
        assert_eq!(g.error.map(|(kind, ..)| kind), want_error, "{middle}");
    }
}
