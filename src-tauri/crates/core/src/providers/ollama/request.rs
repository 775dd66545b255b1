//! Ollama's `/api/chat` request body, typed. Follows REQUESTS.md: tool-call arguments go back
//! as objects, each result as a `tool` message with `tool_name` (and `tool_call_id` only when
//! the server gave the call an id), and the assistant's `thinking` is sent back with its tool
//! calls. A user message's images go in its `images` list (base64, no `data:` prefix) beside
//! its text `content` (Ollama API, chat request: "images (optional): a list of images to include
//! in the message"); the format has no place for their order within the text.

use super::super::local_calls::server_id;
use super::super::openai_chat::parse_arguments;
use super::super::openai_chat::request::{tools, Tool};
use super::super::pieces::{self, Piece};
use super::super::tool_images;
use super::super::{ChatRequest, ToolChoice};
use parley_protocol::{Message, Part, ReasoningEffort, Role};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The body of `POST /api/chat`.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    model: &'a str,
    messages: Vec<OllamaMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Options::is_empty")]
    options: Options<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    think: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
}

/// Sampling options (only the ones set are sent; none at all, no `options`).
#[derive(Debug, Serialize)]
struct Options<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_predict: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
}

impl Options<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.num_predict.is_none()
            && self.stop.is_empty()
    }
}

/// One message, by its `role`.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum OllamaMessage<'a> {
    /// A system prompt.
    System {
        /// Its text.
        content: String,
    },
    /// The user's message.
    User {
        /// Its text.
        content: String,
        /// Its images, base64.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        images: Vec<&'a str>,
    },
    /// An answer.
    Assistant {
        /// Its text (empty when it only called tools).
        content: String,
        /// The calls it made.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
        /// The reasoning that led to the calls (sent with calls only, when there is any).
        #[serde(skip_serializing_if = "Option::is_none")]
        thinking: Option<String>,
    },
    /// A tool's result.
    Tool {
        /// The called tool's name.
        tool_name: &'a str,
        /// What it returned.
        content: Cow<'a, str>,
        /// The images it returned (base64).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        images: Vec<&'a str>,
        /// The server's call id, when it gave one.
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_call_id: Option<&'a str>,
    },
}

/// A call the model made, as sent back.
#[derive(Debug, Serialize)]
pub struct ToolCall<'a> {
    function: Function<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Function<'a> {
    name: &'a str,
    /// The parsed arguments (`{}` when they were unusable).
    arguments: Value,
}

/// The `messages` array, per REQUESTS.md (a model that may take images).
pub fn build_messages<'a>(system: Option<&str>, messages: &'a [Message]) -> Vec<OllamaMessage<'a>> {
    build_messages_for(system, messages, None)
}

/// The `messages` array, images as notes when `vision` is `Some(false)`.
pub fn build_messages_for<'a>(
    system: Option<&str>,
    messages: &'a [Message],
    vision: Option<bool>,
) -> Vec<OllamaMessage<'a>> {
    let mut out = Vec::new();
    if let Some(s) = system.filter(|s| !s.trim().is_empty()) {
        out.push(OllamaMessage::System {
            content: s.to_owned(),
        });
    }
    for m in messages {
        match m.role {
            Role::System => out.push(OllamaMessage::System {
                content: pieces::text_of(&pieces::pieces(m, vision, &pieces::OLLAMA)),
            }),
            Role::User => {
                let pieces = pieces::pieces(m, vision, &pieces::OLLAMA);
                out.push(OllamaMessage::User {
                    content: pieces::text_of(&pieces),
                    images: pieces
                        .iter()
                        .filter_map(|p| match p {
                            Piece::Image { data, .. } => Some(*data),
                            Piece::Text(_) => None,
                        })
                        .collect(),
                })
            }
            Role::Assistant => push_answer(m, vision, &mut out),
        }
    }
    out
}

/// An answer: the assistant message with its calls, then one `tool` message per result (with
/// the images its tool returned).
fn push_answer<'a>(m: &'a Message, vision: Option<bool>, out: &mut Vec<OllamaMessage<'a>>) {
    let (mut text, mut thinking) = (String::new(), String::new());
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
            Part::Reasoning { text: r, .. } => thinking.push_str(r),
            Part::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => calls.push((call_id.as_str(), name.as_str(), arguments.as_str())),
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
        return;
    }
    let tool_calls = calls
        .iter()
        .map(|(id, name, args)| ToolCall {
            function: Function {
                name,
                arguments: parse_arguments(args).unwrap_or_else(|_| Value::Object(Map::new())),
            },
            id: server_id(id),
        })
        .collect();
    out.push(OllamaMessage::Assistant {
        content: text,
        tool_calls,
        thinking: (!calls.is_empty() && !thinking.is_empty()).then_some(thinking),
    });
    for r in tool_images::results(m, vision, &pieces::OLLAMA) {
        let name = calls
            .iter()
            .find(|(cid, _, _)| *cid == r.call_id)
            .map_or("", |(_, n, _)| n);
        out.push(OllamaMessage::Tool {
            tool_name: name,
            content: r.output,
            images: r
                .images
                .iter()
                .filter_map(|p| match p {
                    Piece::Image { data, .. } => Some(*data),
                    Piece::Text(_) => None,
                })
                .collect(),
            tool_call_id: server_id(r.call_id),
        });
    }
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Body<'_> {
    let offer_tools = !req.tools.is_empty() && req.tool_choice != ToolChoice::None;
    Body {
        model: &req.model,
        messages: build_messages_for(req.system.as_deref(), &req.messages, req.vision),
        stream: true,
        options: Options {
            temperature: req.temperature.map(f64::from),
            top_p: req.top_p.map(f64::from),
            num_predict: req.max_output_tokens,
            stop: &req.stop,
        },
        think: req.reasoning.map(|e| e != ReasoningEffort::Off),
        tools: if offer_tools {
            tools(&req.tools)
        } else {
            Vec::new()
        },
    }
}
