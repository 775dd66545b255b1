//! Model providers. Each wire format has a pure event mapper (wire events in, [`StreamEvent`]s
//! out, no I/O), a request builder, and a [`WireFormat`] saying what differs (paths, auth,
//! framing); [`Provider`] (`wire.rs`) is the one glue that makes any wire format a
//! [`ModelProvider`], with the HTTP client and base URL injected. [`http`] holds what all of
//! them share: retries before the first byte, the idle timeout, cancellation and HTTP error
//! classification.
//!
//! [`ProviderService`] (`service.rs`) is the topic's API: configured providers, keys, model
//! lists, presets and discovery; its queries are in `store.rs`.

mod address;
pub mod anthropic;
mod builtin;
mod change;
mod decode;
pub mod gemini;
pub mod http;
mod local_calls;
mod names;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;
pub mod pieces;
pub mod presets;
#[cfg(test)]
mod request_table;
mod service;
pub mod signature;
pub mod sse;
mod store;
pub mod tool_images;
pub mod windows;
mod wire;

pub use crate::net::HttpSettings;
pub use builtin::{LocalEngine, Served};
pub use change::{key_hint, ChangePreview, ProviderChange};
pub use service::ProviderService;
pub use store::ProviderRow;
#[cfg(test)]
pub(crate) use store::ProviderTables;
pub use wire::{for_kind, Auth, Endpoint, Provider, WireFormat};

use crate::error::ProviderError;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use parley_protocol::{Message, ModelInfo, ReasoningEffort, StopReason, Usage};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one request asks of a model.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// The model id.
    pub model: String,
    /// The system prompt, if any.
    pub system: Option<String>,
    /// The conversation so far, oldest first (ends with the user's new message).
    pub messages: Vec<Message>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Output token cap.
    pub max_output_tokens: Option<u32>,
    /// Reasoning effort / thinking budget (`None` = the provider's default).
    pub reasoning: Option<ReasoningEffort>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Whether the model must, may or must not call a tool.
    pub tool_choice: ToolChoice,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Whether the model takes images, as its provider's model list says (`None`: unknown).
    /// Set by chats from the cached list; only `Some(false)` changes the request: each image
    /// then goes as a text note ([`pieces`]), never as an image the provider would refuse.
    pub vision: Option<bool>,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// A JSON Schema object for its arguments.
    pub parameters: serde_json::Value,
}

/// Whether the model must call a tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must call one of the tools.
    Required,
    /// The model must not call tools.
    None,
}

/// The thinking budget in tokens a reasoning effort stands for (Anthropic, Gemini).
pub fn thinking_budget(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Off => 0,
        ReasoningEffort::Low => 2_048,
        ReasoningEffort::Medium => 8_192,
        ReasoningEffort::High => 24_576,
    }
}

/// The `low|medium|high` word for OpenAI-style `reasoning_effort` (`None` for `Off`).
pub fn effort_word(effort: ReasoningEffort) -> Option<&'static str> {
    match effort {
        ReasoningEffort::Off => None,
        ReasoningEffort::Low => Some("low"),
        ReasoningEffort::Medium => Some("medium"),
        ReasoningEffort::High => Some("high"),
    }
}

/// A normalised stream event, the same for every wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The request failed before any output and will be tried again after `delay`.
    Retrying {
        /// Which try comes next (2 = first retry).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// Why.
        reason: ProviderError,
    },
    /// Visible text.
    TextDelta(String),
    /// Reasoning text.
    ReasoningDelta(String),
    /// An opaque signature (see [`signature`]) sealing the reasoning part being written, or —
    /// when no reasoning is open — standing alone as an empty signed reasoning part. It is
    /// replayed verbatim; Gemini's goes back on the part that follows it.
    ReasoningSignature(String),
    /// A tool call began.
    ToolCallStarted {
        /// The provider's index for the call within this response.
        index: u32,
        /// The provider's call id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// More argument text for a tool call.
    ToolCallArgsDelta {
        /// The call's index.
        index: u32,
        /// The new argument text.
        delta: String,
    },
    /// A tool call's arguments are complete (or the stream ended without completing them).
    ToolCallFinished {
        /// The call's index.
        index: u32,
        /// The provider's call id.
        id: String,
        /// The tool's name.
        name: String,
        /// The raw argument text as streamed.
        arguments: String,
        /// `Ok` with the parsed JSON object, or `Err` saying why the arguments are unusable
        /// (truncated or not JSON). An `Err` call must never be executed.
        parsed: Result<serde_json::Value, String>,
    },
    /// Token counts (the last one wins).
    Usage {
        /// Normalised counts.
        usage: Usage,
        /// The provider's raw usage object.
        raw: serde_json::Value,
    },
    /// The model finished. Always the last event of a successful stream.
    Finished {
        /// The normalised reason.
        stop_reason: StopReason,
        /// The provider's raw value (`stop`, `end_turn`, ...), if it sent one.
        raw_reason: Option<String>,
    },
}

/// A stream of provider events; ends after `Finished` or the first `Err`.
pub type EventStream = BoxStream<'static, Result<StreamEvent, ProviderError>>;

/// A configured model provider.
pub trait ModelProvider: Send + Sync {
    /// Lists the models the provider offers.
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>>;

    /// Starts a streamed request. Cancelling `cancel` ends the HTTP stream promptly; the stream
    /// then simply ends.
    fn stream(&self, request: ChatRequest, cancel: CancellationToken) -> EventStream;
}

/// An answer with tool rounds is stored as one assistant message holding every round in order
/// (text, calls, their results, more text…). Providers expect one assistant message per model
/// response, each followed by the results of its calls; this splits a message after each run
/// of tool results, so every wire format replays the rounds in the order they happened.
pub fn split_rounds(messages: Vec<parley_protocol::Message>) -> Vec<parley_protocol::Message> {
    use parley_protocol::{Part, Role};
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        if m.role != Role::Assistant
            || !m.parts.iter().any(|p| matches!(p, Part::ToolResult { .. }))
        {
            out.push(m);
            continue;
        }
        let mut round: Vec<Part> = Vec::new();
        let mut after_result = false;
        for p in &m.parts {
            // The images a tool returned follow its result and travel with it.
            let is_result = matches!(p, Part::ToolResult { .. })
                || (after_result && matches!(p, Part::Image { .. }));
            if after_result && !is_result {
                out.push(parley_protocol::Message {
                    parts: std::mem::take(&mut round),
                    ..m.clone()
                });
            }
            after_result = is_result;
            round.push(p.clone());
        }
        if !round.is_empty() {
            out.push(parley_protocol::Message { parts: round, ..m });
        }
    }
    out
}
