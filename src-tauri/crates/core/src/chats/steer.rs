//! Steering a chat's tree from a client: the whole tree, switching versions, rewinding,
//! branching into a new chat, deleting a branch, pinning and archiving. Each change is checked
//! against the revision the client saw (`seen`; `None` skips the check) and refused while the
//! chat is answering (Busy), so nothing changes under a running turn or a stale window.

use super::{not_found, ChatService};
use crate::error::CoreError;
use parley_protocol::{ChatId, ChatSummary, ChatTree, MessageId};

impl ChatService {
    /// The chat's whole tree, with the selected path marked.
    pub async fn tree(&self, id: &ChatId) -> Result<ChatTree, CoreError> {
        self.shared
            .store
            .tree(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Shows the version `message` (one of the siblings at its point): the selected path
    /// continues through it to its newest leaf. Returns the new end of the path.
    pub async fn switch_branch(
        &self,
        id: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<MessageId, CoreError> {
        self.idle(id)?;
        Ok(self.shared.store.switch_branch(id, message, seen).await?)
    }

    /// Rewinds the chat to `message`; what came after stays in the tree as a branch.
    pub async fn rewind(
        &self,
        id: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<(), CoreError> {
        self.idle(id)?;
        Ok(self.shared.store.rewind(id, message, seen).await?)
    }

    /// Copies the path up to `message` into a new chat that links back to this one.
    pub async fn fork(&self, id: &ChatId, message: &MessageId) -> Result<ChatSummary, CoreError> {
        let new_id = ChatId(crate::new_id());
        self.shared.store.fork(id, message, new_id.clone()).await?;
        self.summary(&new_id).await
    }

    /// Deletes `message` and everything after it on every branch; returns how many messages.
    pub async fn delete_branch(
        &self,
        id: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<u64, CoreError> {
        self.idle(id)?;
        let gone = self.shared.store.delete_branch(id, message, seen).await?;
        self.collect_attachments().await;
        Ok(gone)
    }

    /// Pins or unpins a chat.
    pub async fn set_pinned(
        &self,
        id: &ChatId,
        pinned: bool,
        seen: Option<u64>,
    ) -> Result<(), CoreError> {
        Ok(self
            .shared
            .store
            .set_chat_flags(id, Some(pinned), None, seen)
            .await?)
    }

    /// Archives or unarchives a chat.
    pub async fn set_archived(
        &self,
        id: &ChatId,
        archived: bool,
        seen: Option<u64>,
    ) -> Result<(), CoreError> {
        Ok(self
            .shared
            .store
            .set_chat_flags(id, None, Some(archived), seen)
            .await?)
    }

    /// Busy while this process runs a turn in the chat (another process's running turn is
    /// refused inside the store's transaction).
    fn idle(&self, id: &ChatId) -> Result<(), CoreError> {
        if crate::util::lock(&self.active).contains_key(id) {
            return Err(CoreError::Busy);
        }
        Ok(())
    }
}
