//! Ollama's native API: recorded NDJSON streams (../shared/fixtures, when present) and the repo's
//! own, whole and re-chunked; the tool-loop request of REQUESTS.md; a turn through the engine.

use parley_core::providers::http::LineMapper;
use parley_core::providers::ollama::{build_messages, OllamaMapper, LOCAL_ID_PREFIX};
use parley_core::providers::StreamEvent;
use parley_core::ProviderError;
use parley_protocol::{
    EventMsg, Message, Part, ProviderKind, Role, SendOptions, StopReason, ToolCallStatus,
};
use parley_tests::*;
use proptest::prelude::*;
use serde_json::{json, Value};

type Item = Result<StreamEvent, ProviderError>;

/// Frames bytes into lines the way the HTTP driver does, in any chunking.
fn map(chunks: &[&[u8]]) -> Vec<Item> {
    let mut mapper = OllamaMapper::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut feed = |raw: &[u8], out: &mut Vec<Item>| {
        let text = String::from_utf8_lossy(raw);
        let line = text.trim();
        if !line.is_empty() {
            mapper.on_line(line, out);
        }
    };
    for c in chunks {
        buf.extend_from_slice(c);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = buf.drain(..=pos).collect();
            feed(&raw, &mut out);
        }
    }
    let rest = std::mem::take(&mut buf);
    feed(&rest, &mut out);
    mapper.on_end(&mut out);
    out
}

fn fixtures() -> &'static Vec<(String, Vec<u8>, Value)> {
    static SET: std::sync::OnceLock<Vec<(String, Vec<u8>, Value)>> = std::sync::OnceLock::new();
    SET.get_or_init(|| load_fixtures("ollama", "ndjson"))
}

const SHAPE: ExpectShape = ExpectShape {
    reasoning: "reasoning",
    reasoning_tokens: None,
    error_code: None,
    local_ids: Some(LOCAL_ID_PREFIX),
};

fn check(name: &str, items: &[Item], expect: &Value) {
    check_stream(name, items, expect, SHAPE);
}

#[test]
fn every_ollama_stream_maps_to_its_expectation() {
    let set = fixtures();
    assert!(!set.is_empty());
    for (name, bytes, expect) in set {
        let items = map(&[bytes]);
        // Ids made up for id-less calls differ between runs; compare the rest.
        check(name, &items, expect);
    }
}

fn stable(items: Vec<Item>) -> Vec<String> {
    // Made-up ids are random: replace them before comparing two runs.
    items
        .into_iter()
        .map(|i| {
            let s = format!("{i:?}");
            match s.find(LOCAL_ID_PREFIX) {
                Some(at) => format!(
                    "{}<local id>{}",
                    &s[..at],
                    &s[at + LOCAL_ID_PREFIX.len() + 36..]
                ),
                None => s,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn ollama_chunking_never_changes_the_events(cuts in proptest::collection::vec(0usize..1_000_000, 0..30)) {
        for (name, bytes, expect) in fixtures() {
            let pieces = split_at_cuts(bytes, &cuts);
            let chunked = map(&pieces);
            check(name, &chunked, expect);
            prop_assert_eq!(stable(chunked), stable(map(&[bytes])), "{}", name);
        }
    }
}

fn msg(role: Role, parts: Vec<Part>) -> Message {
    message(role, parts, None)
}

#[test]
fn tool_loop_request_matches_requests_md() {
    let got = json_items(serde_json::to_value(build_messages(
        None,
        &[
            msg(
                Role::User,
                vec![Part::Text {
                    text: "what is the weather in Toronto?".into(),
                }],
            ),
            msg(
                Role::Assistant,
                vec![
                    Part::Reasoning {
                        text: "need the tool".into(),
                        signature: None,
                    },
                    Part::ToolCall {
                        call_id: format!("{LOCAL_ID_PREFIX}x"),
                        name: "get_weather".into(),
                        arguments: "{\"city\":\"Toronto\"}".into(),
                        status: ToolCallStatus::Completed,
                    },
                    Part::ToolResult {
                        call_id: format!("{LOCAL_ID_PREFIX}x"),
                        output: "11 degrees celsius".into(),
                        is_error: false,
                    },
                    Part::ToolCall {
                        call_id: "call_srv".into(),
                        name: "get_time".into(),
                        arguments: "{}".into(),
                        status: ToolCallStatus::Completed,
                    },
                    Part::ToolResult {
                        call_id: "call_srv".into(),
                        output: "noon".into(),
                        is_error: false,
                    },
                ],
            ),
        ],
    )));
    assert_eq!(
        Value::Array(got),
        json!([
            {"role": "user", "content": "what is the weather in Toronto?"},
            {"role": "assistant", "content": "", "thinking": "need the tool", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Toronto"}}},
                {"id": "call_srv", "function": {"name": "get_time", "arguments": {}}}
            ]},
            {"role": "tool", "tool_name": "get_weather", "content": "11 degrees celsius"},
            {"role": "tool", "tool_name": "get_time", "content": "noon", "tool_call_id": "call_srv"}
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ollama_turn_streams_ndjson_and_lists_models_from_tags() {
    let server = MockServer::start().await;
    let base = server.base_url().trim_end_matches("/v1").to_owned();
    server.push(Reply::json(
        200,
        r#"{"models":[{"name":"qwen3:latest","model":"qwen3:latest"},{"name":"llama3.2:latest"}]}"#,
    ));
    let body = std::fs::read(own_fixtures().join("ollama/thinking-tool-no-id.ndjson")).unwrap();
    let mut steps = Vec::new();
    for line in body.split_inclusive(|b| *b == b'\n') {
        steps.push(Step::Bytes(line.to_vec()));
        steps.push(sleep_ms(20));
    }
    server.push(Reply::sse(steps).content_type("application/x-ndjson"));
    server.push(Reply::json(404, r#"{"error":"model 'nope' not found"}"#));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    add_provider(&core, "ollama", ProviderKind::Ollama, &base, "qwen3", None).await;
    let list = core.providers().list_models("ollama", true).await.unwrap();
    assert!(list.error.is_none(), "{list:?}");
    let models = list.models;
    assert_eq!(
        models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["llama3.2:latest", "qwen3:latest"]
    );
    assert_eq!(server.received()[0].path, "/api/tags");

    let s = core.chats().create_chat(None).await.unwrap();
    let mut h = core
        .chats()
        .send_message(&s.id, "read ü.txt", SendOptions::default())
        .await
        .unwrap();
    let stop = loop {
        match h.events.recv().await.unwrap().msg {
            EventMsg::TurnCompleted { stop_reason, .. } => break stop_reason,
            EventMsg::TurnFailed { error, .. } => panic!("{}", error.message),
            _ => {}
        }
    };
    assert_eq!(
        stop,
        Some(StopReason::ToolUse),
        "Ollama says stop even when it called a tool"
    );
    let req = &server.received()[1];
    assert_eq!(req.path, "/api/chat");
    assert_eq!(
        req.json()["messages"][0],
        json!({"role": "user", "content": "read ü.txt"})
    );
    let hist = core.history().full_history(&s.id).await.unwrap();
    let parts = &hist.messages[1].parts;
    assert_eq!(
        parts[0],
        Part::Reasoning {
            text: "Hmm, a file 📄".into(),
            signature: None
        }
    );
    assert_eq!(
        parts[1],
        Part::Text {
            text: "Reading it: ".into()
        }
    );
    assert!(
        matches!(&parts[2], Part::ToolCall { name, arguments, .. } if name == "read_file" && arguments == "{\"path\":\"ü.txt\"}")
    );

    // A missing model is said plainly.
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "again",
            SendOptions {
                model: Some("nope".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let message = loop {
        if let EventMsg::TurnFailed { error, .. } = h.events.recv().await.unwrap().msg {
            break error.message;
        }
    };
    assert!(
        message.contains("does not know this model") && message.contains("model 'nope' not found"),
        "{message}"
    );
}

/// Lines are decoded into typed wire structures: a line of an unknown shape (a later addition,
/// or a field of another type) is ignored whole; a line that is not JSON ends the stream with a
/// protocol error, an `error` line with the server's message.
#[test]
fn typed_lines_ignore_unknown_shapes_and_garbage_is_a_protocol_error() {
    use parley_core::ProviderErrorKind as K;
    let done =
        "{\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":1,\"eval_count\":2}\n";
    for (middle, want_text, want_error) in [
        ("{\"message\":{\"content\":\"hi\"}}\n", "hi", None),
        ("{\"response\":\"generated\"}\n", "generated", None),
        (
            "{\"message\":{\"content\":\"\"},\"response\":\"x\"}\n",
            "",
            None,
        ),
        (
            "{\"message\":{\"thinking\":\"hm\",\"content\":\"a\"}}\n",
            "a",
            None,
        ),
        ("{\"message\":{\"content\":7}}\n", "", None),
        (
            "{\"done\":\"yes\",\"message\":{\"content\":\"b\"}}\n",
            "",
            None,
        ),
        ("{\"future\":[1]}\n", "", None),
        ("[1,2]\n", "", None),
        (
            "{\"error\":\"model crashed\"}\n",
            "",
            Some((K::StreamError, "model crashed")),
        ),
        (
            "{\"error\":{\"code\":1}}\n",
            "",
            Some((K::StreamError, "{\"code\":1}")),
        ),
        ("{not json\n", "", Some((K::Protocol, ""))),
    ] {
        let body = format!("{middle}{done}");
        let g = gather(&map(&[body.as_bytes()]));
        assert_eq!(g.text, want_text, "{middle}");
        let got = g
            .error
            .as_ref()
            .map(|(k, _, d)| (*k, d.clone().unwrap_or_default()));
        match (got, want_error) {
            (None, None) => assert_eq!(g.finish.as_deref(), Some("stop"), "{middle}"),
            (Some((k, d)), Some((wk, wd))) => {
                assert_eq!(k, wk, "{middle}");
                assert!(d.starts_with(wd), "{middle}: {d}");
                assert!(g.finish.is_none(), "{middle}");
            }
            (got, want) => panic!("{middle}: {got:?} vs {want:?}"),
        }
    }
}

/// Whole tool calls: arguments as an object, as a string, missing, or of another kind.
#[test]
fn tool_calls_of_every_shape() {
    for (call, want_id, want_args) in [
        (
            "{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}",
            Some("c1"),
            Ok(json!({"a": 1})),
        ),
        (
            "{\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":2}\"}}",
            None,
            Ok(json!({"a": 2})),
        ),
        ("{\"function\":{\"name\":\"f\"}}", None, Ok(json!({}))),
        (
            "{\"function\":{\"name\":\"f\",\"arguments\":[1]}}",
            None,
            Err(()),
        ),
    ] {
        let body = format!("{{\"message\":{{\"tool_calls\":[{call}]}}}}\n{{\"done\":true}}\n");
        let g = gather(&map(&[body.as_bytes()]));
        assert_eq!(g.calls.len(), 1, "{call}");
        let (id, name, _, parsed) = &g.calls[0];
        assert_eq!(name, "f", "{call}");
        match want_id {
            Some(w) => assert_eq!(id, w, "{call}"),
            None => assert!(id.starts_with(LOCAL_ID_PREFIX), "{call}: {id}"),
        }
        assert_eq!(parsed.clone().map_err(|_| ()), want_args, "{call}");
        assert_eq!(g.error, None, "{call}");
    }
}
