//! History: a chat's messages, read a page at a time along its current branch. The queries
//! are in `store.rs`.

mod store;

use crate::chats::not_found;
use crate::core::Shared;
use crate::error::CoreError;
use parley_protocol::{MessageId, SessionHistory, SessionId};
use std::sync::Arc;

/// Reads chats' messages.
#[derive(Clone)]
pub struct HistoryService {
    shared: Arc<Shared>,
}

impl HistoryService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        HistoryService { shared }
    }

    /// Up to `limit` messages of a chat, ending just before `before` (or at the newest),
    /// oldest first; `has_more` says whether older ones exist. The newest page also carries
    /// the running turn's events so far (`running`), read after the messages: applied on top
    /// of them (events at or below an applied `seq` are ignored), the page is exact.
    pub async fn get_history(
        &self,
        id: &SessionId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<SessionHistory, CoreError> {
        let newest = before.is_none();
        let mut page = self
            .shared
            .store
            .history_page(id, before, limit.clamp(1, 1000))
            .await?
            .ok_or_else(|| not_found(id))?;
        if newest {
            page.running = self.shared.hub.running_events(id);
        }
        Ok(page)
    }

    /// A chat's whole current branch and its turns (the CLI's `sessions show`, tests).
    pub async fn full_history(&self, id: &SessionId) -> Result<SessionHistory, CoreError> {
        self.shared
            .store
            .history(id)
            .await?
            .ok_or_else(|| not_found(id))
    }
}
