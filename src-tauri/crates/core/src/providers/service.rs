//! Providers as the user configures them: add, edit, remove, keys (only in the keychain, bound
//! to the host they were saved for), connection checks, model lists (fetched and cached),
//! presets and local-server discovery. Wire formats are the sibling modules; queries are in
//! `store.rs`.

use super::address::{key_host, key_matches, plain_http_warning, server_of, validate_base_url};
use super::{LocalEngine, ModelProvider, ProviderRow};
use crate::error::{CoreError, StoreError};
use crate::secrets::{provider_account, Secret, SecretStore};
use crate::settings::SettingsService;
use crate::shared::Shared;
use crate::util::now_ms;
use parley_protocol::{
    ConnectionDraft, ConnectionReport, LocalServer, ModelList, ModelWindow, ProviderDraft,
    ProviderEdit, ProviderInfo, ProviderPreset, BUILTIN_PROVIDER,
};

/// The settings key of the user's own context windows.
const WINDOWS: &str = "context_windows";
use std::sync::Arc;

/// Configured providers.
#[derive(Clone)]
pub struct ProviderService {
    shared: Arc<Shared>,
    /// The saved idle timeout wins over the core's default.
    settings: SettingsService,
    /// The built-in engine, offered as the provider BUILTIN_PROVIDER when it has models.
    engine: Option<Arc<dyn LocalEngine>>,
}

impl ProviderService {
    pub(crate) fn new(shared: Arc<Shared>, settings: SettingsService) -> Self {
        ProviderService {
            shared,
            settings,
            engine: None,
        }
    }

    /// The same service, offering the built-in engine too (the wiring sets it).
    pub(crate) fn with_engine(mut self, engine: Arc<dyn LocalEngine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Every provider's name, oldest first, then the built-in engine's when it has models
    /// (which provider answers: `chats`).
    pub(crate) async fn names(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.shared.store.list_providers().await?;
        let mut names: Vec<String> = rows.into_iter().map(|r| r.name).collect();
        if self.builtin_models().await.is_some() {
            names.push(BUILTIN_PROVIDER.to_owned());
        }
        Ok(names)
    }

    /// The built-in engine's models, when it is offered and has any.
    async fn builtin_models(&self) -> Option<Vec<parley_protocol::ModelInfo>> {
        let models = self.engine.as_ref()?.models().await.ok()?;
        (!models.is_empty()).then_some(models)
    }

    /// A provider's cached model list, `None` when never fetched (no request is made). The
    /// built-in engine's is its installed models, read now.
    pub(crate) async fn cached_models(&self, name: &str) -> Result<Option<ModelList>, StoreError> {
        if name == BUILTIN_PROVIDER && self.engine.is_some() {
            return Ok(Some(builtin_list(
                self.builtin_models().await.unwrap_or_default(),
            )));
        }
        self.shared.store.model_list(name).await
    }

    /// A new provider's name and address, checked: a valid name not taken yet, a valid URL.
    pub(super) async fn checked_new(
        &self,
        p: &ProviderDraft,
    ) -> Result<(String, url::Url), CoreError> {
        let name = super::names::validate_name(&p.name)?;
        let url = validate_base_url(&p.base_url)?;
        if self.shared.store.get_provider(&name).await?.is_some() {
            return Err(CoreError::InvalidInput(format!(
                "A provider named \"{name}\" already exists. Pick another name or remove it first."
            )));
        }
        Ok((name, url))
    }

    /// Adds a provider, saving its key (if any) in the keychain first.
    pub async fn add_provider(&self, p: ProviderDraft) -> Result<ProviderInfo, CoreError> {
        let (name, url) = self.checked_new(&p).await?;
        let model = p
            .default_model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        let mut key_host_value = None;
        if let Some(key) = p.api_key.filter(|k| !k.trim().is_empty()) {
            let key = Secret::new(key.trim());
            self.with_secrets(move |s, account| s.set(&account, &key), &name)
                .await?;
            key_host_value = Some(key_host(&url));
        }
        let base_url = url.as_str().trim_end_matches('/').to_owned();
        let row = ProviderRow {
            name,
            kind: p.kind,
            base_url,
            default_model: model,
            key_host: key_host_value,
            created_at: now_ms(),
        };
        self.shared.store.insert_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Reads every saved key once, in the background, so that redaction knows them before any
    /// is used (a tool could print one first). Failures are only logged: nothing depends on it.
    pub(crate) fn remember_saved_keys(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(rows) = this.shared.store.list_providers().await else {
                return;
            };
            for row in rows.into_iter().filter(|r| r.key_host.is_some()) {
                // Reading wraps the key in a `Secret`, which remembers it.
                if let Err(e) = this.with_secrets(|s, a| s.get(&a), &row.name).await {
                    tracing::warn!(
                        "could not read the key of {}: {}",
                        row.name,
                        e.to_info().message
                    );
                }
            }
        });
    }

    /// All providers. The webview and CLI learn only whether a key exists.
    pub async fn list_providers(&self) -> Result<Vec<ProviderInfo>, CoreError> {
        let mut all: Vec<ProviderInfo> = (self.shared.store.list_providers().await?)
            .into_iter()
            .map(provider_info)
            .collect();
        if let Some(models) = self.builtin_models().await {
            all.push(provider_info(builtin_row(&models)));
        }
        Ok(all)
    }

    /// Removes a provider and its key.
    pub async fn remove_provider(&self, name: &str) -> Result<(), CoreError> {
        let row = self.provider_row(name).await?;
        if row.key_host.is_some() {
            self.with_secrets(|s, account| s.delete(&account), name)
                .await?;
        }
        self.shared.store.delete_provider(name).await?;
        Ok(())
    }

    /// Changes a provider's kind, base URL or default model. Moving it to another scheme, host
    /// or port deletes its saved key: a key is only ever sent where it was saved for (an
    /// `https` key never goes out over `http`).
    pub async fn update_provider(&self, p: ProviderEdit) -> Result<ProviderInfo, CoreError> {
        let mut row = self.provider_row(&p.name).await?;
        let url = validate_base_url(&p.base_url)?;
        if let Some(bound) = &row.key_host {
            if key_matches(bound, &row.base_url, &url) {
                row.key_host = Some(key_host(&url));
            } else {
                self.with_secrets(|s, account| s.delete(&account), &row.name)
                    .await?;
                row.key_host = None;
            }
        }
        let new_url = url.as_str().trim_end_matches('/').to_owned();
        if new_url != row.base_url || p.kind != row.kind {
            // Another server (or another API on it) has other models.
            self.shared.store.clear_model_list(&row.name).await?;
        }
        row.kind = p.kind;
        row.base_url = new_url;
        row.default_model = p
            .default_model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        self.shared.store.update_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Saves a provider's API key in the keychain, bound to the provider's current host.
    pub async fn set_provider_key(
        &self,
        name: &str,
        key: Secret,
    ) -> Result<ProviderInfo, CoreError> {
        let mut row = self.provider_row(name).await?;
        let key = key.expose().trim().to_owned();
        if key.is_empty() {
            return Err(CoreError::InvalidInput("The API key is empty.".into()));
        }
        let url = validate_base_url(&row.base_url)?;
        let secret = Secret::new(key);
        self.with_secrets(move |s, account| s.set(&account, &secret), name)
            .await?;
        row.key_host = Some(key_host(&url));
        self.shared.store.update_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Deletes a provider's API key from the keychain.
    pub async fn clear_provider_key(&self, name: &str) -> Result<ProviderInfo, CoreError> {
        let mut row = self.provider_row(name).await?;
        self.with_secrets(|s, account| s.delete(&account), name)
            .await?;
        row.key_host = None;
        self.shared.store.update_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Checks that a provider answers: lists its models and says plainly what is wrong if it
    /// does not. Works on a saved provider or on a draft (the draft's key is used once and not
    /// stored).
    pub async fn check_connection(
        &self,
        check: ConnectionDraft,
    ) -> Result<ConnectionReport, CoreError> {
        let url = validate_base_url(&check.base_url)?;
        let key = match (check.api_key, &check.saved_provider) {
            (Some(k), _) if !k.trim().is_empty() => {
                crate::secrets::remember(&k);
                Some(k.trim().to_owned())
            }
            (_, Some(name)) => {
                let row = self.provider_row(name).await?;
                match &row.key_host {
                    Some(bound) if key_matches(bound, &row.base_url, &url) => self
                        .with_secrets(|s, account| s.get(&account), name)
                        .await?
                        .map(|s| s.expose().to_owned()),
                    _ => None,
                }
            }
            _ => None,
        };
        let provider = crate::providers::for_kind(
            check.kind,
            self.shared.client.get()?,
            url.as_str().trim_end_matches('/'),
            key,
            self.shared.http.clone(),
        );
        let purpose = parley_protocol::OutboundPurpose::ConnectionTest;
        let cause = format!("testing a provider at {}", url.host_str().unwrap_or("?"));
        let listed =
            crate::ledger::within_exact(&self.shared.ledger, purpose, cause, provider.models());
        Ok(match listed.await {
            Ok(models) => ConnectionReport {
                ok: true,
                message: match models.len() {
                    0 => {
                        "Connected, but the provider lists no models. Type the model name yourself."
                            .to_owned()
                    }
                    1 => "Connected: 1 model available.".to_owned(),
                    n => format!("Connected: {n} models available."),
                },
                models,
            },
            Err(e) => ConnectionReport {
                ok: false,
                message: e.user_message(),
                models: Vec::new(),
            },
        })
    }

    /// A provider's model list: the cached one, or — when `refresh` is set or nothing is
    /// cached yet — fetched from the provider and cached. A failed refresh keeps the cached
    /// models and reports why in `error`.
    pub async fn list_models(&self, name: &str, refresh: bool) -> Result<ModelList, CoreError> {
        if name == BUILTIN_PROVIDER && self.engine.is_some() {
            return Ok(builtin_list(
                self.builtin_models().await.unwrap_or_default(),
            ));
        }
        let row = self.provider_row(name).await?;
        if !refresh {
            if let Some(cached) = self.shared.store.model_list(name).await? {
                if cached.fetched_at.is_some() {
                    return Ok(cached);
                }
            }
        }
        let (purpose, cause) = (
            parley_protocol::OutboundPurpose::ModelList,
            format!("provider {name}"),
        );
        let fetched = match self.build_provider(&row).await {
            Ok(provider) => {
                crate::ledger::within(&self.shared.ledger, purpose, cause, provider.models())
                    .await
                    .map_err(|e| e.to_info())
            }
            Err(e) => Err(e.to_info()),
        };
        self.shared.store.put_model_list(name, fetched).await?;
        Ok(self
            .shared
            .store
            .model_list(name)
            .await?
            .unwrap_or(ModelList {
                provider: name.to_owned(),
                models: Vec::new(),
                fetched_at: None,
                error: None,
            }))
    }

    /// The window table in use: the user's figures and the shipped ones for other models.
    pub async fn context_windows(&self) -> Result<Vec<ModelWindow>, CoreError> {
        let user = self.settings.value::<Vec<ModelWindow>>(WINDOWS).await?;
        Ok(super::windows::merged(user.unwrap_or_default()))
    }

    /// Saves the user's figures (rows marked `"default"` that are unchanged are the shipped
    /// ones and are not saved). Returns the table in use.
    pub async fn save_context_windows(
        &self,
        table: Vec<ModelWindow>,
    ) -> Result<Vec<ModelWindow>, CoreError> {
        super::windows::validate(&table).map_err(CoreError::InvalidInput)?;
        let shipped = super::windows::defaults();
        let today = crate::util::day_of(now_ms());
        let user: Vec<ModelWindow> = table
            .into_iter()
            .filter(|w| !shipped.contains(w))
            .map(|mut w| {
                if w.source != "user" || w.as_of.is_empty() {
                    w.source = "user".into();
                    w.as_of = today.clone();
                }
                w
            })
            .collect();
        self.settings.save_value(WINDOWS, &user).await?;
        self.context_windows().await
    }

    /// The context window of `model` at provider `name`: the user's figure, the provider's
    /// cached model list (no request is made), the shipped table or the default, in that
    /// order (`windows::resolve`). A table or list that cannot be read counts as silent.
    pub(crate) async fn window_of(&self, name: &str, model: &str) -> super::windows::Window {
        let table = match self.context_windows().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("the context window table could not be read: {e}");
                super::windows::defaults()
            }
        };
        let listed = match self.cached_models(name).await {
            Ok(Some(list)) => list.models.into_iter().find(|m| m.id == model),
            _ => None,
        };
        super::windows::resolve(&table, listed.as_ref(), model)
    }

    /// Ready-made provider configurations (cloud services and local servers).
    pub fn provider_presets(&self) -> Vec<ProviderPreset> {
        crate::providers::presets::all()
    }

    /// Looks for model servers running on this machine — loopback only, the usual ports —
    /// and says which of them are already configured.
    pub async fn discover_local(&self) -> Result<Vec<LocalServer>, CoreError> {
        self.discover_local_at(crate::providers::presets::LOCAL_PORTS)
            .await
    }

    /// [`ProviderService::discover_local`] on the given `(port, preset id)` pairs (tests use free ports).
    pub async fn discover_local_at(
        &self,
        ports: &[(u16, &str)],
    ) -> Result<Vec<LocalServer>, CoreError> {
        let (purpose, cause) = (
            parley_protocol::OutboundPurpose::Discovery,
            "looking for model servers on this computer",
        );
        let probes = crate::providers::presets::probe_loopback(ports);
        let mut found = crate::ledger::within(&self.shared.ledger, purpose, cause, probes).await;
        let providers = self.shared.store.list_providers().await?;
        for server in &mut found {
            // Same server: same host and port, whatever the scheme (no key is involved here).
            let at = server_of(&server.base_url);
            server.configured_as = providers
                .iter()
                .find(|p| server_of(&p.base_url) == at)
                .map(|p| p.name.clone());
        }
        Ok(found)
    }

    pub(crate) async fn provider_row(&self, name: &str) -> Result<ProviderRow, CoreError> {
        self.shared.store.get_provider(name).await?.ok_or_else(|| {
            if name == BUILTIN_PROVIDER {
                return CoreError::InvalidInput(format!(
                    "\"{BUILTIN_PROVIDER}\" is Parley's built-in engine: it has no address or key to change. Its models are in Settings → Models (parley models)."
                ));
            }
            CoreError::NotFound(format!(
                "No provider named \"{name}\". Add it first (parley providers add, or Settings)."
            ))
        })
    }

    /// The provider that answers as `name`: a configured one, or the built-in engine (its
    /// default model the first installed one).
    pub(crate) async fn answering_row(&self, name: &str) -> Result<ProviderRow, CoreError> {
        if name == BUILTIN_PROVIDER && self.engine.is_some() {
            let models = self.builtin_models().await.ok_or_else(|| {
                CoreError::InvalidInput(
                    "No local model is installed yet. Add one in Settings → Models (or parley models add FILE)."
                        .into(),
                )
            })?;
            return Ok(builtin_row(&models));
        }
        self.provider_row(name).await
    }

    async fn with_secrets<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore, String) -> Result<R, crate::secrets::SecretError>
            + Send
            + 'static,
        provider: &str,
    ) -> Result<R, CoreError> {
        let secrets = self.shared.secrets.clone();
        let account = provider_account(provider);
        // Keychain calls block (D-Bus, Security framework): keep them off the async workers.
        tokio::task::spawn_blocking(move || f(&*secrets, account))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .map_err(CoreError::from)
    }

    pub(crate) async fn build_provider(
        &self,
        row: &ProviderRow,
    ) -> Result<Arc<dyn ModelProvider>, CoreError> {
        if let (Some(engine), true) = (&self.engine, row.name == BUILTIN_PROVIDER) {
            return Ok(Arc::new(super::builtin::Builtin {
                engine: engine.clone(),
                client: self.shared.loopback.clone(),
                http: self.shared.http.clone(),
            }));
        }
        let url = validate_base_url(&row.base_url)?;
        let key = match &row.key_host {
            None => None,
            Some(bound) if !key_matches(bound, &row.base_url, &url) => {
                return Err(CoreError::InvalidInput(format!(
                    "The key for \"{}\" was saved for {bound}, but the provider now points at {}. Enter the key again for the new address.",
                    row.name,
                    key_host(&url)
                )))
            }
            Some(_) => {
                let secret = self
                    .with_secrets(|s, account| s.get(&account), &row.name)
                    .await?;
                match secret {
                    Some(s) => Some(s.expose().to_owned()),
                    None => {
                        return Err(CoreError::InvalidInput(format!(
                            "The API key for \"{}\" is missing from the keychain. Enter it again in the provider's settings.",
                            row.name
                        )))
                    }
                }
            }
        };
        let mut http = self.shared.http.clone();
        // Saved settings win over the defaults the core was opened with.
        if let Some(settings) = self.settings.saved().await? {
            http.idle_timeout = std::time::Duration::from_secs(settings.idle_timeout_secs.into());
        }
        Ok(crate::providers::for_kind(
            row.kind,
            self.shared.client.get()?,
            &row.base_url,
            key,
            http,
        ))
    }
}

fn provider_info(row: ProviderRow) -> ProviderInfo {
    ProviderInfo {
        key_warning: row
            .key_host
            .is_some()
            .then(|| plain_http_warning(&row.base_url))
            .flatten(),
        has_key: row.key_host.is_some(),
        name: row.name,
        kind: row.kind,
        base_url: row.base_url,
        default_model: row.default_model,
    }
}

/// The built-in engine as a provider row (never stored).
fn builtin_row(models: &[parley_protocol::ModelInfo]) -> ProviderRow {
    ProviderRow {
        name: BUILTIN_PROVIDER.to_owned(),
        kind: parley_protocol::ProviderKind::OpenaiCompatible,
        base_url: "http://127.0.0.1".into(),
        default_model: models.first().map(|m| m.id.clone()),
        key_host: None,
        created_at: 0,
    }
}

/// The built-in engine's models as a model list.
fn builtin_list(models: Vec<parley_protocol::ModelInfo>) -> ModelList {
    ModelList {
        provider: BUILTIN_PROVIDER.to_owned(),
        models,
        fetched_at: Some(now_ms()),
        error: None,
    }
}
