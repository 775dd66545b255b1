//! How much Parley reads, decodes and keeps of an attached file ([`Limits`]), and what each wire
//! format's provider documents that it takes in an image ([`limits_for`], [`fits`]).
//!
//! The image Parley stores is made to fit every provider at once: at most 2,000 pixels on its
//! long edge and 3.75 MB of bytes (5 MB once base64-encoded), PNG or JPEG. Request-time code
//! asks [`fits`] and shrinks further only where a provider needs less.

use std::time::Duration;

use parley_protocol::ProviderKind;

const MB: u64 = 1024 * 1024;

/// The most an attached file may be and cost. `Limits::default()` is what the app uses; tests
/// shrink them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest image file read (50 MB).
    pub image_input: u64,
    /// The largest PDF read (50 MB).
    pub pdf_input: u64,
    /// The largest text file read, and the most text any file gives (2 MB).
    pub text_input: u64,
    /// The most pixels an image may claim on a side before it is decoded (16,384).
    pub max_side: u32,
    /// The most memory a decoder may allocate (512 MB): a 16,384 × 8,192 RGBA image.
    pub max_alloc: u64,
    /// The long edge a stored image is downscaled to (2,000 pixels: OpenAI's high detail).
    pub long_edge: u32,
    /// The most bytes a stored image may have (3.75 MB: Anthropic's 5 MB base64).
    pub encoded_bytes: u64,
    /// The long edge of a thumbnail (256 pixels).
    pub thumb_edge: u32,
    /// The most pages a PDF may have (2,000).
    pub pdf_pages: u32,
    /// The most bytes one PDF stream or one page's content may expand to (64 MB).
    pub pdf_stream: u64,
    /// How long reading one PDF may take (30 s).
    pub pdf_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            image_input: 50 * MB,
            pdf_input: 50 * MB,
            text_input: 2 * MB,
            max_side: 16_384,
            max_alloc: 512 * MB,
            long_edge: 2_000,
            encoded_bytes: 5 * MB * 3 / 4,
            thumb_edge: 256,
            pdf_pages: 2_000,
            pdf_stream: 64 * MB,
            pdf_time: Duration::from_secs(30),
        }
    }
}

/// What a provider documents that it takes in one image (checked 2026-12 against each
/// provider's vision guide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireImageLimits {
    /// The longest edge the provider uses; a longer one is refused or shrunk by the provider.
    pub max_long_edge: u32,
    /// The long edge the provider recommends (what it shrinks to anyway); 0 = none stated.
    pub recommended_long_edge: u32,
    /// The most bytes one image may have, before base64.
    pub max_bytes: u64,
    /// The image types it takes.
    pub mimes: &'static [&'static str],
    /// Where the numbers come from.
    pub source: &'static str,
}

const COMMON_MIMES: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];

/// The documented image limits of a wire format's provider:
///
/// | wire | long edge | recommended | bytes per image | source |
/// |---|---|---|---|---|
/// | OpenAI Chat, Responses, compatible | 2,000 (high detail: 2,000 long × 768 short) | 2,000 | 20 MB (50 MB a request) | OpenAI "Images and vision", input requirements |
/// | Anthropic | 8,000 (2,000 with more than 20 images) | 1,568 | 5 MB base64 = 3.75 MB | Anthropic "Vision" guide |
/// | Gemini | none stated (the service scales) | 3,072 | 20 MB for the whole inline request | Gemini API "Image understanding" |
/// | Ollama | none stated (the model's encoder scales) | 0 | none stated: Parley's own 3.75 MB | Ollama API docs |
pub fn limits_for(kind: ProviderKind) -> WireImageLimits {
    match kind {
        ProviderKind::Openai | ProviderKind::OpenaiResponses | ProviderKind::OpenaiCompatible => {
            WireImageLimits {
                max_long_edge: 2_000,
                recommended_long_edge: 2_000,
                max_bytes: 20 * MB,
                mimes: COMMON_MIMES,
                source: "OpenAI, Images and vision: image input requirements",
            }
        }
        ProviderKind::Anthropic => WireImageLimits {
            max_long_edge: 8_000,
            recommended_long_edge: 1_568,
            max_bytes: 5 * MB * 3 / 4,
            mimes: COMMON_MIMES,
            source: "Anthropic, Vision: image size and count limits",
        },
        ProviderKind::Gemini => WireImageLimits {
            max_long_edge: u32::MAX,
            recommended_long_edge: 3_072,
            max_bytes: 20 * MB * 3 / 4,
            mimes: &[
                "image/png",
                "image/jpeg",
                "image/webp",
                "image/heic",
                "image/heif",
            ],
            source: "Gemini API, Image understanding: inline data up to 20 MB a request",
        },
        ProviderKind::Ollama => WireImageLimits {
            max_long_edge: u32::MAX,
            recommended_long_edge: 0,
            max_bytes: 5 * MB * 3 / 4,
            mimes: &["image/png", "image/jpeg"],
            source: "Ollama API: no limit documented; Parley's own",
        },
    }
}

/// The facts about a stored image that decide whether a provider takes it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts<'a> {
    /// Its type, e.g. "image/png".
    pub mime: &'a str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its bytes.
    pub size: u64,
}

/// Whether `kind`'s provider takes the image as it is (type, long edge and bytes); when not,
/// request-time code shrinks it or re-encodes it first.
pub fn fits(image: &ImageFacts<'_>, kind: ProviderKind) -> bool {
    let wire = limits_for(kind);
    image.width.max(image.height) <= wire.max_long_edge
        && image.size <= wire.max_bytes
        && wire.mimes.contains(&image.mime)
}
