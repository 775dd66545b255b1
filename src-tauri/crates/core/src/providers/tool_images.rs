//! The images a tool returned (an MCP server's result), written once for every format.
//!
//! The engine stores them as image parts right after their tool result in the answer, so
//! [`split_rounds`](super::split_rounds) keeps them with the results, each format leaves them
//! out of the assistant's own content ([`answer_parts`]), and sends each with its result
//! ([`results`]): as an image where the request may carry it (the same checks as a user's
//! image: its bytes are there, the model is not known to lack vision, the provider takes it),
//! else as a note appended to the result's text, so the model always knows an image was there.
//! Where each format puts the images (REQUESTS.md and each provider's docs): Anthropic inside
//! the `tool_result` block; Gemini as inline data beside the function response; Ollama as the
//! tool message's `images`; OpenAI's two formats in a user message right after the results
//! (their tool outputs carry text).

use super::pieces::{self, ImageRule, Piece};
use parley_protocol::{Message, Part};
use std::borrow::Cow;

/// One tool result of an answer, with the images its tool returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Returned<'a> {
    /// The call it answers.
    pub call_id: &'a str,
    /// What the tool returned as text, with a note for each image not sent.
    pub output: Cow<'a, str>,
    /// True when the output describes a failure.
    pub is_error: bool,
    /// The images to send with it ([`Piece::Image`] only).
    pub images: Vec<Piece<'a>>,
}

/// Whether each part of `parts` is an image a tool returned (one right after a tool result
/// or after another such image).
fn result_images(parts: &[Part]) -> Vec<bool> {
    let mut after_result = false;
    parts
        .iter()
        .map(|p| {
            let image = after_result && matches!(p, Part::Image { .. });
            after_result = image || matches!(p, Part::ToolResult { .. });
            image
        })
        .collect()
}

/// An answer's parts without the images its tools returned (those go with their results).
pub fn answer_parts(m: &Message) -> impl Iterator<Item = &Part> {
    m.parts
        .iter()
        .zip(result_images(&m.parts))
        .filter(|(_, image)| !image)
        .map(|(p, _)| p)
}

/// An answer's tool results in order, each with its images as the format of `rule` sends them
/// for a model whose vision is `vision`.
pub fn results<'a>(m: &'a Message, vision: Option<bool>, rule: &ImageRule) -> Vec<Returned<'a>> {
    let mut out: Vec<Returned<'a>> = Vec::new();
    for (p, image) in m.parts.iter().zip(result_images(&m.parts)) {
        match p {
            Part::ToolResult {
                call_id,
                output,
                is_error,
            } => out.push(Returned {
                call_id,
                output: Cow::Borrowed(output),
                is_error: *is_error,
                images: Vec::new(),
            }),
            Part::Image { .. } if image => {
                let Some(last) = out.last_mut() else { continue };
                match pieces::result_piece(p, vision, rule) {
                    Piece::Text(note) => {
                        let text = last.output.to_mut();
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(&note);
                    }
                    image => last.images.push(image),
                }
            }
            _ => {}
        }
    }
    out
}

/// The pieces of the user message that carries the results' images in a format whose tool
/// outputs take text only (OpenAI's): for each result with images, a line naming its call,
/// then its images. Empty when no result has an image to send.
pub fn images_message<'a>(results: &[Returned<'a>]) -> Vec<Piece<'a>> {
    let mut out = Vec::new();
    for r in results.iter().filter(|r| !r.images.is_empty()) {
        let n = r.images.len();
        let what = if n == 1 { "image" } else { "images" };
        out.push(Piece::Text(Cow::Owned(format!(
            "[The tool call {} returned {n} {what}:]",
            r.call_id
        ))));
        out.extend(r.images.iter().cloned());
    }
    out
}

#[cfg(test)]
#[path = "tool_images_tests.rs"]
mod tests;
