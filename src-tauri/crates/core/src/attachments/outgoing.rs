//! What leaves with a message: its attachments checked before it is stored (an image must be
//! stored here, and its details are read from the store, never taken from the window; a file's
//! text within limits; nothing else), and the bytes of its images put into a request right
//! before it is sent, shrunk further where the provider takes less than what is stored.

use super::ingest::{self, ImageFacts, Ingested, Limits};
use super::{is_sha256, shown_name, AttachmentService};
use crate::error::CoreError;
use parley_protocol::{Message, Part, ProviderKind};
use std::sync::atomic::AtomicBool;

/// The most base64 of images one request carries (the newest first): under Anthropic's 32 MB
/// for a whole request, with room for the text; older images go as a note.
pub const MAX_IMAGE_BASE64_PER_REQUEST: usize = 24 * 1024 * 1024;

/// The most attachments one message carries.
pub const MAX_ATTACHMENTS: usize = 20;

/// The most images whose bytes one request carries: the newest ones (providers refuse more —
/// Anthropic takes 100, and at most 2,000 pixels each past 20); older ones go as a text note.
pub const MAX_IMAGES_PER_REQUEST: usize = 20;

/// The longest MIME type of a file part taken from the window.
const MAX_MIME: usize = 100;

impl AttachmentService {
    /// Checks the attachments the window sent with a message, in order: an image must be stored
    /// (its type, size and pixels are read from the store; the name the window gave is only
    /// shown), a file's name and text within limits, and any other part is refused with a
    /// sentence. Images that pass are kept from the clean-up until the message is stored. The
    /// parts the message will carry.
    pub async fn check_outgoing(&self, parts: Vec<Part>) -> Result<Vec<Part>, CoreError> {
        if parts.len() > MAX_ATTACHMENTS {
            return Err(CoreError::InvalidInput(format!(
                "A message can carry at most {MAX_ATTACHMENTS} attachments; this one has {}. Send them in several messages.",
                parts.len()
            )));
        }
        let mut images = Vec::new();
        for p in &parts {
            match p {
                Part::Image { sha256, name, .. } if !is_sha256(sha256) => {
                    return Err(not_stored(name));
                }
                Part::Image { sha256, .. } => images.push(sha256.clone()),
                Part::File { name, mime, text } => check_file(name, mime, text, &self.limits)?,
                other => {
                    return Err(CoreError::InvalidInput(format!(
                        "A message can carry images and files as attachments, not {}.",
                        kind_words(other)
                    )))
                }
            }
        }
        let stored = self.store.touch_blobs(images).await?;
        parts
            .into_iter()
            .map(|p| match p {
                Part::Image { sha256, name, .. } => stored
                    .iter()
                    .find(|b| b.sha256 == sha256)
                    .map(|b| b.part(&name))
                    .ok_or_else(|| not_stored(&name)),
                Part::File { name, mime, text } => Ok(Part::File {
                    name: shown_name(&name),
                    mime,
                    text,
                }),
                other => Ok(other),
            })
            .collect()
    }

    /// The images of a stored message are sent: their wait for the clean-up is over.
    pub async fn mark_sent(&self, parts: &[Part]) -> Result<(), CoreError> {
        let shas: Vec<String> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Image { sha256, .. } if is_sha256(sha256) => Some(sha256.clone()),
                _ => None,
            })
            .collect();
        if !shas.is_empty() {
            self.store.mark_sent(shas).await?;
        }
        Ok(())
    }

    /// Puts the bytes of the request's images into their parts (`data`, base64), for a
    /// provider of `kind`: the newest [`MAX_IMAGES_PER_REQUEST`] within
    /// [`MAX_IMAGE_BASE64_PER_REQUEST`], each shrunk further when
    /// the provider takes less than what is stored. An image whose bytes are not stored (or
    /// that cannot be shrunk) keeps `data: None`: the wire format sends a note in its place.
    pub async fn fill_images(&self, messages: &mut [Message], kind: ProviderKind) {
        self.fill_within(
            messages,
            kind,
            (MAX_IMAGES_PER_REQUEST, MAX_IMAGE_BASE64_PER_REQUEST),
        )
        .await;
    }

    /// [`AttachmentService::fill_images`] within `(images, base64 bytes)`.
    pub(super) async fn fill_within(
        &self,
        messages: &mut [Message],
        kind: ProviderKind,
        (mut left, mut room): (usize, usize),
    ) {
        for part in messages
            .iter_mut()
            .rev()
            .flat_map(|m| m.parts.iter_mut().rev())
        {
            let Part::Image {
                sha256, data, mime, ..
            } = part
            else {
                continue;
            };
            if sha256.is_empty() && data.is_some() {
                // An image of the older inline shape, not moved into storage yet.
                left = left.saturating_sub(1);
                room = room.saturating_sub(data.as_ref().map_or(0, String::len));
                continue;
            }
            *data = None;
            if left == 0 || !is_sha256(sha256) {
                continue;
            }
            match self.request_bytes(sha256, kind).await {
                Ok(Some((bytes, stored_mime))) => {
                    let encoded = base64_of(&bytes);
                    if encoded.len() > room {
                        // No room left in this request: a note in its place.
                        left = 0;
                        continue;
                    }
                    room -= encoded.len();
                    *data = Some(encoded);
                    *mime = stored_mime;
                    left -= 1;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("image {sha256} left out of a request: {e}"),
            }
        }
    }

    /// A stored image's bytes as provider `kind` takes them: as stored when they fit its
    /// documented limits, else shrunk and re-encoded to fit.
    async fn request_bytes(
        &self,
        sha256: &str,
        kind: ProviderKind,
    ) -> Result<Option<(Vec<u8>, String)>, CoreError> {
        let Some((bytes, mime)) = self.store.blob_bytes(sha256).await? else {
            return Ok(None);
        };
        let Some(info) = self.store.blob(sha256).await? else {
            return Ok(None);
        };
        let facts = ImageFacts {
            mime: &mime,
            width: info.width,
            height: info.height,
            size: bytes.len() as u64,
        };
        if ingest::fits(&facts, kind) {
            return Ok(Some((bytes, mime)));
        }
        let wire = ingest::limits_for(kind);
        let tighter = Limits {
            long_edge: self.limits.long_edge.min(wire.max_long_edge),
            encoded_bytes: self.limits.encoded_bytes.min(wire.max_bytes),
            ..(*self.limits).clone()
        };
        let shrunk = super::blocking(move || {
            ingest::from_bytes("", bytes, &tighter, &AtomicBool::new(false))
        })
        .await?;
        Ok(match shrunk {
            Ingested::Image(i) => Some((i.bytes, i.mime.to_owned())),
            Ingested::Document(_) => None,
        })
    }
}

/// A file part from the window: a name to show, a MIME type, text within the limit.
fn check_file(name: &str, mime: &str, text: &str, limits: &Limits) -> Result<(), CoreError> {
    let bad = |why: String| Err(CoreError::InvalidInput(why));
    if shown_name(name).trim().is_empty() {
        return bad("An attached file has no name; attach it again.".into());
    }
    if mime.len() > MAX_MIME || !mime.bytes().all(|b| b.is_ascii_graphic()) {
        return bad(format!(
            "The attached file “{}” has a type Parley does not send ({:?}); attach it again.",
            shown_name(name),
            mime.chars().take(40).collect::<String>()
        ));
    }
    if text.len() as u64 > limits.text_input {
        return bad(format!(
            "The attached file “{}” has more text than Parley sends from one file ({}); attach a part of it.",
            shown_name(name),
            ingest::human_size(limits.text_input)
        ));
    }
    Ok(())
}

fn not_stored(name: &str) -> CoreError {
    let shown = match shown_name(name) {
        n if n.is_empty() => "The pasted image".to_owned(),
        n => format!("The image “{n}”"),
    };
    CoreError::InvalidInput(format!(
        "{shown} is not stored (it was not attached here, or was cleaned up after waiting too long); attach it again."
    ))
}

/// A part kind in words, for a refusal.
fn kind_words(p: &Part) -> &'static str {
    match p {
        Part::Text { .. } => "a text part (the message's text is its own)",
        Part::Reasoning { .. } => "reasoning",
        Part::ToolCall { .. } => "a tool call",
        Part::ToolResult { .. } => "a tool result",
        Part::Image { .. } => "an image",
        Part::File { .. } => "a file",
    }
}

/// Standard base64 with padding, as every provider takes it.
pub(crate) fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes from standard base64 (padding optional; whitespace refused).
pub fn bytes_of(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .ok()
}
