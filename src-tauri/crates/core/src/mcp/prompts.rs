//! A server's prompts (`prompts/list`, `prompts/get`): offered in the composer as `/` commands
//! with their arguments, and by `parley mcp prompts` / `parley mcp prompt`. A prompt's text is
//! untrusted like everything a server sends: it goes into the message box, where the person
//! reads and edits it before anything is sent (hidden characters are reported, so the window can
//! warn); nothing a prompt says runs by itself. Bounded: at most PROMPTS_MAX prompts of a server
//! (read in at most LIST_PAGES_MAX pages), TEXT_MAX characters of one prompt's text.

use super::McpService;
use crate::error::CoreError;
use parley_protocol::{McpPrompt, McpPromptArg, McpPromptText, McpServer, NamedValue};
use rmcp::model::{ContentBlock, ResourceContents, Role};

/// The most prompts kept from one server.
pub const PROMPTS_MAX: usize = 200;
/// The most characters of a prompt's text.
pub const TEXT_MAX: usize = 100_000;

pub(super) fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A workspace as the file:// URI a server is told is its root ("" for none).
pub(super) fn root_of(workspace: &std::path::Path) -> String {
    url::Url::from_directory_path(workspace).map_or_else(|()| String::new(), |u| u.to_string())
}

/// The most pages of a list read from one server (a server that always names a next page
/// must not make Parley read forever).
pub(super) const LIST_PAGES_MAX: usize = 20;

/// Reads a server's list of `what` page by page (`page(cursor)` gives a page's items and the
/// next cursor) until there is no next page, `max` items are read, or LIST_PAGES_MAX pages —
/// all within LIST_TIMEOUT; an error says which list failed.
pub(super) async fn pages<T, F, Fut>(
    what: &str,
    max: usize,
    mut page: F,
) -> Result<Vec<T>, CoreError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), rmcp::ServiceError>>,
{
    let reading = async {
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..LIST_PAGES_MAX {
            let (items, next) = page(cursor.take()).await?;
            out.extend(items);
            match next {
                Some(next) if out.len() < max => cursor = Some(next),
                _ => break,
            }
        }
        out.truncate(max);
        Ok::<_, rmcp::ServiceError>(out)
    };
    tokio::time::timeout(super::client::LIST_TIMEOUT, reading)
        .await
        .map_err(|_| {
            CoreError::InvalidInput(format!("The server did not list its {what} in time."))
        })?
        .map_err(|e| CoreError::InvalidInput(format!("The server could not list its {what}: {e}.")))
}

/// A page request from `cursor`.
pub(super) fn from(cursor: Option<String>) -> Option<rmcp::model::PaginatedRequestParams> {
    Some(rmcp::model::PaginatedRequestParams::default().with_cursor(cursor))
}

impl McpService {
    /// The prompts of the servers named in `entries` (`mcp:NAME`, the chat's tool list), live for
    /// workspace `root` (started when needed); a server that cannot be used is left out.
    pub async fn prompts(
        &self,
        entries: &[String],
        workspace: &std::path::Path,
    ) -> Result<Vec<McpPrompt>, CoreError> {
        let root = root_of(workspace);
        let mut out = Vec::new();
        for server in self.servers_named(entries).await? {
            match self.server_prompts(&server, &root).await {
                Ok(list) => out.extend(list),
                Err(e) => self.log_of(&server.id).note(&format!("its prompts: {e}")),
            }
        }
        Ok(out)
    }

    /// The servers that are on among `entries` (`mcp:NAME`, a chat's tools), in their order.
    pub(super) async fn servers_named(
        &self,
        entries: &[String],
    ) -> Result<Vec<McpServer>, CoreError> {
        let mut out = Vec::new();
        for entry in entries {
            let Some(name) = entry.strip_prefix(super::SERVER_ENTRY) else {
                continue;
            };
            if let Some(s) = self.shared.store.mcp_server(name).await? {
                if s.enabled {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    /// Server `name`, when it is on and `entries` (a chat's tools) name it: nothing else is
    /// started for a chat.
    pub(super) async fn offered(
        &self,
        entries: &[String],
        name: &str,
    ) -> Result<McpServer, CoreError> {
        let server = self.get(name).await?;
        let entry = format!("{}{}", super::SERVER_ENTRY, server.name);
        if !entries.iter().any(|e| e.eq_ignore_ascii_case(&entry)) {
            return Err(CoreError::InvalidInput(format!(
                "The MCP server \"{}\" is not among this chat's tools.",
                server.name
            )));
        }
        if !server.enabled {
            return Err(CoreError::InvalidInput(format!(
                "The MCP server \"{}\" is off: turn it on first.",
                server.name
            )));
        }
        Ok(server)
    }

    async fn server_prompts(
        &self,
        server: &McpServer,
        root: &str,
    ) -> Result<Vec<McpPrompt>, CoreError> {
        let conn = self.connection(server, root).await?;
        if conn
            .service
            .peer_info()
            .is_some_and(|i| i.capabilities.prompts.is_none())
        {
            return Ok(Vec::new());
        }
        let listed = pages("prompts", PROMPTS_MAX * 2, |cursor| {
            let service = &conn.service;
            async move {
                let page = service.list_prompts(from(cursor)).await?;
                Ok((page.prompts, page.next_cursor))
            }
        })
        .await?;
        let mut seen = std::collections::HashSet::new();
        Ok(listed
            .into_iter()
            // A name listed twice is kept once (the first).
            .filter(|p| seen.insert(p.name.clone()))
            .take(PROMPTS_MAX)
            .map(|p| McpPrompt {
                server: server.name.clone(),
                name: cut(&p.name, 200),
                title: p.title.as_deref().map(|t| cut(t, 200)),
                description: cut(p.description.as_deref().unwrap_or_default(), 2000),
                arguments: p
                    .arguments
                    .unwrap_or_default()
                    .into_iter()
                    .fold(Vec::new(), |mut v: Vec<rmcp::model::PromptArgument>, a| {
                        if !v.iter().any(|b| b.name == a.name) {
                            v.push(a);
                        }
                        v
                    })
                    .into_iter()
                    .take(32)
                    .map(|a| McpPromptArg {
                        name: cut(&a.name, 100),
                        description: cut(a.description.as_deref().unwrap_or_default(), 500),
                        required: a.required == Some(true),
                    })
                    .collect(),
            })
            .collect())
    }

    /// The text of prompt `prompt` of server `name` — on, and one of `entries` (the chat's
    /// tools) — with `arguments`, for the message box.
    pub async fn prompt_text(
        &self,
        entries: &[String],
        (name, prompt): (&str, &str),
        arguments: &[NamedValue],
        workspace: &std::path::Path,
    ) -> Result<McpPromptText, CoreError> {
        let server = self.offered(entries, name).await?;
        let root = root_of(workspace);
        let conn = self.connection(&server, &root).await?;
        let args: serde_json::Map<String, serde_json::Value> = arguments
            .iter()
            .map(|a| (a.name.clone(), serde_json::Value::String(a.value.clone())))
            .collect();
        let params = rmcp::model::GetPromptRequestParams::new(prompt).with_arguments(args);
        let got =
            tokio::time::timeout(super::client::LIST_TIMEOUT, conn.service.get_prompt(params))
                .await
                .map_err(|_| {
                    CoreError::InvalidInput("The server did not give the prompt in time.".into())
                })?
                .map_err(|e| {
                    CoreError::InvalidInput(format!(
                        "The server could not give the prompt {}: {e}.",
                        super::config::shown(prompt)
                    ))
                })?;
        let several_roles = got.messages.iter().any(|m| m.role == Role::Assistant);
        let parts: Vec<String> = got
            .messages
            .iter()
            .map(|m| {
                let text = block_text(&m.content);
                if several_roles {
                    let who = if m.role == Role::Assistant {
                        "Assistant"
                    } else {
                        "User"
                    };
                    format!("{who}: {text}")
                } else {
                    text
                }
            })
            .collect();
        let text = cut(&parts.join("\n\n"), TEXT_MAX);
        Ok(McpPromptText {
            hidden: parley_protocol::visible::has_hidden(&text),
            text,
        })
    }
}

/// A prompt message's content as text (what cannot be text is named in place).
fn block_text(b: &ContentBlock) -> String {
    match b {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => format!("[{uri}]\n{text}"),
            other => format!("[a resource that is not text: {}]", resource_uri(other)),
        },
        ContentBlock::ResourceLink(l) => format!("[{}]", l.uri),
        ContentBlock::Image(_) => "[an image]".into(),
        ContentBlock::Audio(_) => "[audio]".into(),
        #[allow(unreachable_patterns)]
        _ => "[content Parley cannot show]".into(),
    }
}

fn resource_uri(r: &ResourceContents) -> String {
    match r {
        ResourceContents::TextResourceContents { uri, .. }
        | ResourceContents::BlobResourceContents { uri, .. } => uri.clone(),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}
