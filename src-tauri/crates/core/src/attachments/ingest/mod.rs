//! Ingest: a file the user attaches (chosen, dropped or pasted) turned into what a message
//! carries, locally and synchronously (callers run it off the UI thread, e.g. in
//! `spawn_blocking`, and may cancel it through the flag):
//!
//! - an image ([`IngestedImage`]): decoded within limits, turned upright, downscaled to fit
//!   every provider, re-encoded from its pixels (PNG or JPEG) so no metadata survives, with a
//!   PNG thumbnail;
//! - a document ([`IngestedDocument`]): a text or code file's text with the language of its
//!   fence, an SVG's XML source (never rendered), or a PDF's text with page markers.
//!
//! The type comes from the bytes, never the name. Everything refused is an [`IngestError`]
//! whose `Display` is one sentence naming the file. docs/SECURITY.md has the limits and why.

mod encode;
mod error;
mod file;
#[cfg(test)]
mod file_tests;
mod image;
#[cfg(test)]
mod image_tests;
mod limits;
mod pdf;
#[cfg(test)]
mod pdf_tests;
mod sniff;
#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod tests;
mod text;
#[cfg(test)]
mod text_tests;

use std::path::Path;
use std::sync::atomic::AtomicBool;

pub use error::{human_size, IngestError, Problem};
pub use limits::{fits, limits_for, ImageFacts, Limits, WireImageLimits};

use sniff::Sniffed;

/// What an attached file became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// A picture to send to vision models.
    Image(IngestedImage),
    /// Text to send as a fenced block named after the file.
    Document(IngestedDocument),
}

impl Ingested {
    /// The file's name ("" for a pasted image).
    pub fn name(&self) -> &str {
        match self {
            Ingested::Image(image) => &image.name,
            Ingested::Document(document) => &document.name,
        }
    }

    /// The size of the file as it was (protocol `Attachment::original_size`).
    pub fn original_size(&self) -> u64 {
        match self {
            Ingested::Image(image) => image.original.size,
            Ingested::Document(document) => document.original_size,
        }
    }

    /// What attaching changed or found, as sentences (protocol `Attachment::notes`).
    pub fn notes(&self) -> &[String] {
        match self {
            Ingested::Image(image) => &image.notes,
            Ingested::Document(document) => &document.notes,
        }
    }
}

/// An image re-encoded for sending: no metadata, at most `Limits::long_edge` pixels on its long
/// edge and `Limits::encoded_bytes` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedImage {
    /// The file's name ("" when pasted).
    pub name: String,
    /// The re-encoded bytes.
    pub bytes: Vec<u8>,
    /// "image/png" or "image/jpeg".
    pub mime: &'static str,
    /// Width in pixels, upright.
    pub width: u32,
    /// Height in pixels, upright.
    pub height: u32,
    /// What was attached, before any change.
    pub original: Original,
    /// A PNG at most `Limits::thumb_edge` pixels on its long edge.
    pub thumbnail: Vec<u8>,
    /// What was changed, as sentences ("Downscaled from 6000×4000 to 2000×1333.").
    pub notes: Vec<String>,
}

/// The attached image as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Width in pixels as stored (before orientation).
    pub width: u32,
    /// Height in pixels as stored.
    pub height: u32,
    /// Its type, from its bytes.
    pub mime: &'static str,
    /// Its size in bytes.
    pub size: u64,
}

/// A document's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedDocument {
    /// The file's name.
    pub name: String,
    /// "text/plain", "text/markdown", "application/json", "text/xml", "application/pdf", ...
    pub mime: &'static str,
    /// The fence language ("rust", "python", "text"; "text" for PDFs).
    pub language: &'static str,
    /// The text: UTF-8, `\n` newlines, no BOM; a PDF's with "--- Page N ---" markers.
    pub text: String,
    /// A PDF's page count.
    pub pages: Option<u32>,
    /// The file's size in bytes.
    pub original_size: u64,
    /// What was decided while reading it, as sentences.
    pub notes: Vec<String>,
}

/// How many bytes are read first to learn what a file is.
const HEAD: usize = 4096;

/// Reads and converts the file at `path`. Checks `cancel` between steps and while reading.
pub fn read(path: &Path, limits: &Limits, cancel: &AtomicBool) -> Result<Ingested, IngestError> {
    let name = display_name(path);
    let fail = |problem| IngestError {
        name: name.clone(),
        problem,
    };
    let mut opened = file::open(path).map_err(fail)?;
    if opened.len == 0 {
        return Err(fail(Problem::Empty));
    }
    let mut bytes = opened.read_head(HEAD, cancel).map_err(fail)?;
    let sniffed = sniff::sniff(&bytes);
    refuse_other(&name, sniffed).map_err(fail)?;
    let (limit, what) = limit_of(sniffed, limits);
    if opened.len > limit {
        return Err(fail(Problem::TooLarge {
            size: opened.len,
            limit,
            what,
        }));
    }
    opened.read_rest(&mut bytes, path, cancel).map_err(fail)?;
    convert(&name, bytes, sniffed, limits, cancel).map_err(fail)
}

/// Converts bytes that did not come from a file of their own (an image pasted from the
/// clipboard); `name` is what the user sees ("" = "pasted image").
/// Whether `bytes` start like an image Parley reads (PNG, JPEG, GIF, WebP, BMP…): a caller
/// that takes images only refuses anything else before reading it as a document.
pub fn is_image(bytes: &[u8]) -> bool {
    matches!(
        sniff::sniff(&bytes[..bytes.len().min(HEAD)]),
        sniff::Sniffed::Image(_)
    )
}

pub fn from_bytes(
    name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<Ingested, IngestError> {
    let shown = if name.is_empty() {
        "pasted image"
    } else {
        name
    };
    let fail = |problem| IngestError {
        name: shown.to_owned(),
        problem,
    };
    if bytes.is_empty() {
        return Err(fail(Problem::Empty));
    }
    let sniffed = sniff::sniff(&bytes[..bytes.len().min(HEAD)]);
    refuse_other(shown, sniffed).map_err(fail)?;
    let (limit, what) = limit_of(sniffed, limits);
    if bytes.len() as u64 > limit {
        return Err(fail(Problem::TooLarge {
            size: bytes.len() as u64,
            limit,
            what,
        }));
    }
    let mut out = convert(shown, bytes, sniffed, limits, cancel).map_err(fail)?;
    if let Ingested::Image(image) = &mut out {
        image.name = name.to_owned();
    }
    Ok(out)
}

/// The file's name as the user sees it: its last component.
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The most bytes read of a kind, and the kind's plural for the sentence.
fn limit_of(sniffed: Sniffed, limits: &Limits) -> (u64, &'static str) {
    match sniffed {
        Sniffed::Image(_) => (limits.image_input, "images"),
        Sniffed::Pdf => (limits.pdf_input, "PDFs"),
        Sniffed::Unknown => (limits.text_input, "text files"),
        // Refused from its head (`refuse_other`), never read further.
        Sniffed::Other(_) => (0, "files"),
    }
}

/// A kind Parley does not attach is refused from its first bytes, however large it is.
fn refuse_other(name: &str, sniffed: Sniffed) -> Result<(), Problem> {
    match sniffed {
        Sniffed::Other(is) => Err(other_problem(is, sniff::claimed(&extension(name)))),
        Sniffed::Image(_) | Sniffed::Pdf | Sniffed::Unknown => Ok(()),
    }
}

/// "is a ZIP archive, not a PDF" when the name claims another kind, else what it is.
fn other_problem(is: &'static str, claims: Option<&'static str>) -> Problem {
    match claims {
        Some(claims) if !is.starts_with(claims) => Problem::WrongType { is, claims },
        Some(_) | None => Problem::Unsupported(is),
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

fn convert(
    name: &str,
    bytes: Vec<u8>,
    sniffed: Sniffed,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<Ingested, Problem> {
    image::check(cancel)?;
    let claims = sniff::claimed(&extension(name));
    match sniffed {
        Sniffed::Image(format) => {
            let mut out = image::ingest(name, &bytes, format, limits, cancel)?;
            if let Some(claims) = claims.filter(|c| *c != sniff::image_phrase(format)) {
                let is = sniff::image_phrase(format);
                out.notes.insert(
                    0,
                    format!("Its name says {claims}, but it is {is}; it was read as what it is."),
                );
            }
            Ok(Ingested::Image(out))
        }
        Sniffed::Pdf => document_of_pdf(name, bytes, claims, limits, cancel),
        Sniffed::Other(is) => Err(other_problem(is, claims)),
        Sniffed::Unknown => match claims {
            // A name that promises a picture or a PDF over bytes that are neither.
            Some(claims) => Err(Problem::NotWhatNamed { claims }),
            None => document_of_text(name, &bytes),
        },
    }
}

fn document_of_pdf(
    name: &str,
    bytes: Vec<u8>,
    claims: Option<&'static str>,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<Ingested, Problem> {
    let size = bytes.len() as u64;
    let mut pdf = pdf::extract(bytes, limits, cancel)?;
    if let Some(claims) = claims.filter(|c| *c != "a PDF") {
        pdf.notes.insert(
            0,
            format!("Its name says {claims}, but it is a PDF; it was read as what it is."),
        );
    }
    Ok(Ingested::Document(IngestedDocument {
        name: name.to_owned(),
        mime: "application/pdf",
        language: "text",
        text: pdf.text,
        pages: Some(pdf.pages),
        original_size: size,
        notes: pdf.notes,
    }))
}

fn document_of_text(name: &str, bytes: &[u8]) -> Result<Ingested, Problem> {
    let decoded = text::decode(bytes)?;
    let mut notes = decoded.notes;
    let (language, mime) = if text::is_svg(name, &decoded.text) {
        notes.push(
            "An SVG drawing is attached as its XML source, never shown as a picture.".to_owned(),
        );
        ("xml", "text/xml")
    } else {
        text::language(name, &decoded.text)
    };
    Ok(Ingested::Document(IngestedDocument {
        name: name.to_owned(),
        mime,
        language,
        text: decoded.text,
        pages: None,
        original_size: bytes.len() as u64,
        notes,
    }))
}
