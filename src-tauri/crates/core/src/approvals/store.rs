//! Grant queries: the saved "always allow" grants.

use crate::error::StoreError;
use crate::store::Store;
use crate::util::now_ms;
use rusqlite::{params, OptionalExtension};

impl Store {
    /// Saves an "always allow" grant for a workspace (idempotent) and returns it.
    pub(in crate::approvals) async fn add_grant(
        &self,
        workspace: &str,
        tool: &str,
        arguments: &str,
    ) -> Result<parley_protocol::Grant, StoreError> {
        let (workspace, tool, arguments) =
            (workspace.to_owned(), tool.to_owned(), arguments.to_owned());
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO grants(workspace, tool, arguments, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(workspace, tool, arguments) DO NOTHING",
                    params![workspace, tool, arguments, now_ms()],
                )?;
                Ok(c.query_row(
                    &format!("SELECT {COLUMNS} FROM grants WHERE workspace = ?1 AND tool = ?2 AND arguments = ?3"),
                    params![workspace, tool, arguments],
                    grant_row,
                )?)
            })
            .await
    }

    /// Every saved grant, oldest first.
    pub(in crate::approvals) async fn list_grants(
        &self,
    ) -> Result<Vec<parley_protocol::Grant>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM grants ORDER BY workspace, id"
                ))?;
                let rows = stmt.query_map([], grant_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Deletes a grant; returns it when it existed.
    pub(in crate::approvals) async fn delete_grant(
        &self,
        id: i64,
    ) -> Result<Option<parley_protocol::Grant>, StoreError> {
        self.writer
            .call(move |c| {
                let g = c
                    .query_row(
                        &format!("SELECT {COLUMNS} FROM grants WHERE id = ?1"),
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

const COLUMNS: &str = "id, workspace, tool, arguments, created_at";

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<parley_protocol::Grant> {
    Ok(parley_protocol::Grant {
        id: r.get(0)?,
        workspace: r.get(1)?,
        tool: r.get(2)?,
        arguments: r.get(3)?,
        created_at: r.get(4)?,
    })
}

#[cfg(test)]
tables_door! {
    /// The grants table for the tests of other topics (the floor's store tests).
    pub(crate) trait GrantTables {
        fn add_grant(
            &self,
            workspace: &str,
            tool: &str,
            arguments: &str,
        ) -> Result<parley_protocol::Grant, StoreError>;
        fn list_grants(&self) -> Result<Vec<parley_protocol::Grant>, StoreError>;
    }
}
