//! MCP server queries: one row per server, its configuration as JSON (names only: the values
//! of its environment variables and headers are in the keychain).

use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::McpServer;
use rusqlite::{params, OptionalExtension};

fn decode(body: String) -> Result<McpServer, StoreError> {
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Every server, by name.
    pub(in crate::mcp) async fn list_mcp_servers(&self) -> Result<Vec<McpServer>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare("SELECT body FROM mcp_servers ORDER BY name")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.map(|b| decode(b?)).collect()
            })
            .await
    }

    /// The server named `name` (names are compared without regard to case).
    pub(in crate::mcp) async fn mcp_server(
        &self,
        name: &str,
    ) -> Result<Option<McpServer>, StoreError> {
        let name = name.to_owned();
        self.reader
            .call(move |c| {
                let body: Option<String> = c
                    .query_row(
                        "SELECT body FROM mcp_servers WHERE name = ?1 COLLATE NOCASE",
                        [name],
                        |r| r.get(0),
                    )
                    .optional()?;
                body.map(decode).transpose()
            })
            .await
    }

    /// Inserts or replaces a server (by id).
    pub(in crate::mcp) async fn put_mcp_server(&self, s: McpServer) -> Result<(), StoreError> {
        let body = serde_json::to_string(&s).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO mcp_servers(id, name, body, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET name = ?2, body = ?3",
                    params![s.id, s.name, body, s.created_at],
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes a server by id; returns whether it existed.
    pub(in crate::mcp) async fn delete_mcp_server(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM mcp_servers WHERE id = ?1", [id])? > 0))
            .await
    }
}

impl Store {
    /// Server `server_id`'s pins: (tool, hash, the pinned definition).
    pub(in crate::mcp) async fn mcp_pins(
        &self,
        server_id: &str,
    ) -> Result<Vec<(String, String, parley_protocol::McpToolInfo)>, StoreError> {
        let id = server_id.to_owned();
        self.reader
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT tool, hash, definition FROM mcp_tool_pins WHERE server_id = ?1",
                )?;
                let rows = stmt.query_map([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let (tool, hash, def) = row?;
                    let def = serde_json::from_str(&def)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    out.push((tool, hash, def));
                }
                Ok(out)
            })
            .await
    }

    /// Pins `tool`'s definition (`hash`) for server `server_id`, replacing its pin.
    pub(in crate::mcp) async fn put_mcp_pin(
        &self,
        server_id: &str,
        tool: &parley_protocol::McpToolInfo,
        hash: &str,
    ) -> Result<(), StoreError> {
        let def = serde_json::to_string(tool).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (id, name, hash) = (server_id.to_owned(), tool.name.clone(), hash.to_owned());
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO mcp_tool_pins(server_id, tool, hash, definition, pinned_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(server_id, tool) DO UPDATE SET hash = ?3, definition = ?4, pinned_at = ?5",
                    params![id, name, hash, def, crate::util::now_ms()],
                )?;
                Ok(())
            })
            .await
    }
}
