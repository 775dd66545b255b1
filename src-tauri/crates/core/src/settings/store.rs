//! Settings queries.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::OptionalExtension;

impl Store {
    /// The stored settings, if the user ever saved any.
    pub async fn settings(&self) -> Result<Option<parley_protocol::Settings>, StoreError> {
        self.reader
            .call(|c| {
                let v: Option<String> = c
                    .query_row("SELECT value FROM settings WHERE key = 'app'", [], |r| {
                        r.get(0)
                    })
                    .optional()?;
                Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
            })
            .await
    }

    /// Saves the settings.
    pub async fn save_settings(
        &self,
        settings: parley_protocol::Settings,
    ) -> Result<(), StoreError> {
        let value =
            serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO settings(key, value) VALUES ('app', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [value],
                )?;
                Ok(())
            })
            .await
    }
}
