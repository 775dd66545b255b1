//! The tools a turn may run: the built-in ones the chat's list names, in its workspace, and
//! the tools of the MCP servers it names.

use super::ChatService;
use crate::error::CoreError;
use parley_protocol::{ChatParams, SendOptions, Settings};
use tokio_util::sync::CancellationToken;

impl ChatService {
    /// The tools a turn of a chat with these settings may run: none without a workspace (MCP
    /// servers' tools included: their roots are the workspace). The MCP servers named in the
    /// chat's tool list are started when `connect` (a turn); the gauge only counts those running.
    pub(super) async fn turn_tools(
        &self,
        params: &ChatParams,
        settings: &Settings,
        options: &SendOptions,
        connect: bool,
    ) -> Result<Option<super::call::TurnTools>, CoreError> {
        let search = self.search_tool(params).await;
        let Some(dir) = &params.workspace else {
            // Without a workspace, web search is the one tool (its folder is empty and unused).
            let Some(search) = search else {
                return Ok(None);
            };
            let mut registry = crate::tools::tool::Registry::new();
            registry.add(search);
            let workspace = self.search_only_workspace()?;
            return Ok(Some(
                self.with_context(registry, workspace, settings, options),
            ));
        };
        let workspace = crate::tools::paths::Workspace::stored(dir).map_err(|e| {
            CoreError::InvalidInput(format!(
                "The chat's workspace folder cannot be used ({e}). Choose another folder in the chat settings."
            ))
        })?;
        let mut registry = crate::tools::builtins();
        if let Some(enabled) = &params.tools {
            registry.retain(enabled);
            self.add_mcp_tools(&mut registry, enabled, workspace.root(), connect)
                .await;
        }
        if let Some(search) = search {
            registry.add(search);
        }
        if registry.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            self.with_context(registry, workspace, settings, options),
        ))
    }

    /// The `web_search` tool, when a backend is set and the chat's tool list does not leave it
    /// out.
    async fn search_tool(&self, params: &ChatParams) -> Option<crate::websearch::WebSearch> {
        let listed = params.tools.as_ref().is_none_or(|t| {
            t.iter()
                .any(|name| name == parley_protocol::WEB_SEARCH_TOOL)
        });
        (listed && self.websearch.is_on().await)
            .then(|| crate::websearch::WebSearch::new(self.websearch.clone()))
    }

    /// The folder a chat without a workspace gets when its only tool is web search: empty,
    /// Parley's own (no tool of such a chat reads or writes files).
    fn search_only_workspace(&self) -> Result<crate::tools::paths::Workspace, CoreError> {
        let dir = self.shared.data_dir.join("no-workspace");
        std::fs::create_dir_all(&dir)
            .map_err(|e| CoreError::Internal(format!("{}: {e}", dir.display())))?;
        crate::tools::paths::Workspace::new(&dir).map_err(|e| CoreError::Internal(e.to_string()))
    }

    /// The tools with the turn's context: the workspace, the approvals, the timeout.
    fn with_context(
        &self,
        registry: crate::tools::tool::Registry,
        workspace: crate::tools::paths::Workspace,
        settings: &Settings,
        options: &SendOptions,
    ) -> super::call::TurnTools {
        let mut ctx = crate::tools::tool::ToolContext::new(workspace, CancellationToken::new());
        ctx.protected = self.shared.protected.clone();
        ctx.process_log = Some(self.shared.process_log.clone());
        super::call::TurnTools {
            registry,
            ctx,
            approvals: self.approvals.clone(),
            grants: self.grants.clone(),
            timeout: std::time::Duration::from_secs(u64::from(
                settings.approval_timeout_secs.max(1),
            )),
            confirm_read_only: options.confirm_read_only,
            ignore_grants: options.ignore_grants,
        }
    }
}

impl ChatService {
    /// Adds the tools of the MCP servers named in a chat's tool list (`mcp:NAME`); a server
    /// that cannot be used is left out (its log says why).
    async fn add_mcp_tools(
        &self,
        registry: &mut crate::tools::tool::Registry,
        enabled: &[String],
        workspace: &std::path::Path,
        connect: bool,
    ) {
        if !enabled
            .iter()
            .any(|e| e.starts_with(crate::mcp::SERVER_ENTRY))
        {
            return;
        }
        let taken: Vec<String> = registry.specs().into_iter().map(|s| s.name).collect();
        let (tools, problems) = self
            .mcp
            .chat_tools(enabled, workspace, &taken, connect)
            .await;
        for p in problems {
            tracing::warn!("{p}");
        }
        for t in tools {
            registry.add_any(t);
        }
    }
}
