//! The `streamGenerateContent` request body, typed. Per REQUESTS.md §5: model turns with their
//! parts in order and each thought signature on the part it came with; tool results as
//! `functionResponse` parts (object responses) in the next user turn. A user message's images
//! are `inlineData` parts (`mimeType`, base64 `data`) among its `text` parts in order: the REST
//! reference's `Part.inlineData` / `Blob` in the camelCase this body uses throughout (the
//! "Image understanding" guide's curl writes `inline_data`/`mime_type`; the API's JSON parser
//! takes either spelling).

use super::super::local_calls::server_id;
use super::super::openai_chat::parse_arguments;
use super::super::pieces::{self, Piece};
use super::super::signature::{self, Signature};
use super::super::tool_images;
use super::super::{thinking_budget, ChatRequest, ToolChoice};
use parley_protocol::{Message, Part, ReasoningEffort, Role};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// The body of `POST /models/{model}:streamGenerateContent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Body<'a> {
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<SystemInstruction<'a>>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tools<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig>,
}

#[derive(Debug, Serialize)]
struct SystemInstruction<'a> {
    parts: [TextOnly<'a>; 1],
}

#[derive(Debug, Serialize)]
struct TextOnly<'a> {
    text: &'a str,
}

/// Sampling and thinking (only the ones set are sent; none at all, no `generationConfig`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<ThinkingConfig>,
}

impl GenerationConfig<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_empty()
            && self.thinking_config.is_none()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    thinking_budget: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    include_thoughts: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tools<'a> {
    function_declarations: Vec<FunctionDeclaration<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclaration<'a> {
    name: &'a str,
    description: &'a str,
    parameters_json_schema: &'a Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig {
    function_calling_config: FunctionCallingConfig,
}

#[derive(Debug, Serialize)]
struct FunctionCallingConfig {
    mode: &'static str,
}

/// One turn: `user` or `model`, and its parts.
#[derive(Debug, Serialize)]
pub struct Content<'a> {
    role: &'static str,
    parts: Vec<ContentPart<'a>>,
}

/// A part, with the thought signature that came on it (if any).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContentPart<'a> {
    #[serde(flatten)]
    data: PartData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
}

/// What a part holds: `{"text": ...}`, `{"inlineData": ...}`, `{"functionCall": ...}` or
/// `{"functionResponse": ...}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum PartData<'a> {
    Text(Cow<'a, str>),
    InlineData(Blob<'a>),
    FunctionCall(FunctionCall<'a>),
    FunctionResponse(FunctionResponse<'a>),
}

/// Inline bytes: `{"mimeType": ..., "data": base64}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Blob<'a> {
    mime_type: &'a str,
    data: &'a str,
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    /// The parsed arguments (`{}` when they were unusable).
    args: Value,
    /// The server's id; one Parley made up is never sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct FunctionResponse<'a> {
    name: &'a str,
    response: Outcome<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

/// `{"output": ...}` or, for a failed call, `{"error": ...}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome<'a> {
    Output(Cow<'a, str>),
    Error(Cow<'a, str>),
}

impl<'a> ContentPart<'a> {
    fn new(data: PartData<'a>) -> Self {
        ContentPart {
            data,
            thought_signature: None,
        }
    }
}

/// Appends a turn; Gemini wants alternating turns, so parts of the same role as the previous
/// turn join it.
fn push<'a>(role: &'static str, parts: Vec<ContentPart<'a>>, out: &mut Vec<Content<'a>>) {
    if parts.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => out.push(Content { role, parts }),
    }
}

/// A user message's parts: its text and images in order (one text part, perhaps empty, when
/// it has nothing else, as before).
fn user_parts<'a>(m: &'a Message, vision: Option<bool>) -> Vec<ContentPart<'a>> {
    let mut parts: Vec<ContentPart<'a>> = pieces::pieces(m, vision, &pieces::GEMINI)
        .into_iter()
        .filter(|p| !matches!(p, Piece::Text(t) if t.is_empty()))
        .map(|p| {
            ContentPart::new(match p {
                Piece::Text(text) => PartData::Text(text),
                Piece::Image { mime, data } => PartData::InlineData(Blob {
                    mime_type: mime,
                    data,
                }),
            })
        })
        .collect();
    if parts.is_empty() {
        parts.push(ContentPart::new(PartData::Text(Cow::Borrowed(""))));
    }
    parts
}

/// The `contents` array, per REQUESTS.md §5 (a model that may take images).
pub fn build_contents(messages: &[Message]) -> Vec<Content<'_>> {
    build_contents_for(messages, None)
}

/// The `contents` array, images as notes when `vision` is `Some(false)`.
pub fn build_contents_for(messages: &[Message], vision: Option<bool>) -> Vec<Content<'_>> {
    let mut out = Vec::new();
    for m in messages {
        match m.role {
            Role::System => {}
            Role::User => push("user", user_parts(m, vision), &mut out),
            Role::Assistant => {
                let (parts, results) = answer_parts(m, vision);
                if parts.is_empty() {
                    continue; // an answer with nothing to say (failed before output)
                }
                push("model", parts, &mut out);
                push("user", results, &mut out);
            }
        }
    }
    out
}

/// An answer's model parts (each signature on the part after it) and its tool results (each
/// followed by the images its tool returned, as inline data).
fn answer_parts(m: &Message, vision: Option<bool>) -> (Vec<ContentPart<'_>>, Vec<ContentPart<'_>>) {
    let (mut parts, mut results) = (Vec::new(), Vec::new());
    let mut pending_sig: Option<&str> = None;
    let mut names = HashMap::new();
    let mut returned = tool_images::results(m, vision, &pieces::GEMINI).into_iter();
    for p in tool_images::answer_parts(m) {
        let data = match p {
            Part::Reasoning { signature: s, .. } => {
                if let Some(Signature::Gemini(sig)) = s.as_deref().map(signature::parse) {
                    pending_sig = Some(sig);
                }
                continue;
            }
            Part::Text { text } if !text.is_empty() => PartData::Text(Cow::Borrowed(text)),
            Part::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => {
                names.insert(call_id.as_str(), name.as_str());
                PartData::FunctionCall(FunctionCall {
                    name,
                    args: parse_arguments(arguments).unwrap_or_else(|_| Value::Object(Map::new())),
                    id: server_id(call_id),
                })
            }
            Part::ToolResult { .. } => {
                if let Some(r) = returned.next() {
                    push_result(r, &names, &mut results);
                }
                continue;
            }
            Part::Image { .. } | Part::File { .. } => {
                // A note or a file's text: a part of its own; a pending signature stays for
                // the part the model sent after it.
                let text = pieces::answer_text(p).unwrap_or_default();
                parts.push(ContentPart::new(PartData::Text(Cow::Owned(text))));
                continue;
            }
            Part::Text { .. } => continue,
        };
        parts.push(ContentPart {
            data,
            thought_signature: pending_sig.take(),
        });
    }
    if let (Some(sig), false) = (pending_sig, parts.is_empty()) {
        // A signature that came on a final empty part goes back on an empty part.
        parts.push(ContentPart {
            data: PartData::Text(Cow::Borrowed("")),
            thought_signature: Some(sig),
        });
    }
    (parts, results)
}

/// A tool result as a function response, then the images its tool returned.
fn push_result<'a>(
    r: tool_images::Returned<'a>,
    names: &HashMap<&'a str, &'a str>,
    out: &mut Vec<ContentPart<'a>>,
) {
    let response = match r.is_error {
        true => Outcome::Error(r.output),
        false => Outcome::Output(r.output),
    };
    let name = names.get(r.call_id).copied().unwrap_or_default();
    out.push(ContentPart::new(PartData::FunctionResponse(
        FunctionResponse {
            name,
            response,
            id: server_id(r.call_id),
        },
    )));
    for image in r.images {
        if let Piece::Image { mime, data } = image {
            out.push(ContentPart::new(PartData::InlineData(Blob {
                mime_type: mime,
                data,
            })));
        }
    }
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Body<'_> {
    let thinking_config = req.reasoning.map(|effort| match effort {
        ReasoningEffort::Off => ThinkingConfig {
            thinking_budget: 0,
            include_thoughts: None,
        },
        effort => ThinkingConfig {
            thinking_budget: thinking_budget(effort),
            include_thoughts: Some(true),
        },
    });
    let has_tools = !req.tools.is_empty();
    Body {
        contents: build_contents_for(&req.messages, req.vision),
        system_instruction: req
            .system
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|text| SystemInstruction {
                parts: [TextOnly { text }],
            }),
        generation_config: GenerationConfig {
            temperature: req.temperature.map(f64::from),
            top_p: req.top_p.map(f64::from),
            max_output_tokens: req.max_output_tokens,
            stop_sequences: &req.stop,
            thinking_config,
        },
        tools: match has_tools {
            true => vec![Tools {
                function_declarations: req
                    .tools
                    .iter()
                    .map(|t| FunctionDeclaration {
                        name: &t.name,
                        description: &t.description,
                        parameters_json_schema: &t.parameters,
                    })
                    .collect(),
            }],
            false => Vec::new(),
        },
        tool_config: has_tools.then_some(ToolConfig {
            function_calling_config: FunctionCallingConfig {
                mode: match req.tool_choice {
                    ToolChoice::Auto => "AUTO",
                    ToolChoice::Required => "ANY",
                    ToolChoice::None => "NONE",
                },
            },
        }),
    }
}
