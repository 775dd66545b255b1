//! The OpenAI Chat Completions mapper against recorded streams (../shared/fixtures, when present)
//! and the repo's own fixtures, each checked against its .expect.json — whole, and under random
//! re-chunking, including splits inside UTF-8 characters.

use parley_core::providers::http::{classify_http, HeaderMap, SseMapper};
use parley_core::providers::openai_chat::ChatMapper;
use parley_core::providers::sse::SseParser;
use parley_core::providers::StreamEvent;
use parley_core::{ProviderError, ProviderErrorKind};
use parley_tests::{check_stream, load_fixtures, shared_fixtures, split_at_cuts, ExpectShape};
use proptest::prelude::*;
use serde_json::Value;

type Item = Result<StreamEvent, ProviderError>;

fn map_chunks(chunks: &[&[u8]]) -> (Vec<Item>, ChatMapper) {
    let mut parser = SseParser::new();
    let mut mapper = ChatMapper::new();
    let mut sse = Vec::new();
    let mut out = Vec::new();
    for c in chunks {
        parser.push(c, &mut sse);
        for e in sse.drain(..) {
            mapper.on_event(&e, &mut out);
        }
    }
    mapper.on_end(&mut out);
    (out, mapper)
}

/// What a stream amounts to, in the terms of .expect.json.
#[derive(Debug, PartialEq)]
struct Summary {
    text: String,
    reasoning: String,
    tool_calls: Vec<(String, String, Value, String)>,
    usage: Option<(u64, u64, u64, Value)>,
    finish_reason: Option<String>,
    error: Option<(Option<String>, String)>,
}

fn summarize(items: &[Item], mapper: &ChatMapper) -> Summary {
    let mut s = Summary {
        text: String::new(),
        reasoning: String::new(),
        tool_calls: Vec::new(),
        usage: None,
        finish_reason: mapper.finish_reason().map(str::to_owned),
        error: None,
    };
    for item in items {
        match item {
            Ok(StreamEvent::TextDelta(t)) => s.text.push_str(t),
            Ok(StreamEvent::ReasoningDelta(t)) => s.reasoning.push_str(t),
            Ok(StreamEvent::ToolCallFinished {
                id,
                name,
                arguments,
                parsed,
                ..
            }) => s.tool_calls.push((
                id.clone(),
                name.clone(),
                parsed.clone().unwrap_or(Value::Null),
                arguments.clone(),
            )),
            Ok(StreamEvent::Usage { usage, raw }) => {
                s.usage = Some((
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.reasoning_tokens.unwrap_or(0),
                    raw.clone(),
                ))
            }
            Ok(StreamEvent::Finished { raw_reason, .. }) => s.finish_reason = raw_reason.clone(),
            Ok(_) => {}
            Err(e) => {
                s.error = Some((
                    e.provider_code.clone(),
                    e.detail.clone().unwrap_or_default(),
                ))
            }
        }
    }
    s
}

const SHAPE: ExpectShape = ExpectShape {
    reasoning: "reasoning",
    reasoning_tokens: None,
    error_code: None,
    local_ids: None,
};

fn check_against_expect(name: &str, s: &Summary, items: &[Item], expect: &Value) {
    // Text, reasoning, calls (with their raw arguments), the finish or the error's message.
    check_stream(name, items, expect, SHAPE);
    // What Chat Completions fixtures say beyond that: the usage (raw, reasoning tokens) even of
    // a stream that fails, the finish reason seen before an error, a numeric error code.
    match (&s.usage, expect.get("usage").filter(|u| !u.is_null())) {
        (None, None) => {}
        (Some(got), Some(want)) => {
            assert_eq!(
                got.0,
                want["input_tokens"].as_u64().unwrap(),
                "{name}: input tokens"
            );
            assert_eq!(
                got.1,
                want["output_tokens"].as_u64().unwrap(),
                "{name}: output tokens"
            );
            assert_eq!(
                got.2,
                want["reasoning_tokens"].as_u64().unwrap_or(0),
                "{name}: reasoning tokens"
            );
            if let Some(raw) = want.get("raw") {
                assert_eq!(&got.3, raw, "{name}: raw usage");
            }
        }
        (got, want) => panic!("{name}: usage {got:?} vs expected {want:?}"),
    }
    assert_eq!(
        s.finish_reason.as_deref(),
        expect["finish_reason"].as_str(),
        "{name}: finish reason"
    );
    match expect.get("error").filter(|e| !e.is_null()) {
        None => {
            assert!(s.error.is_none(), "{name}: unexpected error {:?}", s.error);
            assert!(
                matches!(items.last(), Some(Ok(StreamEvent::Finished { .. }))),
                "{name}: a clean stream ends with Finished"
            );
        }
        Some(want) => {
            let (code, _) = s
                .error
                .clone()
                .unwrap_or_else(|| panic!("{name}: expected an error"));
            let want_code = match &want["code"] {
                Value::String(c) => Some(c.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            assert_eq!(code, want_code, "{name}: error code");
            assert!(
                matches!(items.last(), Some(Err(_))),
                "{name}: the error ends the stream"
            );
        }
    }
    // Exactly one terminal item, and it is last.
    let terminals = items
        .iter()
        .filter(|i| matches!(i, Err(_) | Ok(StreamEvent::Finished { .. })))
        .count();
    assert_eq!(terminals, 1, "{name}: one terminal event");
}

fn stream_fixtures() -> Vec<(String, Vec<u8>, Value)> {
    load_fixtures("openai-chat", "sse")
}

#[test]
fn every_stream_maps_to_its_expectation() {
    let fixtures = stream_fixtures();
    for (name, bytes, expect) in &fixtures {
        let (items, mapper) = map_chunks(&[bytes]);
        let s = summarize(&items, &mapper);
        check_against_expect(name, &s, &items, expect);
        if let Some(n) = expect.get("data_events").and_then(Value::as_u64) {
            assert_eq!(mapper.data_events(), n, "{name}: data events");
        }
        if expect.get("terminated_by_done_sentinel") == Some(&Value::Bool(true)) {
            assert!(mapper.saw_done(), "{name}: [DONE] seen");
        }
    }
    eprintln!("checked {} streams", fixtures.len());
}

#[test]
fn http_error_bodies_of_every_provider_are_classified() {
    let Some(shared) = shared_fixtures() else {
        eprintln!("note: ../shared/fixtures is absent; skipping the recorded HTTP error bodies");
        return;
    };
    let mut seen = 0;
    for provider in [
        "openai-chat",
        "openai-responses",
        "anthropic",
        "gemini",
        "ollama",
    ] {
        let dir = shared.join(provider);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json")
                || name.ends_with(".expect.json")
                || name.ends_with(".request.json")
            {
                continue;
            }
            let expect_file: Value = serde_json::from_slice(
                &std::fs::read(dir.join(name.replace(".json", ".expect.json"))).unwrap(),
            )
            .unwrap();
            let want = &expect_file["expect"]["error"];
            let status = want["status"].as_u64().unwrap() as u16;
            let body = std::fs::read_to_string(&p).unwrap();
            let e = classify_http(status, &reqwest_headers(), &body, None);
            assert_eq!(e.status, Some(status), "{name}");
            assert_eq!(
                e.detail.as_deref(),
                want["message"].as_str(),
                "{name}: provider message kept"
            );
            if let Some(r) = want.get("retryable").and_then(Value::as_bool) {
                assert_eq!(e.is_retryable(), r, "{name}: retryable");
            }
            let expected_kind = match status {
                400 => ProviderErrorKind::BadRequest,
                404 => ProviderErrorKind::ModelNotFound,
                429 => ProviderErrorKind::RateLimited,
                _ => unreachable!("{name}: unexpected status {status}"),
            };
            assert_eq!(e.kind, expected_kind, "{name}");
            if let Some(delay) = want["retry_delay"].as_str() {
                // Google's RetryInfo says when to come back.
                let secs: f64 = delay.trim_end_matches('s').parse().unwrap();
                assert_eq!(
                    e.retry_after,
                    Some(std::time::Duration::from_millis((secs * 1000.0) as u64)),
                    "{name}"
                );
            }
            assert!(e.user_message().contains(want["message"].as_str().unwrap()));
            seen += 1;
        }
    }
    assert!(seen >= 9, "expected the recorded error bodies, saw {seen}");
}

fn reqwest_headers() -> HeaderMap {
    HeaderMap::new()
}

fn fixture_set() -> &'static Vec<(String, Vec<u8>, Value)> {
    static SET: std::sync::OnceLock<Vec<(String, Vec<u8>, Value)>> = std::sync::OnceLock::new();
    SET.get_or_init(stream_fixtures)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any chunking of the same bytes yields exactly the same events.
    #[test]
    fn any_chunking_yields_the_same_events(cuts in proptest::collection::vec(0usize..1_000_000, 0..40)) {
        for (name, bytes, expect) in fixture_set() {
            let (whole, _) = map_chunks(&[bytes]);
            let pieces = split_at_cuts(bytes, &cuts);
            let (chunked, mapper) = map_chunks(&pieces);
            prop_assert_eq!(&chunked, &whole, "{} differs when cut at {:?}", name, cuts);
            check_against_expect(name, &summarize(&chunked, &mapper), &chunked, expect);
        }
    }

    /// Byte-at-a-time on the multi-byte fixture: every UTF-8 character is split somewhere.
    #[test]
    fn single_bytes_never_damage_utf8(_x in 0..1u8) {
        let (_, bytes, _) = fixture_set().iter().find(|(n, _, _)| n.starts_with("crlf-multibyte")).unwrap();
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        let (whole, _) = map_chunks(&[bytes]);
        let (chunked, _) = map_chunks(&singles);
        prop_assert_eq!(chunked, whole);
    }
}
