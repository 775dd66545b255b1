//! Small helpers shared across modules.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new time-ordered id (uuid v7) as a string.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Creates a new file (it must not exist yet) readable and writable by the user only (0600
/// on Unix, like the database and its backups): exports hold whole conversations.
pub fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes a folder's entries durable (a rename or a new file in it survives power loss). A
/// no-op where folders cannot be synced (Windows: NTFS journals its metadata).
pub(crate) fn sync_dir(dir: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    return dir.sync_all();
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Locks a mutex whose data a panic cannot leave inconsistent (single inserts and removes).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Creates Parley's data folder readable by the user only (0700 on Unix). A folder from an
/// earlier version (one holding `parley.db`, or named for Parley) is tightened to 0700 too;
/// any other existing folder (a shared one passed as `--data-dir`) is left as it is.
pub(crate) fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if dir.is_dir() {
            let ours = dir.join("parley.db").exists()
                || dir
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().to_lowercase().starts_with("parley"));
            let mode = std::fs::metadata(dir)?.permissions().mode();
            if ours && mode & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            r => r,
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Makes a data file readable by the user only (0600 on Unix), creating it empty when missing
/// so it is never readable by others, not even for a moment.
pub(crate) fn private_file(path: &std::path::Path, create: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if create && !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)?;
        }
        // A -wal or -shm file may go between a look and a change (another connection closing
        // deletes it): a file that is not there has no mode to set.
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    #[cfg(not(unix))]
    let _ = (path, create);
    Ok(())
}

/// Gives the memory freed by a large chat back to the system at once. glibc keeps what a
/// thread frees in that thread's arena; an import reads a chat on one thread and merges it on
/// another, so without this each thread's arena would keep its own peak and a large chat would
/// be held about twice over. Elsewhere (macOS, Windows, musl) the allocator returns large
/// blocks by itself: nothing to do.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` only hands free pages of the allocator's arenas back to the
    // system; it touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The UTC day (YYYY-MM-DD) of a time in ms since the epoch.
pub fn day_of(ms: i64) -> String {
    // Howard Hinnant's days-to-civil.
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
