//! Chats and turns — the engine. [`ChatService`] creates, lists, renames and deletes chats,
//! holds each chat's settings and workspace, and runs turns: at most one per chat, stoppable
//! within a second, with the user's message committed before the request goes out
//! (`turns.rs`). A turn is the agent loop (`turn.rs`) over the answer's journal (`draft.rs`)
//! and each tool call's lifecycle (`call.rs`); its events go out through the hub (`hub.rs`).
//! The chat and turn queries are in `store.rs`, `journal.rs`, `recovery.rs`, `tree.rs` and
//! `branch.rs` (a chat's current branch, which the history topic asks for); other topics' tests
//! and the bench reach them through [`ChatTables`].

mod append;
mod batches;
mod branch;
mod call;
mod compare;
mod context;
mod draft;
mod gauge;
mod journal;
mod recovery;
mod steer;
mod store;
mod tables;
mod titles;
mod tree;
mod turn;
mod turn_tools;
mod turns;
mod vision;
mod who;

pub use append::FOLD_AT_MOST;
pub use batches::EventBatches;
pub use compare::CompareHandle;
pub use draft::FRAME;
pub use journal::{BegunTurn, JournalOp, Placement, TurnEnd};
pub use store::default_title;
pub use tables::ChatTables;
pub use turns::TurnHandle;

use crate::approvals::ApprovalService;
use crate::attachments::AttachmentService;
use crate::error::{CoreError, StoreError};
use crate::providers::ProviderService;
use crate::settings::SettingsService;
use crate::shared::Shared;
use parley_protocol::{
    ChatHistory, ChatId, ChatParams, ChatSummary, MessageId, Part, PARAM_LIMITS,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Chats and their turns.
#[derive(Clone)]
pub struct ChatService {
    shared: Arc<Shared>,
    providers: ProviderService,
    /// Pending approvals and questions, and the grants (the approvals topic's state).
    approvals: Arc<crate::approvals::Approvals>,
    /// Saves an "always allow" grant.
    grants: ApprovalService,
    /// The user's settings, as saved.
    settings: SettingsService,
    /// Attachments: checked before a message is stored, their bytes put into requests.
    attachments: AttachmentService,
    /// MCP servers: their tools among a chat's tools.
    mcp: crate::mcp::McpService,
    /// Web search: the `web_search` tool, when a backend is set.
    websearch: crate::websearch::WebSearchService,
    active: Arc<Mutex<HashMap<ChatId, turns::ActiveTurn>>>,
    /// Chats being deleted: no turn starts in them (a queued send or "Send now" that wakes on
    /// the stop of their turn is refused).
    closing: Arc<Mutex<std::collections::HashSet<ChatId>>>,
    /// How each chat's last comparison ended (any column completed), until the drain asks.
    compared: Arc<Mutex<HashMap<ChatId, bool>>>,
    /// Title chats after their first answer (see `titles.rs`).
    titles: Arc<std::sync::atomic::AtomicBool>,
}

/// Whether `text` may be sent as a message (with or without attachments): not empty, not
/// over the size limit. The queue checks its messages with the same rule.
pub(crate) fn check_message(text: &str, attached: bool) -> Result<(), CoreError> {
    turns::validate_message(text, attached)
}

impl ChatService {
    pub(crate) fn new(
        shared: Arc<Shared>,
        providers: ProviderService,
        grants: ApprovalService,
        settings: SettingsService,
        attachments: AttachmentService,
        mcp: crate::mcp::McpService,
        websearch: crate::websearch::WebSearchService,
    ) -> Self {
        ChatService {
            shared,
            providers,
            approvals: grants.state().clone(),
            grants,
            settings,
            attachments,
            mcp,
            websearch,
            active: Arc::default(),
            closing: Arc::default(),
            compared: Arc::default(),
            titles: Arc::default(),
        }
    }

    /// Up to `limit` messages of a chat's current branch ending just before `before` (or at
    /// its head), oldest first, with their turns (the history topic's pages).
    pub(crate) async fn branch_page(
        &self,
        id: &ChatId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Option<ChatHistory>, StoreError> {
        self.shared.store.history_page(id, before, limit).await
    }

    /// A chat with every message of its current branch (exports, the CLI's `show`).
    pub(crate) async fn branch(&self, id: &ChatId) -> Result<Option<ChatHistory>, StoreError> {
        self.shared.store.history(id).await
    }

    /// One part of a message of a chat, whole.
    pub(crate) async fn part(
        &self,
        id: &ChatId,
        message: &MessageId,
        index: u32,
    ) -> Result<Option<Part>, StoreError> {
        self.shared.store.part(id, message, index).await
    }

    /// Creates an empty chat. Without a title one is derived from the first message.
    pub async fn create_chat(&self, title: Option<String>) -> Result<ChatSummary, CoreError> {
        let title = match title {
            Some(t) => validate_title(&t)?,
            None => String::new(),
        };
        Ok(self
            .shared
            .store
            .create_chat(ChatId(crate::new_id()), title)
            .await?)
    }

    /// Chats, most recent activity first: `limit` of them from `offset` (no cap; page with
    /// `offset` for long lists).
    pub async fn recent_chats(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatSummary>, CoreError> {
        self.chats_by(limit, offset, parley_protocol::ChatSort::Updated)
            .await
    }

    /// Every chat (with messages or not) in `sort`'s order: `limit` from `offset`.
    pub async fn chats_by(
        &self,
        limit: u32,
        offset: u32,
        sort: parley_protocol::ChatSort,
    ) -> Result<Vec<ChatSummary>, CoreError> {
        Ok(self.shared.store.recent_chats(limit, offset, sort).await?)
    }

    /// The chats `filter` selects, pinned first, then by activity (chats without messages
    /// left out): `limit` of them from `offset`.
    pub async fn list_chats(
        &self,
        filter: parley_protocol::ChatFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatSummary>, CoreError> {
        Ok(self.shared.store.list_chats(filter, limit, offset).await?)
    }

    /// How many chats are in use, archived, and per assistant.
    pub async fn chat_counts(&self) -> Result<parley_protocol::ChatCounts, CoreError> {
        Ok(self.shared.store.chat_counts().await?)
    }

    /// One chat's summary (an unknown id is [`CoreError::NotFound`]).
    pub async fn get_chat(&self, id: &ChatId) -> Result<ChatSummary, CoreError> {
        self.shared
            .store
            .get_chat(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Renames a chat.
    pub async fn rename_chat(&self, id: &ChatId, title: &str) -> Result<(), CoreError> {
        self.rename_chat_seen(id, title, None).await
    }

    /// Renames a chat if it is still at revision `seen` (when given).
    pub async fn rename_chat_seen(
        &self,
        id: &ChatId,
        title: &str,
        seen: Option<u64>,
    ) -> Result<(), CoreError> {
        let title = validate_title(title)?;
        if self.shared.store.rename_chat(id, title, seen).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Deletes a chat; a running turn in it is stopped (and finished) first.
    pub async fn delete_chat(&self, id: &ChatId) -> Result<(), CoreError> {
        self.delete_chat_seen(id, None).await
    }

    /// Deletes a chat if it is still at revision `seen` (when given): a chat that changed
    /// since the client looked is refused with a conflict, before its running turn is stopped.
    pub async fn delete_chat_seen(&self, id: &ChatId, seen: Option<u64>) -> Result<(), CoreError> {
        if let Some(seen) = seen {
            let s = self.summary(id).await?;
            if s.revision != seen {
                // The store says what changed.
                self.shared.store.delete_chat_seen(id, Some(seen)).await?;
            }
        }
        crate::util::lock(&self.closing).insert(id.clone());
        self.stop_turn(id).await;
        let deleted = self.shared.store.delete_chat_seen(id, None).await;
        crate::util::lock(&self.closing).remove(id);
        if deleted? {
            self.shared.hub.forget(id);
            self.approvals.forget_chat(&id.0);
            self.collect_attachments().await;
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Changes a chat's generation settings (used from its next turn on).
    pub async fn set_chat_params(
        &self,
        id: &ChatId,
        params: ChatParams,
    ) -> Result<ChatSummary, CoreError> {
        let mut params = validate_params(params)?;
        let stored = self.summary(id).await?.params;
        // The workspace is a security boundary: only Parley sets it (set_workspace). An
        // imported system prompt is turned on only by `use_imported_system`.
        params.workspace = stored.workspace;
        params.imported_system = stored.imported_system;
        self.store_params(id, params).await
    }

    /// Turns on (`use_it`) the system prompt an imported chat came with — it becomes the chat's
    /// system prompt — or discards it. Either way it is no longer waiting.
    pub async fn use_imported_system(
        &self,
        id: &ChatId,
        use_it: bool,
    ) -> Result<ChatSummary, CoreError> {
        let mut params = self.summary(id).await?.params;
        let Some(imported) = params.imported_system.take() else {
            return Err(CoreError::InvalidInput(format!(
                "Chat {id} has no imported system prompt waiting to be turned on."
            )));
        };
        if use_it {
            params.system = Some(imported);
        }
        self.store_params(id, validate_params(params)?).await
    }

    /// Sets (or clears) a chat's workspace folder. Callers pass a folder the user chose
    /// (the desktop's native dialog, the CLI's `--workspace`); it must exist.
    pub async fn set_workspace(
        &self,
        id: &ChatId,
        dir: Option<&Path>,
    ) -> Result<ChatSummary, CoreError> {
        let workspace = crate::tools::workspace_root(dir)?;
        let mut params = self.summary(id).await?.params;
        params.workspace = workspace;
        self.store_params(id, params).await
    }

    /// After messages were deleted: the stored images no message refers to any more go
    /// (a failure is logged; the next clean-up takes them).
    pub(crate) async fn collect_attachments(&self) {
        if let Err(e) = self.attachments.collect_garbage().await {
            tracing::warn!("stored images were not cleaned up: {e}");
        }
    }

    /// A chat's summary, or "not found".
    pub(crate) async fn summary(&self, id: &ChatId) -> Result<ChatSummary, CoreError> {
        self.shared
            .store
            .get_chat(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Stores a chat's settings and returns the updated summary. A new workspace drops what
    /// was allowed "for this session": that was allowed in the old folder.
    pub(crate) async fn store_params(
        &self,
        id: &ChatId,
        params: ChatParams,
    ) -> Result<ChatSummary, CoreError> {
        if self.summary(id).await?.params.workspace != params.workspace {
            self.approvals.forget_chat(&id.0);
        }
        if !self.shared.store.set_chat_params(id, params).await? {
            return Err(not_found(id));
        }
        self.summary(id).await
    }
}

/// Marks the running turns of processes that are gone interrupted (at start); how many.
pub(crate) async fn interrupt_dead_owners(
    store: &crate::store::Store,
    instance: &crate::instance::Instance,
) -> Result<usize, CoreError> {
    let mut interrupted = 0;
    for owner in store.active_turn_owners().await? {
        if instance.is_dead_other(&owner) {
            interrupted += store.interrupt_turns_of(&owner).await?;
        }
    }
    Ok(interrupted)
}

/// "No chat with this id".
pub(crate) use crate::error::no_chat as not_found;

/// Checks a chat's generation settings against [`PARAM_LIMITS`] (the same table the window's
/// form uses); an out-of-range value is refused with a sentence.
fn validate_params(mut p: ChatParams) -> Result<ChatParams, CoreError> {
    let l = &PARAM_LIMITS;
    let bad = |what: String| Err(CoreError::InvalidInput(what));
    if let Some(t) = p.temperature {
        if let Some(why) = l.temperature.refuses(f64::from(t)) {
            return bad(why);
        }
    }
    if let Some(t) = p.top_p {
        if let Some(why) = l.top_p.refuses(f64::from(t)) {
            return bad(why);
        }
    }
    if let Some(m) = p.max_output_tokens {
        if let Some(why) = l.max_output_tokens.refuses(f64::from(m)) {
            return bad(why);
        }
    }
    p.system = p.system.filter(|s| !s.trim().is_empty());
    if p.system
        .as_ref()
        .is_some_and(|s| s.len() > l.system_prompt_bytes as usize)
    {
        return bad(l.system_prompt_message.to_owned());
    }
    Ok(p)
}

fn validate_title(title: &str) -> Result<String, CoreError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(CoreError::InvalidInput(
            "A chat title cannot be empty.".into(),
        ));
    }
    if t.chars().count() > 200 {
        return Err(CoreError::InvalidInput(
            "A chat title can be at most 200 characters.".into(),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tree_tests;
