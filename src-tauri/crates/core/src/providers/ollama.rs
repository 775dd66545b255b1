//! Ollama's native API (`POST {base}/api/chat`, NDJSON; models from `GET {base}/api/tags`).
//! [`OllamaMapper`] is pure: one JSON line in, [`StreamEvent`]s out. It reads `message.content`
//! (and `response`, the `/api/generate` shape), `message.thinking`, whole `tool_calls` (arguments
//! arrive as an object; ids only from newer servers), the `done: true` line with its counts and
//! `done_reason`, and `{"error": "..."}` lines in the middle of a stream.
//!
//! Requests follow REQUESTS.md: tool-call arguments go back as objects, each result as a `tool`
//! message with `tool_name` (and `tool_call_id` only when the server gave the call an id), and
//! the assistant's `thinking` is sent back with its tool calls.

use super::http::{LineMapper, LinesFramed};
use super::openai_chat::parse_arguments;
use super::{ChatRequest, StreamEvent};
use super::{Provider, WireFormat};
use crate::error::{ProviderError, ProviderErrorKind};
use parley_protocol::{Part, Role, StopReason, Usage};
use serde_json::{json, Value};

/// Prefix of call ids Parley made up because the server sent none (never sent back).
pub const LOCAL_ID_PREFIX: &str = "parley_call_";

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
}

impl LineMapper for OllamaMapper {
    fn on_line(&mut self, line: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished {
            return;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let snippet: String = line.chars().take(120).collect();
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("unreadable stream line ({e}): {snippet}"),
                )));
                self.finished = true;
                return;
            }
        };
        if let Some(err) = v.get("error") {
            let message = err
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| err.to_string());
            out.push(Err(ProviderError::new(
                ProviderErrorKind::StreamError,
                message,
            )));
            self.finished = true;
            return;
        }
        let msg = &v["message"];
        if let Some(t) = msg["thinking"].as_str().filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::ReasoningDelta(t.to_owned())));
        }
        let text = msg["content"].as_str().or_else(|| v["response"].as_str());
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::TextDelta(t.to_owned())));
        }
        for call in msg["tool_calls"].as_array().into_iter().flatten() {
            let index = self.calls;
            self.calls += 1;
            let f = &call["function"];
            let name = f["name"].as_str().unwrap_or_default().to_owned();
            let id = call["id"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{LOCAL_ID_PREFIX}{}", crate::new_id()));
            let arguments = match &f["arguments"] {
                Value::String(s) => s.clone(),
                Value::Null => "{}".to_owned(),
                other => other.to_string(),
            };
            out.push(Ok(StreamEvent::ToolCallStarted {
                index,
                id: id.clone(),
                name: name.clone(),
            }));
            out.push(Ok(StreamEvent::ToolCallFinished {
                index,
                id,
                name,
                parsed: parse_arguments(&arguments),
                arguments,
            }));
        }
        if v["done"].as_bool() == Some(true) {
            let input = v["prompt_eval_count"].as_u64().unwrap_or(0);
            let output = v["eval_count"].as_u64().unwrap_or(0);
            out.push(Ok(StreamEvent::Usage {
                usage: Usage {
                    input_tokens: input,
                    output_tokens: output,
                    reasoning_tokens: None,
                    cached_input_tokens: None,
                },
                raw: json!({"prompt_eval_count": input, "eval_count": output}),
            }));
            self.done_reason = v["done_reason"].as_str().map(str::to_owned);
            self.finished = true;
            out.push(Ok(StreamEvent::Finished {
                stop_reason: stop_reason(self.done_reason.as_deref(), self.calls > 0),
                raw_reason: self.done_reason.clone(),
            }));
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

/// The `messages` array, per REQUESTS.md.
pub fn build_messages(system: Option<&str>, messages: &[parley_protocol::Message]) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(s) = system.filter(|s| !s.trim().is_empty()) {
        out.push(json!({"role": "system", "content": s}));
    }
    for m in messages {
        match m.role {
            Role::System => out.push(json!({"role": "system", "content": m.text()})),
            Role::User => out.push(json!({"role": "user", "content": m.text()})),
            Role::Assistant => {
                let (mut text, mut thinking, mut calls, mut results) =
                    (String::new(), String::new(), Vec::new(), Vec::new());
                for p in &m.parts {
                    match p {
                        Part::Text { text: t } => text.push_str(t),
                        Part::Reasoning { text: r, .. } => thinking.push_str(r),
                        Part::ToolCall {
                            call_id,
                            name,
                            arguments,
                            ..
                        } => calls.push((call_id.clone(), name.clone(), arguments.clone())),
                        Part::ToolResult {
                            call_id, output, ..
                        } => results.push((call_id.clone(), output.clone())),
                        Part::Image { .. } | Part::File { .. } => {}
                    }
                }
                if text.is_empty() && calls.is_empty() {
                    continue;
                }
                let mut msg = json!({"role": "assistant", "content": text});
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(
                        calls
                            .iter()
                            .map(|(id, name, args)| {
                                let mut c = json!({"function": {"name": name, "arguments": parse_arguments(args).unwrap_or_else(|_| json!({}))}});
                                if !id.starts_with(LOCAL_ID_PREFIX) {
                                    c["id"] = json!(id);
                                }
                                c
                            })
                            .collect(),
                    );
                    if !thinking.is_empty() {
                        msg["thinking"] = json!(thinking);
                    }
                }
                out.push(msg);
                for (id, output) in results {
                    let name = calls
                        .iter()
                        .find(|(cid, _, _)| *cid == id)
                        .map(|(_, n, _)| n.clone())
                        .unwrap_or_default();
                    let mut r = json!({"role": "tool", "tool_name": name, "content": output});
                    if !id.starts_with(LOCAL_ID_PREFIX) {
                        r["tool_call_id"] = json!(id);
                    }
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "messages": build_messages(req.system.as_deref(), &req.messages),
        "stream": true,
    });
    let mut options = serde_json::Map::new();
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        options.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_output_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if !req.stop.is_empty() {
        options.insert("stop".into(), json!(req.stop));
    }
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    if let Some(effort) = req.reasoning {
        body["think"] = json!(effort != parley_protocol::ReasoningEffort::Off);
    }
    if !req.tools.is_empty() && req.tool_choice != super::ToolChoice::None {
        body["tools"] = super::openai_chat::tools_json(&req.tools);
    }
    body
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
    fn body(request: &ChatRequest) -> Value {
        build_body(request)
    }
}

/// An Ollama provider (base URL like `http://127.0.0.1:11434`).
pub type Ollama = Provider<OllamaWire>;
