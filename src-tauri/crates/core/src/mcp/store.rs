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
