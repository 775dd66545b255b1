//! An MCP server's tool among a chat's tools: named for the model `server__tool` (letters,
//! digits, `_` and `-`, at most 64 characters, as every provider takes them; the double
//! underscore keeps them apart from the built-in tools and from each other's servers), described
//! with the server's name, its schema as the server gave it. A call asks like any tool with
//! effects: Mutating, or Destructive when the server says so — a server's hints only raise the
//! bar — and it is asked about and granted as `mcp:server__tool#hash@id`: its pinned definition
//! and the server's id.

use super::McpService;
use crate::providers::ToolSpec;
use crate::tools::tool::{AnyTool, Prepared, Risk, ToolContext};
use parley_protocol::{McpServer, McpToolInfo};

/// The longest tool name providers take.
const NAME_MAX: usize = 64;

/// One server tool, offered in a chat of workspace `root`.
pub struct McpTool {
    model_name: String,
    server: McpServer,
    tool: McpToolInfo,
    hash: String,
    /// The user marked this definition read-only.
    read_only: bool,
    root: String,
    mcp: McpService,
}

/// The name the model calls `tool` of `server` by (unique among `taken`).
pub fn model_name(server: &str, tool: &str, taken: &[String]) -> String {
    let plain: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base: String = format!("{server}__{plain}")
        .chars()
        .take(NAME_MAX)
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!("_{n}");
        name = format!(
            "{}{suffix}",
            &base[..base.len().min(NAME_MAX - suffix.len())]
        );
        n += 1;
    }
    name
}

impl McpTool {
    pub fn new(
        model_name: String,
        server: McpServer,
        tool: McpToolInfo,
        root: String,
        mcp: McpService,
    ) -> Self {
        let hash = super::pins::hash(&tool);
        McpTool {
            model_name,
            server,
            tool,
            hash,
            read_only: false,
            root,
            mcp,
        }
    }

    /// The same tool, marked read-only by the user (for this very definition).
    pub fn read_only(mut self, marked: bool) -> Self {
        self.read_only = marked;
        self
    }

    /// How risky its calls are: what the server's hint says raises the bar (destructive); only
    /// the user's mark lowers it (read-only); anything else changes things and asks.
    fn risk(&self) -> Risk {
        if self.tool.hints.destructive == Some(true) {
            Risk::Destructive
        } else if self.read_only {
            Risk::ReadOnly
        } else {
            Risk::Mutating
        }
    }

    /// What approvals and grants know this tool as: its name for the model (plain), the hash
    /// of its pinned definition and the server's id — a grant never covers another definition,
    /// nor a server added later under the same name.
    fn grant_as(&self) -> String {
        let id: String = self.server.id.chars().take(8).collect();
        format!("mcp:{}#{}@{id}", self.model_name, &self.hash[..16])
    }
}

impl AnyTool for McpTool {
    fn name(&self) -> &str {
        &self.model_name
    }

    fn spec(&self) -> ToolSpec {
        let parameters = serde_json::from_str(&self.tool.input_schema)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({"type": "object"}));
        ToolSpec {
            name: self.model_name.clone(),
            description: format!(
                "{} (a tool of the MCP server \"{}\")",
                self.tool.description, self.server.name
            ),
            parameters,
        }
    }

    fn info(&self) -> parley_protocol::ToolInfo {
        parley_protocol::ToolInfo {
            name: self.model_name.clone(),
            description: self.tool.description.clone(),
            risk: self.risk(),
        }
    }

    fn prepare(&self, arguments: &str, _ctx: &ToolContext) -> Result<Prepared, String> {
        let raw = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let args = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(format!(
                    "The arguments for {} must be a JSON object.",
                    self.model_name
                ))
            }
            Err(e) => {
                return Err(format!(
                    "The arguments for {} are not valid JSON: {e}.",
                    self.model_name
                ))
            }
        };
        let risk = self.risk();
        let (mcp, server, tool, root) = (
            self.mcp.clone(),
            self.server.clone(),
            self.tool.name.clone(),
            self.root.clone(),
        );
        Ok(Prepared::new(risk, Some(self.grant_as()), move |ctx| {
            Box::pin(async move {
                // The server's progress reports go to the call's running card.
                let report = ctx.asker.clone().map(|asker| {
                    let call_id = ctx.call_id.clone();
                    let r: super::progress::Reporter =
                        std::sync::Arc::new(move |p, total, message| {
                            asker.progress(&call_id, p, total, message)
                        });
                    r
                });
                let caller = super::progress::Caller {
                    report,
                    model: ctx.model.clone(),
                };
                let out: crate::tools::tool::RunResult = mcp
                    .call(&server, &root, &tool, args, ctx.cancel, caller)
                    .await;
                out
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::model_name;

    #[test]
    fn model_names_are_plain_bounded_and_unique() {
        assert_eq!(model_name("files", "read_file", &[]), "files__read_file");
        assert_eq!(
            model_name("gh", "repos.list/all", &[]),
            "gh__repos_list_all"
        );
        assert_eq!(model_name("x", "naïve\u{202E}", &[]), "x__na_ve_");
        let long = model_name("server", &"t".repeat(100), &[]);
        assert_eq!(long.len(), 64);
        let taken = vec!["gh__a_b".to_owned()];
        assert_eq!(model_name("gh", "a.b", &taken), "gh__a_b_2");
        let taken = vec![long.clone()];
        let again = model_name("server", &"t".repeat(100), &taken);
        assert!(again.len() <= 64 && again.ends_with("_2") && again != long);
    }
}
