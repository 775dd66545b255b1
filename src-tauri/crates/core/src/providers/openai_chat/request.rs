//! The Chat Completions request body, typed. Follows REQUESTS.md: assistant tool calls carry
//! their raw argument string, each result follows as a `tool` message, and an assistant message
//! with tool calls replays its `reasoning_content` (DeepSeek thinking mode requires it, even
//! when empty). A user message with images is a list of content parts, `text` and
//! `image_url` with a `data:` URL, in the message's order (OpenAI API reference, Chat
//! Completions: user message content parts; "Images and vision"); one without is a string.

use super::super::pieces::{self, Piece};
use super::super::tool_images;
use super::super::{effort_word, ChatRequest, ToolChoice, ToolSpec};
use parley_protocol::{Message, Part, Role};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// The body of `POST /chat/completions`.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// One message of the conversation, by its `role`.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
enum ChatMessage<'a> {
    System {
        content: String,
    },
    User {
        content: UserContent<'a>,
    },
    Assistant {
        /// `null` when the answer was only tool calls.
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
        /// Sent with tool calls only (then always, even empty).
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<String>,
    },
    Tool {
        tool_call_id: &'a str,
        content: Cow<'a, str>,
    },
}

/// A user message's content: a string, or content parts when it carries images.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum UserContent<'a> {
    Text(String),
    Parts(Vec<ContentPart<'a>>),
}

/// `{"type":"text","text":…}` or `{"type":"image_url","image_url":{"url":"data:…"}}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentPart<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Serialize)]
struct ImageUrl {
    url: String,
}

impl<'a> UserContent<'a> {
    fn of(pieces: Vec<Piece<'a>>) -> Self {
        if !pieces::has_image(&pieces) {
            return UserContent::Text(pieces::text_of(&pieces));
        }
        UserContent::Parts(
            pieces
                .into_iter()
                .map(|p| match p {
                    Piece::Text(text) => ContentPart::Text { text },
                    Piece::Image { mime, data } => ContentPart::ImageUrl {
                        image_url: ImageUrl {
                            url: Piece::data_url(mime, data),
                        },
                    },
                })
                .collect(),
        )
    }
}

#[derive(Debug, Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    /// The raw argument text, as the model streamed it.
    arguments: &'a str,
}

/// A tool in the Chat Completions shape (Ollama's too).
#[derive(Debug, Serialize)]
pub struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionSpec<'a>,
}

#[derive(Debug, Serialize)]
struct FunctionSpec<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// Tools in the Chat Completions (and Ollama) shape.
pub fn tools(tools: &[ToolSpec]) -> Vec<Tool<'_>> {
    tools
        .iter()
        .map(|t| Tool {
            kind: "function",
            function: FunctionSpec {
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
            },
        })
        .collect()
}

/// The `tool_choice` word.
fn choice_word(choice: ToolChoice) -> &'static str {
    match choice {
        ToolChoice::Auto => "auto",
        ToolChoice::Required => "required",
        ToolChoice::None => "none",
    }
}

/// Builds the request body.
pub fn build_body(req: &ChatRequest) -> Body<'_> {
    let mut messages = Vec::new();
    if let Some(system) = req.system.as_deref().filter(|s| !s.trim().is_empty()) {
        messages.push(ChatMessage::System {
            content: system.to_owned(),
        });
    }
    for m in &req.messages {
        push_message(m, req.vision, &mut messages);
    }
    Body {
        model: &req.model,
        messages,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature: req.temperature.map(f64::from),
        top_p: req.top_p.map(f64::from),
        max_tokens: req.max_output_tokens,
        reasoning_effort: req.reasoning.and_then(effort_word),
        stop: &req.stop,
        tools: tools(&req.tools),
        tool_choice: (!req.tools.is_empty()).then(|| choice_word(req.tool_choice)),
    }
}

fn push_message<'a>(m: &'a Message, vision: Option<bool>, out: &mut Vec<ChatMessage<'a>>) {
    let pieces = || pieces::pieces(m, vision, &pieces::OPENAI);
    match m.role {
        Role::System => out.push(ChatMessage::System {
            content: pieces::text_of(&pieces()),
        }),
        Role::User => out.push(ChatMessage::User {
            content: UserContent::of(pieces()),
        }),
        Role::Assistant => push_answer(m, vision, out),
    }
}

/// An answer: one assistant message (text, calls, the reasoning that led to them), then one
/// `tool` message per result, then a user message with the images the tools returned (a tool
/// message carries text only).
fn push_answer<'a>(m: &'a Message, vision: Option<bool>, out: &mut Vec<ChatMessage<'a>>) {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    // After a file block or a note, text starts a paragraph of its own (a block's closing
    // fence followed by text on its line would open a new block instead).
    let mut after_block = false;
    for p in tool_images::answer_parts(m) {
        match p {
            Part::Text { text: t } => {
                if after_block && !t.is_empty() {
                    text.push_str("\n\n");
                    after_block = false;
                }
                text.push_str(t)
            }
            Part::Reasoning { text: r, .. } => reasoning.push_str(r),
            Part::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => calls.push(ToolCall {
                id: call_id,
                kind: "function",
                function: FunctionCall { name, arguments },
            }),
            Part::ToolResult { .. } => {}
            Part::Image { .. } | Part::File { .. } => {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.extend(pieces::answer_text(p));
                after_block = true;
            }
        }
    }
    if text.is_empty() && calls.is_empty() {
        return; // an empty (e.g. failed) answer says nothing to the model
    }
    out.push(ChatMessage::Assistant {
        content: (!text.is_empty()).then_some(text),
        reasoning_content: (!calls.is_empty()).then_some(reasoning),
        tool_calls: calls,
    });
    let results = tool_images::results(m, vision, &pieces::OPENAI);
    let images = tool_images::images_message(&results);
    out.extend(results.into_iter().map(|r| ChatMessage::Tool {
        tool_call_id: r.call_id,
        content: r.output,
    }));
    if !images.is_empty() {
        out.push(ChatMessage::User {
            content: UserContent::of(images),
        });
    }
}
