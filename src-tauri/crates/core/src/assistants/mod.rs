//! Assistants: presets of system prompt, default model, tools and workspace, applied per chat.
//! The built-in default has no tools. The queries are in `store.rs`.

mod store;

use crate::chats::ChatService;
use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{Assistant, ChatId, ChatSummary};
use std::path::Path;
use std::sync::Arc;

/// Whether a tool-list entry names an MCP server (`mcp:NAME`, a valid server name): its
/// tools may be used (the server need not exist yet; one that does not offers nothing).
fn is_server_entry(entry: &str) -> bool {
    entry
        .strip_prefix(crate::mcp::SERVER_ENTRY)
        .is_some_and(|n| crate::mcp::config::check_name(n).is_ok())
}

/// The id of the built-in assistant.
pub const DEFAULT_ASSISTANT: &str = "default";

/// Assistants, and applying one to a chat.
#[derive(Clone)]
pub struct AssistantService {
    shared: Arc<Shared>,
    chats: ChatService,
}

impl AssistantService {
    pub(crate) fn new(shared: Arc<Shared>, chats: ChatService) -> Self {
        AssistantService { shared, chats }
    }

    /// Every assistant: the built-in default (no tools) first, then the user's, by name.
    pub async fn list_assistants(&self) -> Result<Vec<Assistant>, CoreError> {
        let mut all = vec![default_assistant()];
        all.extend(self.shared.store.list_assistants().await?);
        Ok(all)
    }

    /// Saves an assistant (a new one when its id is empty) and returns it. The workspace is
    /// kept as it was: only [`AssistantService::set_assistant_workspace`] changes it.
    pub async fn save_assistant(&self, mut a: Assistant) -> Result<Assistant, CoreError> {
        a.name = a.name.trim().to_owned();
        if a.name.is_empty() || a.name.len() > 200 {
            return Err(CoreError::InvalidInput(
                "An assistant needs a name (up to 200 characters).".into(),
            ));
        }
        if a.id == DEFAULT_ASSISTANT {
            return Err(CoreError::InvalidInput(
                "The default assistant cannot be changed; create a new one.".into(),
            ));
        }
        let known = crate::tools::builtins().infos();
        if let Some(bad) = a
            .tools
            .iter()
            .find(|t| !known.iter().any(|k| &k.name == *t) && !is_server_entry(t))
        {
            return Err(CoreError::InvalidInput(format!(
                "There is no tool named {bad:?}."
            )));
        }
        a.system = a.system.filter(|s| !s.trim().is_empty());
        if a.id.is_empty() {
            a.id = crate::new_id();
            a.workspace = None;
        } else {
            a.workspace = self.stored_assistant(&a.id).await?.workspace;
        }
        self.shared.store.put_assistant(a.clone()).await?;
        Ok(a)
    }

    /// Sets (or clears) an assistant's workspace (a folder the user chose).
    pub async fn set_assistant_workspace(
        &self,
        id: &str,
        dir: Option<&Path>,
    ) -> Result<Assistant, CoreError> {
        let mut a = self.stored_assistant(id).await?;
        a.workspace = crate::tools::workspace_root(dir)?;
        self.shared.store.put_assistant(a.clone()).await?;
        Ok(a)
    }

    /// Deletes an assistant (chats set up from it keep their settings).
    pub async fn delete_assistant(&self, id: &str) -> Result<(), CoreError> {
        if self.shared.store.delete_assistant(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(
                "That assistant no longer exists.".into(),
            ))
        }
    }

    /// Sets a chat up from an assistant: its system prompt, tools and workspace (the
    /// default model is the caller's to pick, e.g. in the composer's model picker).
    pub async fn apply_assistant(
        &self,
        chat_id: &ChatId,
        assistant_id: &str,
    ) -> Result<ChatSummary, CoreError> {
        let a = self
            .list_assistants()
            .await?
            .into_iter()
            .find(|a| a.id == assistant_id)
            .ok_or_else(|| CoreError::NotFound("That assistant no longer exists.".into()))?;
        let mut params = self.chats.summary(chat_id).await?.params;
        params.system = a.system;
        params.tools = Some(a.tools);
        params.workspace = a.workspace;
        params.assistant = Some(a.id);
        self.chats.store_params(chat_id, params).await
    }

    /// A saved assistant (not the built-in default), or "not found".
    async fn stored_assistant(&self, id: &str) -> Result<Assistant, CoreError> {
        self.shared
            .store
            .list_assistants()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| CoreError::NotFound("That assistant no longer exists.".into()))
    }
}

fn default_assistant() -> Assistant {
    Assistant {
        id: DEFAULT_ASSISTANT.into(),
        name: "Default (no tools)".into(),
        system: None,
        provider: None,
        model: None,
        tools: Vec::new(),
        workspace: None,
    }
}
