//! What a message's attachments become on the wire, written once for every format.
//!
//! - A [`Part::File`] (an attached or imported document: its text) is sent as text: the file's
//!   name and a fenced block with a language from its name, the fence longer than any run of
//!   backticks in the text, so no file can close it early ([`file_block`]).
//! - A [`Part::Image`] of a user message is sent as an image ([`Piece::Image`]) when the request
//!   may carry it: its bytes are there (`data`), the model is not known to lack vision
//!   ([`ChatRequest::vision`](super::ChatRequest::vision)), and the format's provider documents
//!   that it takes it ([`ImageRule`]). Otherwise a note stands in its place, so the model knows an
//!   image was there and the request is never broken ([`image_note`]). An image in an answer is
//!   always a note (no format takes images from the assistant).
//!
//! Each request builder turns [`Piece`]s into its own shapes (see REQUESTS.md and the docs
//! named on each builder).

use parley_protocol::{Message, Part, Role};
use std::borrow::Cow;

/// One piece of a user message, in order: text (a file's block and notes are text too) or an
/// image to send. Adjacent text parts are joined as [`Message::text`] joins them; a block or a
/// note is set apart by a blank line.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// An image: its MIME type and base64 bytes.
    Image {
        /// `image/png`, ...
        mime: &'a str,
        /// Base64 of the bytes.
        data: &'a str,
    },
}

impl Piece<'_> {
    /// `data:<mime>;base64,<data>` for an image (OpenAI's formats).
    pub fn data_url(mime: &str, data: &str) -> String {
        format!("data:{mime};base64,{data}")
    }
}

/// What a wire format's provider documents that it takes in one image. A stored image is made
/// to fit every provider when it is attached (attachments' ingest); this check catches the rest
/// (images imported from elsewhere, a provider switched to later), which get a note instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRule {
    /// The provider, as a note names it.
    pub provider: &'static str,
    /// The image types it takes.
    pub mimes: &'static [&'static str],
    /// The longest side it takes, in pixels (`u32::MAX`: none documented).
    pub max_side: u32,
    /// The most bytes one image may have, before base64.
    pub max_bytes: u64,
    /// That limit as the provider documents it, for the note.
    pub max_said: &'static str,
}

const MB: u64 = 1024 * 1024;
const COMMON: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];

/// OpenAI Chat Completions and Responses: PNG, JPEG, WEBP, non-animated GIF; up to 20 MB per
/// image (OpenAI, "Images and vision", image input requirements). Pixels: high detail scales
/// to 2,048 then 768 on the short side itself, so no side limit refuses a request.
pub const OPENAI: ImageRule = ImageRule {
    provider: "OpenAI",
    mimes: COMMON,
    max_side: u32::MAX,
    max_bytes: 20 * MB,
    max_said: "20 MB",
};

/// Anthropic Messages: JPEG, PNG, GIF, WebP; larger than 8000×8000 px is refused; 5 MB per
/// image on the API (Anthropic, "Vision": basics and limits), counted on the base64 text (its
/// error reads "image exceeds 5 MB maximum"), so 3.75 MB of bytes. (With more than 20 images
/// in a request the side limit is 2000 px: the images Parley stores are at most 2,000 px.)
pub const ANTHROPIC: ImageRule = ImageRule {
    provider: "Anthropic",
    mimes: COMMON,
    max_side: 8_000,
    max_bytes: 5 * MB / 4 * 3,
    max_said: "5 MB (base64)",
};

/// Gemini: PNG, JPEG, WEBP, HEIC, HEIF (no GIF); inline data up to 20 MB for the whole request,
/// base64 included, so at most 15 MB of bytes (Gemini API, "Image understanding"); the service
/// scales pixels itself.
pub const GEMINI: ImageRule = ImageRule {
    provider: "Gemini",
    mimes: &[
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/heic",
        "image/heif",
    ],
    max_side: u32::MAX,
    max_bytes: 20 * MB / 4 * 3,
    max_said: "20 MB (base64, the whole request)",
};

/// Ollama `/api/chat`: `images` is "a list of base64-encoded images" with no documented limit
/// (Ollama API, chat request); its image decoders take PNG and JPEG, so those are sent.
pub const OLLAMA: ImageRule = ImageRule {
    provider: "Ollama",
    mimes: &["image/png", "image/jpeg"],
    max_side: u32::MAX,
    max_bytes: 20 * MB,
    max_said: "20 MB (Parley's own limit)",
};

/// Why an image of an answer is a note.
const IN_ANSWERS: &str = "images in answers are not sent back";

/// Why an image without its bytes is a note.
const NO_BYTES: &str = "Parley no longer has its bytes";

/// Why an image is not sent.
fn unsendable(part: &Part, vision: Option<bool>, rule: &ImageRule) -> Option<String> {
    let Part::Image {
        mime,
        width,
        height,
        size,
        data,
        ..
    } = part
    else {
        return None;
    };
    let Some(data) = data else {
        return Some(NO_BYTES.into());
    };
    if vision == Some(false) {
        return Some("this model does not take images".into());
    }
    if !rule.mimes.contains(&mime.as_str()) {
        return Some(format!("{} does not take {mime} images", rule.provider));
    }
    if (*width).max(*height) > rule.max_side {
        return Some(format!(
            "{} takes at most {} pixels a side",
            rule.provider, rule.max_side
        ));
    }
    let bytes = (*size).max(data.len() as u64 / 4 * 3);
    if bytes > rule.max_bytes {
        return Some(format!(
            "{} takes at most {} an image",
            rule.provider, rule.max_said
        ));
    }
    None
}

/// A name as a note or a block header shows it: one line, no control characters, not endless.
fn one_line(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    match clean.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean.to_owned(),
    }
}

/// The note that stands in for an image: `[image shot.png, 640×480, not sent: why]`.
pub fn image_note(name: &str, width: u32, height: u32, why: &str) -> String {
    let name = one_line(name);
    let what = match name.is_empty() {
        true => "pasted image".to_owned(),
        false => format!("image {name}"),
    };
    let size = match width > 0 && height > 0 {
        true => format!(", {width}×{height}"),
        false => String::new(),
    };
    format!("[{what}{size}, not sent: {why}]")
}

fn note_for(part: &Part, why: &str) -> String {
    match part {
        Part::Image {
            name,
            width,
            height,
            ..
        } => image_note(name, *width, *height, why),
        _ => String::new(),
    }
}

/// The language a fenced block is marked with, from the file's name (else its MIME type).
fn language(name: &str, mime: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    let by_ext = match ext {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "ts" | "mts" | "cts" => "typescript",
        "tsx" => "tsx",
        "js" | "mjs" | "cjs" => "javascript",
        "jsx" => "jsx",
        "json" | "jsonl" => "json",
        "md" | "markdown" => "markdown",
        "toml" => "toml",
        "yaml" | "yml" => "yaml",
        "html" | "htm" => "html",
        "css" => "css",
        "svelte" => "svelte",
        "xml" | "svg" => "xml",
        "sh" | "bash" | "zsh" => "bash",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "cpp",
        "go" => "go",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "swift" => "swift",
        "rb" => "ruby",
        "php" => "php",
        "cs" => "csharp",
        "sql" => "sql",
        "csv" => "csv",
        "lua" => "lua",
        "pdf" => "text",
        _ => "",
    };
    if !by_ext.is_empty() {
        return by_ext;
    }
    match mime.split(';').next().unwrap_or("").trim() {
        "application/json" => "json",
        "text/markdown" => "markdown",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/xml" | "application/xml" => "xml",
        _ => "text",
    }
}

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A file as the model reads it: `File: NAME`, then its text in a fenced block marked with its
/// language. The fence is one backtick longer than the longest run in the text (at least
/// three), so a file that contains fences cannot end the block early.
pub fn file_block(name: &str, mime: &str, text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let name = match one_line(name) {
        n if n.is_empty() => "attachment".to_owned(),
        n => n,
    };
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lang = language(&name, mime);
    format!("File: {name}\n{fence}{lang}\n{body}\n{fence}")
}

/// Collects pieces, joining text the way [`pieces`] says.
#[derive(Default)]
struct Pieces<'a> {
    out: Vec<Piece<'a>>,
    /// Whether the last piece is text from a text part (the next text part joins it as is).
    after_text_part: bool,
}

impl<'a> Pieces<'a> {
    fn text(&mut self, text: Cow<'a, str>, is_text_part: bool) {
        match self.out.last_mut() {
            Some(Piece::Text(last)) => {
                let sep = match is_text_part && self.after_text_part {
                    true => "",
                    false => "\n\n",
                };
                let joined = last.to_mut();
                if !joined.is_empty() && !text.is_empty() {
                    joined.push_str(sep);
                }
                joined.push_str(&text);
            }
            _ => self.out.push(Piece::Text(text)),
        }
        self.after_text_part = is_text_part;
    }
}

/// A message's pieces in order: text parts, files as blocks, images to send, notes in place of
/// images that cannot be sent (see the module). Reasoning and tool parts are not pieces (each
/// builder replays those itself).
pub fn pieces<'a>(m: &'a Message, vision: Option<bool>, rule: &ImageRule) -> Vec<Piece<'a>> {
    let mut p = Pieces::default();
    let not_taken = match m.role {
        Role::User => None,
        Role::Assistant => Some(IN_ANSWERS),
        Role::System => Some("a system message takes text only"),
    };
    for part in &m.parts {
        match part {
            // A message sent with attachments only has an empty text part: no empty block
            // (Anthropic refuses one).
            Part::Text { text } if text.is_empty() && m.role == Role::User && m.parts.len() > 1 => {
            }
            Part::Text { text } => p.text(Cow::Borrowed(text), true),
            Part::File { name, mime, text } => {
                p.text(Cow::Owned(file_block(name, mime, text)), false)
            }
            Part::Image { mime, data, .. } => {
                let why = not_taken
                    .map(str::to_owned)
                    .or_else(|| unsendable(part, vision, rule));
                match (why, data) {
                    (None, Some(data)) => {
                        p.after_text_part = false;
                        p.out.push(Piece::Image { mime, data });
                    }
                    (why, _) => {
                        let why = why.unwrap_or_else(|| NO_BYTES.to_owned());
                        p.text(Cow::Owned(note_for(part, &why)), false)
                    }
                }
            }
            Part::Reasoning { .. } | Part::ToolCall { .. } | Part::ToolResult { .. } => {}
        }
    }
    p.out
}

/// The text pieces joined (a blank line between), images left out: a system message's text
/// (which has no image pieces), Ollama's `content` beside its `images`.
pub fn text_of(pieces: &[Piece<'_>]) -> String {
    let mut out = String::new();
    for p in pieces {
        if let Piece::Text(t) = p {
            if !out.is_empty() && !t.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(t);
        }
    }
    out
}

/// Whether any piece is an image (a format that takes plain text for a text-only message
/// keeps doing so).
pub fn has_image(pieces: &[Piece<'_>]) -> bool {
    pieces.iter().any(|p| matches!(p, Piece::Image { .. }))
}

/// An image a tool returned as a format sends it with the tool's result (see
/// [`super::tool_images`]): the image when the request may carry it, else its note.
pub fn result_piece<'a>(part: &'a Part, vision: Option<bool>, rule: &ImageRule) -> Piece<'a> {
    match (unsendable(part, vision, rule), part) {
        (
            None,
            Part::Image {
                mime,
                data: Some(data),
                ..
            },
        ) => Piece::Image { mime, data },
        (why, _) => {
            let why = why.unwrap_or_else(|| NO_BYTES.to_owned());
            Piece::Text(Cow::Owned(note_for(part, &why)))
        }
    }
}

/// The text an attachment part of an answer adds (a file's block, an image's note); `None`
/// for other parts.
pub fn answer_text(part: &Part) -> Option<String> {
    match part {
        Part::File { name, mime, text } => Some(file_block(name, mime, text)),
        Part::Image { .. } => Some(note_for(part, IN_ANSWERS)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "pieces_tests.rs"]
mod tests;
