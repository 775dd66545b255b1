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
        let Some(dir) = &params.workspace else {
            return Ok(None);
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
        if registry.is_empty() {
            return Ok(None);
        }
        let mut ctx = crate::tools::tool::ToolContext::new(workspace, CancellationToken::new());
        ctx.protected = self.shared.protected.clone();
        ctx.process_log = Some(self.shared.process_log.clone());
        Ok(Some(super::call::TurnTools {
            registry,
            ctx,
            approvals: self.approvals.clone(),
            grants: self.grants.clone(),
            timeout: std::time::Duration::from_secs(u64::from(
                settings.approval_timeout_secs.max(1),
            )),
            confirm_read_only: options.confirm_read_only,
            ignore_grants: options.ignore_grants,
        }))
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
