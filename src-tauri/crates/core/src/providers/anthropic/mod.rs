//! Anthropic Messages (`POST {base}/messages`, SSE). [`AnthropicMapper`] is pure: named SSE
//! events in, [`StreamEvent`]s out. It handles text, thinking with signatures (assembled from
//! `signature_delta`, never the empty placeholder), redacted thinking, tool_use with
//! `input_json_delta` (an empty first delta and the `input: {}` placeholder are ignored),
//! cumulative usage, stop reasons, `ping`, and `event: error` in the middle of a stream.
//!
//! The request builder follows REQUESTS.md: an assistant turn is replayed with all its blocks in
//! their original order (thinking with its signature first), tool_use `input` as the parsed
//! object, and tool results as `tool_result` blocks at the start of the next user message.

pub mod request;

pub use request::{build_body, build_messages, build_messages_for};

use super::decode::{decode, Unknown};
use super::http::{SseFramed, SseMapper};
use super::openai_chat::parse_arguments;
use super::signature;
use super::sse::SseEvent;
use super::{Auth, Provider, WireFormat};
use super::{ChatRequest, Endpoint, StreamEvent};
use crate::error::{ProviderError, ProviderErrorKind};
use parley_protocol::{StopReason, Usage};
use serde::Deserialize;
use serde_json::Value;
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
            } => self.on_block_start(index, content_block, out),
            WireEvent::ContentBlockDelta { index, delta } => self.on_block_delta(index, delta, out),
            WireEvent::ContentBlockStop { index } => self.on_block_stop(index, out),
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

    /// A content block opens: what it already holds goes out, and it is kept by its index.
    fn on_block_start(
        &mut self,
        index: u64,
        content_block: ContentBlock,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
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
            ContentBlock::ToolUse { id, name } | ContentBlock::ServerToolUse { id, name } => {
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

    /// More of an open block: text and thinking go out, a signature and tool input add up.
    fn on_block_delta(
        &mut self,
        index: u64,
        delta: Delta,
        out: &mut Vec<Result<StreamEvent, ProviderError>>,
    ) {
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

    /// A block closes: a thinking block's signature seals it, a tool call is complete.
    fn on_block_stop(&mut self, index: u64, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        match self.blocks.remove(&index) {
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
            Some(Block::Thinking { .. } | Block::Text | Block::Redacted | Block::Other) | None => {}
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
        // Valid JSON of a shape Parley does not know (a later addition) is ignored.
        let data = event.data.trim();
        if let Some(ev) = decode(data, "event", Unknown::Ignore, &mut self.finished, out) {
            self.on_wire(ev, out);
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
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_ {
        build_body(request)
    }
}

/// An Anthropic Messages provider.
pub type Anthropic = Provider<AnthropicWire>;
