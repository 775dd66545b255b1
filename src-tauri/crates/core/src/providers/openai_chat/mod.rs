//! OpenAI Chat Completions (`POST {base}/chat/completions`, SSE) — OpenAI itself and every
//! compatible server (llama.cpp, LM Studio, vLLM, OpenRouter, DeepSeek, Groq, Mistral, ...).
//!
//! [`ChatMapper`] is pure: SSE `data` payloads in, [`StreamEvent`]s out. It accepts
//! `reasoning_content` (DeepSeek) and `reasoning` (OpenRouter), usage on its own `choices: []`
//! chunk or on the finish chunk, tool calls by `index` with arguments split anywhere, errors
//! inside a 200 stream, and streams with or without the `[DONE]` sentinel.

pub mod request;

pub use request::{build_body, tools};

use super::decode::{decode, Unknown};
use super::http::{SseFramed, SseMapper};
use super::sse::SseEvent;
use super::{ChatRequest, StreamEvent};
use super::{Provider, WireFormat};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use parley_protocol::{StopReason, Usage};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
    announced: bool,
}

/// The pure Chat Completions event mapper.
#[derive(Debug, Default)]
pub struct ChatMapper {
    calls: BTreeMap<u32, PendingCall>,
    finish_reason: Option<String>,
    done: bool,
    finished_emitted: bool,
    data_events: u64,
}

impl ChatMapper {
    /// A fresh mapper for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// The raw finish reason seen so far.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    /// True once `data: [DONE]` arrived.
    pub fn saw_done(&self) -> bool {
        self.done
    }

    /// How many JSON `data` payloads were mapped (`[DONE]` not counted).
    pub fn data_events(&self) -> u64 {
        self.data_events
    }

    /// Maps one SSE `data` payload.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let trimmed = data.trim();
        if trimmed == "[DONE]" {
            self.done = true;
            self.finish(out);
            return;
        }
        if self.finished_emitted {
            return;
        }
        if trimmed.is_empty() {
            return;
        }
        self.data_events += 1;
        let stopped = &mut self.finished_emitted;
        let Some(chunk) = decode::<Chunk>(trimmed, "chunk", Unknown::Refuse, stopped, out) else {
            return;
        };
        for choice in chunk.choices {
            if let Some(delta) = choice.delta {
                let reasoning = delta.reasoning_content.or(delta.reasoning);
                if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
                    out.push(Ok(StreamEvent::ReasoningDelta(r)));
                }
                if let Some(c) = delta.content.filter(|c| !c.is_empty()) {
                    out.push(Ok(StreamEvent::TextDelta(c)));
                }
                for (pos, tc) in delta.tool_calls.into_iter().flatten().enumerate() {
                    self.on_tool_delta(tc, pos as u32, out);
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.flush_calls(out);
                self.finish_reason = Some(reason);
            }
        }
        if let Some(raw) = chunk.usage.filter(|u| u.is_object()) {
            out.push(Ok(StreamEvent::Usage {
                usage: usage_from(&raw),
                raw,
            }));
        }
        if let Some(err) = chunk.error.filter(|e| !e.is_null()) {
            out.push(Err(stream_error(&err)));
            self.finished_emitted = true;
        }
    }

    fn on_tool_delta(
        &mut self,
        tc: ToolCallDelta,
        position: u32,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
        let index = tc.index.unwrap_or(position);
        let call = self.calls.entry(index).or_default();
        if let Some(id) = tc.id.filter(|s| !s.is_empty()) {
            call.id = id;
        }
        let (name, args) = match tc.function {
            Some(f) => (f.name, f.arguments),
            None => (None, None),
        };
        // Some servers repeat the full name in every delta: the first one wins.
        if let Some(name) = name.filter(|s| !s.is_empty()) {
            if call.name.is_empty() {
                call.name = name;
            }
        }
        if !call.announced && !call.name.is_empty() {
            call.announced = true;
            if call.id.is_empty() {
                call.id = format!("call_{}", crate::new_id());
            }
            out.push(Ok(StreamEvent::ToolCallStarted {
                index,
                id: call.id.clone(),
                name: call.name.clone(),
            }));
        }
        if let Some(a) = args.filter(|a| !a.is_empty()) {
            call.arguments.push_str(&a);
            if call.announced {
                out.push(Ok(StreamEvent::ToolCallArgsDelta { index, delta: a }));
            }
        }
    }

    fn flush_calls(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            let parsed = parse_arguments(&call.arguments);
            let id = if call.id.is_empty() {
                format!("call_{}", crate::new_id())
            } else {
                call.id
            };
            out.push(Ok(StreamEvent::ToolCallFinished {
                index,
                id,
                name: call.name,
                arguments: call.arguments,
                parsed,
            }));
        }
    }

    fn finish(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished_emitted {
            return;
        }
        self.flush_calls(out);
        self.finished_emitted = true;
        out.push(Ok(StreamEvent::Finished {
            stop_reason: stop_reason(self.finish_reason.as_deref()),
            raw_reason: self.finish_reason.clone(),
        }));
    }

    /// The body ended. With `[DONE]` or a finish reason that is a complete answer; otherwise the
    /// stream was cut short and any half-streamed tool call is reported as unusable.
    pub fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished_emitted {
            return;
        }
        if self.finish_reason.is_some() {
            self.finish(out);
            return;
        }
        for (index, call) in std::mem::take(&mut self.calls) {
            out.push(Ok(StreamEvent::ToolCallFinished {
                index,
                id: call.id,
                name: call.name,
                arguments: call.arguments,
                parsed: Err("the stream ended before the arguments were complete".into()),
            }));
        }
        self.finished_emitted = true;
        out.push(Err(ProviderError::new(
            ProviderErrorKind::StreamInterrupted,
            "the stream ended before the model finished",
        )));
    }
}

impl SseMapper for ChatMapper {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        match event.event.as_str() {
            "error" => {
                let v: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
                let err = v.get("error").cloned().unwrap_or(v);
                out.push(Err(stream_error(&err)));
                self.finished_emitted = true;
            }
            _ => self.on_data(&event.data, out),
        }
    }

    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        ChatMapper::on_end(self, out)
    }
}

/// Parses complete tool arguments; an empty string means "no arguments" (`{}`).
pub fn parse_arguments(raw: &str) -> Result<Value, String> {
    if raw.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("the arguments are not a JSON object".into()),
        Err(e) if e.is_eof() => Err("the arguments were cut off before they were complete".into()),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

fn stream_error(err: &Value) -> ProviderError {
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| err.as_str().map(str::to_owned))
        .unwrap_or_else(|| err.to_string());
    let code = match err.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut e = ProviderError::new(ProviderErrorKind::StreamError, redact(&message, None));
    e.provider_code = code;
    e
}

/// Normalises a Chat Completions usage object.
pub fn usage_from(raw: &Value) -> Usage {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64);
    Usage {
        input_tokens: n(raw.get("prompt_tokens")).unwrap_or(0),
        output_tokens: n(raw.get("completion_tokens")).unwrap_or(0),
        reasoning_tokens: n(raw
            .get("completion_tokens_details")
            .and_then(|d| d.get("reasoning_tokens"))),
        cached_input_tokens: n(raw
            .get("prompt_tokens_details")
            .and_then(|d| d.get("cached_tokens"))),
    }
}

/// Maps a raw finish reason.
pub fn stop_reason(raw: Option<&str>) -> StopReason {
    match raw {
        Some("stop") | None => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
        Some("content_filter") => StopReason::ContentFilter,
        Some(_) => StopReason::Other,
    }
}

/// The Chat Completions wire format (OpenAI and every compatible server).
pub struct ChatWire;

impl WireFormat for ChatWire {
    type Framed = SseFramed<ChatMapper>;
    fn stream_path(_: &ChatRequest) -> String {
        "/chat/completions".into()
    }
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_ {
        build_body(request)
    }
}

/// A Chat Completions provider.
pub type OpenAiChat = Provider<ChatWire>;

#[cfg(test)]
mod tests {
    use super::*;
    use parley_protocol::{Message, Part, Role};

    fn map(body: &str) -> Vec<Result<StreamEvent, ProviderError>> {
        let mut p = super::super::sse::SseParser::new();
        let mut evs = Vec::new();
        p.push(body.as_bytes(), &mut evs);
        let mut m = ChatMapper::new();
        let mut out = Vec::new();
        for e in &evs {
            SseMapper::on_event(&mut m, e, &mut out);
        }
        SseMapper::on_end(&mut m, &mut out);
        out
    }

    #[test]
    fn text_then_done() {
        let out = map("data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        assert_eq!(
            out[0].as_ref().unwrap(),
            &StreamEvent::TextDelta("Hi".into())
        );
        assert!(matches!(
            out.last().unwrap(),
            Ok(StreamEvent::Finished {
                stop_reason: StopReason::EndTurn,
                ..
            })
        ));
    }

    #[test]
    fn cut_short_stream_reports_truncated_tool_call() {
        let out = map("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n");
        let finished = out
            .iter()
            .find_map(|e| match e {
                Ok(StreamEvent::ToolCallFinished { parsed, .. }) => Some(parsed.clone()),
                _ => None,
            })
            .unwrap();
        assert!(finished.is_err());
        assert!(matches!(
            out.last().unwrap(),
            Err(e) if e.kind == ProviderErrorKind::StreamInterrupted
        ));
    }

    /// A chunk that is not JSON, or not a chunk, ends the stream with a protocol error and
    /// nothing is mapped after it (the driver stops at the first error anyway).
    #[test]
    fn an_unreadable_chunk_is_a_protocol_error_and_the_end() {
        let text = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n";
        let rest = "data: {\"choices\":[{\"delta\":{\"content\":\"more\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        for bad in ["{broken", "{\"choices\":\"x\"}", "[1]"] {
            let out = map(&format!("{text}data: {bad}\n\n{rest}"));
            assert_eq!(out.len(), 2, "{bad}: {out:?}");
            assert_eq!(
                out[0].as_ref().unwrap(),
                &StreamEvent::TextDelta("Hi".into())
            );
            assert!(
                matches!(&out[1], Err(e) if e.kind == ProviderErrorKind::Protocol),
                "{bad}: {out:?}"
            );
        }
    }

    #[test]
    fn arguments_parse_rules() {
        assert_eq!(parse_arguments("").unwrap(), json!({}));
        assert!(parse_arguments("{\"a\":").unwrap_err().contains("cut off"));
        assert!(parse_arguments("[1]").is_err());
        assert!(parse_arguments("{nope}")
            .unwrap_err()
            .contains("not valid JSON"));
    }

    #[test]
    fn request_replays_tool_calls_with_reasoning() {
        let m = Message {
            id: "a".into(),
            chat_id: "s".into(),
            parent_id: None,
            role: Role::Assistant,
            parts: vec![
                Part::ToolCall {
                    call_id: "call_1".into(),
                    name: "f".into(),
                    arguments: "{\"x\":1}".into(),
                    status: parley_protocol::ToolCallStatus::Completed,
                },
                Part::ToolResult {
                    call_id: "call_1".into(),
                    output: "4".into(),
                    is_error: false,
                },
            ],
            turn_id: None,
            provider: None,
            model: None,
            created_at: 0,
        };
        let body = serde_json::to_value(build_body(&ChatRequest {
            model: "m".into(),
            system: Some("sys".into()),
            messages: vec![m],
            ..Default::default()
        }))
        .unwrap();
        let msgs = body["messages"].as_array().unwrap();
        assert_eq!(msgs[0], json!({"role": "system", "content": "sys"}));
        assert_eq!(msgs[1]["content"], Value::Null);
        assert_eq!(msgs[1]["reasoning_content"], json!(""));
        assert_eq!(
            msgs[1]["tool_calls"][0]["function"]["arguments"],
            json!("{\"x\":1}")
        );
        assert_eq!(
            msgs[2],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "4"})
        );
        assert_eq!(body["stream_options"]["include_usage"], json!(true));
    }
}
