//! Updates, opt-in: the release server's manifest and the package it names, fetched through
//! the ledger (an update check is a request like any other, listed in Settings → Privacy).
//! The package's signature is checked by the desktop app (tauri-plugin-updater, against the
//! public key built into the release) before anything is kept or installed; this topic fetches,
//! bounded, follows only redirects it may, and says plainly what went wrong.

mod fetch;

#[cfg(test)]
mod tests;

use crate::shared::Shared;
use parley_protocol::{OutboundPurpose, UpdateOffer};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use crate::ledger::may_follow;
pub use fetch::may_fetch;

/// The most bytes of a release manifest read.
pub const MANIFEST_MAX: usize = 1024 * 1024;
/// The most bytes of a package downloaded (a release bundle is tens of MB).
pub const PACKAGE_MAX: u64 = 512 * 1024 * 1024;
/// The longest a check waits for the whole manifest (a server that trickles it).
pub const MANIFEST_TIME: std::time::Duration = std::time::Duration::from_secs(30);
/// The most characters of release notes shown.
pub const NOTES_MAX: usize = 4000;

/// Updates: the manifest and the package, each request recorded in the ledger.
#[derive(Clone)]
pub struct UpdateService {
    shared: Arc<Shared>,
}

impl UpdateService {
    pub(crate) fn new(shared: Arc<Shared>) -> UpdateService {
        UpdateService { shared }
    }

    /// The release manifest at `endpoint` (its `{{current_version}}`, `{{target}}` and
    /// `{{arch}}` filled in), as JSON; `None` when the server says there is nothing newer (204).
    /// `cause` names what asked (the user's "Check now", or the daily check they turned on).
    pub async fn manifest(
        &self,
        endpoint: &url::Url,
        cause: &str,
    ) -> Result<Option<serde_json::Value>, String> {
        may_fetch(endpoint)?;
        let url = fill(endpoint, env!("CARGO_PKG_VERSION"))?;
        let client = self.client()?;
        let ledger = &self.shared.ledger;
        let fut = fetch::manifest(&client, url);
        let fut = crate::ledger::within_exact(ledger, OutboundPurpose::UpdateCheck, cause, fut);
        tokio::time::timeout(MANIFEST_TIME, fut)
            .await
            .unwrap_or_else(|_| Err("the update server did not answer within 30 seconds".into()))
    }

    /// The package at `url` (named by the manifest from `endpoint`), at most [`PACKAGE_MAX`]
    /// bytes; `progress(done, total)` after each chunk. Stopped (with an error) when `cancel`
    /// fires. A release server on the network never sends Parley to this computer.
    pub async fn package(
        &self,
        endpoint: &url::Url,
        url: &url::Url,
        version: &str,
        progress: impl FnMut(u64, Option<u64>) + Send,
        cancel: CancellationToken,
    ) -> Result<Vec<u8>, String> {
        may_fetch(url)?;
        if crate::net::is_loopback(url) && !crate::net::is_loopback(endpoint) {
            return Err(format!(
                "the release names a package on this computer ({}): not fetched",
                fetch::origin_of(url)
            ));
        }
        let client = self.client()?;
        let ledger = &self.shared.ledger;
        let cause = format!("update to {version}");
        let fut = fetch::package(&client, url.clone(), progress, cancel);
        crate::ledger::within_exact(ledger, OutboundPurpose::UpdateDownload, cause, fut).await
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        self.shared
            .downloads
            .get()
            .map_err(|e| format!("no connection could be prepared: {e}"))
    }
}

/// `endpoint` with its variables filled in: `{{current_version}}`, `{{target}}` (`linux`,
/// `darwin`, `windows`) and `{{arch}}` (`x86_64`, `aarch64`, …), as the Tauri updater names
/// them, so that one address serves every platform.
pub fn fill(endpoint: &url::Url, version: &str) -> Result<url::Url, String> {
    let target = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let text = endpoint
        .as_str()
        .replace("%7B%7Bcurrent_version%7D%7D", version)
        .replace("%7B%7Btarget%7D%7D", target)
        .replace("%7B%7Barch%7D%7D", std::env::consts::ARCH)
        .replace("{{current_version}}", version)
        .replace("{{target}}", target)
        .replace("{{arch}}", std::env::consts::ARCH);
    url::Url::parse(&text).map_err(|e| format!("the update address is not an address: {e}"))
}

/// What the window shows of an offer: the release server's words are untrusted, so its notes
/// are plain text with hidden characters marked and a bounded length.
pub fn offer(
    version: &str,
    notes: Option<&str>,
    published: Option<i64>,
    download: &url::Url,
) -> UpdateOffer {
    let notes = parley_protocol::visible::mark_hidden(notes.unwrap_or("").trim());
    UpdateOffer {
        version: crate::clean::visible_line(version),
        notes: crate::clean::cap(&notes, NOTES_MAX),
        published,
        download_host: download.host_str().unwrap_or("?").to_owned(),
    }
}
