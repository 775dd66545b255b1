//! The rug-pull defence: the first time Parley lists a server's tools it pins each tool's
//! definition — the SHA-256 of its name, title, description, input and output schemas and
//! hints, in a canonical form (object keys sorted, so a server that only reorders keys
//! changes nothing) — and from then on a tool whose definition differs from its pin is
//! blocked until the user has seen the difference and accepted exactly the definition shown
//! (its hash is named in the acceptance, so a server cannot change it again in between). A
//! tool the server adds later is blocked the same way until it is accepted: a new name is no
//! way around the pins.

use super::McpService;
use crate::error::CoreError;
use parley_protocol::{McpPin, McpServer, McpToolInfo, McpToolState};
use serde_json::Value;

/// The shortest prefix of a definition's hash an acceptance (or a read-only mark) may name.
pub const ACCEPT_PREFIX_MIN: usize = 8;

/// The hash of a tool's definition.
pub fn hash(t: &McpToolInfo) -> String {
    let schema =
        |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.to_owned()));
    let h = &t.hints;
    let def = serde_json::json!([
        t.name,
        t.title,
        t.description,
        schema(&t.input_schema),
        t.output_schema.as_deref().map(schema),
        [h.read_only, h.destructive, h.idempotent, h.open_world],
    ]);
    let mut text = String::new();
    canonical(&def, &mut text);
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// `v` as JSON with every object's keys in order.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

impl McpService {
    /// Each of `server`'s listed `tools` against its pin (and the user's read-only mark); a
    /// tool seen for the first time is pinned now.
    pub(super) async fn check_pins(
        &self,
        server: &McpServer,
        tools: Vec<McpToolInfo>,
    ) -> Result<Vec<McpToolState>, CoreError> {
        let server_id = &server.id;
        let pins = self.shared.store.mcp_pins(server_id).await?;
        // The first listing pins every tool (the user has just added the server); a tool that
        // appears later is blocked until accepted.
        let first = pins.is_empty();
        let mut out = Vec::with_capacity(tools.len());
        for tool in tools {
            let now = hash(&tool);
            let pin = match pins.iter().find(|(name, _, _)| *name == tool.name) {
                None if first => {
                    self.shared
                        .store
                        .put_mcp_pin(server_id, &tool, &now)
                        .await?;
                    McpPin::New
                }
                None => McpPin::Added { hash: now.clone() },
                Some((_, h, _)) if *h == now => McpPin::Pinned,
                Some((_, _, was)) => McpPin::Changed {
                    hash: now.clone(),
                    was: Box::new(was.clone()),
                },
            };
            let read_only = matches!(pin, McpPin::New | McpPin::Pinned)
                && server
                    .read_only
                    .iter()
                    .any(|r| r.tool == tool.name && r.hash == now);
            out.push(McpToolState {
                tool,
                pin,
                hash: now,
                read_only,
            });
        }
        Ok(out)
    }

    /// Accepts the changed definition of tool `tool` of server `name` whose hash starts with
    /// `hash` (at least ACCEPT_PREFIX_MIN characters): the definition the user was shown. One
    /// that changed again since is refused.
    pub async fn accept(
        &self,
        name: &str,
        tool: &str,
        hash_prefix: &str,
    ) -> Result<McpToolState, CoreError> {
        let prefix = hash_prefix.trim().to_ascii_lowercase();
        if prefix.len() < ACCEPT_PREFIX_MIN || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::InvalidInput(format!(
                "Name the definition you accept by the first {ACCEPT_PREFIX_MIN} or more characters of its hash, as `parley mcp tools {name}` shows it (TOOL:HASH)."
            )));
        }
        let server = self.get(name).await?;
        let report = self.test(name).await?;
        let Some(state) = report.tools.into_iter().find(|t| t.tool.name == tool) else {
            return Err(CoreError::NotFound(format!(
                "MCP server \"{}\" does not list a tool named {}.",
                server.name,
                super::config::shown(tool)
            )));
        };
        let now = hash(&state.tool);
        if !now.starts_with(&prefix) {
            return Err(CoreError::InvalidInput(format!(
                "The definition of {} is not the one you were shown (it is now {}): look at it again with `parley mcp tools {}`.",
                super::config::shown(tool),
                &now[..12],
                server.name
            )));
        }
        self.shared
            .store
            .put_mcp_pin(&server.id, &state.tool, &now)
            .await?;
        Ok(McpToolState {
            pin: McpPin::Pinned,
            read_only: server
                .read_only
                .iter()
                .any(|r| r.tool == state.tool.name && r.hash == now),
            hash: now,
            tool: state.tool,
        })
    }

    /// Marks tool `tool` of server `name` read-only — the definition whose hash starts with
    /// `hash_prefix`, the one the user was shown: its calls are then treated as reading only.
    /// A definition that changed since is refused; a later change voids the mark.
    pub async fn mark_read_only(
        &self,
        name: &str,
        tool: &str,
        hash_prefix: &str,
    ) -> Result<McpToolState, CoreError> {
        let prefix = hash_prefix.trim().to_ascii_lowercase();
        if prefix.len() < ACCEPT_PREFIX_MIN || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::InvalidInput(format!(
                "Name the definition you mark by the first {ACCEPT_PREFIX_MIN} or more characters of its hash, as `parley mcp tools {name}` shows it (TOOL:HASH)."
            )));
        }
        let mut server = self.get(name).await?;
        let report = self.test(name).await?;
        let Some(mut state) = report.tools.into_iter().find(|t| t.tool.name == tool) else {
            return Err(CoreError::NotFound(format!(
                "MCP server \"{}\" does not list a tool named {}.",
                server.name,
                super::config::shown(tool)
            )));
        };
        if !matches!(state.pin, McpPin::New | McpPin::Pinned) {
            return Err(CoreError::InvalidInput(format!(
                "The tool {} changed since it was pinned: accept its new definition first.",
                super::config::shown(tool)
            )));
        }
        if !state.hash.starts_with(&prefix) {
            return Err(CoreError::InvalidInput(format!(
                "The definition of {} is not the one you were shown (it is now {}): look at it again with `parley mcp tools {}`.",
                super::config::shown(tool),
                &state.hash[..12],
                server.name
            )));
        }
        server.read_only.retain(|r| r.tool != tool);
        server.read_only.push(parley_protocol::McpReadOnly {
            tool: tool.to_owned(),
            hash: state.hash.clone(),
        });
        self.shared.store.put_mcp_server(server).await?;
        state.read_only = true;
        Ok(state)
    }

    /// Takes the read-only mark off tool `tool` of server `name`: its calls ask again. Returns
    /// whether it was marked.
    pub async fn unmark_read_only(&self, name: &str, tool: &str) -> Result<bool, CoreError> {
        let mut server = self.get(name).await?;
        let before = server.read_only.len();
        server.read_only.retain(|r| r.tool != tool);
        let was = server.read_only.len() != before;
        if was {
            self.shared.store.put_mcp_server(server).await?;
        }
        Ok(was)
    }
}
