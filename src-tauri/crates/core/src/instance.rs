//! One running Parley process (the app or the CLI) and crash recovery.
//!
//! Every process holds an exclusive lock on `locks/<instance>.lock` and stamps its turns with
//! that instance id. At start, running turns whose owner's lock can be taken belong to a dead
//! process and become `Interrupted`, their partial output kept. A second live process (the app
//! and the CLI at once) never interrupts the other's turns.
//!
//! A process that ends cleanly removes its lock file ([`Instance::end`]); one that crashed, was
//! killed or saw a damaged page leaves it. So a lock file whose owner is gone says the last run
//! did not end cleanly, and the start checks every page of the database then (see
//! `store::StartCheck`); after clean runs it reads only the few pages it needs.
//!
//! At start the files an interrupted import, restore or backup left in `backups/` (a killed
//! import's `.importing-*.db` can be as large as the file imported) are removed: all of them
//! when no other Parley process is running on this data folder, else those over an hour old
//! (the other one may be writing the newer ones).

use crate::error::CoreError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// This process's instance lock, held for as long as the core is open.
pub(crate) struct Instance {
    id: String,
    dir: PathBuf,
    /// Held until [`Instance::end`] (or the process's end).
    lock: std::sync::Mutex<Option<File>>,
}

fn locks_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("locks")
}

/// Tries to take a dead owner's lock. `true` = its process is gone.
pub(crate) fn owner_is_dead(data_dir: &Path, owner: &str) -> bool {
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

/// How old a leftover must be to be removed while another Parley process runs.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whether `name` is a file an interrupted import, restore or backup leaves in `backups/`.
fn is_leftover(name: &str) -> bool {
    let staging = name.starts_with(".importing-") || name.starts_with(".restoring-");
    let db = [".db", ".db-wal", ".db-shm", ".db-journal"]
        .iter()
        .any(|s| name.ends_with(s));
    (staging && db) || name.ends_with(".db.partial")
}

impl Instance {
    /// Takes a new instance lock in `data_dir`.
    pub(crate) fn acquire(data_dir: &Path) -> Result<Instance, CoreError> {
        let io = |e: std::io::Error| {
            CoreError::Store(crate::StoreError::Io {
                path: data_dir.display().to_string(),
                source: e,
            })
        };
        crate::util::private_dir(data_dir).map_err(io)?;
        std::fs::create_dir_all(locks_dir(data_dir)).map_err(io)?;
        let id = crate::new_id();
        // Lock under a temporary name, then rename: another process only ever sees a
        // `<id>.lock` that is already locked, so it can never mistake us for a dead owner.
        let lock_path = locks_dir(data_dir).join(format!("{id}.lock"));
        let pending = locks_dir(data_dir).join(format!("{id}.pending"));
        let lock = File::create(&pending).map_err(io)?;
        lock.try_lock()
            .map_err(|e| CoreError::Internal(format!("cannot lock {}: {e}", pending.display())))?;
        std::fs::rename(&pending, &lock_path).map_err(io)?;
        Ok(Instance {
            id,
            dir: data_dir.to_owned(),
            lock: std::sync::Mutex::new(Some(lock)),
        })
    }

    /// Whether every Parley that ran on this folder before ended cleanly: no lock file is left
    /// whose owner is gone. Looks without taking anything over (`recover` tidies them).
    pub(crate) fn others_ended_cleanly(&self) -> bool {
        let Ok(entries) = std::fs::read_dir(locks_dir(&self.dir)) else {
            return true;
        };
        entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match name.strip_suffix(".lock") {
                // Gone meanwhile: that one ended cleanly.
                Some(owner) if owner != self.id => File::options()
                    .read(true)
                    .write(true)
                    .open(e.path())
                    .map_or(true, |f| f.try_lock().is_err()),
                _ => true,
            }
        })
    }

    /// Whether [`Instance::end`] was called.
    pub(crate) fn ended(&self) -> bool {
        match self.lock.lock() {
            Ok(l) => l.is_none(),
            Err(poisoned) => poisoned.into_inner().is_none(),
        }
    }

    /// Ends this instance: its lock is let go, and when `cleanly` its lock file is removed so
    /// the next start knows this run ended well. Once only; later calls do nothing.
    pub(crate) fn end(&self, cleanly: bool) {
        let mut lock = match self.lock.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(file) = lock.take() else { return };
        let path = locks_dir(&self.dir).join(format!("{}.lock", self.id));
        // Removed while still locked where the system allows it, so no other process ever
        // sees it unlocked and takes this run for a crashed one.
        if cleanly && std::fs::remove_file(&path).is_err() {
            drop(file);
            let _ = std::fs::remove_file(&path);
        }
    }

    /// This instance's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Where this instance records the process groups of running commands.
    pub(crate) fn groups_path(&self) -> PathBuf {
        locks_dir(&self.dir).join(format!("{}.groups", self.id))
    }

    /// Removes what interrupted imports, restores and backups left in `backups`: staging
    /// databases (`.importing-*.db`, `.restoring-*.db`, with their `-wal`/`-shm`) and half-written
    /// backups (`*.db.partial`). Returns how many files were removed.
    pub(crate) fn sweep_staging(&self, backups: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(backups) else {
            return 0;
        };
        // Listed before looking for other processes: a file listed now belongs to a process
        // that held its lock before it wrote the file, so it is seen below if still alive.
        let leftovers: Vec<_> = entries
            .flatten()
            .filter(|e| is_leftover(&e.file_name().to_string_lossy()))
            .collect();
        if leftovers.is_empty() {
            return 0;
        }
        let alone = self.alone();
        let mut removed = 0;
        for entry in leftovers {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > LEFTOVER_AGE);
            if (alone || old) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(
                "removed {removed} file(s) left by an interrupted import, restore or backup"
            );
        }
        removed
    }

    /// Whether no other Parley process holds a lock on this data folder.
    fn alone(&self) -> bool {
        let Ok(entries) = std::fs::read_dir(locks_dir(&self.dir)) else {
            return true;
        };
        entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match name.strip_suffix(".lock") {
                Some(owner) if owner != self.id => owner_is_dead(&self.dir, owner),
                _ => true,
            }
        })
    }

    /// Tidies the lock files of owners that are gone and returns the logs of the command
    /// groups they left (ended by `tools::orphans::reap`).
    pub(crate) fn tidy_dead_owners(&self) -> Vec<PathBuf> {
        let mut groups = Vec::new();
        if let Ok(entries) = std::fs::read_dir(locks_dir(&self.dir)) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(owner) = name.strip_suffix(".lock") {
                    if owner != self.id {
                        owner_is_dead(&self.dir, owner);
                    }
                }
                if let Some(owner) = name.strip_suffix(".groups") {
                    if owner != self.id && owner_is_dead(&self.dir, owner) {
                        groups.push(entry.path());
                    }
                }
            }
        }
        groups
    }

    /// Whether `owner` (an instance id that stamped turns) is another process, gone.
    pub(crate) fn is_dead_other(&self, owner: &str) -> bool {
        owner != self.id && owner_is_dead(&self.dir, owner)
    }
}

#[cfg(test)]
#[path = "instance_tests.rs"]
mod tests;
