//! History: a chat's messages, read a page at a time along its current branch (the chats
//! topic reads them: [`ChatService`]), exports (`export*.rs`) and imports (`import.rs`, the
//! merge in `merge*.rs`; its entry on the database's thread is `store.rs`).

mod claude;
mod export;
mod export_every;
mod export_file;
mod foreign;
mod foreign_ids;
mod import;
pub(crate) mod merge;
mod merge_follow;
mod merge_load;
mod merge_rows;
mod merge_shape;
mod parley_format;
mod staging;
mod store;

pub use export::markdown;
pub use export_every::EveryChat;
pub use export_file::{Existing, ExportChoice, ExportFormat, ExportText};
pub use foreign::{detect, rfc3339_ms, Source};
pub use import::{ImportControl, MAX_CHAT_BYTES, MAX_IMPORT_BYTES, MAX_PART_BYTES};
pub use parley_format::read_export;
pub(crate) use store::merge_database;

use crate::attachments::AttachmentService;
use crate::chats::ChatService;
use crate::error::no_chat as not_found;
use crate::error::CoreError;
use crate::settings::SettingsService;
use crate::shared::Shared;
use parley_protocol::{ChatHistory, ChatId, ClippedPart, MessageId, Part};
use std::sync::Arc;

/// Reads chats' messages.
#[derive(Clone)]
pub struct HistoryService {
    shared: Arc<Shared>,
    /// Reads a chat's current branch (the chats' messages).
    chats: ChatService,
    /// Keeps this data folder's namespace for other apps' ids (`foreign_ids.rs`).
    settings: SettingsService,
    /// The stored images: carried by exports, taken in by imports.
    attachments: AttachmentService,
}

impl HistoryService {
    pub(crate) fn new(
        shared: Arc<Shared>,
        chats: ChatService,
        settings: SettingsService,
        attachments: AttachmentService,
    ) -> Self {
        HistoryService {
            shared,
            chats,
            settings,
            attachments,
        }
    }

    /// Up to `limit` messages of a chat, ending just before `before` (or at the newest),
    /// oldest first; `has_more` says whether older ones exist. The newest page also carries
    /// the running turn's events so far (`running`), read after the messages: applied on top
    /// of them (events at or below an applied `seq` are ignored), the page is exact.
    pub async fn get_history(
        &self,
        id: &ChatId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<ChatHistory, CoreError> {
        let newest = before.is_none();
        let mut page = self
            .chats
            .branch_page(id, before, limit.clamp(1, 1000))
            .await?
            .ok_or_else(|| not_found(id))?;
        if newest {
            page.running = self.shared.hub.running_events(id);
        }
        clip(&mut page);
        Ok(page)
    }

    /// One part of a message, whole (a clipped part, when the reader asks for all of it).
    pub async fn get_part(
        &self,
        id: &ChatId,
        message: &MessageId,
        index: u32,
    ) -> Result<Part, CoreError> {
        self.chats.part(id, message, index).await?.ok_or_else(|| {
            CoreError::NotFound(format!(
                "No part {index} of message {message} in chat {id}."
            ))
        })
    }

    /// A chat's whole current branch and its turns (the CLI's `chats show`, tests).
    pub async fn full_history(&self, id: &ChatId) -> Result<ChatHistory, CoreError> {
        self.chats.branch(id).await?.ok_or_else(|| not_found(id))
    }
}

/// Texts longer than this are sent with their start only (a window shows long texts collapsed
/// and fetches the rest with [`HistoryService::get_part`]).
pub const CLIP_BYTES: usize = 160 * 1024;

/// Cuts each long text of a page to its start and lists what was cut.
fn clip(page: &mut ChatHistory) {
    for m in &mut page.messages {
        for (index, part) in m.parts.iter_mut().enumerate() {
            let text = match part {
                Part::Text { text } | Part::Reasoning { text, .. } => text,
                Part::ToolResult { output, .. } => output,
                _ => continue,
            };
            if text.len() <= CLIP_BYTES {
                continue;
            }
            let chars = text.chars().count() as u64;
            let mut cut = CLIP_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            page.clipped.push(ClippedPart {
                message_id: m.id.clone(),
                index: index as u32,
                chars,
            });
        }
    }
}

#[cfg(test)]
mod export_file_tests;
#[cfg(test)]
mod export_tests;

#[cfg(test)]
mod foreign_tests;
#[cfg(test)]
mod import_tests;
#[cfg(test)]
mod long_part_tests;
#[cfg(test)]
mod merge_follow_tests;
#[cfg(test)]
mod merge_tests;
