//! Anthropic Messages (`POST {base}/messages`, SSE). [`AnthropicMapper`] is pure: named SSE
//! events in, [`StreamEvent`]s out. It handles text, thinking with signatures (assembled from
//! `signature_delta`, never the empty placeholder), redacted thinking, tool_use with
//! `input_json_delta` (an empty first delta and the `input: {}` placeholder are ignored),
//! cumulative usage, stop reasons, `ping`, and `event: error` in the middle of a stream.
//!
//! The request builder follows REQUESTS.md: an assistant turn is replayed with all its blocks in
//! their original order (thinking with its signature first), tool_use `input` as the parsed
//! object, and tool results as `tool_result` blocks at the start of the next user message.

use super::http::{SseFramed, SseMapper};
use super::openai_chat::parse_arguments;
use super::signature::{self, Signature};
use super::sse::SseEvent;
use super::{Auth, Provider, WireFormat};
use super::{ChatRequest, Endpoint, StreamEvent, ToolChoice};
use crate::error::{ProviderError, ProviderErrorKind};
use parley_protocol::{Part, Role, StopReason, Usage};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The API version header Parley speaks.
pub const API_VERSION: &str = "2023-06-01";
/// Output cap sent when the user set none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// One Messages stream event, as Anthropic sends it (`{"type": "...", ...}`). Unknown event,
/// block and delta types (`ping`, later additions) decode to `Other` and are ignored; missing
/// fields take their defaults, as the API documents them optional.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        #[serde(default)]
        message: MessageStartBody,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u64,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u64,
        delta: Delta,
    },
    ContentBlockStop {
        #[serde(default)]
        index: u64,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<Value>,
    },
    MessageStop,
    Error {
        #[serde(default)]
        error: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct MessageStartBody {
    #[serde(default)]
    usage: StartUsage,
}

#[derive(Debug, Default, Deserialize)]
struct StartUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    ToolUse {
        #[serde(default)]
        id: String,
        #[serde(default)]
        name: String,
    },
    ServerToolUse {
        #[serde(default)]
        id: String,
        #[serde(default)]
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text {
        #[serde(default)]
        text: String,
    },
    #[serde(rename = "thinking_delta")]
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    #[serde(rename = "signature_delta")]
    Signature {
        #[serde(default)]
        signature: String,
    },
    #[serde(rename = "input_json_delta")]
    InputJson {
        #[serde(default)]
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug)]
enum Block {
    Text,
    Thinking {
        signature: String,
    },
    Redacted,
    ToolUse {
        id: String,
        name: String,
        json: String,
    },
    Other,
}

/// The pure Anthropic event mapper.
#[derive(Debug, Default)]
pub struct AnthropicMapper {
    blocks: HashMap<u64, Block>,
    input_tokens: u64,
    output_tokens: u64,
    cached_input_tokens: Option<u64>,
    stop_reason: Option<String>,
    finished: bool,
}

impl AnthropicMapper {
    /// A fresh mapper for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// The raw stop reason seen so far.
    pub fn stop_reason(&self) -> Option<&str> {
        self.stop_reason.as_deref()
    }

    fn usage_event(&self, raw: Value) -> StreamEvent {
        StreamEvent::Usage {
            usage: Usage {
                input_tokens: self.input_tokens,
                output_tokens: self.output_tokens,
                reasoning_tokens: None,
                cached_input_tokens: self.cached_input_tokens,
            },
            raw,
        }
    }

    fn on_wire(&mut self, ev: WireEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        match ev {
            WireEvent::MessageStart { message } => {
                let usage = &message.usage;
                self.input_tokens = usage.input_tokens.unwrap_or(0);
                self.output_tokens = usage.output_tokens.unwrap_or(0);
                self.cached_input_tokens = usage.cache_read_input_tokens;
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let b = match content_block {
                    ContentBlock::Text { text } => {
                        if !text.is_empty() {
                            out.push(Ok(StreamEvent::TextDelta(text)));
                        }
                        Block::Text
                    }
                    ContentBlock::Thinking { thinking } => {
                        if !thinking.is_empty() {
                            out.push(Ok(StreamEvent::ReasoningDelta(thinking)));
                        }
                        Block::Thinking {
                            signature: String::new(),
                        }
                    }
                    ContentBlock::RedactedThinking { data } => {
                        out.push(Ok(StreamEvent::ReasoningSignature(
                            signature::anthropic_redacted(&data),
                        )));
                        Block::Redacted
                    }
                    ContentBlock::ToolUse { id, name }
                    | ContentBlock::ServerToolUse { id, name } => {
                        out.push(Ok(StreamEvent::ToolCallStarted {
                            index: index as u32,
                            id: id.clone(),
                            name: name.clone(),
                        }));
                        Block::ToolUse {
                            id,
                            name,
                            json: String::new(),
                        }
                    }
                    ContentBlock::Other => Block::Other,
                };
                self.blocks.insert(index, b);
            }
            WireEvent::ContentBlockDelta { index, delta } => {
                match (delta, self.blocks.get_mut(&index)) {
                    (Delta::Text { text }, _) if !text.is_empty() => {
                        out.push(Ok(StreamEvent::TextDelta(text)));
                    }
                    (Delta::Thinking { thinking }, _) if !thinking.is_empty() => {
                        out.push(Ok(StreamEvent::ReasoningDelta(thinking)));
                    }
                    (Delta::Signature { signature: s }, Some(Block::Thinking { signature })) => {
                        signature.push_str(&s);
                    }
                    (Delta::InputJson { partial_json }, Some(Block::ToolUse { json, .. }))
                        if !partial_json.is_empty() =>
                    {
                        json.push_str(&partial_json);
                        out.push(Ok(StreamEvent::ToolCallArgsDelta {
                            index: index as u32,
                            delta: partial_json,
                        }));
                    }
                    _ => {}
                }
            }
            WireEvent::ContentBlockStop { index } => match self.blocks.remove(&index) {
                Some(Block::Thinking { signature }) if !signature.is_empty() => {
                    out.push(Ok(StreamEvent::ReasoningSignature(signature)));
                }
                Some(Block::ToolUse { id, name, json }) => {
                    out.push(Ok(StreamEvent::ToolCallFinished {
                        index: index as u32,
                        id,
                        name,
                        parsed: parse_arguments(&json),
                        arguments: if json.is_empty() { "{}".into() } else { json },
                    }));
                }
                Some(Block::Thinking { .. } | Block::Text | Block::Redacted | Block::Other)
                | None => {}
            },
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(r) = delta.stop_reason {
                    self.stop_reason = Some(r);
                }
                if let Some(u) = usage.filter(Value::is_object) {
                    if let Some(o) = u["output_tokens"].as_u64() {
                        self.output_tokens = o; // cumulative: the last one wins
                    }
                    if let Some(i) = u["input_tokens"].as_u64() {
                        self.input_tokens = i;
                    }
                    out.push(Ok(self.usage_event(u)));
                }
            }
            WireEvent::MessageStop => self.finish(out),
            WireEvent::Error { error } => {
                out.push(Err(stream_error(&error)));
                self.finished = true;
            }
            WireEvent::Other => {} // ping and future event types
        }
    }

    fn finish(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished {
            return;
        }
        self.finished = true;
        out.push(Ok(StreamEvent::Finished {
            stop_reason: stop_reason(self.stop_reason.as_deref()),
            raw_reason: self.stop_reason.clone(),
        }));
    }
}

impl SseMapper for AnthropicMapper {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished {
            return;
        }
        match serde_json::from_str::<WireEvent>(event.data.trim()) {
            Ok(ev) => self.on_wire(ev, out),
            // Valid JSON of a shape Parley does not know (a later addition): ignored.
            Err(_) if serde_json::from_str::<serde::de::IgnoredAny>(event.data.trim()).is_ok() => {}
            Err(e) => {
                let snippet: String = event.data.chars().take(120).collect();
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("unreadable stream event ({e}): {snippet}"),
                )));
                self.finished = true;
            }
        }
    }

    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.finished {
            return;
        }
        for (index, block) in std::mem::take(&mut self.blocks) {
            if let Block::ToolUse { id, name, json } = block {
                out.push(Ok(StreamEvent::ToolCallFinished {
                    index: index as u32,
                    id,
                    name,
                    arguments: json,
                    parsed: Err("the stream ended before the arguments were complete".into()),
                }));
            }
        }
        self.finished = true;
        out.push(Err(ProviderError::new(
            ProviderErrorKind::StreamInterrupted,
            "the stream ended before the model finished",
        )));
    }
}

fn stream_error(err: &Value) -> ProviderError {
    let kind_name = err["type"].as_str().unwrap_or("");
    let message = err["message"].as_str().unwrap_or(kind_name).to_owned();
    let mut e = ProviderError::new(ProviderErrorKind::StreamError, message);
    e.provider_code = Some(kind_name.to_owned()).filter(|k| !k.is_empty());
    e
}

/// Maps a raw stop reason.
pub fn stop_reason(raw: Option<&str>) -> StopReason {
    match raw {
        Some("end_turn") | None => StopReason::EndTurn,
        Some("max_tokens") | Some("model_context_window_exceeded") => StopReason::MaxTokens,
        Some("tool_use") => StopReason::ToolUse,
        Some("stop_sequence") => StopReason::StopSequence,
        Some("refusal") => StopReason::ContentFilter,
        Some(_) => StopReason::Other,
    }
}

/// The `messages` array for a conversation, per REQUESTS.md.
pub fn build_messages(messages: &[parley_protocol::Message]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for m in messages {
        match m.role {
            Role::System => {}
            Role::User => {
                let text = json!({"type": "text", "text": m.text()});
                // Tool results already opened this user message: the text follows them.
                match out.last_mut() {
                    Some(last) if last["role"] == "user" => {
                        if let Some(blocks) = last["content"].as_array_mut() {
                            blocks.push(text);
                        }
                    }
                    _ => out.push(json!({"role": "user", "content": [text]})),
                }
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                let mut results = Vec::new();
                for p in &m.parts {
                    match p {
                        Part::Reasoning { text, signature } => {
                            match signature.as_deref().map(signature::parse) {
                                Some(Signature::AnthropicRedacted(d)) => {
                                    blocks.push(json!({"type": "redacted_thinking", "data": d}))
                                }
                                Some(Signature::AnthropicThinking(s)) => blocks.push(
                                    json!({"type": "thinking", "thinking": text, "signature": s}),
                                ),
                                // Unsigned reasoning, or another provider's, cannot be verified
                                // here: dropped.
                                _ => {}
                            }
                        }
                        Part::Text { text } if !text.is_empty() => {
                            blocks.push(json!({"type": "text", "text": text}))
                        }
                        Part::ToolCall {
                            call_id,
                            name,
                            arguments,
                            ..
                        } => blocks.push(json!({
                            "type": "tool_use",
                            "id": call_id,
                            "name": name,
                            "input": parse_arguments(arguments).unwrap_or_else(|_| json!({})),
                        })),
                        Part::ToolResult {
                            call_id,
                            output,
                            is_error,
                        } => results.push(json!({
                            "type": "tool_result",
                            "tool_use_id": call_id,
                            "content": output,
                            "is_error": is_error,
                        })),
                        Part::Text { .. } | Part::Image { .. } | Part::File { .. } => {}
                    }
                }
                if blocks
                    .iter()
                    .all(|b| b["type"] != "text" && b["type"] != "tool_use")
                {
                    continue; // an answer with nothing to say (failed before output)
                }
                out.push(json!({"role": "assistant", "content": blocks}));
                if !results.is_empty() {
                    out.push(json!({"role": "user", "content": results}));
                }
            }
        }
    }
    out
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Value {
    let mut max_tokens = req.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let mut body = json!({
        "model": req.model,
        "messages": build_messages(&req.messages),
        "stream": true,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.trim().is_empty()) {
        body["system"] = json!(system);
    }
    let thinking = req.reasoning.map(super::thinking_budget).filter(|b| *b > 0);
    match thinking {
        Some(budget) => {
            // The budget must fit under max_tokens, and thinking allows no sampling changes.
            max_tokens = max_tokens.max(budget + 4_096);
            body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        }
        None => {
            if let Some(t) = req.temperature {
                body["temperature"] = json!(t.min(1.0));
            }
            if let Some(p) = req.top_p {
                body["top_p"] = json!(p);
            }
        }
    }
    body["max_tokens"] = json!(max_tokens);
    if !req.stop.is_empty() {
        body["stop_sequences"] = json!(req.stop);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body["tools"] = json!(tools);
        body["tool_choice"] = match req.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::None => json!({"type": "none"}),
        };
    }
    body
}

/// The Anthropic Messages wire format: the key in `x-api-key`, the API version on every request.
pub struct AnthropicWire;

impl WireFormat for AnthropicWire {
    type Framed = SseFramed<AnthropicMapper>;
    fn endpoint(ep: Endpoint) -> Endpoint {
        ep.with_auth(Auth::Header("x-api-key"))
            .with_headers(&[("anthropic-version", API_VERSION)])
    }
    fn stream_path(_: &ChatRequest) -> String {
        "/messages".into()
    }
    fn body(request: &ChatRequest) -> Value {
        build_body(request)
    }
}

/// An Anthropic Messages provider.
pub type Anthropic = Provider<AnthropicWire>;
