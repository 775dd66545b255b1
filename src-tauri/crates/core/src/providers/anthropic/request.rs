//! The Messages request body, typed. Follows REQUESTS.md: an assistant turn is replayed with all
//! its blocks in their original order (thinking with its signature first), tool_use `input` as
//! the parsed object, and tool results as `tool_result` blocks at the start of the next user
//! message. A user message's images are `image` blocks with a base64 `source`, among its
//! `text` blocks in the message's order (Anthropic, "Vision": base64-encoded image example;
//! Messages API content blocks).

use super::super::openai_chat::parse_arguments;
use super::super::pieces::{self, Piece};
use super::super::signature::{self, Signature};
use super::super::tool_images;
use super::super::{thinking_budget, ChatRequest, ToolChoice};
use super::DEFAULT_MAX_TOKENS;
use parley_protocol::{Message, Part, Role};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The body of `POST /messages`.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    model: &'a str,
    messages: Vec<AnthropicMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<TypeOnly>,
}

#[derive(Debug, Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
}

/// `{"type": "auto"}` and the like.
#[derive(Debug, Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a Value,
}

/// One message: a role and its content blocks.
#[derive(Debug, Serialize)]
pub struct AnthropicMessage<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

/// A content block, by its `type`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: Cow<'a, str>,
    },
    Image {
        source: ImageSource<'a>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        /// The parsed arguments (`{}` when they were unusable).
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: ResultContent<'a>,
        is_error: bool,
    },
}

/// A tool result's `content`: its text, or text and image blocks when its tool returned
/// images.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ResultContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

impl<'a> ResultContent<'a> {
    fn of(r: tool_images::Returned<'a>) -> Self {
        if r.images.is_empty() {
            return ResultContent::Text(r.output);
        }
        let text = (!r.output.is_empty()).then_some(Block::Text { text: r.output });
        ResultContent::Blocks(
            text.into_iter()
                .chain(r.images.into_iter().map(block))
                .collect(),
        )
    }
}

/// A piece as a block.
fn block(p: Piece<'_>) -> Block<'_> {
    match p {
        Piece::Text(text) => Block::Text { text },
        Piece::Image { mime, data } => Block::Image {
            source: ImageSource {
                kind: "base64",
                media_type: mime,
                data,
            },
        },
    }
}

/// `{"type":"base64","media_type":…,"data":…}`.
#[derive(Debug, Serialize)]
struct ImageSource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    media_type: &'a str,
    data: &'a str,
}

/// A user message's blocks: its text and images in order (one empty text block when it has
/// nothing, as before).
fn user_blocks<'a>(m: &'a Message, vision: Option<bool>) -> Vec<Block<'a>> {
    let mut blocks: Vec<Block<'a>> = pieces::pieces(m, vision, &pieces::ANTHROPIC)
        .into_iter()
        .filter(|p| !matches!(p, Piece::Text(t) if t.is_empty()))
        .map(block)
        .collect();
    if blocks.is_empty() {
        blocks.push(Block::Text {
            text: Cow::Borrowed(""),
        });
    }
    blocks
}

/// The `messages` array for a conversation, per REQUESTS.md (a model that may take images).
pub fn build_messages(messages: &[Message]) -> Vec<AnthropicMessage<'_>> {
    build_messages_for(messages, None)
}

/// The `messages` array, images as notes when `vision` is `Some(false)`.
pub fn build_messages_for(messages: &[Message], vision: Option<bool>) -> Vec<AnthropicMessage<'_>> {
    let mut out: Vec<AnthropicMessage<'_>> = Vec::new();
    for m in messages {
        match m.role {
            Role::System => {}
            Role::User => {
                let blocks = user_blocks(m, vision);
                // Tool results already opened this user message: the text follows them.
                match out.last_mut() {
                    Some(last) if last.role == "user" => last.content.extend(blocks),
                    _ => out.push(AnthropicMessage {
                        role: "user",
                        content: blocks,
                    }),
                }
            }
            Role::Assistant => push_answer(m, vision, &mut out),
        }
    }
    out
}

/// An answer: its blocks in order, then its tool results opening the next user message.
fn push_answer<'a>(m: &'a Message, vision: Option<bool>, out: &mut Vec<AnthropicMessage<'a>>) {
    let mut blocks = Vec::new();
    for p in tool_images::answer_parts(m) {
        match p {
            Part::Reasoning { text, signature } => {
                match signature.as_deref().map(signature::parse) {
                    Some(Signature::AnthropicRedacted(data)) => {
                        blocks.push(Block::RedactedThinking { data })
                    }
                    Some(Signature::AnthropicThinking(signature)) => blocks.push(Block::Thinking {
                        thinking: text,
                        signature,
                    }),
                    // Unsigned reasoning, or another provider's, cannot be verified here: dropped.
                    _ => {}
                }
            }
            Part::Text { text } if !text.is_empty() => blocks.push(Block::Text {
                text: Cow::Borrowed(text),
            }),
            Part::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => blocks.push(Block::ToolUse {
                id: call_id,
                name,
                input: parse_arguments(arguments).unwrap_or_else(|_| Value::Object(Map::new())),
            }),
            Part::ToolResult { .. } => {}
            Part::Image { .. } | Part::File { .. } => blocks.push(Block::Text {
                text: Cow::Owned(pieces::answer_text(p).unwrap_or_default()),
            }),
            Part::Text { .. } => {}
        }
    }
    if !blocks
        .iter()
        .any(|b| matches!(b, Block::Text { .. } | Block::ToolUse { .. }))
    {
        return; // an answer with nothing to say (failed before output)
    }
    out.push(AnthropicMessage {
        role: "assistant",
        content: blocks,
    });
    let results: Vec<Block<'a>> = tool_images::results(m, vision, &pieces::ANTHROPIC)
        .into_iter()
        .map(|r| Block::ToolResult {
            tool_use_id: r.call_id,
            is_error: r.is_error,
            content: ResultContent::of(r),
        })
        .collect();
    if !results.is_empty() {
        out.push(AnthropicMessage {
            role: "user",
            content: results,
        });
    }
}

/// The request body.
pub fn build_body(req: &ChatRequest) -> Body<'_> {
    let budget = req.reasoning.map(thinking_budget).filter(|b| *b > 0);
    let mut max_tokens = req.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    if let Some(budget) = budget {
        // The budget must fit under max_tokens, and thinking allows no sampling changes.
        max_tokens = max_tokens.max(budget + 4_096);
    }
    let sampling = budget.is_none();
    let has_tools = !req.tools.is_empty();
    Body {
        model: &req.model,
        messages: build_messages_for(&req.messages, req.vision),
        stream: true,
        system: req.system.as_deref().filter(|s| !s.trim().is_empty()),
        thinking: budget.map(|budget_tokens| Thinking {
            kind: "enabled",
            budget_tokens,
        }),
        temperature: req
            .temperature
            .filter(|_| sampling)
            .map(|t| f64::from(t.min(1.0))),
        top_p: req.top_p.filter(|_| sampling).map(f64::from),
        max_tokens,
        stop_sequences: &req.stop,
        tools: req
            .tools
            .iter()
            .map(|t| Tool {
                name: &t.name,
                description: &t.description,
                input_schema: &t.parameters,
            })
            .collect(),
        tool_choice: has_tools.then_some(TypeOnly {
            kind: match req.tool_choice {
                ToolChoice::Auto => "auto",
                ToolChoice::Required => "any",
                ToolChoice::None => "none",
            },
        }),
    }
}
