//! Grant queries: the saved "always allow" grants.

use crate::error::StoreError;
use crate::store::Store;
use crate::util::now_ms;
use rusqlite::{params, OptionalExtension};

impl Store {
    /// Saves an "always allow" grant (idempotent) and returns it.
    pub async fn add_grant(
        &self,
        tool: &str,
        arguments: &str,
    ) -> Result<parley_protocol::Grant, StoreError> {
        let (tool, arguments) = (tool.to_owned(), arguments.to_owned());
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO grants(tool, arguments, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(tool, arguments) DO NOTHING",
                    params![tool, arguments, now_ms()],
                )?;
                Ok(c.query_row(
                    "SELECT id, tool, arguments, created_at FROM grants WHERE tool = ?1 AND arguments = ?2",
                    params![tool, arguments],
                    grant_row,
                )?)
            })
            .await
    }

    /// Every saved grant, oldest first.
    pub async fn list_grants(&self) -> Result<Vec<parley_protocol::Grant>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt =
                    c.prepare("SELECT id, tool, arguments, created_at FROM grants ORDER BY id")?;
                let rows = stmt.query_map([], grant_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Deletes a grant; returns it when it existed.
    pub async fn delete_grant(
        &self,
        id: i64,
    ) -> Result<Option<parley_protocol::Grant>, StoreError> {
        self.writer
            .call(move |c| {
                let g = c
                    .query_row(
                        "SELECT id, tool, arguments, created_at FROM grants WHERE id = ?1",
                        [id],
                        grant_row,
                    )
                    .optional()?;
                c.execute("DELETE FROM grants WHERE id = ?1", [id])?;
                Ok(g)
            })
            .await
    }
}

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<parley_protocol::Grant> {
    Ok(parley_protocol::Grant {
        id: r.get(0)?,
        tool: r.get(1)?,
        arguments: r.get(2)?,
        created_at: r.get(3)?,
    })
}
