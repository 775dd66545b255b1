//! [`Core`]: opens the data directory and owns the topic services. It holds no logic of its
//! own beyond wiring: each topic's API lives in its service —
//! [`Core::chats`] (chats and the turn engine), [`Core::history`] (messages and their tree),
//! [`Core::providers`] (configuration, keys, model lists, discovery), [`Core::assistants`],
//! [`Core::attachments`] (attached files, stored images),
//! [`Core::approvals`] (decisions, questions, grants), [`Core::settings`] and [`Core::tools`].
//! The desktop commands, the CLI and the tests all go through these services.

use crate::approvals::ApprovalService;
use crate::assistants::AssistantService;
use crate::attachments::AttachmentService;
use crate::backups::BackupService;
use crate::chats::ChatService;
use crate::error::CoreError;
use crate::history::HistoryService;
use crate::hub::Hub;
use crate::instance::Instance;
use crate::mcp::McpService;
use crate::models::ModelService;
use crate::net::LazyClient;
use crate::providers::{self, HttpSettings, ProviderService};
use crate::search::SearchService;
use crate::secrets::SecretStore;
use crate::settings::SettingsService;
use crate::shared::Shared;
use crate::store::{OpenReport, StartCheck, Store};
use crate::tools::ToolService;
use crate::usage::UsageService;
use std::path::PathBuf;
use std::sync::Arc;

/// Opens (creating if needed) Parley's database at `path`, with the SQL functions its triggers
/// call (search's). Everything that opens the database goes through here or through
/// [`Core::open`].
pub fn open_store(path: &std::path::Path) -> Result<(Store, OpenReport), crate::StoreError> {
    Store::open(path, crate::search::register)
}

/// How Parley opens its data.
pub struct CoreOptions {
    /// The data directory (database, locks).
    pub data_dir: PathBuf,
    /// Where API keys are kept.
    pub secrets: Arc<dyn SecretStore>,
    /// Timeouts and retries for providers.
    pub http: HttpSettings,
}

struct Inner {
    chats: ChatService,
    history: HistoryService,
    search: SearchService,
    usage: UsageService,
    providers: ProviderService,
    assistants: AssistantService,
    mcp: McpService,
    models: ModelService,
    attachments: AttachmentService,
    approvals: ApprovalService,
    settings: SettingsService,
    ledger: crate::ledger::LedgerService,
    tools: ToolService,
    backups: BackupService,
    updates: crate::updates::UpdateService,
    prompts: crate::prompts::PromptService,
    queue: crate::queue::QueueService,
    artifacts: crate::artifacts::ArtifactService,
    websearch: crate::websearch::WebSearchService,
    store: Store,
    report: OpenReport,
    interrupted_at_start: usize,
    instance: Instance,
}

/// What the services share: the store, the keychain, the HTTP clients, the hub, the ledger,
/// this instance.
fn shared_state(
    options: CoreOptions,
    store: &Store,
    instance: &Instance,
) -> Result<Arc<Shared>, CoreError> {
    let dir = &options.data_dir;
    Ok(Arc::new(Shared {
        store: store.clone(),
        secrets: options.secrets,
        downloads: LazyClient::new(options.http.clone(), providers::http::download_client),
        loopback: providers::http::loopback_client(&options.http)?,
        client: LazyClient::new(options.http.clone(), providers::http::client),
        http: options.http,
        hub: Arc::new(Hub::default()),
        protected: Arc::new(protected_folders(dir)),
        instance_id: instance.id().to_owned(),
        process_log: instance.groups_path(),
        data_dir: dir.clone(),
        ledger: crate::ledger::Ledger::new(store.clone()),
    }))
}

/// Folders tools may never write without asking: the data folder and its configuration twin.
fn protected_folders(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut protected = vec![dir.canonicalize().unwrap_or_else(|_| dir.to_owned())];
    if let (Some(config), Some(name)) = (dirs::config_dir(), dir.file_name()) {
        protected.push(config.join(name));
    }
    protected
}

/// How long after start the daily backup is taken.
const DAILY_BACKUP_DELAY: std::time::Duration = std::time::Duration::from_secs(30);

/// Parley's core. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

impl Core {
    /// Opens the data directory: instance lock, database (migrated), crash recovery, saved
    /// grants.
    pub async fn open(options: CoreOptions) -> Result<Core, CoreError> {
        let dir = &options.data_dir;
        let instance = Instance::acquire(dir)?;
        // Every page is checked only when a run before did not end cleanly (or saw damage):
        // after clean runs the start reads the same few pages at any size.
        let check = if instance.others_ended_cleanly() {
            StartCheck::Cheap
        } else {
            StartCheck::Full
        };
        let (store, report) =
            Store::open_with(&dir.join("parley.db"), crate::search::register, check)?;
        let interrupted = crate::chats::interrupt_dead_owners(&store, &instance).await?;
        // Commands a dead owner left running (its watchdog gone too) are ended.
        let reap = |groups: std::path::PathBuf| crate::tools::orphans::reap_and_report(&groups);
        instance.tidy_dead_owners().into_iter().for_each(reap);
        instance.sweep_staging(&crate::store::backup::backups_dir(store.path()));
        let shared = shared_state(options, &store, &instance)?;
        // Each topic that needs another's data holds that topic's service.
        let settings = SettingsService::new(shared.clone());
        let approvals = ApprovalService::load(shared.clone()).await?;
        let models = ModelService::new(shared.clone());
        models.load_settings().await?;
        settings.apply_to_log().await;
        let providers = ProviderService::new(shared.clone(), settings.clone())
            .with_engine(Arc::new(models.clone()));
        providers.remember_saved_keys();
        let attachments = AttachmentService::new(store.clone());
        let mcp = McpService::new(shared.clone(), providers.clone(), settings.clone());
        let websearch = crate::websearch::WebSearchService::new(shared.clone());
        websearch.remember_saved_key();
        let chats = ChatService::new(
            shared.clone(),
            providers.clone(),
            approvals.clone(),
            settings.clone(),
            attachments.clone(),
            mcp.clone(),
            websearch.clone(),
        );
        let core = Core {
            inner: Arc::new(Inner {
                history: HistoryService::new(
                    shared.clone(),
                    chats.clone(),
                    settings.clone(),
                    attachments.clone(),
                ),
                search: SearchService::new(shared.clone()),
                usage: UsageService::new(shared.clone(), settings.clone()),
                assistants: AssistantService::new(shared.clone(), chats.clone()),
                mcp,
                models,
                approvals,
                settings,
                ledger: crate::ledger::LedgerService::new(shared.ledger.clone()),
                tools: ToolService,
                backups: BackupService::new(store.clone()),
                updates: crate::updates::UpdateService::new(shared.clone()),
                prompts: crate::prompts::PromptService::new(shared.clone()),
                queue: crate::queue::QueueService::new(shared.clone(), chats.clone()),
                artifacts: crate::artifacts::ArtifactService::new(chats.clone()),
                websearch,
                attachments,
                chats,
                providers,
                store,
                report,
                interrupted_at_start: interrupted,
                instance,
            }),
        };
        core.start_background();
        Ok(core)
    }

    /// What runs after the start, in the background: the daily backup, the attachments' tidy.
    fn start_background(&self) {
        self.schedule_daily_backup();
        self.tidy_attachments();
    }

    /// The rolling daily backup, DAILY_BACKUP_DELAY after start (not in the way of the first
    /// paint; a short CLI command is over before it, the app takes it).
    fn schedule_daily_backup(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            tokio::time::sleep(DAILY_BACKUP_DELAY).await;
            let Some(inner) = weak.upgrade() else { return };
            let core = Core { inner };
            let keep = match core.settings().get_settings().await {
                Ok(s) => s.daily_backups,
                Err(e) => {
                    tracing::warn!("daily backup skipped: {e}");
                    return;
                }
            };
            match core.backups().daily(keep, crate::util::now_ms()).await {
                Ok(Some(file)) => tracing::info!("daily backup: {}", file.display()),
                Ok(None) => {}
                Err(e) => tracing::warn!("daily backup failed: {e}"),
            }
        });
    }

    /// At start, in the background: image rows of the older inline shape moved into storage
    /// and stored images no message refers to removed (`attachments::gc`).
    fn tidy_attachments(&self) {
        let attachments = self.inner.attachments.clone();
        tokio::spawn(async move {
            if let Err(e) = attachments.tidy().await {
                tracing::warn!("attachments were not tidied at start: {e}");
            }
        });
    }

    /// Attachments: attaching files, the stored images and their thumbnails.
    pub fn attachments(&self) -> &AttachmentService {
        &self.inner.attachments
    }

    /// Chats and the turn engine: send, retry, stop, events.
    pub fn chats(&self) -> &ChatService {
        &self.inner.chats
    }

    /// A chat's messages, page by page.
    pub fn history(&self) -> &HistoryService {
        &self.inner.history
    }

    /// Full-text search over every chat.
    pub fn search(&self) -> &SearchService {
        &self.inner.search
    }

    /// The usage ledger and the price table.
    pub fn usage(&self) -> &UsageService {
        &self.inner.usage
    }

    /// Providers: configuration, keys, connection checks, model lists, discovery.
    pub fn providers(&self) -> &ProviderService {
        &self.inner.providers
    }

    /// Assistants: presets of system prompt, tools and workspace.
    pub fn assistants(&self) -> &AssistantService {
        &self.inner.assistants
    }

    /// MCP servers: their configuration.
    pub fn mcp(&self) -> &McpService {
        &self.inner.mcp
    }

    /// Local models and the built-in engine.
    pub fn models(&self) -> &ModelService {
        &self.inner.models
    }

    /// Saved prompts with `{{variables}}`.
    pub fn prompts(&self) -> &crate::prompts::PromptService {
        &self.inner.prompts
    }

    /// The HTML, SVG and Mermaid blocks of a chat's answers.
    pub fn artifacts(&self) -> &crate::artifacts::ArtifactService {
        &self.inner.artifacts
    }

    /// Messages queued while a chat answers, and "Send now".
    pub fn queue(&self) -> &crate::queue::QueueService {
        &self.inner.queue
    }

    /// Web search: the backend the `web_search` tool uses (off until one is set).
    pub fn websearch(&self) -> &crate::websearch::WebSearchService {
        &self.inner.websearch
    }

    /// Updates (opt-in): the release manifest and package, fetched through the ledger.
    pub fn updates(&self) -> &crate::updates::UpdateService {
        &self.inner.updates
    }

    /// Approval decisions, answers to questions, saved grants.
    pub fn approvals(&self) -> &ApprovalService {
        &self.inner.approvals
    }

    /// The outbound ledger: every request Parley made.
    pub fn ledger(&self) -> &crate::ledger::LedgerService {
        &self.inner.ledger
    }

    /// Runs `f` as work caused by `cause`, its requests recorded in this data folder's ledger
    /// (for tests and embedders that call a tool directly, outside a turn).
    #[doc(hidden)]
    pub async fn in_ledger_scope<F: std::future::Future>(&self, cause: &str, f: F) -> F::Output {
        self.inner.ledger.scope(cause, f).await
    }

    pub fn settings(&self) -> &SettingsService {
        &self.inner.settings
    }

    /// Backups: on demand, daily, restore.
    pub fn backups(&self) -> &BackupService {
        &self.inner.backups
    }

    /// The built-in tools.
    pub fn tools(&self) -> &ToolService {
        &self.inner.tools
    }

    /// What happened when the database was opened (e.g. an unreadable file moved aside).
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// The state of the data at this start, for the window's banner.
    pub fn data_status(&self) -> parley_protocol::DataStatus {
        let path = self.inner.store.path();
        parley_protocol::DataStatus {
            moved_aside: self
                .inner
                .report
                .moved_aside
                .as_ref()
                .map(|p| p.display().to_string()),
            reason: self.inner.report.reason.clone(),
            database: path.display().to_string(),
            backups: crate::store::backup::backups_dir(path)
                .display()
                .to_string(),
            interrupted_at_start: self.inner.interrupted_at_start as u32,
        }
    }

    /// How many turns of a previous run were marked interrupted at start.
    pub fn interrupted_at_start(&self) -> usize {
        self.inner.interrupted_at_start
    }

    /// The database (for tests and benchmarks).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Ends this run now, for a front end whose process exits without dropping the core (the
    /// window's exit): its instance lock is let go, and unless a damaged page was seen the
    /// next start knows this run ended cleanly. Dropping the last `Core` does the same.
    pub fn end(&self) {
        self.inner.end();
    }
}

impl Inner {
    fn end(&self) {
        if self.instance.ended() {
            return;
        }
        // The next start then finds the whole database in its file (a few ms: the WAL holds
        // at most a checkpoint's worth).
        self.store.checkpoint_now(std::time::Duration::from_secs(2));
        self.instance.end(!self.store.damage_seen());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.end();
    }
}
