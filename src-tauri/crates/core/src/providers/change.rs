//! A change to the configured providers, described before it is made. The desktop app asks the
//! user to confirm every provider change in a card Rust serves (not in the page that renders
//! model output), so the card shows exactly what [`ProviderService::preview`] says here, and
//! only [`ProviderService::apply`] makes the change.

use super::address::{key_host, key_matches, plain_http_warning, validate_base_url};
use super::ProviderService;
use crate::error::CoreError;
use crate::secrets::Secret;
use parley_protocol::{ProviderDraft, ProviderEdit, ProviderInfo, ProviderKind};

/// One change to the configured providers.
#[derive(Debug, Clone)]
pub enum ProviderChange {
    /// A new provider (its key, if any, goes to the keychain).
    Add(ProviderDraft),
    /// New settings for a provider, and optionally a new key.
    Update {
        /// The new settings.
        edit: ProviderEdit,
        /// A new key, if one was entered.
        key: Option<Secret>,
    },
    /// Remove a provider and its key.
    Remove(String),
    /// Delete a provider's key.
    ClearKey(String),
}

/// What a change will do, in words, for the person confirming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePreview {
    /// One line: what happens ("Add the provider “x”").
    pub title: String,
    /// Label and value of each thing that is set or changed.
    pub rows: Vec<(String, String)>,
    /// What the person should know first (a key that will be deleted, plain http).
    pub warnings: Vec<String>,
    /// Whether something is deleted.
    pub destructive: bool,
}

fn kind_label(k: ProviderKind) -> &'static str {
    match k {
        ProviderKind::Openai => "OpenAI",
        ProviderKind::OpenaiCompatible => "OpenAI-compatible",
        ProviderKind::OpenaiResponses => "OpenAI Responses",
        ProviderKind::Anthropic => "Anthropic",
        ProviderKind::Gemini => "Google Gemini",
        ProviderKind::Ollama => "Ollama",
    }
}

/// A key as the card shows it: never whole. Long keys show their last four characters so the
/// person can tell their own key from someone else's.
pub fn key_hint(key: &str) -> String {
    let n = key.chars().count();
    if n >= 16 {
        let tail: String = key.chars().skip(n - 4).collect();
        format!("a key of {n} characters ending in …{tail}")
    } else {
        format!("a key of {n} characters")
    }
}

fn model_text(m: Option<&str>) -> String {
    m.map(str::trim)
        .filter(|m| !m.is_empty())
        .map_or_else(|| "none".to_owned(), str::to_owned)
}

impl ProviderService {
    /// Checks a change and says what it will do. Nothing is changed.
    pub async fn preview(&self, change: &ProviderChange) -> Result<ChangePreview, CoreError> {
        match change {
            ProviderChange::Add(d) => self.preview_add(d).await,
            ProviderChange::Update { edit, key } => self.preview_update(edit, key.as_ref()).await,
            ProviderChange::Remove(name) => self.preview_remove(name).await,
            ProviderChange::ClearKey(name) => self.preview_clear_key(name).await,
        }
    }

    async fn preview_add(&self, d: &ProviderDraft) -> Result<ChangePreview, CoreError> {
        let mut warnings = Vec::new();
        let (name, url) = self.checked_new(d).await?;
        let mut rows = vec![
            ("Wire format".to_owned(), kind_label(d.kind).to_owned()),
            (
                "Address".to_owned(),
                url.as_str().trim_end_matches('/').to_owned(),
            ),
            (
                "Default model".to_owned(),
                model_text(d.default_model.as_deref()),
            ),
        ];
        match d
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            Some(k) => {
                rows.push((
                    "Key".to_owned(),
                    format!(
                        "{}, saved in the keychain and sent only to {}",
                        key_hint(k),
                        key_host(&url)
                    ),
                ));
                warnings.extend(plain_http_warning(url.as_str()));
            }
            None => rows.push(("Key".to_owned(), "none".to_owned())),
        }
        Ok(ChangePreview {
            title: format!("Add the provider “{name}”"),
            rows,
            warnings,
            destructive: false,
        })
    }

    async fn preview_update(
        &self,
        edit: &ProviderEdit,
        key: Option<&Secret>,
    ) -> Result<ChangePreview, CoreError> {
        let mut warnings = Vec::new();
        let row = self.provider_row(&edit.name).await?;
        let url = validate_base_url(&edit.base_url)?;
        let new_url = url.as_str().trim_end_matches('/').to_owned();
        let mut rows = Vec::new();
        let mut changed = |label: &str, old: String, new: String| {
            if old != new {
                rows.push((label.to_owned(), format!("{old} → {new}")));
            }
        };
        changed(
            "Wire format",
            kind_label(row.kind).into(),
            kind_label(edit.kind).into(),
        );
        changed("Address", row.base_url.clone(), new_url);
        changed(
            "Default model",
            model_text(row.default_model.as_deref()),
            model_text(edit.default_model.as_deref()),
        );
        let key = key.map(|k| k.expose().trim()).filter(|k| !k.is_empty());
        if let Some(k) = key {
            rows.push((
                "Key".to_owned(),
                format!(
                    "{} {}, sent only to {}",
                    if row.key_host.is_some() {
                        "Replace the saved key with"
                    } else {
                        "Save"
                    },
                    key_hint(k),
                    key_host(&url)
                ),
            ));
        }
        if key.is_none() {
            if let Some(bound) = &row.key_host {
                if !key_matches(bound, &row.base_url, &url) {
                    warnings.push(format!(
                        "The saved key will be deleted: it was saved for {bound}, and a key only goes where it was saved for."
                    ));
                }
            }
        }
        if row.key_host.is_some() || key.is_some() {
            warnings.extend(plain_http_warning(url.as_str()));
        }
        if rows.is_empty() {
            rows.push(("Nothing".to_owned(), "no setting changes".to_owned()));
        }
        Ok(ChangePreview {
            title: format!("Change the provider “{}”", row.name),
            destructive: warnings.iter().any(|w| w.contains("deleted")),
            rows,
            warnings,
        })
    }

    async fn preview_remove(&self, name: &str) -> Result<ChangePreview, CoreError> {
        let row = self.provider_row(name).await?;
        Ok(ChangePreview {
            title: format!("Remove the provider “{}”", row.name),
            rows: vec![
                ("Address".to_owned(), row.base_url.clone()),
                (
                    "Key".to_owned(),
                    if row.key_host.is_some() {
                        "deleted from the keychain".to_owned()
                    } else {
                        "none saved".to_owned()
                    },
                ),
            ],
            warnings: vec![
                "Chats that use it keep their messages; they need another provider to continue."
                    .to_owned(),
            ],
            destructive: true,
        })
    }

    async fn preview_clear_key(&self, name: &str) -> Result<ChangePreview, CoreError> {
        let row = self.provider_row(name).await?;
        if row.key_host.is_none() {
            return Err(CoreError::InvalidInput(format!(
                "\"{}\" has no saved key.",
                row.name
            )));
        }
        Ok(ChangePreview {
            title: format!("Delete the key of “{}”", row.name),
            rows: vec![("Address".to_owned(), row.base_url.clone())],
            warnings: vec![
                "The key is deleted from the keychain; enter it again to use this provider."
                    .to_owned(),
            ],
            destructive: true,
        })
    }

    /// Makes a change (checked again: the providers may have changed since the preview).
    pub async fn apply(&self, change: ProviderChange) -> Result<Option<ProviderInfo>, CoreError> {
        match change {
            ProviderChange::Add(d) => self.add_provider(d).await.map(Some),
            ProviderChange::Update { edit, key } => {
                let name = edit.name.clone();
                let info = self.update_provider(edit).await?;
                match key.filter(|k| !k.expose().trim().is_empty()) {
                    Some(k) => self.set_provider_key(&name, k).await.map(Some),
                    None => Ok(Some(info)),
                }
            }
            ProviderChange::Remove(name) => self.remove_provider(&name).await.map(|()| None),
            ProviderChange::ClearKey(name) => self.clear_provider_key(&name).await.map(Some),
        }
    }
}
