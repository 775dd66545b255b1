//! The state every topic's service shares, built by the wiring (`Core::open`): on the floor, so
//! that no topic imports the wiring.

use crate::hub::Hub;
use crate::net::{HttpSettings, LazyClient};
use crate::secrets::SecretStore;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// What every service shares: the database, the keychain, the HTTP client and the event hub.
pub(crate) struct Shared {
    pub store: Store,
    pub secrets: Arc<dyn SecretStore>,
    pub http: HttpSettings,
    /// The client of providers (built on first use, like `downloads`).
    pub client: LazyClient,
    /// The client of model downloads: it follows no redirect itself (the download decides
    /// which to follow: `models::download`).
    pub downloads: LazyClient,
    /// The client of the built-in engine on loopback: no proxy, no redirects, no TLS.
    pub loopback: reqwest::Client,
    pub hub: Arc<Hub>,
    /// Folders tools may never write without asking: Parley's data and configuration.
    pub protected: Arc<Vec<PathBuf>>,
    /// This process's id; it stamps the turns it runs (crash recovery).
    pub instance_id: String,
    /// Where running commands' process groups are recorded (see `tools::orphans`).
    pub process_log: PathBuf,
    /// The data folder (instance locks: is another turn's owner still running?).
    pub data_dir: PathBuf,
    /// Where every network request is recorded (`ledger`).
    pub ledger: crate::ledger::Ledger,
}
