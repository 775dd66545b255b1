//! Where Parley keeps its data: the platform's app-data folder unless `--data-dir` or
//! `PARLEY_DATA_DIR` says otherwise.

use std::path::PathBuf;

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "PARLEY_DATA_DIR";

/// The data directory: `explicit`, else `$PARLEY_DATA_DIR`, else the platform folder
/// (`~/.local/share/parley`, `~/Library/Application Support/parley`, `%APPDATA%\parley`).
pub fn data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir);
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("parley"))
}
