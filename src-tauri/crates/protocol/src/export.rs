//! Parley's own export format: whole chats (every branch), losslessly. Described for people in
//! docs/FORMAT.md; `version` grows when a field changes meaning, and a file of a newer version
//! is refused rather than half read.

use crate::*;
use serde::{Deserialize, Serialize};

/// The `format` of a Parley export file.
pub const EXPORT_FORMAT: &str = "parley-chats";
/// The newest export version this Parley writes and reads. Version 2: an image part carries
/// its address and details (`sha256`, `name`, `width`, `height`, `size`) and its bytes inline
/// (`data`, base64), so the file stands alone. Version 1 files (an image as `mime` and `data`
/// only) still import.
pub const EXPORT_VERSION: u32 = 2;

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
    pub session: ChatSummary,
    /// The end of the selected path.
    pub head: Option<MessageId>,
    /// Every message of every branch, parents before their children, with their parts.
    pub messages: Vec<Message>,
    /// Every turn (model, usage, how it ended).
    pub turns: Vec<TurnInfo>,
}

/// What an import or a restore added (or, in a dry run, would add). A file from elsewhere is
/// untrusted: what it brings is added as inert chats (no workspace, no tools, no assistant, its
/// system prompt kept but inactive), never merged into a chat that is already here.
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
    /// Messages that were (or would be) added.
    pub messages_added: u32,
    /// Nothing was written (`--dry-run`, the window's preview).
    pub dry_run: bool,
    /// Chats already here that the import changes: always 0 (it only adds new chats); said so
    /// that the preview can state it.
    pub existing_changed: u32,
    /// What happens to each chat of the file, in the file's order (at most
    /// [`IMPORT_LIST_MAX`]; `chats_listed_more` counts the rest).
    pub chats: Vec<ImportedChat>,
    /// Chats of the file left out of `chats` because the list is long.
    pub chats_listed_more: u32,
    /// What was set aside, each with its reason.
    pub set_aside: Vec<SetAside>,
    /// Chats whose system prompt is kept inactive until turned on for that chat.
    pub system_prompts_inactive: u32,
    /// Chats whose workspace, tools or assistant from the file were left out.
    pub settings_removed: u32,
    /// Answers whose reported usage is kept as "imported" (apart from your own, and out of
    /// costs unless included).
    pub usage_imported: u32,
    /// Answers whose usage was implausible and left out.
    pub usage_dropped: u32,
}

/// The longest list of chats an import report carries.
pub const IMPORT_LIST_MAX: usize = 1000;

/// One chat of an imported file, and what the import does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportedChat {
    /// Its id here (a fresh one when the file's could not be kept).
    pub id: ChatId,
    /// Its title, cleaned.
    pub title: String,
    /// Its messages.
    pub messages: u32,
    /// What the import does with it.
    pub action: ImportAction,
}

/// What an import does with one chat of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// Added as it is in the file (with its ids).
    Added,
    /// Added as a new chat with fresh ids: its ids are taken here by other content, point
    /// outside the chat, or are not in Parley's form.
    AddedAsCopy,
    /// Already here, identical: nothing to add.
    AlreadyHere,
}

/// Something of a file that an import or restore did not add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetAside {
    /// The chat it belongs to (its id in the file, cleaned).
    pub chat: String,
    /// Why, as a sentence.
    pub reason: String,
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
