//! One running Parley process (the app or the CLI) and crash recovery.
//!
//! Every process holds an exclusive lock on `locks/<instance>.lock` and stamps its turns with
//! that instance id. At start, running turns whose owner's lock can be taken belong to a dead
//! process and become `Interrupted`, their partial output kept. A second live process (the app
//! and the CLI at once) never interrupts the other's turns.

use crate::error::CoreError;
use crate::store::Store;
use std::fs::File;
use std::path::{Path, PathBuf};

/// This process's instance lock, held for as long as the core is open.
pub(crate) struct Instance {
    id: String,
    dir: PathBuf,
    _lock: File,
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
            _lock: lock,
        })
    }

    /// This instance's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Where this instance records the process groups of running commands.
    pub(crate) fn groups_path(&self) -> PathBuf {
        locks_dir(&self.dir).join(format!("{}.groups", self.id))
    }

    /// Marks the running turns of dead processes interrupted (returns how many) and tidies
    /// their lock files.
    pub(crate) async fn recover(&self, store: &Store) -> Result<usize, CoreError> {
        let mut interrupted = 0;
        for owner in store.active_turn_owners().await? {
            if owner != self.id && owner_is_dead(&self.dir, &owner) {
                interrupted += store.interrupt_turns_of(&owner).await?;
            }
        }
        if let Ok(entries) = std::fs::read_dir(locks_dir(&self.dir)) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(owner) = name.strip_suffix(".lock") {
                    if owner != self.id {
                        owner_is_dead(&self.dir, owner);
                    }
                }
                // Commands a dead owner left running (its watchdog gone too) are ended.
                if let Some(owner) = name.strip_suffix(".groups") {
                    if owner != self.id && owner_is_dead(&self.dir, owner) {
                        let n = crate::tools::orphans::reap(&entry.path());
                        if n > 0 {
                            tracing::warn!(
                                "ended {n} command(s) left running by a Parley that is gone"
                            );
                        }
                    }
                }
            }
        }
        Ok(interrupted)
    }
}
