//! The Responses request body, typed. Stateless (`store: false`): each request replays the
//! earlier output items in `input` — the reasoning item (id, encrypted content, summary) and the
//! function call it led to, then the `function_call_output` keyed by `call_id` (REQUESTS.md §2).
//! A user message with images has content items, `input_text` and `input_image` (a `data:` URL,
//! `detail` "auto", which the SDK's `ResponseInputImageParam` requires), in the message's order
//! (OpenAI, "Images and vision"); one without keeps a string.

use super::super::pieces::{self, Piece};
use super::super::signature::{self, Signature};
use super::super::tool_images;
use super::super::{effort_word, ChatRequest, ToolChoice};
use parley_protocol::{Message, Part, ReasoningEffort, Role};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// The body of `POST /responses`.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    model: &'a str,
    input: Vec<InputItem<'a>>,
    stream: bool,
    store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Reasoning>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    include: &'static [&'static str],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Reasoning {
    effort: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// One `input` item: a message, a function call or its output, or a reasoning item replayed as
/// it was received.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum InputItem<'a> {
    /// A typed item.
    Item(Item<'a>),
    /// A reasoning item, verbatim (its fields are the provider's).
    Kept(Value),
}

/// The items Parley writes itself, by their `type`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item<'a> {
    /// A message.
    Message {
        /// `system`, `user` or `assistant`.
        role: &'static str,
        /// Its text, or its content items when it carries images.
        content: Content<'a>,
    },
    /// A call the model made.
    FunctionCall {
        /// The call's id.
        call_id: &'a str,
        /// The tool's name.
        name: &'a str,
        /// The raw argument text.
        arguments: &'a str,
    },
    /// A call's result.
    FunctionCallOutput {
        /// The call's id.
        call_id: &'a str,
        /// What the tool returned.
        output: Cow<'a, str>,
    },
}

/// A message's content: a string, or items when it carries images.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Content<'a> {
    /// Text only.
    Text(String),
    /// `input_text` and `input_image` items in order.
    Items(Vec<ContentItem<'a>>),
}

/// One content item of a user message.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem<'a> {
    /// Text.
    InputText {
        /// The text.
        text: Cow<'a, str>,
    },
    /// An image as a `data:` URL.
    InputImage {
        /// `data:<mime>;base64,<data>`.
        image_url: String,
        /// Always "auto" (the provider decides the resolution).
        detail: &'static str,
    },
}

impl<'a> Content<'a> {
    fn of(pieces: Vec<Piece<'a>>) -> Self {
        if !pieces::has_image(&pieces) {
            return Content::Text(pieces::text_of(&pieces));
        }
        Content::Items(
            pieces
                .into_iter()
                .map(|p| match p {
                    Piece::Text(text) => ContentItem::InputText { text },
                    Piece::Image { mime, data } => ContentItem::InputImage {
                        image_url: Piece::data_url(mime, data),
                        detail: "auto",
                    },
                })
                .collect(),
        )
    }
}

impl<'a> InputItem<'a> {
    fn message(role: &'static str, content: Content<'a>) -> Self {
        InputItem::Item(Item::Message { role, content })
    }

    fn is_reasoning(&self) -> bool {
        matches!(self, InputItem::Kept(v) if v["type"] == "reasoning")
    }
}

/// The `input` items for a conversation, per REQUESTS.md §2 (a model that may take images).
pub fn build_input(messages: &[Message]) -> Vec<InputItem<'_>> {
    build_input_for(messages, None)
}

/// The `input` items, images as notes when `vision` is `Some(false)`.
pub fn build_input_for(messages: &[Message], vision: Option<bool>) -> Vec<InputItem<'_>> {
    let mut out = Vec::new();
    for m in messages {
        let pieces = || pieces::pieces(m, vision, &pieces::OPENAI);
        match m.role {
            Role::System => out.push(InputItem::message(
                "system",
                Content::Text(pieces::text_of(&pieces())),
            )),
            Role::User => out.push(InputItem::message("user", Content::of(pieces()))),
            Role::Assistant => push_answer(m, vision, &mut out),
        }
    }
    out
}

/// An answer's items in order; a reasoning item must travel with the item that followed it.
/// The images its tools returned follow in a user message (a call's output is text here).
fn push_answer<'a>(m: &'a Message, vision: Option<bool>, out: &mut Vec<InputItem<'a>>) {
    let mut items = Vec::new();
    let results = tool_images::results(m, vision, &pieces::OPENAI);
    let images = tool_images::images_message(&results);
    let mut results = results.into_iter();
    for p in tool_images::answer_parts(m) {
        match p {
            Part::Reasoning {
                signature: Some(s), ..
            } => {
                if let Signature::OpenAiReasoning(item) = signature::parse(s) {
                    items.push(InputItem::Kept(item));
                }
            }
            Part::Text { text } if !text.is_empty() => {
                items.push(InputItem::message("assistant", Content::Text(text.clone())))
            }
            Part::File { .. } | Part::Image { .. } => {
                let text = pieces::answer_text(p).unwrap_or_default();
                items.push(InputItem::message("assistant", Content::Text(text)))
            }
            Part::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => items.push(InputItem::Item(Item::FunctionCall {
                call_id,
                name,
                arguments,
            })),
            Part::ToolResult { .. } => {
                if let Some(r) = results.next() {
                    items.push(InputItem::Item(Item::FunctionCallOutput {
                        call_id: r.call_id,
                        output: r.output,
                    }))
                }
            }
            _ => {}
        }
    }
    while items.last().is_some_and(InputItem::is_reasoning) {
        items.pop();
    }
    out.extend(items);
    if !images.is_empty() {
        out.push(InputItem::message("user", Content::of(images)));
    }
}

/// Whether a model id names an OpenAI reasoning model (they accept `reasoning` and return
/// encrypted reasoning; other models refuse those fields).
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5", "codex"]
        .iter()
        .any(|p| m.starts_with(p))
}

/// What `reasoning` says for this request, if anything.
fn reasoning(req: &ChatRequest, reasoning_model: bool) -> Option<Reasoning> {
    match req.reasoning? {
        ReasoningEffort::Off if reasoning_model => Some(Reasoning {
            effort: "minimal",
            summary: None,
        }),
        effort => effort_word(effort).map(|effort| Reasoning {
            effort,
            summary: Some("auto"),
        }),
    }
}

/// The request body (stateless: `store: false`).
pub fn build_body(req: &ChatRequest) -> Body<'_> {
    let reasoning_model = is_reasoning_model(&req.model);
    let encrypted = reasoning_model || req.reasoning.is_some_and(|e| e != ReasoningEffort::Off);
    let has_tools = !req.tools.is_empty();
    Body {
        model: &req.model,
        input: build_input_for(&req.messages, req.vision),
        stream: true,
        store: false,
        instructions: req.system.as_deref().filter(|s| !s.trim().is_empty()),
        temperature: req.temperature.map(f64::from),
        top_p: req.top_p.map(f64::from),
        max_output_tokens: req.max_output_tokens,
        reasoning: reasoning(req, reasoning_model),
        include: if encrypted {
            &["reasoning.encrypted_content"]
        } else {
            &[]
        },
        tools: req
            .tools
            .iter()
            .map(|t| Tool {
                kind: "function",
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
            })
            .collect(),
        tool_choice: has_tools.then_some(match req.tool_choice {
            ToolChoice::Auto => "auto",
            ToolChoice::Required => "required",
            ToolChoice::None => "none",
        }),
    }
}
