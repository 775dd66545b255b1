//! Downloads as the service runs them: `pull` (to its end, for the CLI) and the window's
//! start / pause / cancel / list, each download registered while it runs and its partial file
//! (with a note of its size) kept on disk so that it resumes after a restart. The hub's address
//! is a setting.

use super::download::{self, HubRef, Progress, Stopped};
use super::ModelService;
use crate::error::CoreError;
use crate::util::lock;
use parley_protocol::{DownloadInfo, DownloadState, LocalModel, ModelSource};
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The hub used when the user has not chosen one.
pub const DEFAULT_HUB: &str = "https://huggingface.co";
/// The settings key of the hub's address.
const HUB: &str = "hub_url";

/// A download under way: its progress, its stop, and whether the stop cancels (deletes).
pub(super) struct Running {
    pub progress: Arc<Progress>,
    pub cancel: CancellationToken,
    pub discard: Arc<std::sync::atomic::AtomicBool>,
}

impl ModelService {
    /// The hub's address.
    pub async fn hub(&self) -> Result<String, CoreError> {
        Ok(self
            .shared
            .store
            .engine_setting(HUB)
            .await?
            .unwrap_or_else(|| DEFAULT_HUB.to_owned()))
    }

    /// Sets the hub's address (a mirror, a server on a closed network): http or https.
    pub async fn set_hub(&self, address: &str) -> Result<String, CoreError> {
        let url = url::Url::parse(address.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                CoreError::InvalidInput(format!("\"{address}\" is not an http or https address"))
            })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CoreError::InvalidInput(
                "A hub's address may not hold a user name or password: Parley sends no credential to a hub.".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(CoreError::InvalidInput(
                "A hub's address is a scheme, host, port and path, without ? or #.".into(),
            ));
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        self.shared.store.put_engine_setting(HUB, &text).await?;
        Ok(text)
    }

    /// Downloads `reference` (`owner/repo:file.gguf`) to its end and adds it, named `name` (or
    /// after its file); `progress` is told as it goes.
    pub async fn pull(
        &self,
        reference: &str,
        name: Option<String>,
        progress: Option<Arc<Progress>>,
    ) -> Result<LocalModel, CoreError> {
        let (ledger, cause) = (self.shared.ledger.clone(), format!("model {reference}"));
        let purpose = parley_protocol::OutboundPurpose::ModelDownload;
        let pulled = self.pull_until(reference, name, progress, CancellationToken::new());
        crate::ledger::within(&ledger, purpose, cause, pulled).await
    }

    /// Before anything is fetched: the file is not downloaded already, and its name is free.
    async fn ready_to_pull(&self, r: &HubRef, name: &str) -> Result<(), CoreError> {
        let dest = r.final_path(&self.models_dir());
        let installed = self.installed_models().await?;
        if let Some(m) = installed.iter().find(|m| Path::new(&m.path) == dest) {
            return Err(CoreError::InvalidInput(format!(
                "{} is already downloaded, as \"{}\".",
                r.id(),
                m.name
            )));
        }
        if dest.exists() {
            return Err(CoreError::InvalidInput(format!(
                "{} is already there ({}): add it with `parley models add`, or delete it first.",
                r.id(),
                dest.display()
            )));
        }
        if installed
            .iter()
            .any(|m| m.name.to_lowercase() == name.to_lowercase())
        {
            return Err(CoreError::InvalidInput(format!(
                "A model named \"{name}\" is already installed. Pick another name (--name)."
            )));
        }
        Ok(())
    }

    async fn pull_until(
        &self,
        reference: &str,
        name: Option<String>,
        progress: Option<Arc<Progress>>,
        cancel: CancellationToken,
    ) -> Result<LocalModel, CoreError> {
        let r = HubRef::parse(reference).map_err(CoreError::InvalidInput)?;
        let stem = r.file.rsplit('/').next().unwrap_or(&r.file);
        let stem = stem.get(..stem.len().saturating_sub(5)).unwrap_or(stem);
        let name = name.map_or_else(|| stem.to_owned(), |n| n.trim().to_owned());
        super::service::checked_name(&name)?;
        self.ready_to_pull(&r, &name).await?;
        let progress = progress.unwrap_or_else(|| Progress::new(&r));
        let hub = self.hub().await?;
        let hub = url::Url::parse(&hub).map_err(|e| CoreError::InvalidInput(e.to_string()))?;
        let models = self.models_dir();
        let client = self.shared.downloads.get()?;
        let got = download::fetch(&client, &hub, &r, &models, &progress, &cancel).await;
        let path = match got {
            Ok(p) => p,
            Err(Stopped::ByUser) => {
                progress.set(DownloadState::Paused, None);
                return Err(CoreError::InvalidInput(format!(
                    "The download of {} was paused; what arrived is kept.",
                    r.id()
                )));
            }
            Err(Stopped::Failed(why)) => {
                progress.set(DownloadState::Failed, Some(why.clone()));
                return Err(CoreError::InvalidInput(format!(
                    "The download of {} failed: {why}.",
                    r.id()
                )));
            }
        };
        // The file was moved there just now (nothing was there before: ready_to_pull).
        let added = self
            .add_as(
                &path.display().to_string(),
                Some(name),
                ModelSource::Download,
            )
            .await;
        if added.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        let model = added?;
        progress.set(DownloadState::Done, Some(model.name.clone()));
        Ok(model)
    }

    /// The download catalogue, marked by what fits this computer's memory.
    pub fn catalogue(&self) -> Vec<parley_protocol::CatalogueModel> {
        super::catalogue::entries(super::sysmem::read().map(|m| m.total))
    }

    /// Starts downloading `reference` in the background (the window follows `downloads`).
    pub async fn start_download(&self, reference: &str) -> Result<DownloadInfo, CoreError> {
        let r = HubRef::parse(reference).map_err(CoreError::InvalidInput)?;
        let running = Running {
            progress: Progress::new(&r),
            cancel: CancellationToken::new(),
            discard: Arc::default(),
        };
        let info = running.progress.snapshot();
        {
            let mut all = lock(&self.downloads);
            if all
                .get(&r.id())
                .is_some_and(|d| d.progress.snapshot().state == DownloadState::Running)
            {
                return Err(CoreError::InvalidInput(format!(
                    "{} is already being downloaded.",
                    r.id()
                )));
            }
            all.insert(r.id(), running);
        }
        let (this, id) = (self.clone(), r.id());
        let (ledger, cause) = (self.shared.ledger.clone(), format!("model {id}"));
        let purpose = parley_protocol::OutboundPurpose::ModelDownload;
        tokio::spawn(async move {
            crate::ledger::within(&ledger, purpose, cause, this.run_download(id)).await
        });
        Ok(info)
    }

    async fn run_download(self, id: String) {
        let (progress, cancel, discard) = {
            let all = lock(&self.downloads);
            let Some(d) = all.get(&id) else { return };
            (d.progress.clone(), d.cancel.clone(), d.discard.clone())
        };
        let result = self
            .pull_until(&id, None, Some(progress.clone()), cancel)
            .await;
        if discard.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(r) = HubRef::parse(&id) {
                download::discard(&self.models_dir(), &r);
            }
            lock(&self.downloads).remove(&id);
            return;
        }
        if let Err(e) = result {
            if progress.snapshot().state == DownloadState::Running {
                progress.set(DownloadState::Failed, Some(e.to_string()));
            }
        }
    }

    /// Pauses a download (what arrived is kept; `start_download` resumes it).
    pub fn pause_download(&self, id: &str) -> bool {
        lock(&self.downloads)
            .get(id)
            .map(|d| d.cancel.cancel())
            .is_some()
    }

    /// Cancels a download and deletes what arrived.
    pub fn cancel_download(&self, id: &str) -> bool {
        if let Some(d) = lock(&self.downloads).get(id) {
            d.discard.store(true, std::sync::atomic::Ordering::SeqCst);
            d.cancel.cancel();
            return true;
        }
        let Ok(r) = HubRef::parse(id) else {
            return false;
        };
        download::discard(&self.models_dir(), &r)
    }

    /// The downloads of this run, and the partial files earlier runs left (paused).
    pub fn downloads(&self) -> Vec<DownloadInfo> {
        let mut out: Vec<DownloadInfo> = lock(&self.downloads)
            .values()
            .map(|d| d.progress.snapshot())
            .collect();
        for old in download::left(&self.models_dir()) {
            if !out.iter().any(|d| d.id == old.id) {
                out.push(old);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}
