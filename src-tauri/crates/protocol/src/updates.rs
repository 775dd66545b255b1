//! Updates, opt-in: what a check found, and where a downloaded update stands.

use serde::{Deserialize, Serialize};

/// What "Check now" (or the daily check) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UpdateCheck {
    /// This copy's version.
    pub current: String,
    /// The newer version offered, if any.
    pub available: Option<UpdateOffer>,
    /// When the check was made (unix ms).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub checked_at: i64,
}

/// A newer version offered by the release server (its words untrusted: shown as plain text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UpdateOffer {
    pub version: String,
    /// The release notes, plain text, hidden characters marked, at most a few thousand
    /// characters.
    pub notes: String,
    /// When it was published (unix ms), when the server says.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub published: Option<i64>,
    /// The host the package would be downloaded from.
    pub download_host: String,
}

/// How this copy of Parley can update itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UpdateSupport {
    /// The host checks go to, when this build has an update source (release builds do).
    pub host: Option<String>,
    /// Why this copy cannot install an update, when it cannot (a build run from a folder, not
    /// installed from a package).
    pub cannot_install: Option<String>,
}

/// Where a download of an update stands (the window polls it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateDownload {
    /// Nothing downloaded or downloading.
    Idle,
    /// Bytes so far, of the total when the server said.
    Downloading {
        version: String,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        done: u64,
        #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
        total: Option<u64>,
    },
    /// Downloaded and its signature verified against Parley's key: ready to install.
    Verified { version: String },
    /// The download failed or was refused (a bad signature); nothing was kept.
    Failed { version: String, why: String },
}
