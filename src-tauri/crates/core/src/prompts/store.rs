//! Prompt queries (table `prompts`, schema v14).

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{params, OptionalExtension};

/// A stored prompt: id, name, body, updated_at.
pub(super) type Row = (String, String, String, i64);

impl Store {
    /// Every prompt, by name.
    pub(super) async fn list_prompts(&self) -> Result<Vec<Row>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, name, body, updated_at FROM prompts ORDER BY name COLLATE NOCASE, id",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// The prompt with id `key`, else the one named `key` (without regard to case).
    pub(super) async fn find_prompt(&self, key: &str) -> Result<Option<Row>, StoreError> {
        let key = key.to_owned();
        self.reader
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT id, name, body, updated_at FROM prompts
                     WHERE id = ?1 OR name = ?1 COLLATE NOCASE ORDER BY id = ?1 DESC LIMIT 1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?)
            })
            .await
    }

    /// Inserts or updates a prompt (by id). A name taken by another prompt is
    /// `StoreError::Conflict`-like: the caller checks first; the unique index is the backstop.
    pub(super) async fn put_prompt(&self, row: Row, created_at: i64) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO prompts(id, name, body, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?5, ?4)
                     ON CONFLICT(id) DO UPDATE SET name = ?2, body = ?3, updated_at = ?4",
                    params![row.0, row.1, row.2, row.3, created_at],
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes a prompt; whether it existed.
    pub(super) async fn delete_prompt(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM prompts WHERE id = ?1", [id])? > 0))
            .await
    }

    /// How many prompts there are.
    pub(super) async fn count_prompts(&self) -> Result<u32, StoreError> {
        self.reader
            .call(|c| Ok(c.query_row("SELECT count(*) FROM prompts", [], |r| r.get(0))?))
            .await
    }
}
