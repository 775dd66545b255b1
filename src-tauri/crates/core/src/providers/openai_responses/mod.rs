//! The OpenAI Responses API (`POST {base}/responses`, SSE with named events). [`ResponsesMapper`]
//! is pure: events in, [`StreamEvent`]s out. It handles output text, reasoning summaries (parts
//! joined by a blank line), reasoning items (their `encrypted_content` taken from
//! `output_item.done`, never from `.added`), function calls with argument deltas, usage from
//! `response.completed`, `response.incomplete`, and `error` / `response.failed` mid-stream.
//!
//! Parley runs it statelessly (`store: false`): each request replays the earlier output items
//! in `input` — the reasoning item (id, encrypted content, summary) and the function call it led
//! to, then the `function_call_output` keyed by `call_id` (REQUESTS.md §2).

pub mod request;

pub use request::{build_body, build_input, build_input_for, is_reasoning_model};

use super::decode::{decode, Unknown};
use super::http::{SseFramed, SseMapper};
use super::openai_chat::parse_arguments;
use super::signature;
use super::sse::SseEvent;
use super::{ChatRequest, StreamEvent};
use super::{Provider, WireFormat};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use parley_protocol::{StopReason, Usage};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where an event belongs: its output index, or (llama.cpp) only its item's id.
#[derive(Debug, Default, Deserialize)]
struct At {
    output_index: Option<u64>,
    item_id: Option<String>,
}

/// One Responses stream event, by its `type`. Every variant keeps where it belongs ([`At`]);
/// unknown types decode to `Other` and are ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum WireEvent {
    #[serde(
        rename = "response.output_text.delta",
        alias = "response.refusal.delta"
    )]
    TextDelta {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.reasoning_summary_part.added")]
    SummaryPartAdded {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        summary_index: u64,
    },
    #[serde(
        rename = "response.reasoning_summary_text.delta",
        alias = "response.reasoning_text.delta"
    )]
    ReasoningDelta {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.output_item.added")]
    ItemAdded {
        #[serde(flatten)]
        at: At,
        item: Item,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    ArgsDelta {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.output_item.done")]
    ItemDone {
        #[serde(flatten)]
        at: At,
        item: Item,
    },
    #[serde(rename = "response.completed", alias = "response.incomplete")]
    Completed {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        response: ResponseBody,
    },
    #[serde(rename = "error")]
    Error {
        #[serde(flatten)]
        at: At,
        error: Option<Value>,
        code: Option<Value>,
        message: Option<Value>,
    },
    #[serde(rename = "response.failed")]
    Failed {
        #[serde(flatten)]
        at: At,
        #[serde(default)]
        response: Value,
    },
    #[serde(other)]
    Other,
}

/// What [`WireEvent::at`] returns: the event's output index and item id (borrowed: no copy per
/// delta).
struct Place<'a> {
    output_index: Option<u64>,
    item_id: Option<&'a str>,
}

impl WireEvent {
    fn at(&self) -> Place<'_> {
        let (at, item) = match self {
            WireEvent::TextDelta { at, .. }
            | WireEvent::SummaryPartAdded { at, .. }
            | WireEvent::ReasoningDelta { at, .. }
            | WireEvent::ArgsDelta { at, .. }
            | WireEvent::Completed { at, .. }
            | WireEvent::Error { at, .. }
            | WireEvent::Failed { at, .. } => (Some(at), None),
            WireEvent::ItemAdded { at, item } | WireEvent::ItemDone { at, item } => {
                (Some(at), Some(item))
            }
            WireEvent::Other => (None, None),
        };
        // The event's own item id, else (on item events) the item's.
        let item_id = at
            .and_then(|a| a.item_id.as_deref())
            .or_else(|| item.and_then(|i| i.id.as_ref()).and_then(Value::as_str));
        Place {
            output_index: at.and_then(|a| a.output_index),
            item_id,
        }
    }
}

/// An output item (a message, a reasoning item, a function call).
#[derive(Debug, Default, Deserialize)]
struct Item {
    #[serde(rename = "type", default)]
    kind: String,
    /// Kept as sent (echoed back with the reasoning item).
    #[serde(default)]
    id: Option<Value>,
    call_id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
    encrypted_content: Option<String>,
    summary: Option<Value>,
}

/// `response` of `response.completed` / `response.incomplete`.
#[derive(Debug, Default, Deserialize)]
struct ResponseBody {
    status: Option<String>,
    usage: Option<Value>,
    incomplete_details: Option<IncompleteDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct IncompleteDetails {
    reason: Option<String>,
}

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
        // Valid JSON of a shape Parley does not know (a later addition) is ignored.
        let Some(ev) = decode::<WireEvent>(data, "event", Unknown::Ignore, &mut self.done, out)
        else {
            return;
        };
        let at = ev.at();
        let index = self.index_of(at.output_index, at.item_id);
        match ev {
            WireEvent::TextDelta { delta, .. } | WireEvent::ReasoningDelta { delta, .. }
                if delta.is_empty() => {}
            WireEvent::TextDelta { delta, .. } => out.push(Ok(StreamEvent::TextDelta(delta))),
            WireEvent::SummaryPartAdded { summary_index, .. } => {
                let at = (index, summary_index);
                // Parts of one summary are separated by a blank line.
                if matches!(self.summary_at, Some((i, s)) if i == at.0 && s != at.1) {
                    out.push(Ok(StreamEvent::ReasoningDelta("\n\n".into())));
                }
                self.summary_at = Some(at);
            }
            WireEvent::ReasoningDelta { delta, .. } => {
                out.push(Ok(StreamEvent::ReasoningDelta(delta)))
            }
            WireEvent::ItemAdded { item, .. } => self.on_item_added(index, item, out),
            WireEvent::ArgsDelta { delta, .. } => {
                if let Some(call) = self.calls.get_mut(&index) {
                    call.arguments.push_str(&delta);
                    out.push(Ok(StreamEvent::ToolCallArgsDelta {
                        index: index as u32,
                        delta,
                    }));
                }
            }
            WireEvent::ItemDone { item, .. } => self.on_item_done(index, item, out),
            WireEvent::Completed { response, .. } => self.on_completed(response, out),
            WireEvent::Error {
                error,
                code,
                message,
                ..
            } => {
                // `{"type":"error","error":{...}}`, or the fields at the top level.
                let err = error
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({"type": "error", "code": code, "message": message}));
                out.push(Err(stream_error(&err)));
                self.done = true;
            }
            WireEvent::Failed { response, .. } => {
                out.push(Err(stream_error(&response["error"])));
                self.done = true;
            }
            WireEvent::Other => {}
        }
    }

    /// A function call begins (other items begin silently).
    fn on_item_added(
        &mut self,
        index: u64,
        item: Item,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
        if item.kind != "function_call" {
            return;
        }
        let call = Call {
            id: item.call_id.unwrap_or_default(),
            name: item.name.unwrap_or_default(),
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

    /// `response.completed` / `response.incomplete`: the calls still open, the usage, the end.
    fn on_completed(
        &mut self,
        response: ResponseBody,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
        self.flush_calls(out);
        if let Some(raw) = response.usage.filter(Value::is_object) {
            out.push(Ok(StreamEvent::Usage {
                usage: usage_from(&raw),
                raw,
            }));
        }
        let status = response.status.unwrap_or_else(|| "completed".into());
        let incomplete = response.incomplete_details.and_then(|d| d.reason);
        let stop_reason = match (status.as_str(), incomplete.as_deref()) {
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

    /// The event's output index: `output_index` when sent, else the one given to its item.
    fn index_of(&mut self, output_index: Option<u64>, item_id: Option<&str>) -> u64 {
        if let Some(i) = output_index {
            self.next_index = self.next_index.max(i + 1);
            // (Stored once per item, not copied again for every delta.)
            if let Some(id) = item_id.filter(|id| self.items.get(*id) != Some(&i)) {
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
        item: Item,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
        match item.kind.as_str() {
            // The completed item is the one to keep: `.added` may carry a partial blob.
            "reasoning"
                if item
                    .encrypted_content
                    .as_deref()
                    .is_some_and(|e| !e.is_empty()) =>
            {
                let kept = json!({
                    "type": "reasoning",
                    "id": item.id,
                    "encrypted_content": item.encrypted_content,
                    "summary": item.summary.unwrap_or_else(|| json!([])),
                });
                out.push(Ok(StreamEvent::ReasoningSignature(
                    signature::openai_reasoning(&kept),
                )));
            }
            "function_call" => {
                let mut call = self.calls.remove(&index).unwrap_or_else(|| {
                    self.had_calls = true;
                    Call {
                        id: item.call_id.clone().unwrap_or_default(),
                        name: item.name.clone().unwrap_or_default(),
                        arguments: String::new(),
                    }
                });
                // The completed item's arguments are authoritative.
                if let Some(a) = item.arguments {
                    call.arguments = a;
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

/// The OpenAI Responses wire format.
pub struct ResponsesWire;

impl WireFormat for ResponsesWire {
    type Framed = SseFramed<ResponsesMapper>;
    fn stream_path(_: &ChatRequest) -> String {
        "/responses".into()
    }
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_ {
        build_body(request)
    }
}

/// An OpenAI Responses provider (base URL like `https://api.openai.com/v1`).
pub type OpenAiResponses = Provider<ResponsesWire>;
