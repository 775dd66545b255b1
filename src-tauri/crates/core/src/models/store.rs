//! Local model queries: one row per installed model (its description as JSON, names unique
//! without regard to case), and the engine's own settings (idle time, the hub's address).

use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::LocalModel;
use rusqlite::{params, OptionalExtension};

fn decode(body: String) -> Result<LocalModel, StoreError> {
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Every installed model, oldest first.
    pub(in crate::models) async fn local_models(&self) -> Result<Vec<LocalModel>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt =
                    c.prepare("SELECT body FROM local_models ORDER BY added_at, name")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.map(|b| decode(b?)).collect()
            })
            .await
    }

    /// Inserts a model, or replaces the one of the same name.
    pub(in crate::models) async fn put_local_model(&self, m: LocalModel) -> Result<(), StoreError> {
        let body = serde_json::to_string(&m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO local_models(name, path, body, added_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(name) DO UPDATE SET path = ?2, body = ?3",
                    params![m.name, m.path, body, m.added_at],
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes a model by name; returns whether it existed.
    pub(in crate::models) async fn delete_local_model(
        &self,
        name: &str,
    ) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .call(move |c| {
                Ok(c.execute(
                    "DELETE FROM local_models WHERE name = ?1 COLLATE NOCASE",
                    [name],
                )? > 0)
            })
            .await
    }

    /// One of the engine's settings.
    pub(in crate::models) async fn engine_setting(
        &self,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.reader
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT value FROM engine_settings WHERE key = ?1",
                    [key],
                    |r| r.get(0),
                )
                .optional()?)
            })
            .await
    }

    /// Saves one of the engine's settings.
    pub(in crate::models) async fn put_engine_setting(
        &self,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO engine_settings(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = ?2",
                    params![key, value],
                )?;
                Ok(())
            })
            .await
    }
}
