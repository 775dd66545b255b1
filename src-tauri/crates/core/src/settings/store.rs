//! Settings queries.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::OptionalExtension;
use serde::de::DeserializeOwned;
use serde::Serialize;

impl Store {
    /// The stored settings, if the user ever saved any.
    pub(in crate::settings) async fn settings(
        &self,
    ) -> Result<Option<parley_protocol::Settings>, StoreError> {
        self.setting("app").await
    }

    /// Saves the settings.
    pub(in crate::settings) async fn save_settings(
        &self,
        settings: parley_protocol::Settings,
    ) -> Result<(), StoreError> {
        self.save_setting("app", &settings).await
    }

    /// The value saved under `key` (JSON); `None` when none was saved or it no longer reads.
    pub(in crate::settings) async fn setting<T: DeserializeOwned + Send + 'static>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.reader
            .call(move |c| {
                let v: Option<String> = c
                    .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                        r.get(0)
                    })
                    .optional()?;
                Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
            })
            .await
    }

    /// Saves `value` (as JSON) under `key`.
    pub(in crate::settings) async fn save_setting<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, &value],
                )?;
                Ok(())
            })
            .await
    }
}
