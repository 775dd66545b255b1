//! Model providers. Each wire format has a pure event mapper (wire events in, [`StreamEvent`]s
//! out, no I/O) and a thin HTTP client whose base URL and `reqwest::Client` are injected.
//! [`http`] holds what all of them share: retries before the first byte, the idle timeout,
//! cancellation and HTTP error classification.
//!
//! [`ProviderService`] (`service.rs`) is the topic's API: configured providers, keys, model
//! lists, presets and discovery; its queries are in `store.rs`.

pub mod anthropic;
pub mod gemini;
pub mod http;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;
pub mod presets;
mod service;
pub mod signature;
pub mod sse;
mod store;

pub use service::ProviderService;
pub use store::ProviderRow;

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

/// How a provider expects its API key.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (OpenAI, compatible servers, Ollama behind a proxy).
    Bearer,
    /// The key in a named header (Anthropic's `x-api-key`, Gemini's `x-goog-api-key`).
    Header(&'static str),
}

/// Where and how a provider is reached: the injected HTTP client, the base URL (no trailing
/// slash), the key and how it is sent, fixed headers, and the timeouts. Every request a
/// provider makes is built here, so the key is attached in exactly one place.
#[derive(Clone)]
pub struct Endpoint {
    /// The shared client.
    pub client: reqwest::Client,
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The API key, if any.
    pub api_key: Option<String>,
    /// Timeouts and retries.
    pub settings: HttpSettings,
    auth: Auth,
    headers: &'static [(&'static str, &'static str)],
}

impl Endpoint {
    /// An endpoint at `base_url` that sends its key as a bearer token.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        settings: HttpSettings,
    ) -> Self {
        Endpoint {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            settings,
            auth: Auth::Bearer,
            headers: &[],
        }
    }

    /// Sends the key this way instead.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Adds these headers to every request.
    pub fn with_headers(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.headers = headers;
        self
    }

    /// `{base_url}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn finish(
        rb: reqwest::RequestBuilder,
        key: Option<&str>,
        auth: Auth,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut rb = rb;
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        match (key, auth) {
            (Some(k), Auth::Bearer) => rb.bearer_auth(k),
            (Some(k), Auth::Header(name)) => rb.header(name, k),
            (None, _) => rb,
        }
    }

    /// The provider's model list at `path`.
    pub async fn models(&self, path: &str) -> Result<Vec<ModelInfo>, ProviderError> {
        let rb = Self::finish(
            self.client.get(self.url(path)),
            self.api_key.as_deref(),
            self.auth,
            self.headers,
        );
        http::fetch_model_list(rb, &self.settings, self.api_key.as_deref()).await
    }

    /// A request factory for a streamed POST of `body` to `path` (called again on each retry).
    pub fn post_json(
        &self,
        path: &str,
        body: serde_json::Value,
        accept: &'static str,
    ) -> Box<dyn Fn() -> reqwest::RequestBuilder + Send + Sync> {
        let (client, url, key) = (self.client.clone(), self.url(path), self.api_key.clone());
        let (auth, headers) = (self.auth, self.headers);
        Box::new(move || {
            let rb = client
                .post(&url)
                .header(reqwest::header::ACCEPT, accept)
                .json(&body);
            Self::finish(rb, key.as_deref(), auth, headers)
        })
    }
}

/// Builds the provider for a wire format.
pub fn for_kind(
    kind: parley_protocol::ProviderKind,
    client: reqwest::Client,
    base_url: &str,
    api_key: Option<String>,
    settings: HttpSettings,
) -> std::sync::Arc<dyn ModelProvider> {
    use parley_protocol::ProviderKind;
    use std::sync::Arc;
    match kind {
        ProviderKind::Openai | ProviderKind::OpenaiCompatible => Arc::new(
            openai_chat::OpenAiChat::new(client, base_url, api_key, settings),
        ),
        ProviderKind::OpenaiResponses => Arc::new(openai_responses::OpenAiResponses::new(
            client, base_url, api_key, settings,
        )),
        ProviderKind::Anthropic => Arc::new(anthropic::Anthropic::new(
            client, base_url, api_key, settings,
        )),
        ProviderKind::Gemini => Arc::new(gemini::Gemini::new(client, base_url, api_key, settings)),
        ProviderKind::Ollama => Arc::new(ollama::Ollama::new(client, base_url, api_key, settings)),
    }
}

/// Settings shared by every HTTP provider.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// How long to wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// How long to wait for the response headers.
    pub response_timeout: Duration,
    /// The longest gap between stream events (keep-alive comments do not count as events).
    pub idle_timeout: Duration,
    /// Total tries for a request that fails before its first byte (1 = no retry).
    pub max_attempts: u32,
    /// The longest wait between tries, whatever Retry-After says.
    pub max_retry_delay: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
            max_attempts: 3,
            max_retry_delay: Duration::from_secs(60),
        }
    }
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
            let is_result = matches!(p, Part::ToolResult { .. });
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
