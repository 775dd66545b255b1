//! Copies of the database: a snapshot before every migration, and what the backups topic asks
//! for (`backups/`: on demand, daily). Each is a complete, consistent SQLite file written with
//! `VACUUM INTO` next to the database, in `backups/`, readable by the user only.

use super::io_err;
use crate::error::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The folder the database's backups go to.
pub fn backups_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("backups")
}

/// Writes a consistent copy of the database `conn` has open to `backups/parley-<label>-<time>.db`
/// and returns its path. The file is created empty and private first (no moment where others
/// could read it), filled by SQLite, then synced with its folder.
pub(crate) fn snapshot(
    conn: &Connection,
    db_path: &Path,
    label: &str,
) -> Result<PathBuf, StoreError> {
    let dir = backups_dir(db_path);
    crate::util::private_dir(&dir).map_err(|e| io_err(&dir, e))?;
    let file = dir.join(format!("parley-{label}-{}.db", crate::util::now_ms()));
    copy_to(conn, &file)?;
    Ok(file)
}

/// Writes a consistent copy of the database to `file`, which must not exist yet. The copy is
/// written under a temporary name and renamed once complete and synced, so a process killed
/// meanwhile never leaves a partial file that looks like a backup.
pub(crate) fn copy_to(conn: &Connection, file: &Path) -> Result<(), StoreError> {
    if file.exists() {
        return Err(io_err(
            file,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file is already there; a backup never overwrites one",
            ),
        ));
    }
    let partial = PathBuf::from(format!("{}.partial", file.display()));
    let _ = std::fs::remove_file(&partial);
    crate::util::private_file(&partial, true).map_err(|e| io_err(&partial, e))?;
    let written = conn
        .execute("VACUUM INTO ?1", [partial.to_string_lossy()])
        .map_err(StoreError::from)
        .and_then(|_| {
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .and_then(|()| std::fs::rename(&partial, file))
                .map_err(|e| io_err(file, e))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    if let Some(dir) = file.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| crate::util::sync_dir(&d));
    }
    Ok(())
}

impl super::Store {
    /// Writes a consistent copy of the database to `file`, or to
    /// `backups/parley-<label>-<time>.db` when none is given; returns where. Never overwrites.
    pub(crate) async fn copy_out(
        &self,
        file: Option<PathBuf>,
        label: &'static str,
    ) -> Result<PathBuf, StoreError> {
        let db = self.path().to_owned();
        self.reader
            .call(move |c| match file {
                Some(f) => copy_to(c, &f).map(|()| f),
                None => snapshot(c, &db, label),
            })
            .await
    }
}
