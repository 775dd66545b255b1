//! The session engine: at most one active turn per session, stop within a second, and the
//! durable start (user message committed before the request goes out). [`Core`] is the API the
//! desktop app and the CLI call.
//!
//! Crash recovery: every process holds an exclusive lock on `locks/<instance>.lock` and stamps
//! its turns with that instance id. At start, running turns whose owner's lock can be taken
//! belong to a dead process and become `Interrupted`, their partial output kept. A second live
//! process (the app and the CLI at once) never interrupts the other's turns.

mod hub;
mod turn;

use crate::error::CoreError;
use crate::providers::{ChatRequest, HttpSettings, ModelProvider};
use crate::secrets::{provider_account, Secret, SecretStore};
use crate::store::{OpenReport, ProviderRow, Store};
use crate::util::now_ms;
use parley_protocol::{
    ConnectionReport, Event, LocalServer, ModelInfo, ModelList, ProviderInfo, ProviderKind,
    ProviderPreset, Role, SendOptions, SessionHistory, SessionId, SessionParams, SessionSummary,
    TurnId,
};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The largest message Parley sends, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// How Parley opens its data.
pub struct CoreOptions {
    /// The data directory (database, locks).
    pub data_dir: PathBuf,
    /// Where API keys are kept.
    pub secrets: Arc<dyn SecretStore>,
    /// Timeouts and retries for providers.
    pub http: HttpSettings,
}

/// A provider to add.
#[derive(Debug, Clone)]
pub struct NewProvider {
    /// Unique name.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL (http or https).
    pub base_url: String,
    /// The model used when none is picked.
    pub default_model: Option<String>,
    /// An API key to save in the keychain.
    pub api_key: Option<Secret>,
}

/// New settings for an existing provider.
#[derive(Debug, Clone)]
pub struct ProviderUpdate {
    /// Which provider (its name does not change).
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
}

/// What to check with [`Core::check_connection`].
#[derive(Debug, Clone)]
pub struct ConnectionCheck {
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// A key typed into the form, used for this check only.
    pub api_key: Option<Secret>,
    /// A saved provider whose key may be used (when none was typed).
    pub saved_provider: Option<String>,
}

/// A running turn: its id and its events.
pub struct TurnHandle {
    /// The session.
    pub session_id: SessionId,
    /// The turn.
    pub turn_id: TurnId,
    /// The turn's events, ending with `TurnCompleted`, `TurnStopped` or `TurnFailed`.
    pub events: mpsc::UnboundedReceiver<Event>,
}

struct ActiveTurn {
    turn_id: Option<TurnId>,
    cancel: CancellationToken,
    done: watch::Receiver<bool>,
}

struct Inner {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    http: HttpSettings,
    client: reqwest::Client,
    instance_id: String,
    _instance_lock: File,
    active: Mutex<HashMap<SessionId, ActiveTurn>>,
    hub: Arc<hub::Hub>,
    report: OpenReport,
    interrupted_at_start: usize,
    approvals: Arc<crate::approvals::Approvals>,
    /// Folders tools may never write without asking: Parley's data and configuration.
    protected: Arc<Vec<PathBuf>>,
}

/// Parley's core. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these maps cannot leave them inconsistent (single inserts/removes).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn locks_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("locks")
}

/// Tries to take a dead owner's lock. `true` = its process is gone.
fn owner_is_dead(data_dir: &Path, owner: &str) -> bool {
    if owner.is_empty() || owner.contains(['/', '\\', '.']) {
        return true;
    }
    let path = locks_dir(data_dir).join(format!("{owner}.lock"));
    let Ok(file) = File::options().read(true).write(true).open(&path) else {
        return true;
    };
    match file.try_lock() {
        Ok(()) => {
            drop(file);
            let _ = std::fs::remove_file(&path);
            true
        }
        Err(_) => false,
    }
}

fn validate_base_url(raw: &str) -> Result<url::Url, CoreError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        CoreError::InvalidInput(format!(
            "\"{raw}\" is not a valid URL ({e}). Use a full address such as http://127.0.0.1:8080/v1."
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(CoreError::InvalidInput(format!(
            "The base URL must start with http:// or https://, not {}://.",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(CoreError::InvalidInput(format!(
            "The base URL \"{raw}\" has no host."
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CoreError::InvalidInput(
            "Do not put credentials in the base URL; save the API key instead (it goes to the keychain).".into(),
        ));
    }
    Ok(url)
}

/// `host[:port]` — what a saved key is bound to.
fn key_host(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    }
}

/// The conversation as `provider` may see it: reasoning signatures are only valid for the
/// provider that made them, so another provider's are dropped (the reasoning text stays).
fn for_provider(
    mut messages: Vec<parley_protocol::Message>,
    provider: &str,
) -> Vec<parley_protocol::Message> {
    for m in &mut messages {
        if m.role == Role::Assistant && m.provider.as_deref() != Some(provider) {
            for p in &mut m.parts {
                if let parley_protocol::Part::Reasoning { signature, .. } = p {
                    *signature = None;
                }
            }
        }
    }
    messages
}

/// Checks a session's generation settings; an out-of-range value is refused with a sentence.
fn validate_params(mut p: SessionParams) -> Result<SessionParams, CoreError> {
    let bad = |what: &str| Err(CoreError::InvalidInput(what.to_owned()));
    if let Some(t) = p.temperature {
        if !(0.0..=2.0).contains(&t) {
            return bad("Temperature must be between 0 and 2.");
        }
    }
    if let Some(t) = p.top_p {
        if !(t > 0.0 && t <= 1.0) {
            return bad("Top-p must be greater than 0 and at most 1.");
        }
    }
    if let Some(m) = p.max_output_tokens {
        if !(1..=1_000_000).contains(&m) {
            return bad("Max output tokens must be between 1 and 1,000,000.");
        }
    }
    p.system = p.system.filter(|s| !s.trim().is_empty());
    if p.system.as_ref().is_some_and(|s| s.len() > 200_000) {
        return bad("The system prompt is too long (200,000 bytes at most).");
    }
    Ok(p)
}

fn validate_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CoreError::InvalidInput(
            "A provider name must be 1 to 64 characters without control characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Core {
    /// Opens the data directory: database (migrated), instance lock, crash recovery.
    pub async fn open(options: CoreOptions) -> Result<Core, CoreError> {
        let dir = &options.data_dir;
        let io = |e: std::io::Error| {
            CoreError::Store(crate::StoreError::Io {
                path: dir.display().to_string(),
                source: e,
            })
        };
        std::fs::create_dir_all(locks_dir(dir)).map_err(io)?;
        let instance_id = crate::new_id();
        // Lock under a temporary name, then rename: another process only ever sees a
        // `<id>.lock` that is already locked, so it can never mistake us for a dead owner.
        let lock_path = locks_dir(dir).join(format!("{instance_id}.lock"));
        let pending = locks_dir(dir).join(format!("{instance_id}.pending"));
        let lock_file = File::create(&pending).map_err(io)?;
        lock_file
            .try_lock()
            .map_err(|e| CoreError::Internal(format!("cannot lock {}: {e}", pending.display())))?;
        std::fs::rename(&pending, &lock_path).map_err(io)?;
        let (store, report) = Store::open(&dir.join("parley.db"))?;
        let mut interrupted = 0;
        for owner in store.active_turn_owners().await? {
            if owner != instance_id && owner_is_dead(dir, &owner) {
                interrupted += store.interrupt_turns_of(&owner).await?;
            }
        }
        // Tidy lock files of processes that are gone.
        if let Ok(entries) = std::fs::read_dir(locks_dir(dir)) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(owner) = name.strip_suffix(".lock") {
                    if owner != instance_id {
                        owner_is_dead(dir, owner);
                    }
                }
            }
        }
        let client = crate::providers::http::client(&options.http)?;
        let mut always = crate::approvals::Grants::new();
        for g in store.list_grants().await? {
            always.grant(&g.tool, &g.arguments);
        }
        let mut protected = vec![dir.canonicalize().unwrap_or_else(|_| dir.clone())];
        if let (Some(config), Some(name)) = (dirs::config_dir(), dir.file_name()) {
            protected.push(config.join(name));
        }
        Ok(Core {
            inner: Arc::new(Inner {
                store,
                secrets: options.secrets,
                http: options.http,
                client,
                instance_id,
                _instance_lock: lock_file,
                active: Mutex::new(HashMap::new()),
                hub: Arc::new(hub::Hub::default()),
                report,
                interrupted_at_start: interrupted,
                approvals: Arc::new(crate::approvals::Approvals::new(always)),
                protected: Arc::new(protected),
            }),
        })
    }

    /// What happened when the database was opened (e.g. an unreadable file moved aside).
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// How many turns of a previous run were marked interrupted at start.
    pub fn interrupted_at_start(&self) -> usize {
        self.inner.interrupted_at_start
    }

    /// The database (for tests and benchmarks).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    // ----- sessions -----

    /// Creates an empty session. Without a title one is derived from the first message.
    pub async fn create_session(&self, title: Option<String>) -> Result<SessionSummary, CoreError> {
        let title = match title {
            Some(t) => validate_title(&t)?,
            None => String::new(),
        };
        Ok(self
            .inner
            .store
            .create_session(SessionId(crate::new_id()), title)
            .await?)
    }

    /// Sessions, most recent activity first.
    pub async fn list_sessions(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionSummary>, CoreError> {
        Ok(self
            .inner
            .store
            .list_sessions(limit.clamp(1, 1000), offset)
            .await?)
    }

    /// A session's messages and turns.
    pub async fn history(&self, id: &SessionId) -> Result<SessionHistory, CoreError> {
        self.inner
            .store
            .history(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Renames a session.
    pub async fn rename_session(&self, id: &SessionId, title: &str) -> Result<(), CoreError> {
        let title = validate_title(title)?;
        if self.inner.store.rename_session(id, title).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Deletes a session; a running turn in it is stopped (and finished) first.
    pub async fn delete_session(&self, id: &SessionId) -> Result<(), CoreError> {
        self.stop(id).await;
        if self.inner.store.delete_session(id).await? {
            self.inner.hub.forget(id);
            self.inner.approvals.forget_session(&id.0);
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Up to `limit` messages of a chat, ending just before `before` (or at the newest),
    /// oldest first; `has_more` says whether older ones exist.
    pub async fn history_page(
        &self,
        id: &SessionId,
        before: Option<parley_protocol::MessageId>,
        limit: u32,
    ) -> Result<SessionHistory, CoreError> {
        self.inner
            .store
            .history_page(id, before, limit.clamp(1, 1000))
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Every event of every chat from now on, starting with a replay of the turns that are
    /// running (from their `TurnStarted`). A window subscribes first, then loads history.
    pub fn subscribe_all(&self) -> mpsc::UnboundedReceiver<Event> {
        self.inner.hub.subscribe(None)
    }

    /// The user's settings.
    pub async fn settings(&self) -> Result<parley_protocol::Settings, CoreError> {
        Ok(self
            .inner
            .store
            .settings()
            .await?
            .unwrap_or_else(|| parley_protocol::Settings {
                idle_timeout_secs: self.inner.http.idle_timeout.as_secs().clamp(10, 3600) as u32,
                ..Default::default()
            }))
    }

    /// Saves the user's settings.
    pub async fn save_settings(
        &self,
        settings: parley_protocol::Settings,
    ) -> Result<(), CoreError> {
        if !(10..=3600).contains(&settings.idle_timeout_secs) {
            return Err(CoreError::InvalidInput(
                "The idle timeout must be between 10 and 3600 seconds.".into(),
            ));
        }
        if !(10..=86_400).contains(&settings.approval_timeout_secs) {
            return Err(CoreError::InvalidInput(
                "The approval timeout must be between 10 seconds and 24 hours.".into(),
            ));
        }
        if !(1..=200).contains(&settings.max_tool_rounds) {
            return Err(CoreError::InvalidInput(
                "The tool-round limit must be between 1 and 200.".into(),
            ));
        }
        Ok(self.inner.store.save_settings(settings).await?)
    }

    // ----- providers -----

    /// Adds a provider, saving its key (if any) in the keychain first.
    pub async fn add_provider(&self, p: NewProvider) -> Result<ProviderInfo, CoreError> {
        let name = validate_name(&p.name)?;
        let url = validate_base_url(&p.base_url)?;
        if self.inner.store.get_provider(&name).await?.is_some() {
            return Err(CoreError::InvalidInput(format!(
                "A provider named \"{name}\" already exists. Pick another name or remove it first."
            )));
        }
        let model = p
            .default_model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        let mut key_host_value = None;
        if let Some(key) = p.api_key.filter(|k| !k.expose().trim().is_empty()) {
            let key = Secret::new(key.expose().trim());
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
        self.inner.store.insert_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// All providers. The webview and CLI learn only whether a key exists.
    pub async fn list_providers(&self) -> Result<Vec<ProviderInfo>, CoreError> {
        Ok(self
            .inner
            .store
            .list_providers()
            .await?
            .into_iter()
            .map(provider_info)
            .collect())
    }

    /// Removes a provider and its key.
    pub async fn remove_provider(&self, name: &str) -> Result<(), CoreError> {
        let row = self
            .inner
            .store
            .get_provider(name)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("No provider named \"{name}\".")))?;
        if row.key_host.is_some() {
            self.with_secrets(|s, account| s.delete(&account), name)
                .await?;
        }
        self.inner.store.delete_provider(name).await?;
        Ok(())
    }

    /// Changes a provider's kind, base URL or default model. Moving it to another host deletes
    /// its saved key: a key is only ever sent to the host it was saved for.
    pub async fn update_provider(&self, p: ProviderUpdate) -> Result<ProviderInfo, CoreError> {
        let mut row = self.provider_row(&p.name).await?;
        let url = validate_base_url(&p.base_url)?;
        if let Some(bound) = &row.key_host {
            if *bound != key_host(&url) {
                self.with_secrets(|s, account| s.delete(&account), &row.name)
                    .await?;
                row.key_host = None;
            }
        }
        let new_url = url.as_str().trim_end_matches('/').to_owned();
        if new_url != row.base_url || p.kind != row.kind {
            // Another server (or another API on it) has other models.
            self.inner.store.clear_model_list(&row.name).await?;
        }
        row.kind = p.kind;
        row.base_url = new_url;
        row.default_model = p
            .default_model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        self.inner.store.update_provider(row.clone()).await?;
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
        self.inner.store.update_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Deletes a provider's API key from the keychain.
    pub async fn clear_provider_key(&self, name: &str) -> Result<ProviderInfo, CoreError> {
        let mut row = self.provider_row(name).await?;
        self.with_secrets(|s, account| s.delete(&account), name)
            .await?;
        row.key_host = None;
        self.inner.store.update_provider(row.clone()).await?;
        Ok(provider_info(row))
    }

    /// Checks that a provider answers: lists its models and says plainly what is wrong if it
    /// does not. Works on a saved provider or on a draft (the draft's key is used once and not
    /// stored).
    pub async fn check_connection(
        &self,
        check: ConnectionCheck,
    ) -> Result<ConnectionReport, CoreError> {
        let url = validate_base_url(&check.base_url)?;
        let key = match (check.api_key, &check.saved_provider) {
            (Some(k), _) if !k.expose().trim().is_empty() => Some(k.expose().trim().to_owned()),
            (_, Some(name)) => {
                let row = self.provider_row(name).await?;
                match &row.key_host {
                    Some(bound) if *bound == key_host(&url) => self
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
            self.inner.client.clone(),
            url.as_str().trim_end_matches('/'),
            key,
            self.inner.http.clone(),
        );
        Ok(match provider.models().await {
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

    /// The models a provider offers, fetched from it (and cached).
    pub async fn list_models(&self, name: &str) -> Result<Vec<ModelInfo>, CoreError> {
        let row = self.provider_row(name).await?;
        let provider = self.build_provider(&row).await?;
        match provider.models().await {
            Ok(models) => {
                self.inner
                    .store
                    .put_model_list(name, Ok(models.clone()))
                    .await?;
                Ok(models)
            }
            Err(e) => {
                self.inner
                    .store
                    .put_model_list(name, Err(e.to_info()))
                    .await?;
                Err(e.into())
            }
        }
    }

    /// A provider's model list: the cached one, or — when `refresh` is set or nothing is
    /// cached yet — fetched from the provider and cached. A failed refresh keeps the cached
    /// models and reports why in `error`.
    pub async fn model_list(&self, name: &str, refresh: bool) -> Result<ModelList, CoreError> {
        let row = self.provider_row(name).await?;
        if !refresh {
            if let Some(cached) = self.inner.store.model_list(name).await? {
                if cached.fetched_at.is_some() {
                    return Ok(cached);
                }
            }
        }
        let fetched = match self.build_provider(&row).await {
            Ok(provider) => provider.models().await.map_err(|e| e.to_info()),
            Err(e) => Err(e.to_info()),
        };
        self.inner.store.put_model_list(name, fetched).await?;
        Ok(self
            .inner
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

    /// Changes a session's generation settings (used from its next turn on).
    pub async fn set_session_params(
        &self,
        id: &SessionId,
        params: SessionParams,
    ) -> Result<SessionSummary, CoreError> {
        let mut params = validate_params(params)?;
        // The workspace is a security boundary: only Parley sets it (set_workspace).
        params.workspace = self.session(id).await?.params.workspace;
        self.store_params(id, params).await
    }

    /// A session's summary, or "not found".
    async fn session(&self, id: &SessionId) -> Result<SessionSummary, CoreError> {
        self.inner
            .store
            .get_session(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Stores a session's settings and returns the updated summary.
    async fn store_params(
        &self,
        id: &SessionId,
        params: SessionParams,
    ) -> Result<SessionSummary, CoreError> {
        if !self.inner.store.set_session_params(id, params).await? {
            return Err(not_found(id));
        }
        self.session(id).await
    }

    /// A saved assistant (not the built-in default), or "not found".
    async fn stored_assistant(&self, id: &str) -> Result<parley_protocol::Assistant, CoreError> {
        self.inner
            .store
            .list_assistants()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| CoreError::NotFound("That assistant no longer exists.".into()))
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

    /// [`Core::discover_local`] on the given `(port, preset id)` pairs (tests use free ports).
    pub async fn discover_local_at(
        &self,
        ports: &[(u16, &str)],
    ) -> Result<Vec<LocalServer>, CoreError> {
        let mut found = crate::providers::presets::probe_loopback(ports).await;
        let providers = self.inner.store.list_providers().await?;
        for server in &mut found {
            let at = url::Url::parse(&server.base_url).ok().map(|u| key_host(&u));
            server.configured_as = providers
                .iter()
                .find(|p| url::Url::parse(&p.base_url).ok().map(|u| key_host(&u)) == at)
                .map(|p| p.name.clone());
        }
        Ok(found)
    }

    async fn provider_row(&self, name: &str) -> Result<ProviderRow, CoreError> {
        self.inner.store.get_provider(name).await?.ok_or_else(|| {
            CoreError::NotFound(format!(
                "No provider named \"{name}\". Add it first (parley providers add, or Settings)."
            ))
        })
    }

    async fn with_secrets<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore, String) -> Result<R, crate::secrets::SecretError>
            + Send
            + 'static,
        provider: &str,
    ) -> Result<R, CoreError> {
        let secrets = self.inner.secrets.clone();
        let account = provider_account(provider);
        // Keychain calls block (D-Bus, Security framework): keep them off the async workers.
        tokio::task::spawn_blocking(move || f(&*secrets, account))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .map_err(CoreError::from)
    }

    async fn build_provider(&self, row: &ProviderRow) -> Result<Arc<dyn ModelProvider>, CoreError> {
        let url = validate_base_url(&row.base_url)?;
        let key = match &row.key_host {
            None => None,
            Some(bound) if *bound != key_host(&url) => {
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
        let mut http = self.inner.http.clone();
        // Saved settings win over the defaults the core was opened with.
        if let Some(settings) = self.inner.store.settings().await? {
            http.idle_timeout = std::time::Duration::from_secs(settings.idle_timeout_secs.into());
        }
        Ok(crate::providers::for_kind(
            row.kind,
            self.inner.client.clone(),
            &row.base_url,
            key,
            http,
        ))
    }

    // ----- tools and approvals -----

    /// The tools a turn of a session with these settings may run: none without a workspace.
    fn turn_tools(
        &self,
        params: &SessionParams,
        settings: &parley_protocol::Settings,
        confirm_read_only: bool,
    ) -> Result<Option<turn::TurnTools>, CoreError> {
        let Some(dir) = &params.workspace else {
            return Ok(None);
        };
        let workspace = crate::tools::paths::Workspace::new(Path::new(dir)).map_err(|e| {
            CoreError::InvalidInput(format!(
                "The chat's workspace folder cannot be used ({e}). Choose another folder in the chat settings."
            ))
        })?;
        let mut registry = crate::tools::builtins();
        if let Some(enabled) = &params.tools {
            registry.retain(enabled);
        }
        if registry.is_empty() {
            return Ok(None);
        }
        let mut ctx = crate::tools::tool::ToolContext::new(workspace, CancellationToken::new());
        ctx.protected = self.inner.protected.clone();
        Ok(Some(turn::TurnTools {
            registry,
            ctx,
            approvals: self.inner.approvals.clone(),
            timeout: std::time::Duration::from_secs(u64::from(
                settings.approval_timeout_secs.max(1),
            )),
            confirm_read_only,
        }))
    }

    /// The built-in tools, for settings and assistants.
    pub fn builtin_tools(&self) -> Vec<parley_protocol::ToolInfo> {
        crate::tools::builtins().infos()
    }

    /// Answers a pending approval request. Only a call that is waiting can be answered; the
    /// decision is applied in Rust (grants are recorded only for calls that allow them).
    pub fn decide_approval(
        &self,
        session_id: &SessionId,
        call_id: &str,
        decision: parley_protocol::ApprovalDecision,
    ) -> Result<(), CoreError> {
        if let parley_protocol::ApprovalDecision::Deny { note: Some(n) } = &decision {
            if n.len() > 10_000 {
                return Err(CoreError::InvalidInput(
                    "The note is too long (10,000 bytes at most).".into(),
                ));
            }
        }
        self.inner
            .approvals
            .gate
            .decide(&crate::approvals::Approvals::key(&session_id.0, call_id), decision)
            .map_err(|_| {
                CoreError::NotFound(format!(
                    "No approval is waiting for call {call_id} (it was answered, stopped or timed out)."
                ))
            })
    }

    /// Answers a question the model asked with `ask_user` (`None`: no answer).
    pub fn answer_question(
        &self,
        session_id: &SessionId,
        call_id: &str,
        answer: Option<String>,
    ) -> Result<(), CoreError> {
        if answer.as_ref().is_some_and(|a| a.len() > MAX_MESSAGE_BYTES) {
            return Err(CoreError::InvalidInput("The answer is too long.".into()));
        }
        self.inner
            .approvals
            .questions
            .decide(&crate::approvals::Approvals::key(&session_id.0, call_id), answer)
            .map_err(|_| {
                CoreError::NotFound(format!(
                    "No question is waiting for call {call_id} (it was answered, stopped or timed out)."
                ))
            })
    }

    /// Every saved "always allow" grant.
    pub async fn list_grants(&self) -> Result<Vec<parley_protocol::Grant>, CoreError> {
        Ok(self.inner.store.list_grants().await?)
    }

    /// Revokes a saved grant: the next identical call asks again.
    pub async fn revoke_grant(&self, id: i64) -> Result<(), CoreError> {
        match self.inner.store.delete_grant(id).await? {
            Some(g) => {
                self.inner.approvals.revoke_always(&g.tool, &g.arguments);
                Ok(())
            }
            None => Err(CoreError::NotFound("That grant no longer exists.".into())),
        }
    }

    /// Sets (or clears) a session's workspace folder. Callers pass a folder the user chose
    /// (the desktop's native dialog, the CLI's `--workspace`); it must exist.
    pub async fn set_workspace(
        &self,
        id: &SessionId,
        dir: Option<&Path>,
    ) -> Result<SessionSummary, CoreError> {
        let workspace = workspace_root(dir)?;
        let mut params = self.session(id).await?.params;
        params.workspace = workspace;
        self.store_params(id, params).await
    }

    /// Every assistant: the built-in default (no tools) first, then the user's, by name.
    pub async fn list_assistants(&self) -> Result<Vec<parley_protocol::Assistant>, CoreError> {
        let mut all = vec![default_assistant()];
        all.extend(self.inner.store.list_assistants().await?);
        Ok(all)
    }

    /// Saves an assistant (a new one when its id is empty) and returns it. The workspace is
    /// kept as it was: only [`Core::set_assistant_workspace`] changes it.
    pub async fn save_assistant(
        &self,
        mut a: parley_protocol::Assistant,
    ) -> Result<parley_protocol::Assistant, CoreError> {
        a.name = a.name.trim().to_owned();
        if a.name.is_empty() || a.name.len() > 200 {
            return Err(CoreError::InvalidInput(
                "An assistant needs a name (up to 200 characters).".into(),
            ));
        }
        if a.id == DEFAULT_ASSISTANT {
            return Err(CoreError::InvalidInput(
                "The default assistant cannot be changed; create a new one.".into(),
            ));
        }
        let known = crate::tools::builtins().infos();
        if let Some(bad) = a
            .tools
            .iter()
            .find(|t| !known.iter().any(|k| &k.name == *t))
        {
            return Err(CoreError::InvalidInput(format!(
                "There is no tool named {bad:?}."
            )));
        }
        a.system = a.system.filter(|s| !s.trim().is_empty());
        if a.id.is_empty() {
            a.id = crate::new_id();
            a.workspace = None;
        } else {
            a.workspace = self.stored_assistant(&a.id).await?.workspace;
        }
        self.inner.store.put_assistant(a.clone()).await?;
        Ok(a)
    }

    /// Sets (or clears) an assistant's workspace (a folder the user chose).
    pub async fn set_assistant_workspace(
        &self,
        id: &str,
        dir: Option<&Path>,
    ) -> Result<parley_protocol::Assistant, CoreError> {
        let mut a = self.stored_assistant(id).await?;
        a.workspace = workspace_root(dir)?;
        self.inner.store.put_assistant(a.clone()).await?;
        Ok(a)
    }

    /// Deletes an assistant (chats set up from it keep their settings).
    pub async fn delete_assistant(&self, id: &str) -> Result<(), CoreError> {
        if self.inner.store.delete_assistant(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(
                "That assistant no longer exists.".into(),
            ))
        }
    }

    /// Sets a session up from an assistant: its system prompt, tools and workspace (the
    /// default model is the caller's to pick, e.g. in the composer's model picker).
    pub async fn apply_assistant(
        &self,
        session_id: &SessionId,
        assistant_id: &str,
    ) -> Result<SessionSummary, CoreError> {
        let a = self
            .list_assistants()
            .await?
            .into_iter()
            .find(|a| a.id == assistant_id)
            .ok_or_else(|| CoreError::NotFound("That assistant no longer exists.".into()))?;
        let mut params = self.session(session_id).await?.params;
        params.system = a.system;
        params.tools = Some(a.tools);
        params.workspace = a.workspace;
        params.assistant = Some(a.id);
        self.store_params(session_id, params).await
    }

    // ----- turns -----

    /// Sends a user message and starts a turn. The message is committed before anything goes
    /// to the provider; a second send while a turn runs is refused with [`CoreError::Busy`].
    pub async fn send(
        &self,
        session_id: &SessionId,
        text: &str,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        self.start_turn(session_id, Start::New(text), options).await
    }

    /// Answers the chat's last user message again (after a failure, a stop, an interruption,
    /// or to regenerate). The new answer is a new branch; the user's message is not repeated.
    pub async fn retry(
        &self,
        session_id: &SessionId,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        let page = self
            .inner
            .store
            .history_page(session_id, None, 2)
            .await?
            .ok_or_else(|| not_found(session_id))?;
        let user = match page.messages.as_slice() {
            [.., user, answer] if answer.role == Role::Assistant && user.role == Role::User => {
                user.id.clone()
            }
            [.., user] if user.role == Role::User => user.id.clone(),
            _ => {
                return Err(CoreError::InvalidInput(
                    "There is no message to answer again in this chat.".into(),
                ))
            }
        };
        self.start_turn(session_id, Start::Retry(&user), options)
            .await
    }

    async fn start_turn(
        &self,
        session_id: &SessionId,
        start: Start<'_>,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        if let Start::New(text) = start {
            validate_message(text)?;
        }
        let session = self
            .inner
            .store
            .get_session(session_id)
            .await?
            .ok_or_else(|| not_found(session_id))?;
        let provider_name = match options.provider.clone() {
            Some(p) => p,
            None => {
                // The chat's last provider if it still exists, else the first configured one.
                let all = self.inner.store.list_providers().await?;
                let last = session
                    .provider
                    .clone()
                    .filter(|p| all.iter().any(|r| &r.name == p));
                last.or_else(|| all.first().map(|p| p.name.clone()))
                    .ok_or_else(|| {
                        CoreError::InvalidInput(
                            "No provider is configured. Add one first (parley providers add, or Settings)."
                                .into(),
                        )
                    })?
            }
        };
        let row = self.provider_row(&provider_name).await?;
        let same_provider = session.provider.as_deref() == Some(row.name.as_str());
        let model = options
            .model
            .clone()
            .or_else(|| session.model.clone().filter(|_| same_provider))
            .or_else(|| row.default_model.clone())
            .ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "Pick a model: provider \"{}\" has no default model.",
                    row.name
                ))
            })?;

        // Reserve the session's single turn slot before touching the database.
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = watch::channel(false);
        {
            let mut active = lock(&self.inner.active);
            if active.contains_key(session_id) {
                return Err(CoreError::Busy);
            }
            active.insert(
                session_id.clone(),
                ActiveTurn {
                    turn_id: None,
                    cancel: cancel.clone(),
                    done: done_rx,
                },
            );
        }
        let owner = self.inner.instance_id.clone();
        let begun = match start {
            Start::New(text) => {
                self.inner
                    .store
                    .begin_turn(
                        session_id,
                        text.to_owned(),
                        row.name.clone(),
                        model.clone(),
                        owner,
                    )
                    .await
            }
            Start::Retry(user) => {
                self.inner
                    .store
                    .begin_retry(session_id, user, row.name.clone(), model.clone(), owner)
                    .await
            }
        };
        let begun = match begun {
            Ok(b) => b,
            Err(e) => {
                lock(&self.inner.active).remove(session_id);
                return Err(e.into());
            }
        };
        if let Some(a) = lock(&self.inner.active).get_mut(session_id) {
            a.turn_id = Some(begun.turn_id.clone());
        }

        // Subscribe before the turn starts so the handle sees every event from TurnStarted on.
        let rx = self.inner.hub.subscribe(Some(session_id.clone()));
        let emitter = turn::Emitter::new(session_id.clone(), self.inner.hub.clone());
        let turn_id = begun.turn_id.clone();
        let core = self.clone();
        let sid = session_id.clone();
        tokio::spawn(async move {
            let provider = core.build_provider(&row).await;
            let history = match core.inner.store.history(&sid).await {
                Ok(Some(h)) => Ok(h),
                Ok(None) => Err(not_found(&sid)),
                Err(e) => Err(CoreError::from(e)),
            };
            let params = session.params.clone();
            let settings = core
                .inner
                .store
                .settings()
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let tools = core.turn_tools(&params, &settings, options.confirm_read_only);
            let (tools, history) = match tools {
                Ok(t) => (t, history),
                Err(e) => (None, Err(e)),
            };
            let request = history.map(|h| ChatRequest {
                model: model.clone(),
                system: options.system.clone().or(params.system),
                messages: for_provider(
                    h.messages
                        .into_iter()
                        .filter(|m| m.id != begun.assistant_message_id)
                        .collect(),
                    &row.name,
                ),
                temperature: params.temperature,
                top_p: params.top_p,
                max_output_tokens: params.max_output_tokens,
                reasoning: params.reasoning,
                ..ChatRequest::default()
            });
            let (emitter, last) = turn::run(turn::TurnCtx {
                store: core.inner.store.clone(),
                emitter,
                begun,
                provider_name: row.name.clone(),
                model,
                provider,
                request,
                cancel,
                tools,
                max_rounds: settings.max_tool_rounds.max(1),
            })
            .await;
            lock(&core.inner.active).remove(&sid);
            let _ = done_tx.send(true);
            emitter.emit(last);
        });
        Ok(TurnHandle {
            session_id: session_id.clone(),
            turn_id,
            events: rx,
        })
    }

    /// Stops the session's running turn (keeping its partial output) and waits until it is
    /// recorded. Returns whether a turn was running.
    pub async fn stop(&self, session_id: &SessionId) -> bool {
        let done = {
            let active = lock(&self.inner.active);
            match active.get(session_id) {
                Some(a) => {
                    a.cancel.cancel();
                    Some(a.done.clone())
                }
                None => None,
            }
        };
        match done {
            Some(mut rx) => {
                let _ = rx.wait_for(|d| *d).await;
                true
            }
            None => false,
        }
    }

    /// The running turn of a session, if any.
    pub fn active_turn(&self, session_id: &SessionId) -> Option<TurnId> {
        lock(&self.inner.active)
            .get(session_id)
            .and_then(|a| a.turn_id.clone())
    }

    /// Waits until the session has no running turn.
    pub async fn wait_idle(&self, session_id: &SessionId) {
        let done = lock(&self.inner.active)
            .get(session_id)
            .map(|a| a.done.clone());
        if let Some(mut rx) = done {
            let _ = rx.wait_for(|d| *d).await;
        }
    }
}

/// The canonical path of a folder the user chose as a workspace (it must exist).
fn workspace_root(dir: Option<&Path>) -> Result<Option<String>, CoreError> {
    dir.map(|d| {
        crate::tools::paths::Workspace::new(d)
            .map(|w| w.root().display().to_string())
            .map_err(|e| {
                CoreError::InvalidInput(format!("That folder cannot be the workspace: {e}."))
            })
    })
    .transpose()
}

/// The id of the built-in assistant.
pub const DEFAULT_ASSISTANT: &str = "default";

fn default_assistant() -> parley_protocol::Assistant {
    parley_protocol::Assistant {
        id: DEFAULT_ASSISTANT.into(),
        name: "Default (no tools)".into(),
        system: None,
        provider: None,
        model: None,
        tools: Vec::new(),
        workspace: None,
    }
}

/// What a turn starts from.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// A new user message.
    New(&'a str),
    /// The existing user message, answered again.
    Retry(&'a parley_protocol::MessageId),
}

fn validate_message(text: &str) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(CoreError::InvalidInput(
            "The message is empty. Type something before sending.".into(),
        ));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(CoreError::InvalidInput(format!(
            "The message is {:.1} MB; Parley sends at most {} MB in one message. Split it into smaller parts.",
            text.len() as f64 / (1024.0 * 1024.0),
            MAX_MESSAGE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

fn validate_title(title: &str) -> Result<String, CoreError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(CoreError::InvalidInput(
            "A chat title cannot be empty.".into(),
        ));
    }
    if t.chars().count() > 200 {
        return Err(CoreError::InvalidInput(
            "A chat title can be at most 200 characters.".into(),
        ));
    }
    Ok(t.to_owned())
}

fn not_found(id: &SessionId) -> CoreError {
    CoreError::NotFound(format!("No chat with id {id} exists."))
}

fn provider_info(row: ProviderRow) -> ProviderInfo {
    ProviderInfo {
        has_key: row.key_host.is_some(),
        name: row.name,
        kind: row.kind,
        base_url: row.base_url,
        default_model: row.default_model,
    }
}
