//! Backups, a topic of their own: a copy of the database on demand, the rolling daily copy
//! (`Core::open` schedules it), and restoring a backup — its chats that are not here added,
//! inert, through the merge every import ends in (`history::merge`). The copies themselves are
//! the database's (`store/backup.rs`: consistent, private, never overwriting), stored images
//! included (they are rows of the database); a restore brings the images of the chats it adds
//! (`attachments::transfer::bring_blob`).

use crate::attachments::AttachmentService;
use crate::error::{CoreError, StoreError};
use crate::store::backup::backups_dir;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// Backups: on demand, daily, restore.
#[derive(Clone)]
pub struct BackupService {
    store: Store,
    /// A restore's images: those of older backups (stored inline) moved into storage after.
    attachments: AttachmentService,
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

impl BackupService {
    pub(crate) fn new(store: Store) -> BackupService {
        BackupService {
            attachments: AttachmentService::new(store.clone()),
            store,
        }
    }

    /// Writes a consistent copy of the database to `file`, or to
    /// `backups/parley-manual-<time>.db` when none is given; returns where. Never overwrites.
    pub async fn backup(&self, file: Option<PathBuf>) -> Result<PathBuf, CoreError> {
        Ok(self.store.copy_out(file, "manual").await?)
    }

    /// The rolling daily backup: when the newest is older than a day (or there is none), a new
    /// one is written to `backups/parley-daily-<time>.db`; then only the newest `keep` are kept
    /// (0 = none taken, and the old ones are left alone). Returns the new backup, if one was
    /// taken. Other backups (before a migration, asked for) are never removed.
    pub async fn daily(&self, keep: u32, now_ms: i64) -> Result<Option<PathBuf>, CoreError> {
        if keep == 0 {
            return Ok(None);
        }
        let db = self.store.path().to_owned();
        let dir = backups_dir(&db);
        let newest = dailies(&dir).last().map(|(ms, _)| *ms);
        let taken = if newest.is_some_and(|ms| now_ms - ms < DAY_MS && ms <= now_ms) {
            None
        } else {
            let file = dir.join(format!("parley-daily-{now_ms}.db"));
            crate::util::private_dir(&dir).map_err(|e| crate::store::io_err(&dir, e))?;
            let f = file.clone();
            self.store.copy_out(Some(f), "daily").await?;
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
    ) -> Result<parley_protocol::ImportReport, CoreError> {
        if !file.is_file() {
            return Err(CoreError::InvalidInput(format!(
                "{} is not a file Parley can restore from.",
                file.display()
            )));
        }
        let db = self.store.path().to_owned();
        let dir = backups_dir(&db);
        crate::util::private_dir(&dir).map_err(|e| crate::store::io_err(&dir, e))?;
        let copy = dir.join(format!(".restoring-{}.db", crate::new_id()));
        let result: Result<_, StoreError> = async {
            std::fs::copy(file, &copy).map_err(|e| crate::store::io_err(file, e))?;
            crate::util::private_file(&copy, false).map_err(|e| crate::store::io_err(&copy, e))?;
            // Its own -wal, if the backup had one beside it, holds committed data too.
            let wal = PathBuf::from(format!("{}-wal", file.display()));
            if wal.exists() {
                let to = PathBuf::from(format!("{}-wal", copy.display()));
                std::fs::copy(&wal, &to).map_err(|e| crate::store::io_err(&wal, e))?;
            }
            drop(crate::store::open_and_migrate_with(
                &copy,
                crate::store::schema::MIGRATIONS,
                false,
                crate::search::register,
            )?);
            let whole = crate::history::merge::Follow::whole();
            crate::history::merge_database(&self.store, &copy, dry_run, whole).await
        }
        .await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        }
        let report = result?;
        if !dry_run {
            // A backup from before attachments were stored apart holds its images inline.
            self.attachments.tidy().await?;
        }
        Ok(report)
    }
}
