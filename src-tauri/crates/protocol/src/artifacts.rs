//! Artifacts: the HTML, SVG and Mermaid blocks of answers, previewed in a sandboxed frame on an
//! origin of their own (the window), listed and saved by `parley artifacts`.

use crate::MessageId;
use serde::{Deserialize, Serialize};

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A page (```html).
    Html,
    /// A picture (```svg, or ```xml holding an `<svg>`).
    Svg,
    /// A diagram (```mermaid); the window draws it, safely, before it is previewed as SVG.
    Mermaid,
}

/// A previewable block of one of a chat's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FoundArtifact {
    /// Its number in the chat (1 = the first block of the first answer), as `parley artifacts`
    /// names it.
    pub number: u32,
    /// The answer it is in.
    pub message_id: MessageId,
    pub kind: ArtifactKind,
    /// The block's text.
    pub source: String,
}

/// The largest artifact previewed or saved (2 MiB).
pub const ARTIFACT_MAX_BYTES: usize = 2 * 1024 * 1024;
