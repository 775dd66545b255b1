//! MCP servers: adding (from the window, `parley mcp add`, or another
//! client's `mcpServers` file), listing, enabling and removing servers. A server's environment
//! values and headers go to the OS keychain bound to its program or address (`secrets`); the
//! database holds only their names (`store`). What may be configured is checked in `config`,
//! files are read in `import`. A server is reached with rmcp in `client` (its process, its
//! transport, the era negotiated) and tested in `live`; its stderr is kept in `log`.

pub mod asks;
pub mod change;
mod client;
pub mod config;
pub mod form;
mod handler;
pub mod import;
mod live;

pub mod oauth;
mod oauth_callback;
mod oauth_store;
pub mod pins;
mod pool;
mod progress;
mod prompts;
mod recorded;
pub mod resources;
mod results;
pub mod sampling;
mod secrets;
mod sse;
mod stdio;
mod store;
pub mod tool;

use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{McpImportReport, McpServer, McpServerInput, McpSkipped, NamedValue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Configured MCP servers.
#[derive(Clone)]
pub struct McpService {
    shared: Arc<Shared>,
    /// Each server's log in this process, by server id.
    logs: Arc<Mutex<HashMap<String, Arc<crate::proclog::ProcLog>>>>,
    /// The servers in use by chats.
    pool: Arc<pool::Pool>,
    /// What servers ask the person (elicitation), waiting for an answer.
    asks: Arc<asks::Asks>,
    /// What servers ask the model (sampling), when allowed.
    sampler: Arc<sampling::Sampler>,
}

/// A server's values from the keychain, for its transport.
pub struct ServerValues {
    pub env: Vec<NamedValue>,
    pub headers: Vec<NamedValue>,
    /// The OAuth tokens of a server signed in to (in the keychain).
    pub oauth: Option<oauth_store::KeychainCredentials>,
}

impl McpService {
    pub(crate) fn new(
        shared: Arc<Shared>,
        providers: crate::providers::ProviderService,
        settings: crate::settings::SettingsService,
    ) -> Self {
        McpService {
            logs: Arc::default(),
            pool: Arc::default(),
            asks: Arc::default(),
            sampler: Arc::new(sampling::Sampler::new(
                providers,
                settings,
                shared.ledger.clone(),
            )),
            shared,
        }
    }

    /// What servers ask the model: allow it for this process (`parley ask --allow-sampling`).
    pub fn sampler(&self) -> &sampling::Sampler {
        &self.sampler
    }

    /// What servers ask the person: attach an answerer to be asked, answer by id.
    pub fn asks(&self) -> &Arc<asks::Asks> {
        &self.asks
    }

    /// Every server, by name.
    pub async fn list(&self) -> Result<Vec<McpServer>, CoreError> {
        Ok(self.shared.store.list_mcp_servers().await?)
    }

    /// The server named `name`.
    pub async fn get(&self, name: &str) -> Result<McpServer, CoreError> {
        self.shared.store.mcp_server(name).await?.ok_or_else(|| {
            CoreError::NotFound(format!(
                "There is no MCP server named {}.",
                config::shown(name)
            ))
        })
    }

    /// Adds a server, or with `replace` replaces the one of the same name (its values too:
    /// values not given again are forgotten). The values go to the keychain first: when it
    /// cannot take them, nothing is saved.
    pub async fn add(&self, input: McpServerInput, replace: bool) -> Result<McpServer, CoreError> {
        let name = config::check_name(&input.name)?;
        let transport = config::check_transport(&input.transport)?;
        config::check_env(&input.env)?;
        config::check_headers(&input.headers)?;
        let existing = self.shared.store.mcp_server(&name).await?;
        if existing.is_some() && !replace {
            return Err(CoreError::InvalidInput(format!(
                "There is already an MCP server named {name}: remove it first, or replace it (`parley mcp add --replace`)."
            )));
        }
        // Values in the keychain to forget: the replaced server's.
        let had_values = existing
            .as_ref()
            .is_some_and(|s| !(s.env_names.is_empty() && s.header_names.is_empty()));
        // The protocol it spoke is kept while it is reached the same way.
        let same = existing.as_ref().filter(|s| s.transport == transport);
        let protocol = same.and_then(|s| s.protocol.clone());
        // So are the tools the user marked read-only (another program's tools are not).
        let read_only = same.map(|s| s.read_only.clone()).unwrap_or_default();
        // A sign-in holds for the address it was made at (the tokens are bound to it).
        let signed_in = same.is_some_and(|s| s.signed_in);
        let server = McpServer {
            id: existing
                .as_ref()
                .map_or_else(crate::new_id, |s| s.id.clone()),
            name,
            transport,
            enabled: input.enabled,
            env_names: input.env.iter().map(|v| v.name.clone()).collect(),
            header_names: input.headers.iter().map(|v| v.name.clone()).collect(),
            protocol,
            created_at: existing
                .as_ref()
                .map_or_else(crate::now_ms, |s| s.created_at),
            read_only,
            signed_in,
        };
        // A server without values needs no keychain; a replaced one forgets its old ones.
        if had_values || !(input.env.is_empty() && input.headers.is_empty()) {
            secrets::save(
                self.shared.secrets.as_ref(),
                &server.id,
                &server.transport,
                &input.env,
                &input.headers,
            )?;
        }
        // Moved to another address: the old sign-in's tokens are forgotten (first).
        if existing.as_ref().is_some_and(|s| s.signed_in) && !signed_in {
            oauth_store::delete(self.shared.secrets.as_ref(), &server.id)?;
        }
        self.shared.store.put_mcp_server(server.clone()).await?;
        Ok(server)
    }

    /// Records the protocol revision `server` spoke when it was reached (shown in the list).
    pub(super) async fn remember_protocol(&self, server: &McpServer, version: &str) {
        if server.protocol.as_deref() == Some(version) || version.is_empty() {
            return;
        }
        let Ok(Some(mut now)) = self.shared.store.mcp_server(&server.name).await else {
            return;
        };
        if now.id == server.id && now.transport == server.transport {
            now.protocol = Some(version.to_owned());
            if let Err(e) = self.shared.store.put_mcp_server(now).await {
                tracing::warn!(
                    "the protocol of MCP server {} was not recorded: {e}",
                    server.name
                );
            }
        }
    }

    /// Turns a server's tools on or off.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<McpServer, CoreError> {
        let mut server = self.get(name).await?;
        server.enabled = enabled;
        self.shared.store.put_mcp_server(server.clone()).await?;
        Ok(server)
    }

    /// Removes a server and forgets its values (first: when the keychain cannot forget them,
    /// the server stays, so no value is left behind unseen).
    pub async fn remove(&self, name: &str) -> Result<McpServer, CoreError> {
        let server = self.get(name).await?;
        if !(server.env_names.is_empty() && server.header_names.is_empty()) {
            secrets::delete(self.shared.secrets.as_ref(), &server.id)?;
        }
        // Signed in: its tokens go first. Else a sign-in that never finished may have left
        // some: forgotten when the keychain can.
        let tokens = oauth_store::delete(self.shared.secrets.as_ref(), &server.id);
        if server.signed_in {
            tokens?;
        }
        self.shared.store.delete_mcp_server(&server.id).await?;
        Ok(server)
    }

    /// The values saved for `server`, while its program or address is the one they were
    /// saved for.
    pub fn values(&self, server: &McpServer) -> Result<ServerValues, CoreError> {
        let oauth = server.signed_in.then(|| {
            oauth_store::KeychainCredentials::new(
                self.shared.secrets.clone(),
                &server.id,
                &server.transport,
            )
        });
        if server.env_names.is_empty() && server.header_names.is_empty() {
            // None saved: the keychain is not asked (it need not be there).
            return Ok(ServerValues {
                env: Vec::new(),
                headers: Vec::new(),
                oauth,
            });
        }
        let v = secrets::load(self.shared.secrets.as_ref(), &server.id, &server.transport)?;
        Ok(ServerValues {
            env: v.env,
            headers: v.headers,
            oauth,
        })
    }

    /// Adds the sound entries of an `mcpServers` file (`import`); an entry whose name is
    /// taken here is left out and reported, like an unsound one.
    pub async fn import_config(&self, text: &str) -> Result<McpImportReport, CoreError> {
        let parsed = import::parse(text).map_err(CoreError::InvalidInput)?;
        let mut report = McpImportReport {
            skipped: parsed.skipped,
            ignored_fields: parsed.ignored_fields,
            ..McpImportReport::default()
        };
        for (raw, input) in parsed.servers {
            let name = input.name.clone();
            let outcome = match self.shared.store.mcp_server(&name).await? {
                Some(_) => Err(format!("a server named {name} is already configured here")),
                None => self.add(input, false).await.map_err(|e| e.to_string()),
            };
            match outcome {
                Ok(_) => report.added.push(name),
                Err(reason) => report.skipped.push(McpSkipped {
                    name: config::shown(&raw),
                    reason,
                }),
            }
        }
        Ok(report)
    }
}

/// The prefix of an entry of a chat's (or an assistant's) tool list that names an MCP server
/// whose tools it may use: `mcp:NAME`.
pub const SERVER_ENTRY: &str = "mcp:";

impl McpService {
    /// The tools of the MCP servers named in a chat's tool list (`mcp:NAME`; servers turned off
    /// or gone are left out) for a chat in `workspace`, named apart from `taken`: a server not
    /// running is started when `connect` (else it offers nothing yet). A tool blocked by its
    /// pin is not offered. A server that cannot be used is left out with a sentence (returned:
    /// the chat goes on without it).
    pub async fn chat_tools(
        &self,
        entries: &[String],
        workspace: &std::path::Path,
        taken: &[String],
        connect: bool,
    ) -> (Vec<Arc<dyn crate::tools::tool::AnyTool>>, Vec<String>) {
        let root = prompts::root_of(workspace);
        let mut names: Vec<String> = taken.to_vec();
        let (mut tools, mut problems) = (Vec::new(), Vec::new());
        for entry in entries {
            let Some(name) = entry.strip_prefix(SERVER_ENTRY) else {
                continue;
            };
            let server = match self.shared.store.mcp_server(name).await {
                Ok(Some(s)) if s.enabled => s,
                _ => continue,
            };
            let listed = match self.live_tools(&server, &root, connect).await {
                Ok(l) => l,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            for state in listed {
                // Changed or added since the pins: blocked until accepted.
                if !matches!(
                    state.pin,
                    parley_protocol::McpPin::New | parley_protocol::McpPin::Pinned
                ) {
                    continue;
                }
                let model = tool::model_name(&server.name, &state.tool.name, &names);
                names.push(model.clone());
                let t = tool::McpTool::new(
                    model,
                    server.clone(),
                    state.tool,
                    root.clone(),
                    self.clone(),
                )
                .read_only(state.read_only);
                tools.push(Arc::new(t) as Arc<dyn crate::tools::tool::AnyTool>);
            }
        }
        (tools, problems)
    }
}

#[cfg(test)]
mod tests;
