//! Google Gemini: recorded streams (../shared/fixtures, when present) and the repo's own, whole
//! and re-chunked; the replay request shape of REQUESTS.md §5 (thought signatures on the part
//! they came with, functionResponse objects); turns through the engine, including a switch to
//! another provider mid-conversation.

use parley_core::providers::gemini::{build_contents, GeminiMapper};
use parley_core::providers::StreamEvent;
use parley_core::ProviderError;
use parley_protocol::ProviderDraft;
use parley_protocol::{EventMsg, Message, Part, ProviderKind, Role, SendOptions};
use parley_tests::*;
use proptest::prelude::*;
use serde_json::{json, Value};

type Item = Result<StreamEvent, ProviderError>;

fn map(chunks: &[&[u8]]) -> Vec<Item> {
    map_sse(GeminiMapper::new(), chunks)
}

fn fixtures() -> &'static Vec<(String, Vec<u8>, Value)> {
    static SET: std::sync::OnceLock<Vec<(String, Vec<u8>, Value)>> = std::sync::OnceLock::new();
    SET.get_or_init(|| load_fixtures("gemini", "sse"))
}

const SHAPE: ExpectShape = ExpectShape {
    reasoning: "reasoning",
    reasoning_tokens: Some("thoughts_tokens"),
    error_code: Some("code"),
    local_ids: Some("parley_call_"),
};

fn check(name: &str, items: &[Item], expect: &Value) {
    let g = check_stream(name, items, expect, SHAPE);
    let want_sigs: Vec<String> = expect["thought_signatures"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| format!("gemini:{}", s["signature"].as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        g.signatures, want_sigs,
        "{name}: thought signatures, verbatim"
    );
}

#[test]
fn every_gemini_stream_maps_to_its_expectation() {
    let set = fixtures();
    assert!(set.len() >= 2);
    for (name, bytes, expect) in set {
        check(name, &map(&[bytes]), expect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn gemini_chunking_never_changes_the_events(cuts in proptest::collection::vec(0usize..1_000_000, 0..40)) {
        for (name, bytes, expect) in fixtures() {
            let pieces = split_at_cuts(bytes, &cuts);
            let chunked = map(&pieces);
            // Made-up call ids differ run to run; everything else must be identical.
            prop_assert_eq!(gather(&chunked).text, gather(&map(&[bytes])).text, "{}", name);
            check(name, &chunked, expect);
        }
    }
}

fn msg(role: Role, parts: Vec<Part>, provider: Option<&str>) -> Message {
    message(role, parts, provider)
}

/// The stored parts of an answer, as the engine's draft would build them from `items`.
fn parts_of(items: &[Item]) -> Vec<Part> {
    let mut parts = Vec::new();
    for i in items {
        match i.as_ref().unwrap() {
            StreamEvent::ReasoningSignature(s) => parts.push(Part::Reasoning {
                text: String::new(),
                signature: Some(s.clone()),
            }),
            StreamEvent::TextDelta(t) => parts.push(Part::Text { text: t.clone() }),
            StreamEvent::ToolCallFinished {
                id,
                name,
                arguments,
                ..
            } => parts.push(Part::ToolCall {
                call_id: id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
                status: parley_protocol::ToolCallStatus::Completed,
            }),
            _ => {}
        }
    }
    parts
}

#[test]
fn replay_matches_the_recorded_function_response_request() {
    let Some(shared) = shared_fixtures() else {
        eprintln!("note: ../shared/fixtures is absent; skipping the recorded request comparison");
        return;
    };
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(shared.join("gemini/5b2-text-after-function-response.request.json"))
            .unwrap(),
    )
    .unwrap();
    let want = &recorded["contents"];
    let streamed = std::fs::read(shared.join("gemini/5b-function-call.sse")).unwrap();
    let mut parts = parts_of(&map(&[&streamed]));
    let call_id = match &parts[1] {
        Part::ToolCall { call_id, .. } => call_id.clone(),
        p => panic!("{p:?}"),
    };
    parts.push(Part::ToolResult {
        call_id,
        output: "Mexico".into(),
        is_error: false,
    });
    let got = json_items(serde_json::to_value(build_contents(&[
        msg(
            Role::User,
            vec![Part::Text {
                text: want[0]["parts"][0]["text"].as_str().unwrap().into(),
            }],
            None,
        ),
        msg(Role::Assistant, parts, Some("g")),
    ])));
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(got[0], want[0], "the user turn");
    // The model turn: the functionCall with its signature on the same part.
    assert_eq!(got[1]["role"], "model");
    let (g, w) = (&got[1]["parts"][0], &want[1]["parts"][0]);
    assert_eq!(g["functionCall"]["name"], w["functionCall"]["name"]);
    assert_eq!(g["functionCall"]["args"], w["functionCall"]["args"]);
    assert!(
        g["functionCall"].get("id").is_none(),
        "a made-up id is not sent"
    );
    // The recorded request re-encoded the signature as URL-safe base64; Parley sends the
    // received bytes verbatim. Same signature either way.
    let url_safe = |s: &str| s.replace('+', "-").replace('/', "_");
    assert_eq!(
        url_safe(g["thoughtSignature"].as_str().unwrap()),
        w["thoughtSignature"].as_str().unwrap()
    );
    assert!(String::from_utf8_lossy(&streamed).contains(g["thoughtSignature"].as_str().unwrap()));
    // The tool result: a functionResponse object in the next user turn, name matching.
    assert_eq!(got[2]["role"], "user");
    let resp = &got[2]["parts"][0]["functionResponse"];
    assert_eq!(
        resp["name"],
        want[2]["parts"][0]["functionResponse"]["name"]
    );
    assert!(resp["response"].is_object());
    assert_eq!(resp["response"]["output"], "Mexico");
}

#[test]
fn replay_puts_each_signature_on_its_part_and_drops_foreign_ones() {
    let sig = |s: &str| Some(parley_core::providers::signature::gemini(s));
    let contents = json_items(serde_json::to_value(build_contents(&[
        msg(Role::User, vec![Part::Text { text: "q".into() }], None),
        msg(
            Role::Assistant,
            vec![
                Part::Reasoning {
                    text: "thinking".into(),
                    signature: sig("T1"),
                },
                Part::Text {
                    text: "Answer".into(),
                },
                Part::Reasoning {
                    text: String::new(),
                    signature: Some("anthropic-sig".into()),
                },
                Part::ToolCall {
                    call_id: "server-id".into(),
                    name: "f".into(),
                    arguments: "{\"a\":1}".into(),
                    status: parley_protocol::ToolCallStatus::Failed,
                },
                Part::ToolResult {
                    call_id: "server-id".into(),
                    output: "not run".into(),
                    is_error: true,
                },
                Part::Reasoning {
                    text: String::new(),
                    signature: sig("END"),
                },
            ],
            Some("g"),
        ),
        msg(
            Role::User,
            vec![Part::Text {
                text: "next".into(),
            }],
            None,
        ),
    ])));
    assert_eq!(
        Value::Array(contents),
        json!([
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [
                {"text": "Answer", "thoughtSignature": "T1"},
                {"functionCall": {"name": "f", "args": {"a": 1}, "id": "server-id"}},
                {"text": "", "thoughtSignature": "END"}
            ]},
            // Tool results open the next user turn; the user's text follows in the same turn.
            {"role": "user", "parts": [
                {"functionResponse": {"name": "f", "id": "server-id", "response": {"error": "not run"}}},
                {"text": "next"}
            ]}
        ])
    );
}

async fn finish(h: &mut parley_core::TurnHandle) -> EventMsg {
    loop {
        let ev = h.events.recv().await.unwrap();
        if matches!(
            ev.msg,
            EventMsg::TurnCompleted { .. } | EventMsg::TurnFailed { .. }
        ) {
            return ev.msg;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gemini_turn_sends_the_key_in_a_header_and_replays_signatures_then_another_provider_gets_none(
) {
    let gemini = MockServer::start().await;
    let openai = MockServer::start().await;
    let body = std::fs::read(own_fixtures().join("gemini/thoughts-parallel-calls.sse")).unwrap();
    gemini.push(Reply::sse(vec![Step::Bytes(body)]));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    core.providers()
        .add_provider(ProviderDraft {
            name: "gem".into(),
            kind: ProviderKind::Gemini,
            base_url: gemini.base_url(),
            default_model: Some("gemini-test".into()),
            api_key: Some("AIza-test-key-000000000000".into()),
        })
        .await
        .unwrap();
    core.providers()
        .add_provider(ProviderDraft {
            name: "oai".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: openai.base_url(),
            default_model: Some("gpt-test".into()),
            api_key: None,
        })
        .await
        .unwrap();
    let s = core.chats().create_chat(None).await.unwrap();
    core.chats()
        .set_chat_params(
            &s.id,
            parley_protocol::ChatParams {
                system: Some("Be brief.".into()),
                temperature: Some(0.2),
                top_p: Some(0.9),
                max_output_tokens: Some(300),
                reasoning: Some(parley_protocol::ReasoningEffort::Low),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "weather?",
            SendOptions {
                provider: Some("gem".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        finish(&mut h).await,
        EventMsg::TurnCompleted { .. }
    ));
    let req = &gemini.received()[0];
    assert_eq!(
        req.path,
        "/v1/models/gemini-test:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        req.header("x-goog-api-key"),
        Some("AIza-test-key-000000000000")
    );
    assert!(req.header("authorization").is_none());
    assert!(!req.path.contains("key="), "the key never goes in the URL");
    let body = req.json();
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "Be brief.");
    let gen = &body["generationConfig"];
    assert_eq!(gen["maxOutputTokens"], 300);
    assert!((gen["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert!((gen["topP"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert_eq!(gen["thinkingConfig"]["includeThoughts"], true);
    assert!(gen["thinkingConfig"]["thinkingBudget"].as_u64().unwrap() > 0);

    // Stored: the thoughts as a reasoning part sealed by the signature, then the two calls.
    let hist = core.history().full_history(&s.id).await.unwrap();
    let answer = &hist.messages[1];
    assert_eq!(answer.model.as_deref(), Some("gemini-test"));
    assert_eq!(
        answer.parts[0],
        Part::Reasoning {
            text: "Plan: look up both cities 🌍".into(),
            signature: Some("gemini:c2lnMQ+/==".into())
        }
    );
    assert!(matches!(&answer.parts[1], Part::ToolCall { name, .. } if name == "weather"));

    // Same provider again: the signature goes back on the first functionCall part.
    gemini.push(Reply::sse(vec![Step::Bytes(
        b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Sunny.\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2}}\r\n\r\n".to_vec(),
    )]));
    let mut h = core
        .chats()
        .send_message(&s.id, "and?", SendOptions::default())
        .await
        .unwrap();
    assert!(matches!(
        finish(&mut h).await,
        EventMsg::TurnCompleted { .. }
    ));
    let replay = gemini.received()[1].json();
    let model_turn = &replay["contents"][1];
    assert_eq!(model_turn["role"], "model");
    assert_eq!(model_turn["parts"][0]["thoughtSignature"], "c2lnMQ+/==");
    assert_eq!(
        model_turn["parts"][0]["functionCall"]["args"]["city"],
        "Zürich"
    );
    assert!(model_turn["parts"][1].get("thoughtSignature").is_none());
    let results = &replay["contents"][2]["parts"];
    assert_eq!(results[0]["functionResponse"]["name"], "weather");
    assert_eq!(results[1]["functionResponse"]["name"], "weather");
    assert_eq!(results[2]["text"], "and?");

    // Switch to another provider mid-conversation: it sees the text, never Gemini's signatures.
    openai.push(Reply::sse(text_answer(&["From ", "OpenAI."], 0)));
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "now you",
            SendOptions {
                provider: Some("oai".into()),
                model: Some("gpt-test".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        finish(&mut h).await,
        EventMsg::TurnCompleted { .. }
    ));
    let sent = openai.received()[0].body.clone();
    let sent = String::from_utf8(sent).unwrap();
    assert!(!sent.contains("c2lnMQ"), "no foreign signature: {sent}");
    assert!(sent.contains("Sunny."));
    let hist = core.history().full_history(&s.id).await.unwrap();
    let models: Vec<_> = hist
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| (m.provider.clone().unwrap(), m.model.clone().unwrap()))
        .collect();
    assert_eq!(
        models,
        vec![
            ("gem".to_owned(), "gemini-test".to_owned()),
            ("gem".to_owned(), "gemini-test".to_owned()),
            ("oai".to_owned(), "gpt-test".to_owned())
        ]
    );
    assert_eq!(hist.session.provider.as_deref(), Some("oai"));
    // The chat's settings survive and applied to the other provider too.
    let body: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["reasoning_effort"], "low");
}

/// Chunks are decoded into typed wire structures: a chunk of an unknown shape (a later
/// addition, or a field of another type) is ignored whole; only a payload that is not JSON at
/// all ends the stream with a protocol error. Blocked prompts and `error` chunks end it too.
#[test]
fn typed_chunks_ignore_unknown_shapes_and_garbage_is_a_protocol_error() {
    use parley_core::ProviderErrorKind as K;
    let part =
        |p: &str| format!("data: {{\"candidates\":[{{\"content\":{{\"parts\":[{p}]}}}}]}}\n\n");
    let end = "data: {\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":\"STOP\"}]}\n\n";
    let cases: Vec<(String, &str, Option<K>)> = vec![
        (part("{\"text\":\"hi\"}"), "hi", None),
        (part("{\"thought\":true,\"text\":\"think\"},{\"text\":\"hi\"}"), "hi", None),
        (part("{\"text\":7}"), "", None),
        (part("{\"thought\":\"yes\",\"text\":\"hi\"}"), "", None),
        ("data: {\"future\":{\"x\":1}}\n\n".into(), "", None),
        ("data: [1,2]\n\n".into(), "", None),
        ("data: \"text\"\n\n".into(), "", None),
        ("data: {\"candidates\":null}\n\n".into(), "", None),
        ("data: {\"candidates\":[]}\n\n".into(), "", None),
        ("data: {\"error\":null,\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]}}]}\n\n".into(), "ok", None),
        ("data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\n".into(), "", Some(K::BadRequest)),
        ("data: {\"error\":{\"code\":429,\"message\":\"slow\",\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n".into(), "", Some(K::StreamError)),
        ("data: {broken\n\n".into(), "", Some(K::Protocol)),
    ];
    for (middle, want_text, want_error) in cases {
        let body = format!("{middle}{end}");
        let g = gather(&map(&[body.as_bytes()]));
        assert_eq!(g.text, want_text, "{middle}");
        assert_eq!(g.error.as_ref().map(|(k, ..)| *k), want_error, "{middle}");
        assert_eq!(g.finish.is_some(), want_error.is_none(), "{middle}");
    }
}

/// A whole `functionCall`: its id when the wire has one, else a made-up one; arguments that
/// are not an object are unusable, missing ones are `{}`.
#[test]
fn function_calls_of_every_shape() {
    let body = |call: &str| {
        format!("data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"functionCall\":{call}}}]}},\"finishReason\":\"STOP\"}}]}}\n\n")
    };
    for (call, want_id, want_args) in [
        (
            "{\"name\":\"f\",\"id\":\"c1\",\"args\":{\"a\":1}}",
            Some("c1"),
            Ok(json!({"a": 1})),
        ),
        (
            "{\"name\":\"f\",\"id\":\"\",\"args\":{}}",
            None,
            Ok(json!({})),
        ),
        ("{\"name\":\"f\"}", None, Ok(json!({}))),
        ("{\"name\":\"f\",\"args\":[1]}", None, Err(())),
        ("{\"name\":\"f\",\"args\":\"{}\"}", None, Err(())),
    ] {
        let g = gather(&map(&[body(call).as_bytes()]));
        assert_eq!(g.calls.len(), 1, "{call}");
        let (id, name, _, parsed) = &g.calls[0];
        assert_eq!(name, "f", "{call}");
        match want_id {
            Some(w) => assert_eq!(id, w, "{call}"),
            None => assert!(id.starts_with("parley_call_"), "{call}: {id}"),
        }
        assert_eq!(parsed.clone().map_err(|_| ()), want_args, "{call}");
        assert_eq!(g.finish.as_deref(), Some("STOP"), "{call}");
    }
}
