//! Provider queries: configured providers (never their keys) and cached model lists.

use crate::error::StoreError;
use crate::store::Store;
use crate::util::now_ms;
use parley_protocol::ProviderKind;
use rusqlite::{params, OptionalExtension};

/// A provider as stored (no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    /// Unique name.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
    /// The host a saved key is bound to; `None` when no key is saved.
    pub key_host: Option<String>,
    /// When it was added.
    pub created_at: i64,
}

impl Store {
    /// Adds a provider; fails if the name is taken.
    pub(in crate::providers) async fn insert_provider(
        &self,
        row: ProviderRow,
    ) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO providers(name, kind, base_url, default_model, key_host, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        row.name,
                        row.kind.as_str(),
                        row.base_url,
                        row.default_model,
                        row.key_host,
                        row.created_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    /// Replaces a provider's settings.
    pub(in crate::providers) async fn update_provider(
        &self,
        row: ProviderRow,
    ) -> Result<bool, StoreError> {
        self.writer
            .call(move |c| {
                let n = c.execute(
                    "UPDATE providers SET kind = ?2, base_url = ?3, default_model = ?4, key_host = ?5
                     WHERE name = ?1",
                    params![
                        row.name,
                        row.kind.as_str(),
                        row.base_url,
                        row.default_model,
                        row.key_host
                    ],
                )?;
                Ok(n > 0)
            })
            .await
    }

    /// All providers, oldest first.
    pub(in crate::providers) async fn list_providers(
        &self,
    ) -> Result<Vec<ProviderRow>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT name, kind, base_url, default_model, key_host, created_at
                     FROM providers ORDER BY created_at, name",
                )?;
                let rows = stmt.query_map([], provider_row)?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(r??);
                }
                Ok(out)
            })
            .await
    }

    /// One provider by name.
    pub(in crate::providers) async fn get_provider(
        &self,
        name: &str,
    ) -> Result<Option<ProviderRow>, StoreError> {
        let name = name.to_owned();
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        "SELECT name, kind, base_url, default_model, key_host, created_at
                         FROM providers WHERE name = ?1",
                        [name],
                        provider_row,
                    )
                    .optional()?;
                row.transpose()
            })
            .await
    }

    /// Deletes a provider; returns whether it existed.
    pub(in crate::providers) async fn delete_provider(
        &self,
        name: &str,
    ) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM providers WHERE name = ?1", [name])? > 0))
            .await
    }

    /// A provider's cached model list (`None` when never fetched).
    pub(in crate::providers) async fn model_list(
        &self,
        provider: &str,
    ) -> Result<Option<parley_protocol::ModelList>, StoreError> {
        let provider = provider.to_owned();
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        "SELECT models, fetched_at, error FROM model_lists WHERE provider = ?1",
                        [&provider],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Option<i64>>(1)?,
                                r.get::<_, Option<String>>(2)?,
                            ))
                        },
                    )
                    .optional()?;
                Ok(
                    row.map(|(models, fetched_at, error)| parley_protocol::ModelList {
                        provider,
                        // A list that no longer parses is simply fetched again.
                        models: serde_json::from_str(&models).unwrap_or_default(),
                        fetched_at,
                        error: error.and_then(|e| serde_json::from_str(&e).ok()),
                    }),
                )
            })
            .await
    }

    /// Forgets a provider's cached model list (its address changed).
    pub(in crate::providers) async fn clear_model_list(
        &self,
        provider: &str,
    ) -> Result<(), StoreError> {
        let provider = provider.to_owned();
        self.writer
            .call(move |c| {
                c.execute("DELETE FROM model_lists WHERE provider = ?1", [provider])?;
                Ok(())
            })
            .await
    }

    /// Stores a freshly fetched model list, or (with `Err`) records why the refresh failed
    /// while keeping the models cached before.
    pub(in crate::providers) async fn put_model_list(
        &self,
        provider: &str,
        fetched: Result<Vec<parley_protocol::ModelInfo>, parley_protocol::ErrorInfo>,
    ) -> Result<(), StoreError> {
        let provider = provider.to_owned();
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        let (models, error) = match &fetched {
            Ok(m) => (Some(serde_json::to_string(m).map_err(corrupt)?), None),
            Err(e) => (None, Some(serde_json::to_string(e).map_err(corrupt)?)),
        };
        self.writer
            .call(move |c| {
                match models {
                    Some(models) => c.execute(
                        "INSERT INTO model_lists(provider, models, fetched_at, error) VALUES (?1, ?2, ?3, NULL)
                         ON CONFLICT(provider) DO UPDATE SET models = ?2, fetched_at = ?3, error = NULL",
                        params![provider, models, now_ms()],
                    )?,
                    None => c.execute(
                        "INSERT INTO model_lists(provider, models, fetched_at, error) VALUES (?1, '[]', NULL, ?2)
                         ON CONFLICT(provider) DO UPDATE SET error = ?2",
                        params![provider, error],
                    )?,
                };
                Ok(())
            })
            .await
    }
}

fn provider_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ProviderRow, StoreError>> {
    let kind: String = r.get(1)?;
    let row = ProviderRow {
        name: r.get(0)?,
        kind: ProviderKind::OpenaiCompatible,
        base_url: r.get(2)?,
        default_model: r.get(3)?,
        key_host: r.get(4)?,
        created_at: r.get(5)?,
    };
    Ok(match ProviderKind::parse(&kind) {
        Some(k) => Ok(ProviderRow { kind: k, ..row }),
        None => Err(StoreError::Corrupt(format!(
            "unknown provider kind {kind:?}"
        ))),
    })
}

#[cfg(test)]
tables_door! {
    /// The providers table for the tests of other topics (usage per provider).
    pub(crate) trait ProviderTables {
        fn insert_provider(&self, row: ProviderRow) -> Result<(), StoreError>;
    }
}
