//! Assistant queries.

use crate::error::StoreError;
use crate::store::Store;
use crate::util::now_ms;
use rusqlite::params;

impl Store {
    /// Every assistant, by name.
    pub(in crate::assistants) async fn list_assistants(
        &self,
    ) -> Result<Vec<parley_protocol::Assistant>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare("SELECT body FROM assistants")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                let mut out = Vec::new();
                for body in rows {
                    let a: parley_protocol::Assistant = serde_json::from_str(&body?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    out.push(a);
                }
                out.sort_by_key(|a| a.name.to_lowercase());
                Ok(out)
            })
            .await
    }

    /// Inserts or replaces an assistant (by id).
    pub(in crate::assistants) async fn put_assistant(
        &self,
        a: parley_protocol::Assistant,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO assistants(id, body, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET body = ?2",
                    params![a.id, body, now_ms()],
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes an assistant; returns whether it existed.
    pub(in crate::assistants) async fn delete_assistant(
        &self,
        id: &str,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM assistants WHERE id = ?1", [id])? > 0))
            .await
    }
}
