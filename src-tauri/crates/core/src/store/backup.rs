//! Copies of the database: a snapshot before every migration (and, later, on demand). Each is a
//! complete, consistent SQLite file written with `VACUUM INTO` next to the database, in
//! `backups/`, readable by the user only.

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

/// The daily backups in `dir`, oldest first, with when each was taken (unix ms).
fn dailies(dir: &Path) -> Vec<(i64, PathBuf)> {
    let mut found: Vec<(i64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ms = name.strip_prefix("parley-daily-")?.strip_suffix(".db")?;
            Some((ms.parse().ok()?, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// A day, in ms: a daily backup is taken when the newest is older than this (a little less
/// than 24 h, so one taken at 9:00 yesterday does not wait until 9:05 today).
const DAY_MS: i64 = 20 * 3600 * 1000;

impl super::Store {
    /// Writes a consistent copy of the database to `file`, or to
    /// `backups/parley-manual-<time>.db` when none is given; returns where. Never overwrites.
    pub async fn backup(&self, file: Option<PathBuf>) -> Result<PathBuf, StoreError> {
        let db = self.path().to_owned();
        self.reader
            .call(move |c| match file {
                Some(f) => copy_to(c, &f).map(|()| f),
                None => snapshot(c, &db, "manual"),
            })
            .await
    }

    /// The rolling daily backup: when the newest is older than a day (or there is none), a new
    /// one is written to `backups/parley-daily-<time>.db`; then only the newest `keep` are kept
    /// (0 = none taken, and the old ones are left alone). Returns the new backup, if one was
    /// taken. Other backups (before a migration, asked for) are never removed.
    pub async fn daily_backup(
        &self,
        keep: u32,
        now_ms: i64,
    ) -> Result<Option<PathBuf>, StoreError> {
        if keep == 0 {
            return Ok(None);
        }
        let db = self.path().to_owned();
        let dir = backups_dir(&db);
        let newest = dailies(&dir).last().map(|(ms, _)| *ms);
        let taken = if newest.is_some_and(|ms| now_ms - ms < DAY_MS && ms <= now_ms) {
            None
        } else {
            let file = dir.join(format!("parley-daily-{now_ms}.db"));
            crate::util::private_dir(&dir).map_err(|e| io_err(&dir, e))?;
            let f = file.clone();
            self.reader.call(move |c| copy_to(c, &f)).await?;
            Some(file)
        };
        // What a process killed while writing one left behind (an hour old: not being written).
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // A half-written backup, or the private copy a killed restore was merging from
            // (with its -wal and -shm).
            let leftover = name.ends_with(".db.partial") || name.starts_with(".restoring-");
            let stale = leftover
                && e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 3600);
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let all = dailies(&dir);
        for (_, old) in all.iter().take(all.len().saturating_sub(keep as usize)) {
            let _ = std::fs::remove_file(old);
        }
        Ok(taken)
    }

    /// Merges a backup into the database: its chats that are not here are added, inert
    /// (`history::merge`: no workspace, tools or assistant, the system prompt inactive, never
    /// grafted into a chat that is here); nothing present is changed or removed. The backup
    /// itself is never written to: a private copy of it is brought to the current schema (a
    /// backup from a newer Parley is refused) and read from. `dry_run`: only says what it would
    /// add.
    pub async fn restore(
        &self,
        file: &Path,
        dry_run: bool,
    ) -> Result<parley_protocol::ImportReport, StoreError> {
        let db = self.path().to_owned();
        let dir = backups_dir(&db);
        crate::util::private_dir(&dir).map_err(|e| io_err(&dir, e))?;
        let copy = dir.join(format!(".restoring-{}.db", crate::new_id()));
        let result = async {
            std::fs::copy(file, &copy).map_err(|e| io_err(file, e))?;
            crate::util::private_file(&copy, false).map_err(|e| io_err(&copy, e))?;
            // Its own -wal, if the backup had one beside it, holds committed data too.
            let wal = PathBuf::from(format!("{}-wal", file.display()));
            if wal.exists() {
                let to = PathBuf::from(format!("{}-wal", copy.display()));
                std::fs::copy(&wal, &to).map_err(|e| io_err(&wal, e))?;
            }
            drop(super::open_and_migrate_with(
                &copy,
                super::schema::MIGRATIONS,
                false,
            )?);
            self.merge_from(&copy, dry_run, crate::history::merge::Follow::whole())
                .await
        }
        .await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        }
        result
    }

    /// Merges the Parley database `file` (of the current schema, private to this process)
    /// into this one; see [`Self::restore`].
    pub(crate) async fn merge_from(
        &self,
        file: &Path,
        dry_run: bool,
        follow: crate::history::merge::Follow,
    ) -> Result<parley_protocol::ImportReport, StoreError> {
        let file = file.to_owned();
        self.writer
            .call(move |c| crate::history::merge::merge(c, &file, dry_run, follow))
            .await
    }
}
