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

use super::http::{SseFramed, SseMapper};
use super::signature::{self, Signature};
use super::sse::SseEvent;
use super::{Auth, Provider, WireFormat};
use super::{ChatRequest, Endpoint, StreamEvent, ToolChoice};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use parley_protocol::{Message, Part, ReasoningEffort, Role, StopReason, Usage};
use serde_json::{json, Map, Value};

/// Prefix of the ids Parley makes up for calls the API sent without one. Such ids are never
/// sent back to Gemini as `id`.
pub const LOCAL_ID_PREFIX: &str = "parley_call_";

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
        let chunk: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                let snippet: String = data.chars().take(120).collect();
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::Protocol,
                    format!("unreadable stream chunk ({e}): {snippet}"),
                )));
                self.done = true;
                return;
            }
        };
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            out.push(Err(stream_error(err)));
            self.done = true;
            return;
        }
        if let Some(u) = chunk.get("usageMetadata").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        let candidate = chunk
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        let Some(candidate) = candidate else {
            if let Some(block) = chunk["promptFeedback"]["blockReason"].as_str() {
                out.push(Err(ProviderError::new(
                    ProviderErrorKind::BadRequest,
                    format!("Gemini blocked the prompt ({block})"),
                )));
                self.done = true;
            }
            return;
        };
        let parts = candidate["content"]["parts"].as_array();
        for part in parts.into_iter().flatten() {
            self.on_part(part, out);
        }
        if let Some(reason) = candidate["finishReason"].as_str().filter(|r| !r.is_empty()) {
            self.finish_reason = Some(reason.to_owned());
        }
    }

    fn on_part(&mut self, part: &Value, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        let thought = part["thought"].as_bool().unwrap_or(false);
        let sig = part["thoughtSignature"].as_str().filter(|s| !s.is_empty());
        if thought {
            if let Some(t) = part["text"].as_str().filter(|t| !t.is_empty()) {
                out.push(Ok(StreamEvent::ReasoningDelta(t.to_owned())));
            }
            if let Some(sig) = sig {
                out.push(Ok(StreamEvent::ReasoningSignature(signature::gemini(sig))));
            }
            return;
        }
        // The signature seals the reasoning that led to this part, and goes back on it.
        if let Some(sig) = sig {
            out.push(Ok(StreamEvent::ReasoningSignature(signature::gemini(sig))));
        }
        if let Some(call) = part.get("functionCall") {
            let index = self.calls;
            self.calls += 1;
            let name = call["name"].as_str().unwrap_or_default().to_owned();
            let id = call["id"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{LOCAL_ID_PREFIX}{}", crate::new_id()));
            let args = call.get("args").cloned().unwrap_or_else(|| json!({}));
            let parsed = if args.is_object() {
                Ok(args.clone())
            } else {
                Err("the arguments are not a JSON object".to_owned())
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
                arguments: args.to_string(),
                parsed,
            }));
        } else if let Some(t) = part["text"].as_str().filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::TextDelta(t.to_owned())));
        }
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

/// The `contents` array, per REQUESTS.md §5: model turns with their parts in order and each
/// thought signature on the part it came with; tool results as `functionResponse` parts (object
/// responses) in the next user turn.
pub fn build_contents(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let push = |role: &str, parts: Vec<Value>, out: &mut Vec<Value>| {
        if parts.is_empty() {
            return;
        }
        match out.last_mut() {
            // Gemini wants alternating turns: merge into the previous turn of the same role.
            Some(last) if last["role"] == role => {
                if let Some(p) = last["parts"].as_array_mut() {
                    p.extend(parts);
                }
            }
            _ => out.push(json!({"role": role, "parts": parts})),
        }
    };
    for m in messages {
        match m.role {
            Role::System => {}
            Role::User => {
                let text = m.text();
                push("user", vec![json!({ "text": text })], &mut out);
            }
            Role::Assistant => {
                let mut parts = Vec::new();
                let mut results = Vec::new();
                let mut pending_sig: Option<String> = None;
                let mut names = std::collections::HashMap::new();
                for p in &m.parts {
                    let mut part = match p {
                        Part::Reasoning { signature: s, .. } => {
                            if let Some(Signature::Gemini(sig)) = s.as_deref().map(signature::parse)
                            {
                                pending_sig = Some(sig.to_owned());
                            }
                            continue;
                        }
                        Part::Text { text } if !text.is_empty() => json!({ "text": text }),
                        Part::ToolCall {
                            call_id,
                            name,
                            arguments,
                            ..
                        } => {
                            names.insert(call_id.clone(), name.clone());
                            let args = super::openai_chat::parse_arguments(arguments)
                                .unwrap_or_else(|_| json!({}));
                            let mut call = json!({"name": name, "args": args});
                            if !call_id.starts_with(LOCAL_ID_PREFIX) {
                                call["id"] = json!(call_id);
                            }
                            json!({ "functionCall": call })
                        }
                        Part::ToolResult {
                            call_id,
                            output,
                            is_error,
                        } => {
                            let name = names.get(call_id).cloned().unwrap_or_default();
                            let key = if *is_error { "error" } else { "output" };
                            let mut resp = json!({"name": name, "response": { key: output }});
                            if !call_id.starts_with(LOCAL_ID_PREFIX) {
                                resp["id"] = json!(call_id);
                            }
                            results.push(json!({ "functionResponse": resp }));
                            continue;
                        }
                        Part::Text { .. } | Part::Image { .. } | Part::File { .. } => continue,
                    };
                    if let Some(sig) = pending_sig.take() {
                        part["thoughtSignature"] = json!(sig);
                    }
                    parts.push(part);
                }
                if parts.is_empty() {
                    continue; // an answer with nothing to say (failed before output)
                }
                if let Some(sig) = pending_sig {
                    // A signature that came on a final empty part goes back on an empty part.
                    parts.push(json!({"text": "", "thoughtSignature": sig}));
                }
                push("model", parts, &mut out);
                push("user", results, &mut out);
            }
        }
    }
    out
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Value {
    let mut body = json!({ "contents": build_contents(&req.messages) });
    if let Some(system) = req.system.as_deref().filter(|s| !s.trim().is_empty()) {
        body["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    let mut gen = Map::new();
    if let Some(t) = req.temperature {
        gen.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        gen.insert("topP".into(), json!(p));
    }
    if let Some(m) = req.max_output_tokens {
        gen.insert("maxOutputTokens".into(), json!(m));
    }
    if !req.stop.is_empty() {
        gen.insert("stopSequences".into(), json!(req.stop));
    }
    match req.reasoning {
        Some(ReasoningEffort::Off) => {
            gen.insert("thinkingConfig".into(), json!({"thinkingBudget": 0}));
        }
        Some(effort) => {
            gen.insert(
                "thinkingConfig".into(),
                json!({"thinkingBudget": super::thinking_budget(effort), "includeThoughts": true}),
            );
        }
        None => {}
    }
    if !gen.is_empty() {
        body["generationConfig"] = Value::Object(gen);
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters})
            })
            .collect();
        body["tools"] = json!([{ "functionDeclarations": decls }]);
        let mode = match req.tool_choice {
            ToolChoice::Auto => "AUTO",
            ToolChoice::Required => "ANY",
            ToolChoice::None => "NONE",
        };
        body["toolConfig"] = json!({"functionCallingConfig": {"mode": mode}});
    }
    body
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
    fn body(request: &ChatRequest) -> Value {
        build_body(request)
    }
}

/// A Gemini provider (base URL like `https://generativelanguage.googleapis.com/v1beta`).
pub type Gemini = Provider<GeminiWire>;
