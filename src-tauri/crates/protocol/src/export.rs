//! Parley's own export format: whole chats (every branch), losslessly. Described for people in
//! docs/FORMAT.md; `version` grows when a field changes meaning, and a file of a newer version
//! is refused rather than half read.

use crate::*;
use serde::{Deserialize, Serialize};

/// The `format` of a Parley export file.
pub const EXPORT_FORMAT: &str = "parley-chats";
/// The newest export version this Parley writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// A Parley export file: chats with every message of every branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportFile {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`] when written by this Parley.
    pub version: u32,
    /// When it was written (ms since the epoch).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub exported_at: UnixMs,
    /// The chats.
    pub chats: Vec<ChatExport>,
}

/// One chat, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatExport {
    /// Title, times, settings, flags.
    pub session: SessionSummary,
    /// The end of the selected path.
    pub head: Option<MessageId>,
    /// Every message of every branch, parents before their children, with their parts.
    pub messages: Vec<Message>,
    /// Every turn (model, usage, how it ended).
    pub turns: Vec<TurnInfo>,
}

/// What an import added (or, in a dry run, would add).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    /// Chats in the file.
    pub chats_in_file: u32,
    /// Messages in the file.
    pub messages_in_file: u32,
    /// The oldest and newest message in the file (ms), when it has any.
    #[cfg_attr(feature = "specta", specta(type = Option<(u32, u32)>))]
    pub span: Option<(UnixMs, UnixMs)>,
    /// Chats that were (or would be) added.
    pub chats_added: u32,
    /// Messages that were (or would be) added, in new or existing chats.
    pub messages_added: u32,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
}

/// How far an import (or its preview) has got; sent to the window at most about ten times a
/// second while the file is read, and once more when the merge starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportProgress {
    /// Bytes of the file read so far.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes_read: u64,
    /// The file's size in bytes.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes_total: u64,
    /// Chats read and checked so far.
    pub chats: u32,
    /// Every chat is read; the merge (or, in a preview, the count of what it would add) runs.
    pub merging: bool,
}
