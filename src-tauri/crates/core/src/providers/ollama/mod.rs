//! Ollama's native API (`POST {base}/api/chat`, NDJSON; models from `GET {base}/api/tags`).
//! [`OllamaMapper`] is pure: one JSON line in, [`StreamEvent`]s out. It reads `message.content`
//! (and `response`, the `/api/generate` shape), `message.thinking`, whole `tool_calls` (arguments
//! arrive as an object; ids only from newer servers), the `done: true` line with its counts and
//! `done_reason`, and `{"error": "..."}` lines in the middle of a stream.
//!
//! Requests follow REQUESTS.md: tool-call arguments go back as objects, each result as a `tool`
//! message with `tool_name` (and `tool_call_id` only when the server gave the call an id), and
//! the assistant's `thinking` is sent back with its tool calls.

pub mod request;

pub use request::{build_body, build_messages, build_messages_for};

use super::decode::{decode, Unknown};
use super::http::{LineMapper, LinesFramed};
use super::local_calls::{call_id, whole_call};
use super::openai_chat::parse_arguments;
use super::{ChatRequest, StreamEvent};
use super::{Provider, WireFormat};
use crate::error::{ProviderError, ProviderErrorKind};
use parley_protocol::{StopReason, Usage};
use serde::Deserialize;
use serde_json::{json, Value};

pub use super::local_calls::LOCAL_ID_PREFIX;

/// One NDJSON line of `/api/chat` (or `/api/generate`). Every field is optional; a line of
/// another shape (a later addition) decodes to nothing and is ignored.
#[derive(Debug, Deserialize)]
struct Line {
    /// Present (even as `null`) on an error line; free-form, so kept as sent.
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
    message: Option<LineMessage>,
    /// The `/api/generate` shape's text.
    response: Option<String>,
    done: Option<bool>,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct LineMessage {
    content: Option<String>,
    thinking: Option<String>,
    tool_calls: Option<Vec<WireCall>>,
}

/// A whole tool call (ids only from newer servers).
#[derive(Debug, Deserialize)]
struct WireCall {
    id: Option<String>,
    function: Option<WireFunction>,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    name: Option<String>,
    /// An object as a rule; a string is taken as the raw argument text.
    arguments: Option<Value>,
}

/// A field that is there, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The pure Ollama line mapper.
#[derive(Debug, Default)]
pub struct OllamaMapper {
    calls: u32,
    finished: bool,
    done_reason: Option<String>,
}

impl OllamaMapper {
    /// A fresh mapper for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// The raw `done_reason`, once the final line arrived.
    pub fn done_reason(&self) -> Option<&str> {
        self.done_reason.as_deref()
    }

    fn on_call(&mut self, call: WireCall, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let index = self.calls;
        self.calls += 1;
        let (name, args) = match call.function {
            Some(f) => (f.name.unwrap_or_default(), f.arguments),
            None => (String::new(), None),
        };
        let arguments = match args {
            Some(Value::String(s)) => s,
            None | Some(Value::Null) => "{}".to_owned(),
            Some(other) => other.to_string(),
        };
        let parsed = parse_arguments(&arguments);
        whole_call(index, call_id(call.id), name, arguments, parsed, out);
    }

    /// The `done: true` line: its counts, then the end.
    fn on_done(&mut self, line: Line, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let input = line.prompt_eval_count.unwrap_or(0);
        let output = line.eval_count.unwrap_or(0);
        out.push(Ok(StreamEvent::Usage {
            usage: Usage {
                input_tokens: input,
                output_tokens: output,
                reasoning_tokens: None,
                cached_input_tokens: None,
            },
            raw: json!({"prompt_eval_count": input, "eval_count": output}),
        }));
        self.done_reason = line.done_reason;
        self.finished = true;
        out.push(Ok(StreamEvent::Finished {
            stop_reason: stop_reason(self.done_reason.as_deref(), self.calls > 0),
            raw_reason: self.done_reason.clone(),
        }));
    }
}

impl LineMapper for OllamaMapper {
    fn on_line(&mut self, line: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished {
            return;
        }
        let Some(mut line) = decode::<Line>(line, "line", Unknown::Ignore, &mut self.finished, out)
        else {
            return;
        };
        if let Some(err) = line.error {
            let message = match err {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push(Err(ProviderError::new(
                ProviderErrorKind::StreamError,
                message,
            )));
            self.finished = true;
            return;
        }
        let (mut content, mut thinking, mut calls) = (None, None, Vec::new());
        if let Some(m) = line.message.take() {
            (content, thinking) = (m.content, m.thinking);
            calls = m.tool_calls.unwrap_or_default();
        }
        if let Some(t) = thinking.filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::ReasoningDelta(t)));
        }
        let text = content.or_else(|| line.response.take());
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::TextDelta(t)));
        }
        for call in calls {
            self.on_call(call, out);
        }
        if line.done == Some(true) {
            self.on_done(line, out);
        }
    }

    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if !self.finished {
            self.finished = true;
            out.push(Err(ProviderError::new(
                ProviderErrorKind::StreamInterrupted,
                "the stream ended before the model finished",
            )));
        }
    }
}

/// Maps `done_reason` (Ollama says `stop` even when it called tools).
pub fn stop_reason(raw: Option<&str>, called_tools: bool) -> StopReason {
    match raw {
        _ if called_tools => StopReason::ToolUse,
        Some("stop") | None => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some(_) => StopReason::Other,
    }
}

/// Ollama's native wire format: newline-delimited JSON.
pub struct OllamaWire;

impl WireFormat for OllamaWire {
    type Framed = LinesFramed<OllamaMapper>;
    const MODELS_PATH: &'static str = "/api/tags";
    const ACCEPT: &'static str = "application/x-ndjson";
    fn stream_path(_: &ChatRequest) -> String {
        "/api/chat".into()
    }
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_ {
        build_body(request)
    }
}

/// An Ollama provider (base URL like `http://127.0.0.1:11434`).
pub type Ollama = Provider<OllamaWire>;
