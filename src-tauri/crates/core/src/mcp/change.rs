//! Changes to MCP servers the window proposes and a person confirms in the change card (like
//! provider changes: the page can only propose; the card, served by Rust on its own origin,
//! shows exactly what will happen and only its Confirm applies it). Adding a local server runs a
//! program with the user's rights, enabling one offers its tools again, accepting a changed
//! tool's definition lifts its block, importing adds a file's servers: script in the page must
//! be able to do none of these on its own. Turning a server off needs no card.

use super::config::{self, shown};
use super::McpService;
use crate::error::CoreError;
use crate::providers::ChangePreview;
use parley_protocol::{McpPin, McpServerInput, McpTransport};

/// A change waiting for its card.
#[derive(Debug, Clone)]
pub enum McpChange {
    /// Add a server (or replace the one of the same name).
    Add {
        input: McpServerInput,
        replace: bool,
    },
    /// Remove a server and forget its values.
    Remove(String),
    /// Turn a server's tools on.
    Enable(String),
    /// Accept the changed definition of a server's tool, named by its hash.
    Accept {
        server: String,
        tool: String,
        hash: String,
    },
    /// Add the servers of another client's configuration (its text).
    Import(String),
    /// Mark a tool read-only (its definition named by its hash): its calls stop asking.
    ReadOnly {
        server: String,
        tool: String,
        hash: String,
    },
}

fn row(label: &str, value: impl Into<String>) -> (String, String) {
    (label.to_owned(), value.into())
}

/// A program and its arguments as the card shows them: each argument quoted, hidden
/// characters marked.
fn command_line(command: &str, args: &[String]) -> String {
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .map(shown)
        .collect::<Vec<_>>()
        .join(" ")
}

impl McpService {
    /// Checks a change and says what it will do. Nothing is changed.
    pub async fn preview(&self, change: &McpChange) -> Result<ChangePreview, CoreError> {
        match change {
            McpChange::Add { input, replace } => self.preview_add(input, *replace).await,
            McpChange::Remove(name) => {
                let s = self.get(name).await?;
                let values = s.env_names.len() + s.header_names.len();
                Ok(ChangePreview {
                    title: format!("Remove the MCP server “{}”", s.name),
                    rows: vec![
                        row("Server", s.name.clone()),
                        row(
                            "Its values",
                            if values == 0 {
                                "none saved".to_owned()
                            } else {
                                format!("{values} deleted from the keychain")
                            },
                        ),
                    ],
                    warnings: Vec::new(),
                    destructive: true,
                })
            }
            McpChange::Enable(name) => {
                let s = self.get(name).await?;
                Ok(ChangePreview {
                    title: format!("Turn on the MCP server “{}”", s.name),
                    rows: vec![row("Server", s.name.clone())],
                    warnings: vec!["Chats whose tools include it are offered its tools again (every call still asks).".into()],
                    destructive: false,
                })
            }
            McpChange::Accept { server, tool, hash } => {
                self.preview_accept(server, tool, hash).await
            }
            McpChange::Import(text) => self.preview_import(text).await,
            McpChange::ReadOnly { server, tool, hash } => {
                self.preview_read_only(server, tool, hash).await
            }
        }
    }

    async fn preview_read_only(
        &self,
        server: &str,
        tool: &str,
        hash: &str,
    ) -> Result<ChangePreview, CoreError> {
        let s = self.get(server).await?;
        let report = self.test(server).await?;
        let Some(t) = report.tools.iter().find(|t| t.tool.name == tool) else {
            return Err(CoreError::NotFound(format!(
                "MCP server “{}” does not list a tool named {}.",
                s.name,
                shown(tool)
            )));
        };
        if hash.len() < super::pins::ACCEPT_PREFIX_MIN || !t.hash.starts_with(hash) {
            return Err(CoreError::InvalidInput(format!(
                "The definition of {} changed since it was shown: look at it again.",
                shown(tool)
            )));
        }
        let mark = parley_protocol::visible::mark_hidden;
        let says = match t.tool.hints.read_only {
            Some(true) => "read-only",
            Some(false) => "not read-only",
            None => "nothing",
        };
        Ok(ChangePreview {
            title: format!("Let {} of “{}” run without asking", shown(tool), s.name),
            rows: vec![
                row("Tool", shown(tool)),
                row("What it says it does", mark(&t.tool.description)),
                row("Input schema", mark(&t.tool.input_schema)),
                row("The server's own hint", says),
            ],
            warnings: vec![
                "Its calls will be treated as only reading: they run without asking where read-only calls do. Parley cannot check what a server's tool really does; mark only tools you trust.".into(),
                "If the server changes this tool, the mark no longer holds and its calls ask again.".into(),
            ],
            destructive: false,
        })
    }

    async fn preview_add(
        &self,
        input: &McpServerInput,
        replace: bool,
    ) -> Result<ChangePreview, CoreError> {
        let name = config::check_name(&input.name)?;
        let transport = config::check_transport(&input.transport)?;
        config::check_env(&input.env)?;
        config::check_headers(&input.headers)?;
        let exists = self.shared.store.mcp_server(&name).await?.is_some();
        if exists && !replace {
            return Err(CoreError::InvalidInput(format!(
                "There is already an MCP server named {name}."
            )));
        }
        let mut rows = vec![row("Name", name.clone())];
        let mut warnings = Vec::new();
        match &transport {
            McpTransport::Stdio { command, args } => {
                rows.push(row("Runs", command_line(command, args)));
                warnings.push("This runs a program on your computer with your rights whenever a chat uses its tools. Add only servers you trust.".into());
            }
            McpTransport::Http { url } => {
                rows.push(row("Address", shown(url)));
                if url.starts_with("http://")
                    && !config::binding(&transport).contains("://127.0.0.1:")
                    && !config::binding(&transport).contains("://localhost:")
                {
                    warnings.push("The address is plain http to another machine: what is sent, headers included, can be read on the way.".into());
                }
            }
        }
        for (label, list) in [("Environment", &input.env), ("Headers", &input.headers)] {
            if !list.is_empty() {
                let names: Vec<String> = list.iter().map(|v| shown(&v.name)).collect();
                rows.push(row(
                    label,
                    format!("{} (values saved in the keychain)", names.join(", ")),
                ));
            }
        }
        if exists {
            warnings.push(format!(
                "It replaces the server named {name}; values not given again are forgotten."
            ));
        }
        Ok(ChangePreview {
            title: format!(
                "{} the MCP server “{name}”",
                if exists { "Replace" } else { "Add" }
            ),
            rows,
            warnings,
            destructive: exists,
        })
    }

    async fn preview_accept(
        &self,
        server: &str,
        tool: &str,
        hash: &str,
    ) -> Result<ChangePreview, CoreError> {
        let report = self.test(server).await?;
        let Some(t) = report.tools.iter().find(|t| t.tool.name == tool) else {
            return Err(CoreError::NotFound(format!(
                "MCP server “{server}” does not list a tool named {}.",
                shown(tool)
            )));
        };
        let (now, was) = match &t.pin {
            McpPin::Changed { hash, was } => (hash, Some(was)),
            McpPin::Added { hash } => (hash, None),
            _ => {
                return Err(CoreError::InvalidInput(format!(
                    "The tool {} has not changed: there is nothing to accept.",
                    shown(tool)
                )))
            }
        };
        if hash.len() < super::pins::ACCEPT_PREFIX_MIN || !now.starts_with(hash) {
            return Err(CoreError::InvalidInput(format!(
                "The definition of {} changed again since it was shown: look at it again.",
                shown(tool)
            )));
        }
        let mark = parley_protocol::visible::mark_hidden;
        let mut rows = vec![
            row("Tool", shown(tool)),
            row("Now", mark(&t.tool.description)),
        ];
        match was {
            Some(was) => {
                rows.push(row("Was", mark(&was.description)));
                if was.input_schema != t.tool.input_schema {
                    rows.push(row("Input schema now", mark(&t.tool.input_schema)));
                    rows.push(row("Input schema was", mark(&was.input_schema)));
                }
            }
            None => rows.push(row("Input schema", mark(&t.tool.input_schema))),
        }
        let what = if was.is_some() { "changed" } else { "new" };
        Ok(ChangePreview {
            title: format!("Accept the {what} tool {} of “{server}”", shown(tool)),
            rows,
            warnings: vec!["A server that changes or adds a tool after you trusted it may be trying to make the model do something else. Accept only what you expected.".into()],
            destructive: false,
        })
    }

    async fn preview_import(&self, text: &str) -> Result<ChangePreview, CoreError> {
        let parsed = super::import::parse(text).map_err(CoreError::InvalidInput)?;
        let mut rows = Vec::new();
        for (_, input) in &parsed.servers {
            let what = match &input.transport {
                McpTransport::Stdio { command, args } => {
                    format!("runs {}", command_line(command, args))
                }
                McpTransport::Http { url } => format!("at {}", shown(url)),
            };
            rows.push(row(&format!("Add “{}”", input.name), what));
        }
        for s in &parsed.skipped {
            rows.push(row(&format!("Leave out {}", s.name), s.reason.clone()));
        }
        if rows.is_empty() {
            return Err(CoreError::InvalidInput("The file lists no servers.".into()));
        }
        let local = parsed
            .servers
            .iter()
            .any(|(_, i)| matches!(i.transport, McpTransport::Stdio { .. }));
        Ok(ChangePreview {
            title: format!(
                "Import {} MCP server{} from another app",
                parsed.servers.len(),
                if parsed.servers.len() == 1 { "" } else { "s" }
            ),
            rows,
            warnings: if local {
                vec!["Local servers run programs on your computer with your rights. Import only a file you trust.".into()]
            } else {
                Vec::new()
            },
            destructive: false,
        })
    }

    /// Applies a confirmed change.
    pub async fn apply(&self, change: McpChange) -> Result<(), CoreError> {
        match change {
            McpChange::Add { input, replace } => self.add(input, replace).await.map(|_| ()),
            McpChange::Remove(name) => self.remove(&name).await.map(|_| ()),
            McpChange::Enable(name) => self.set_enabled(&name, true).await.map(|_| ()),
            McpChange::Accept { server, tool, hash } => {
                self.accept(&server, &tool, &hash).await.map(|_| ())
            }
            McpChange::Import(text) => self.import_config(&text).await.map(|_| ()),
            McpChange::ReadOnly { server, tool, hash } => {
                self.mark_read_only(&server, &tool, &hash).await.map(|_| ())
            }
        }
    }
}
