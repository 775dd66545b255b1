//! A server's resources: listed for the message box (`@` in the composer, `parley mcp
//! resources`) and read to be attached to a message like a file — its text as a document, an
//! image's bytes as an image, through the attachments' own checks (sizes, formats, re-encoding).
//! Bounded: at most RESOURCES_MAX listed per server (in at most LIST_PAGES_MAX pages), READ_MAX
//! bytes read.

use super::prompts::{cut, root_of};
use super::McpService;
use crate::error::CoreError;
use parley_protocol::{McpResource, McpServer};
use rmcp::model::ResourceContents;

/// The most resources kept from one server.
pub const RESOURCES_MAX: usize = 500;
/// The most bytes of one resource read.
pub const READ_MAX: usize = 50 * 1024 * 1024;

/// A resource read: a name for the attachment, its type, its bytes.
pub struct ResourceFile {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl McpService {
    /// The resources of the servers named in `entries` (`mcp:NAME`), live for `workspace`; a
    /// server that cannot be used is left out (its log says why).
    pub async fn resources(
        &self,
        entries: &[String],
        workspace: &std::path::Path,
    ) -> Result<Vec<McpResource>, CoreError> {
        let root = root_of(workspace);
        let mut out = Vec::new();
        for server in self.servers_named(entries).await? {
            match self.server_resources(&server, &root).await {
                Ok(list) => out.extend(list),
                Err(e) => self.log_of(&server.id).note(&format!("its resources: {e}")),
            }
        }
        Ok(out)
    }

    async fn server_resources(
        &self,
        server: &McpServer,
        root: &str,
    ) -> Result<Vec<McpResource>, CoreError> {
        let conn = self.connection(server, root).await?;
        if conn
            .service
            .peer_info()
            .is_some_and(|i| i.capabilities.resources.is_none())
        {
            return Ok(Vec::new());
        }
        let listed = super::prompts::pages("resources", RESOURCES_MAX * 2, |cursor| {
            let service = &conn.service;
            async move {
                let page = service.list_resources(super::prompts::from(cursor)).await?;
                Ok((page.resources, page.next_cursor))
            }
        })
        .await?;
        let mut seen = std::collections::HashSet::new();
        Ok(listed
            .into_iter()
            // An address listed twice is kept once (the first).
            .filter(|r| seen.insert(r.uri.clone()))
            .take(RESOURCES_MAX)
            .map(|r| McpResource {
                server: server.name.clone(),
                uri: cut(&r.uri, 2000),
                name: cut(&r.name, 200),
                title: r.title.as_deref().map(|t| cut(t, 200)),
                description: cut(r.description.as_deref().unwrap_or_default(), 1000),
                mime: r.mime_type.clone(),
            })
            .collect())
    }

    /// Reads resource `uri` of server `name` — on, and one of `entries` (the chat's tools) —
    /// live for `workspace`: its contents as one file (texts joined; else the first binary
    /// one).
    pub async fn read_resource(
        &self,
        entries: &[String],
        (name, uri): (&str, &str),
        workspace: &std::path::Path,
    ) -> Result<ResourceFile, CoreError> {
        let server = self.offered(entries, name).await?;
        let conn = self.connection(&server, &root_of(workspace)).await?;
        let params = rmcp::model::ReadResourceRequestParams::new(uri);
        let read = tokio::time::timeout(
            super::client::LIST_TIMEOUT,
            conn.service.read_resource(params),
        )
        .await
        .map_err(|_| {
            CoreError::InvalidInput("The server did not give the resource in time.".into())
        })?
        .map_err(|e| {
            CoreError::InvalidInput(format!(
                "The server could not give {}: {e}.",
                super::config::shown(uri)
            ))
        })?;
        file_of(uri, &read.contents)
    }
}

/// The name an attachment of `uri` gets: its last part, else "resource".
fn name_of(uri: &str) -> String {
    let last = uri
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default();
    let plain: String = last
        .chars()
        .filter(|c| !c.is_control() && !parley_protocol::visible::is_hidden(*c))
        .take(100)
        .collect();
    if plain.trim().is_empty() {
        "resource".into()
    } else {
        plain
    }
}

fn file_of(uri: &str, contents: &[ResourceContents]) -> Result<ResourceFile, CoreError> {
    let too_big = || {
        CoreError::InvalidInput(format!(
            "The resource is larger than {} MB: it is not attached.",
            READ_MAX >> 20
        ))
    };
    let texts: Vec<&str> = contents
        .iter()
        .filter_map(|c| match c {
            ResourceContents::TextResourceContents { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut name = name_of(uri);
    if !texts.is_empty() {
        let text = texts.join("\n\n");
        if text.len() > READ_MAX {
            return Err(too_big());
        }
        if !name.contains('.') {
            name.push_str(".txt");
        }
        return Ok(ResourceFile {
            name,
            mime: "text/plain".into(),
            bytes: text.into_bytes(),
        });
    }
    for c in contents {
        if let ResourceContents::BlobResourceContents {
            blob, mime_type, ..
        } = c
        {
            if blob.len() > READ_MAX / 3 * 4 {
                return Err(too_big());
            }
            let bytes = crate::attachments::from_base64(blob).ok_or_else(|| {
                CoreError::InvalidInput("The server sent a resource that is not base64.".into())
            })?;
            return Ok(ResourceFile {
                name,
                mime: mime_type.clone().unwrap_or_default(),
                bytes,
            });
        }
    }
    Err(CoreError::InvalidInput(
        "The resource has no content Parley can attach.".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_named_after_its_address_plainly() {
        for (uri, want) in [
            ("file:///notes/today.md", "today.md"),
            ("test://static/resource/1", "1"),
            ("memo://", "resource"),
            ("x://a/b\u{202E}c.txt", "bc.txt"),
            ("", "resource"),
        ] {
            assert_eq!(name_of(uri), want, "{uri:?}");
        }
    }
}
