//! Google Gemini (`POST {base}/models/{model}:streamGenerateContent?alt=sse`, key in
//! `x-goog-api-key`). [`GeminiMapper`] is pure: SSE `data` payloads (whole
//! `GenerateContentResponse`s) in, [`StreamEvent`]s out. It handles text, `thought: true` parts
//! (reasoning), whole `functionCall` parts (no argument deltas, usually no id), a
//! `thoughtSignature` on any part, `usageMetadata` (the last chunk's is authoritative), blocked
//! prompts, and `{"error": ...}` in the middle of a stream.
//!
//! A `thoughtSignature` belongs to the part it arrived on and must go back on that part
//! (REQUESTS.md §5). Parley keeps it as a signed reasoning part placed just before the part it
//! came with ([`super::signature::gemini`]); the request builder puts it back on the part that
//! follows.

pub mod request;

pub use request::{build_body, build_contents, build_contents_for};

use super::decode::{decode, Unknown};
use super::http::{SseFramed, SseMapper};
use super::local_calls::{call_id, whole_call};
use super::signature;
use super::sse::SseEvent;
use super::{Auth, Provider, WireFormat};
use super::{ChatRequest, Endpoint, StreamEvent};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use parley_protocol::{StopReason, Usage};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use super::local_calls::LOCAL_ID_PREFIX;

/// One streamed `GenerateContentResponse`. Every field is optional, as the API documents; a
/// chunk of another shape (a later addition) decodes to nothing and is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    /// Free-form, so kept as sent (see [`stream_error`]).
    error: Option<Value>,
    /// Kept as sent: the usage event carries the provider's raw object.
    usage_metadata: Option<Value>,
    candidates: Option<Vec<Candidate>>,
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    parts: Option<Vec<WirePart>>,
}

/// A part of a candidate: text, a thought, or a whole function call; any of them may carry a
/// thought signature.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    #[serde(default)]
    thought: Option<bool>,
    thought_signature: Option<String>,
    text: Option<String>,
    function_call: Option<FunctionCall>,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: Option<String>,
    id: Option<String>,
    /// Any JSON: a call whose arguments are not an object is reported unusable.
    args: Option<Value>,
}

/// The pure Gemini stream mapper.
#[derive(Debug, Default)]
pub struct GeminiMapper {
    calls: u32,
    finish_reason: Option<String>,
    usage: Option<Value>,
    done: bool,
}

impl GeminiMapper {
    /// A fresh mapper for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps one SSE `data` payload.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let data = data.trim();
        if self.done || data.is_empty() {
            return;
        }
        let Some(chunk) = decode::<Chunk>(data, "chunk", Unknown::Ignore, &mut self.done, out)
        else {
            return;
        };
        if let Some(err) = chunk.error.filter(|e| !e.is_null()) {
            out.push(Err(stream_error(&err)));
            self.done = true;
            return;
        }
        if let Some(u) = chunk.usage_metadata.filter(Value::is_object) {
            self.usage = Some(u);
        }
        let Some(candidate) = chunk.candidates.and_then(|c| c.into_iter().next()) else {
            if let Some(block) = chunk.prompt_feedback.and_then(|f| f.block_reason) {
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::BadRequest,
                    format!("Gemini blocked the prompt ({block})"),
                )));
                self.done = true;
            }
            return;
        };
        let parts = candidate.content.and_then(|c| c.parts);
        for part in parts.into_iter().flatten() {
            self.on_part(part, out);
        }
        if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
            self.finish_reason = Some(reason);
        }
    }

    fn on_part(&mut self, part: WirePart, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let sig = part.thought_signature.filter(|s| !s.is_empty());
        let text = part.text.filter(|t| !t.is_empty());
        if part.thought == Some(true) {
            if let Some(t) = text {
                out.push(Ok(StreamEvent::ReasoningDelta(t)));
            }
            if let Some(sig) = sig {
                out.push(Ok(StreamEvent::ReasoningSignature(signature::gemini(&sig))));
            }
            return;
        }
        // The signature seals the reasoning that led to this part, and goes back on it.
        if let Some(sig) = sig {
            out.push(Ok(StreamEvent::ReasoningSignature(signature::gemini(&sig))));
        }
        if let Some(call) = part.function_call {
            self.on_call(call, out);
        } else if let Some(t) = text {
            out.push(Ok(StreamEvent::TextDelta(t)));
        }
    }

    /// A whole function call: started and finished at once (Gemini streams no argument deltas).
    fn on_call(&mut self, call: FunctionCall, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let index = self.calls;
        self.calls += 1;
        let name = call.name.unwrap_or_default();
        let args = call.args.unwrap_or_else(|| Value::Object(Map::new()));
        let parsed = if args.is_object() {
            Ok(args.clone())
        } else {
            Err("the arguments are not a JSON object".to_owned())
        };
        whole_call(index, call_id(call.id), name, args.to_string(), parsed, out);
    }

    /// Called when the body ends: the stream has no end marker, so a finish reason must have
    /// been seen.
    pub fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(raw) = self.usage.take() {
            out.push(Ok(StreamEvent::Usage {
                usage: usage_from(&raw),
                raw,
            }));
        }
        match self.finish_reason.clone() {
            Some(reason) => out.push(Ok(StreamEvent::Finished {
                stop_reason: stop_reason(&reason, self.calls > 0),
                raw_reason: Some(reason),
            })),
            None => out.push(Err(ProviderError::new(
                ProviderErrorKind::StreamInterrupted,
                "the stream ended before the model finished",
            ))),
        }
    }
}

impl SseMapper for GeminiMapper {
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        self.on_data(&event.data, out)
    }

    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        GeminiMapper::on_end(self, out)
    }
}

fn stream_error(err: &Value) -> ProviderError {
    let message = err["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| err.to_string());
    let mut e = ProviderError::new(ProviderErrorKind::StreamError, redact(&message, None));
    e.provider_code = err["status"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| err["code"].as_u64().map(|c| c.to_string()));
    e
}

/// Normalised usage from `usageMetadata`.
pub fn usage_from(raw: &Value) -> Usage {
    let n = |k: &str| raw.get(k).and_then(Value::as_u64);
    Usage {
        input_tokens: n("promptTokenCount").unwrap_or(0),
        output_tokens: n("candidatesTokenCount").unwrap_or(0),
        reasoning_tokens: n("thoughtsTokenCount"),
        cached_input_tokens: n("cachedContentTokenCount"),
    }
}

/// Gemini says `STOP` on tool turns too: a turn with function calls is a tool turn.
pub fn stop_reason(raw: &str, had_calls: bool) -> StopReason {
    match raw {
        _ if had_calls => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            StopReason::ContentFilter
        }
        _ => StopReason::Other,
    }
}

/// The Gemini wire format: the key in `x-goog-api-key` (never in the URL), the model in the path.
pub struct GeminiWire;

impl WireFormat for GeminiWire {
    type Framed = SseFramed<GeminiMapper>;
    const MODELS_PATH: &'static str = "/models?pageSize=1000";
    fn endpoint(ep: Endpoint) -> Endpoint {
        ep.with_auth(Auth::Header("x-goog-api-key"))
    }
    fn stream_path(request: &ChatRequest) -> String {
        // The model id goes in the path: keep it to one path segment.
        let model: String = request
            .model
            .trim_start_matches("models/")
            .chars()
            .map(|c| if matches!(c, '/' | '?' | '#') { '_' } else { c })
            .collect();
        format!("/models/{model}:streamGenerateContent?alt=sse")
    }
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_ {
        build_body(request)
    }
}

/// A Gemini provider (base URL like `https://generativelanguage.googleapis.com/v1beta`).
pub type Gemini = Provider<GeminiWire>;
