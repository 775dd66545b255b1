//! The OpenAI Responses API (`POST {base}/responses`, SSE with named events). [`ResponsesMapper`]
//! is pure: events in, [`StreamEvent`]s out. It handles output text, reasoning summaries (parts
//! joined by a blank line), reasoning items (their `encrypted_content` taken from
//! `output_item.done`, never from `.added`), function calls with argument deltas, usage from
//! `response.completed`, `response.incomplete`, and `error` / `response.failed` mid-stream.
//!
//! Parley runs it statelessly (`store: false`): each request replays the earlier output items
//! in `input` — the reasoning item (id, encrypted content, summary) and the function call it led
//! to, then the `function_call_output` keyed by `call_id` (REQUESTS.md §2).

use super::http::{self, SseMapper};
use super::openai_chat::parse_arguments;
use super::signature::{self, Signature};
use super::sse::SseEvent;
use super::{
    ChatRequest, Endpoint, EventStream, HttpSettings, ModelProvider, StreamEvent, ToolChoice,
};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use futures::future::BoxFuture;
use parley_protocol::{Message, ModelInfo, Part, ReasoningEffort, Role, StopReason, Usage};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

/// The pure Responses stream mapper.
#[derive(Debug, Default)]
pub struct ResponsesMapper {
    /// Function calls by output index.
    calls: BTreeMap<u64, Call>,
    had_calls: bool,
    /// Output index and summary index of the last reasoning summary part seen.
    summary_at: Option<(u64, u64)>,
    /// Item id -> output index, for servers (llama.cpp) whose events carry only `item_id`.
    items: std::collections::HashMap<String, u64>,
    next_index: u64,
    done: bool,
}

impl ResponsesMapper {
    /// A fresh mapper for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps one event (`kind` is the SSE event name or the payload's `type`).
    pub fn on_payload(&mut self, data: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let data = data.trim();
        if self.done || data.is_empty() || data == "[DONE]" {
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                let snippet: String = data.chars().take(120).collect();
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("unreadable stream event ({e}): {snippet}"),
                )));
                self.done = true;
                return;
            }
        };
        let item_id = v["item_id"].as_str().or_else(|| v["item"]["id"].as_str());
        let index = self.index_of(v["output_index"].as_u64(), item_id);
        match v["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(d) = v["delta"].as_str().filter(|d| !d.is_empty()) {
                    out.push(Ok(StreamEvent::TextDelta(d.to_owned())));
                }
            }
            "response.reasoning_summary_part.added" => {
                let at = (index, v["summary_index"].as_u64().unwrap_or(0));
                // Parts of one summary are separated by a blank line.
                if matches!(self.summary_at, Some((i, s)) if i == at.0 && s != at.1) {
                    out.push(Ok(StreamEvent::ReasoningDelta("\n\n".into())));
                }
                self.summary_at = Some(at);
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(d) = v["delta"].as_str().filter(|d| !d.is_empty()) {
                    out.push(Ok(StreamEvent::ReasoningDelta(d.to_owned())));
                }
            }
            "response.output_item.added" => {
                let item = &v["item"];
                if item["type"] == "function_call" {
                    let call = Call {
                        id: item["call_id"].as_str().unwrap_or_default().to_owned(),
                        name: item["name"].as_str().unwrap_or_default().to_owned(),
                        arguments: String::new(),
                    };
                    self.had_calls = true;
                    out.push(Ok(StreamEvent::ToolCallStarted {
                        index: index as u32,
                        id: call.id.clone(),
                        name: call.name.clone(),
                    }));
                    self.calls.insert(index, call);
                }
            }
            "response.function_call_arguments.delta" => {
                if let (Some(call), Some(d)) = (self.calls.get_mut(&index), v["delta"].as_str()) {
                    call.arguments.push_str(d);
                    out.push(Ok(StreamEvent::ToolCallArgsDelta {
                        index: index as u32,
                        delta: d.to_owned(),
                    }));
                }
            }
            "response.output_item.done" => self.on_item_done(index, &v["item"], out),
            "response.completed" | "response.incomplete" => {
                self.flush_calls(out);
                let resp = &v["response"];
                if let Some(raw) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(Ok(StreamEvent::Usage {
                        usage: usage_from(raw),
                        raw: raw.clone(),
                    }));
                }
                let status = resp["status"].as_str().unwrap_or("completed").to_owned();
                let incomplete = resp["incomplete_details"]["reason"].as_str();
                let stop_reason = match (status.as_str(), incomplete) {
                    (_, Some("max_output_tokens")) => StopReason::MaxTokens,
                    (_, Some("content_filter")) => StopReason::ContentFilter,
                    ("completed", _) if self.had_calls => StopReason::ToolUse,
                    ("completed", _) => StopReason::EndTurn,
                    _ => StopReason::Other,
                };
                out.push(Ok(StreamEvent::Finished {
                    stop_reason,
                    raw_reason: Some(status),
                }));
                self.done = true;
            }
            "error" => {
                let err = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
                out.push(Err(stream_error(err)));
                self.done = true;
            }
            "response.failed" => {
                out.push(Err(stream_error(&v["response"]["error"])));
                self.done = true;
            }
            _ => {}
        }
    }

    /// The event's output index: `output_index` when sent, else the one given to its item.
    fn index_of(&mut self, output_index: Option<u64>, item_id: Option<&str>) -> u64 {
        if let Some(i) = output_index {
            self.next_index = self.next_index.max(i + 1);
            if let Some(id) = item_id {
                self.items.insert(id.to_owned(), i);
            }
            return i;
        }
        match item_id {
            Some(id) => {
                if let Some(i) = self.items.get(id) {
                    return *i;
                }
                let i = self.next_index;
                self.next_index += 1;
                self.items.insert(id.to_owned(), i);
                i
            }
            None => self.next_index.saturating_sub(1),
        }
    }

    fn on_item_done(
        &mut self,
        index: u64,
        item: &Value,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
        match item["type"].as_str() {
            // The completed item is the one to keep: `.added` may carry a partial blob.
            Some("reasoning")
                if item["encrypted_content"]
                    .as_str()
                    .is_some_and(|e| !e.is_empty()) =>
            {
                let kept = json!({
                    "type": "reasoning",
                    "id": item["id"],
                    "encrypted_content": item["encrypted_content"],
                    "summary": item.get("summary").cloned().unwrap_or_else(|| json!([])),
                });
                out.push(Ok(StreamEvent::ReasoningSignature(
                    signature::openai_reasoning(&kept),
                )));
            }
            Some("function_call") => {
                let mut call = self.calls.remove(&index).unwrap_or_else(|| {
                    self.had_calls = true;
                    Call {
                        id: item["call_id"].as_str().unwrap_or_default().to_owned(),
                        name: item["name"].as_str().unwrap_or_default().to_owned(),
                        arguments: String::new(),
                    }
                });
                // The completed item's arguments are authoritative.
                if let Some(a) = item["arguments"].as_str() {
                    call.arguments = a.to_owned();
                }
                let parsed = parse_arguments(&call.arguments);
                out.push(Ok(StreamEvent::ToolCallFinished {
                    index: index as u32,
                    id: call.id,
                    name: call.name,
                    arguments: call.arguments,
                    parsed,
                }));
            }
            _ => {}
        }
    }

    fn flush_calls(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            let parsed = parse_arguments(&call.arguments);
            out.push(Ok(StreamEvent::ToolCallFinished {
                index: index as u32,
                id: call.id,
                name: call.name,
                arguments: call.arguments,
                parsed,
            }));
        }
    }

    /// Called when the body ends: without `response.completed` the answer is cut short.
    pub fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.done {
            return;
        }
        self.done = true;
        for (index, call) in std::mem::take(&mut self.calls) {
            out.push(Ok(StreamEvent::ToolCallFinished {
                index: index as u32,
                id: call.id,
                name: call.name,
                arguments: call.arguments,
                parsed: Err("the stream ended before the arguments were complete".into()),
            }));
        }
        out.push(Err(ProviderError::new(
            ProviderErrorKind::StreamInterrupted,
            "the stream ended before the model finished",
        )));
    }
}

impl SseMapper for ResponsesMapper {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        self.on_payload(&event.data, out)
    }

    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        ResponsesMapper::on_end(self, out)
    }
}

fn stream_error(err: &Value) -> ProviderError {
    let message = err["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| err.to_string());
    let code = err["code"]
        .as_str()
        .or_else(|| err["type"].as_str())
        .map(str::to_owned);
    let kind = match code.as_deref() {
        Some("insufficient_quota") => ProviderErrorKind::QuotaExceeded,
        Some("rate_limit_exceeded") => ProviderErrorKind::RateLimited,
        Some("context_length_exceeded") => ProviderErrorKind::ContextTooLong,
        Some("server_error") => ProviderErrorKind::Server,
        _ => ProviderErrorKind::StreamError,
    };
    let mut e = ProviderError::new(kind, redact(&message, None));
    e.provider_code = code;
    e
}

/// Normalised usage from `response.usage`.
pub fn usage_from(raw: &Value) -> Usage {
    let n = |v: &Value| v.as_u64();
    Usage {
        input_tokens: n(&raw["input_tokens"]).unwrap_or(0),
        output_tokens: n(&raw["output_tokens"]).unwrap_or(0),
        reasoning_tokens: n(&raw["output_tokens_details"]["reasoning_tokens"]),
        cached_input_tokens: n(&raw["input_tokens_details"]["cached_tokens"]),
    }
}

/// The `input` items for a conversation, per REQUESTS.md §2.
pub fn build_input(messages: &[Message]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in messages {
        match m.role {
            Role::System => {
                out.push(json!({"type": "message", "role": "system", "content": m.text()}))
            }
            Role::User => out.push(json!({"type": "message", "role": "user", "content": m.text()})),
            Role::Assistant => {
                let mut items: Vec<Value> = Vec::new();
                for p in &m.parts {
                    match p {
                        Part::Reasoning {
                            signature: Some(s), ..
                        } => {
                            if let Signature::OpenAiReasoning(item) = signature::parse(s) {
                                items.push(item);
                            }
                        }
                        Part::Text { text } if !text.is_empty() => items
                            .push(json!({"type": "message", "role": "assistant", "content": text})),
                        Part::ToolCall {
                            call_id,
                            name,
                            arguments,
                            ..
                        } => items.push(json!({
                            "type": "function_call",
                            "call_id": call_id,
                            "name": name,
                            "arguments": arguments,
                        })),
                        Part::ToolResult {
                            call_id, output, ..
                        } => items.push(json!({
                            "type": "function_call_output",
                            "call_id": call_id,
                            "output": output,
                        })),
                        _ => {}
                    }
                }
                // A reasoning item must travel with the item that followed it.
                while items.last().is_some_and(|i| i["type"] == "reasoning") {
                    items.pop();
                }
                out.extend(items);
            }
        }
    }
    out
}

/// Whether a model id names an OpenAI reasoning model (they accept `reasoning` and return
/// encrypted reasoning; other models refuse those fields).
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5", "codex"]
        .iter()
        .any(|p| m.starts_with(p))
}

/// The request body (stateless: `store: false`).
pub fn build_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "input": build_input(&req.messages),
        "stream": true,
        "store": false,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.trim().is_empty()) {
        body["instructions"] = json!(system);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = req.top_p {
        body["top_p"] = json!(p);
    }
    if let Some(m) = req.max_output_tokens {
        body["max_output_tokens"] = json!(m);
    }
    let reasoning_model = is_reasoning_model(&req.model);
    match req.reasoning {
        Some(ReasoningEffort::Off) if reasoning_model => {
            body["reasoning"] = json!({"effort": "minimal"});
        }
        Some(effort) => {
            if let Some(word) = super::effort_word(effort) {
                body["reasoning"] = json!({"effort": word, "summary": "auto"});
            }
        }
        None => {}
    }
    if reasoning_model || req.reasoning.is_some_and(|e| e != ReasoningEffort::Off) {
        body["include"] = json!(["reasoning.encrypted_content"]);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
        body["tools"] = json!(tools);
        body["tool_choice"] = json!(match req.tool_choice {
            ToolChoice::Auto => "auto",
            ToolChoice::Required => "required",
            ToolChoice::None => "none",
        });
    }
    body
}

/// An OpenAI Responses provider (base URL like `https://api.openai.com/v1`).
pub struct OpenAiResponses {
    ep: Endpoint,
}

impl OpenAiResponses {
    /// A provider at `base_url`.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        settings: HttpSettings,
    ) -> Self {
        OpenAiResponses {
            ep: Endpoint::new(client, base_url, api_key, settings),
        }
    }
}

impl ModelProvider for OpenAiResponses {
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(self.ep.models("/models"))
    }

    fn stream(&self, request: ChatRequest, cancel: CancellationToken) -> EventStream {
        let build = self
            .ep
            .post_json("/responses", build_body(&request), "text/event-stream");
        http::drive_sse(
            build,
            ResponsesMapper::new(),
            self.ep.settings.clone(),
            cancel,
            self.ep.api_key.clone(),
        )
    }
}
