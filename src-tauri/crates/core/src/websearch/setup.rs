//! Setting the backend: checked and previewed for the change card (the window proposes, the
//! person confirms in the card), then applied. A key lives in the keychain under an account
//! named for the address it is bound to (`websearch:scheme://host:port`): it is read only for
//! that address, and a new address or service leaves it behind (deleted, best effort: a locked
//! keychain never keeps web search on).

use super::{address, WebSearchService};
use crate::error::CoreError;
use crate::providers::ChangePreview;
use crate::secrets::{Secret, SecretStore};
use parley_protocol::{SearchBackend, SearchBackendKind, SearchBackendSetup};

/// A change to web search, shown in the change card before it is made.
#[derive(Debug, Clone)]
pub enum WebSearchChange {
    /// Use this service (replacing the one before).
    Set(SearchBackendSetup),
    /// Turn web search off and delete the key.
    Remove,
}

/// A setup checked: where searches go, the new key, whether the saved one stays.
struct Plan {
    kind: SearchBackendKind,
    url: url::Url,
    new_key: Option<String>,
    bound: String,
    keep: bool,
    /// The account of a saved key this change leaves behind.
    drop_account: Option<String>,
}

/// The keychain account of a key bound to `bound`.
pub(super) fn account(bound: &str) -> String {
    format!("websearch:{bound}")
}

impl WebSearchService {
    /// Checks a setup without changing anything.
    async fn plan(&self, setup: SearchBackendSetup) -> Result<Plan, CoreError> {
        let url = address(setup.kind, setup.url.as_deref())?;
        let new_key = setup
            .key
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty());
        if !setup.kind.needs_key() && new_key.is_some() {
            return Err(CoreError::InvalidInput(format!(
                "{} takes no key: leave the key empty.",
                setup.kind.label()
            )));
        }
        let bound = crate::net::key_host(&url);
        let old = self.shared.store.search_backend().await?;
        let old_bound = old.as_ref().and_then(|(_, _, b)| b.clone());
        let keep = old.as_ref().is_some_and(|(kind, _, b)| {
            kind == setup.kind.as_str() && b.as_deref() == Some(bound.as_str())
        }) && new_key.is_none();
        if setup.kind.needs_key() && new_key.is_none() && !keep {
            return Err(CoreError::InvalidInput(format!(
                "{} needs an API key: paste the key from your account there.",
                setup.kind.label()
            )));
        }
        if setup.kind.needs_key() && !crate::net::https_or_loopback(&url) {
            return Err(CoreError::InvalidInput(format!(
                "A key is sent only over https (or to this computer); {} is plain http. Use its https address.",
                url.host_str().unwrap_or_default()
            )));
        }
        let drop_account = old_bound
            .filter(|b| !keep || *b != bound)
            .map(|b| account(&b));
        Ok(Plan {
            kind: setup.kind,
            url,
            new_key,
            bound,
            keep,
            drop_account,
        })
    }

    /// Sets the backend (the CLI; the window goes through the change card).
    pub async fn set_backend(&self, setup: SearchBackendSetup) -> Result<SearchBackend, CoreError> {
        let plan = self.plan(setup).await?;
        if let Some(k) = &plan.new_key {
            let (secret, acct) = (Secret::new(k.clone()), account(&plan.bound));
            self.keychain(move |s| s.set(&acct, &secret)).await?;
        }
        let has_key = plan.new_key.is_some() || plan.keep;
        let row = (
            plan.kind.as_str().to_owned(),
            plan.url.to_string(),
            has_key.then(|| plan.bound.clone()),
        );
        self.shared.store.put_search_backend(row).await?;
        if let Some(old) = plan
            .drop_account
            .filter(|a| *a != account(&plan.bound) || !has_key)
        {
            self.forget_key(old).await;
        }
        self.backend()
            .await?
            .ok_or_else(|| CoreError::Internal("the backend was not saved".into()))
    }

    /// Turns web search off: the setting first (so a locked keychain never keeps it on), then
    /// the key, best effort.
    pub async fn remove_backend(&self) -> Result<(), CoreError> {
        let saved = self.shared.store.search_backend().await?;
        self.shared.store.delete_search_backend().await?;
        if let Some(bound) = saved.and_then(|(_, _, b)| b) {
            self.forget_key(account(&bound)).await;
        }
        Ok(())
    }

    /// What the change card shows for `change`, checked as applying it would be.
    pub async fn preview(&self, change: &WebSearchChange) -> Result<ChangePreview, CoreError> {
        let SearchBackendSetup { kind, url, key } = match change {
            WebSearchChange::Remove => {
                return Ok(ChangePreview {
                    title: "Turn web search off".into(),
                    rows: vec![(
                        "Key".into(),
                        "deleted from the keychain, if one was saved".into(),
                    )],
                    warnings: Vec::new(),
                    destructive: true,
                })
            }
            WebSearchChange::Set(s) => s.clone(),
        };
        let plan = self.plan(SearchBackendSetup { kind, url, key }).await?;
        let host = plan.url.host_str().unwrap_or_default().to_owned();
        let key = match (&plan.new_key, plan.keep) {
            (Some(k), _) => format!(
                "a new key ({}), kept in the keychain, sent only to {}",
                crate::providers::key_hint(k),
                plan.bound
            ),
            (None, true) => "the saved key".into(),
            (None, false) => "none".into(),
        };
        let mut warnings = Vec::new();
        if let Some(w) = super::warning(plan.kind, &plan.url, plan.new_key.is_some() || plan.keep) {
            warnings.push(w);
        }
        if plan.drop_account.is_some() && !plan.keep {
            warnings.push("The key saved for the search service before will be deleted.".into());
        }
        Ok(ChangePreview {
            title: format!("Send web searches to {} at {host}", plan.kind.label()),
            rows: vec![
                ("Service".into(), plan.kind.label().into()),
                ("Address".into(), plan.url.to_string()),
                ("Key".into(), key),
                (
                    "Sent".into(),
                    "each search's query, when you allow the search".into(),
                ),
            ],
            warnings,
            destructive: false,
        })
    }

    /// Makes a change the person confirmed in its card.
    pub async fn apply(&self, change: WebSearchChange) -> Result<(), CoreError> {
        match change {
            WebSearchChange::Set(setup) => self.set_backend(setup).await.map(|_| ()),
            WebSearchChange::Remove => self.remove_backend().await,
        }
    }

    /// Reads the saved key once at the start, so that logs and tool output are redacted of it
    /// before any search (a `Secret` remembers what it holds).
    pub(crate) fn remember_saved_key(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(Some((_, _, Some(bound)))) = this.shared.store.search_backend().await else {
                return;
            };
            let acct = account(&bound);
            if let Err(e) = this.keychain(move |s| s.get(&acct)).await {
                tracing::warn!("could not read the web search key: {}", e.to_info().message);
            }
        });
    }

    /// Deletes a key left behind; a keychain that refuses is logged, not an error.
    async fn forget_key(&self, acct: String) {
        if let Err(e) = self.keychain(move |s| s.delete(&acct)).await {
            tracing::warn!(
                "a web search key left behind was not deleted: {}",
                e.to_info().message
            );
        }
    }

    pub(super) async fn keychain<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<R, crate::secrets::SecretError> + Send + 'static,
    ) -> Result<R, CoreError> {
        let secrets = self.shared.secrets.clone();
        // Keychain calls block (D-Bus): off the async workers.
        tokio::task::spawn_blocking(move || f(&*secrets))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .map_err(CoreError::from)
    }
}
