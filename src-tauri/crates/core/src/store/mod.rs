//! SQLite storage. One writer thread owns the only writing connection (WAL mode), a second
//! thread serves reads, so a long read never blocks the journal. Migrations run on
//! `PRAGMA user_version`, each in one transaction. A database that cannot be read is moved
//! aside (never overwritten); one written by a newer Parley is refused and left untouched.
//!
//! Every user-visible operation is one transaction. Streaming output is appended as chunk rows
//! (`JournalOp::AppendText` writes only the new bytes; a short part is folded into one row when
//! its turn ends), so appending costs the same at any history size and any answer length. The WAL is cut
//! back to `WAL_SIZE_LIMIT` after checkpoints; deleted chats' pages go back to the file system
//! (incremental vacuum).
//!
//! This module is the database itself: opening, migrating, the two connection threads and the
//! row codec. Each topic's queries live with the topic, as `impl Store` blocks: chats
//! (`chats/store.rs`, `chats/journal.rs`), history (`history/store.rs`), providers
//! (`providers/store.rs`), assistants, approvals (grants) and settings (`*/store.rs`).

pub mod backup;
pub(crate) mod codec;
pub mod schema;

use crate::error::StoreError;
use crate::util::now_ms;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A thread that owns one connection and runs jobs on it in order.
#[derive(Clone)]
pub(crate) struct DbThread {
    tx: std_mpsc::Sender<Job>,
    /// The data folder, for the writer: a failed write is explained by probing it.
    dir: Option<std::sync::Arc<PathBuf>>,
    /// Set when SQLite reports a damaged page (shared by the reader and the writer): the
    /// next start then checks every page (see `StartCheck`).
    damage: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// SQLite reports a full disk as SQLITE_FULL only sometimes (a short write); a write refused
/// outright (ENOSPC, EDQUOT, EROFS) is a generic I/O error. Either way, writing a page's
/// worth to the folder and syncing it tells which it is.
fn explain_write_failure(dir: &Path, e: StoreError) -> StoreError {
    use rusqlite::ErrorCode as C;
    let code = match &e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => f.code,
        _ => return e,
    };
    if !matches!(
        code,
        C::DiskFull | C::SystemIoFailure | C::ReadOnly | C::CannotOpen
    ) {
        return e;
    }
    let probe = dir.join(format!(".parley-write-probe-{}", std::process::id()));
    let result = std::fs::File::create(&probe).and_then(|mut f| {
        use std::io::Write;
        f.write_all(&[0u8; 8192])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    let path = dir.display().to_string();
    match result {
        Err(io)
            if matches!(io.raw_os_error(), Some(28) | Some(122))
                || io.kind() == std::io::ErrorKind::StorageFull
                || io.kind() == std::io::ErrorKind::QuotaExceeded =>
        {
            StoreError::DiskFull { path }
        }
        Err(io)
            if io.kind() == std::io::ErrorKind::ReadOnlyFilesystem
                || io.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            StoreError::ReadOnly { path }
        }
        _ if code == C::DiskFull => StoreError::DiskFull { path },
        _ if code == C::ReadOnly => StoreError::ReadOnly { path },
        _ => e,
    }
}

impl DbThread {
    fn spawn(
        mut conn: Connection,
        name: &str,
        damage: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<DbThread, StoreError> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Io {
                path: name.to_owned(),
                source: e,
            })?;
        Ok(DbThread {
            tx,
            dir: None,
            damage,
        })
    }

    /// Runs `f` on this thread's connection without waiting for it (its errors are its own
    /// to report). Jobs run in the order they were given.
    pub(crate) fn submit(&self, f: impl FnOnce(&mut Connection) + Send + 'static) {
        let _ = self.tx.send(Box::new(f));
    }

    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (otx, orx) = tokio::sync::oneshot::channel();
        let dir = self.dir.clone();
        let damage = self.damage.clone();
        self.tx
            .send(Box::new(move |c| {
                let result = f(c);
                if matches!(&result, Err(e) if e.is_damaged()) {
                    damage.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let _ = otx.send(match (result, dir) {
                    (Err(e), Some(dir)) => Err(explain_write_failure(&dir, e)),
                    (r, _) => r,
                });
            }))
            .map_err(|_| StoreError::Closed)?;
        orx.await.map_err(|_| StoreError::Closed)?
    }
}

/// What happened while opening the database.
#[derive(Debug, Default, Clone)]
pub struct OpenReport {
    /// An unreadable database was moved here and a new one created.
    pub moved_aside: Option<PathBuf>,
    /// Why it was moved aside.
    pub reason: Option<String>,
    /// The schema version before migrations ran.
    pub previous_version: i64,
    /// The check the file passed at this start.
    pub check: StartCheck,
}

/// How much of the file the start reads to know it can be used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum StartCheck {
    /// `PRAGMA quick_check`: every page, so linear in the file (0.9 s at 700 MB). After a run
    /// that did not end cleanly or saw damage, and whenever nothing says the last run was clean.
    #[default]
    Full,
    /// The header, the schema and the file's length against its page count: the same few
    /// pages at any size. After runs that all ended cleanly.
    Cheap,
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pub(crate) writer: DbThread,
    pub(crate) reader: DbThread,
    path: PathBuf,
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The size the WAL file is cut back to after a checkpoint. SQLite checkpoints every 1000
/// pages (4 MB) written; without a limit the file keeps the size of the largest transaction
/// it ever held (a 10 MB answer folded at its end).
pub const WAL_SIZE_LIMIT: i64 = 8 * 1024 * 1024;

/// Free pages beyond which deleting frees space back to the file system (1 MB of 4 KB pages).
const RECLAIM_ABOVE_PAGES: i64 = 256;

/// Returns the database's free pages to the file system once there are more than a few
/// (deleted chats; streamed chunks folded at a turn's end free pages too, reused by the next
/// turn). Needs `auto_vacuum = INCREMENTAL`; a no-op without it.
pub(crate) fn reclaim_free_pages(conn: &Connection) -> Result<(), StoreError> {
    let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    if free > RECLAIM_ABOVE_PAGES {
        // Each step frees one page: it runs to its end only when stepped to the end.
        let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
    }
    Ok(())
}

/// The SQL functions every connection to the database gets (its triggers call them). The
/// floor names no topic: the wiring says which (`crate::open_store`, search's).
pub type SqlFunctions = fn(&Connection) -> Result<(), StoreError>;

fn configure(conn: &Connection, functions: SqlFunctions) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // macOS's fsync does not reach the platter; F_FULLFSYNC does.
    #[cfg(target_os = "macos")]
    conn.pragma_update(None, "fullfsync", true)?;
    functions(conn)?;
    Ok(())
}

/// True when SQLite says the file is not a usable database.
fn is_unreadable(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        ),
        _ => false,
    }
}

fn open_and_migrate(
    path: &Path,
    functions: SqlFunctions,
    check: StartCheck,
) -> Result<(Connection, i64), StoreError> {
    open_checked(path, schema::MIGRATIONS, true, functions, check)
}

/// `check` on the file `conn` opened: `ok`, or what is wrong.
fn check_file(conn: &Connection, path: &Path, check: StartCheck) -> Result<String, StoreError> {
    if check == StartCheck::Full {
        return Ok(conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?);
    }
    // Page 1 and the schema's pages: a file that is not a database, or whose schema is
    // damaged, fails here.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    // With no WAL holding newer pages, the file holds all of its pages: a cut file does not.
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0 {
        let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        let size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let len = std::fs::metadata(path).map_err(|e| io_err(path, e))?.len();
        if len < (pages * size) as u64 {
            return Ok(format!(
                "{pages} pages of {size} bytes in a file of {len} bytes"
            ));
        }
    }
    Ok("ok".into())
}

/// Opens the database and brings it to the schema of `migrations` (the real list, or a test's).
/// Before an existing database is migrated a snapshot of it is written to `backups/`; all the
/// pending migrations then run in one transaction, so a failure leaves the file as it was.
pub(crate) fn open_and_migrate_with(
    path: &Path,
    migrations: &[&str],
    snapshot_first: bool,
    functions: SqlFunctions,
) -> Result<(Connection, i64), StoreError> {
    open_checked(
        path,
        migrations,
        snapshot_first,
        functions,
        StartCheck::Full,
    )
}

/// [`open_and_migrate_with`], with the start's check chosen.
fn open_checked(
    path: &Path,
    migrations: &[&str],
    snapshot_first: bool,
    functions: SqlFunctions,
    check: StartCheck,
) -> Result<(Connection, i64), StoreError> {
    let mut conn = Connection::open(path)?;
    configure(&conn, functions)?;
    // Check the version before anything writes: a newer database must stay byte-identical.
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let latest = migrations.len() as i64;
    if version > latest {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found: version,
            supported: latest,
        });
    }
    // A database that holds anything is checked before anything writes to it: a corrupt page found now
    // moves the file aside (see `Store::open`) instead of failing queries later.
    let found = check_file(&conn, path, check)?;
    if found != "ok" {
        let label = match check {
            StartCheck::Full => "quick_check",
            StartCheck::Cheap => "start check",
        };
        return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("{label}: {found}")),
        )));
    }
    // A new database frees the pages of deleted chats back to the file system (see
    // `reclaim_free_pages`); this has to be chosen before the first table exists.
    if version == 0 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    }
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!("SQLite refused WAL mode (got {mode})");
    }
    // FULL: a committed message survives power loss, not only an app crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    if version < latest {
        if version > 0 && snapshot_first {
            let snapshot =
                backup::snapshot(&conn, path, &format!("before-schema-{}", version + 1))?;
            tracing::info!("database snapshot before migrating: {}", snapshot.display());
        }
        let tx = conn.transaction()?;
        for (i, sql) in migrations.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        tracing::info!("database migrated from schema {version} to {latest}");
    }
    // A database made before incremental vacuum is rebuilt with it once, after the snapshot.
    let auto_vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0))?;
    if auto_vacuum != 2 && snapshot_first {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.execute_batch("VACUUM")?;
        tracing::info!("database rebuilt with incremental vacuum");
    }

    Ok((conn, version))
}

fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let stamp = now_ms();
    let aside = PathBuf::from(format!("{}.unreadable-{stamp}", path.display()));
    std::fs::rename(path, &aside).map_err(|e| io_err(path, e))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&side, &to).map_err(|e| io_err(&side, e))?;
        }
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| crate::util::sync_dir(&d));
    }
    Ok(aside)
}

impl Store {
    /// Opens (creating if needed) the database at `path`, each connection with `functions`,
    /// checking every page first.
    pub fn open(path: &Path, functions: SqlFunctions) -> Result<(Store, OpenReport), StoreError> {
        Store::open_with(path, functions, StartCheck::Full)
    }

    /// Opens (creating if needed) the database at `path` after `check`: a file that fails it
    /// is moved aside and a new one created.
    pub fn open_with(
        path: &Path,
        functions: SqlFunctions,
        check: StartCheck,
    ) -> Result<(Store, OpenReport), StoreError> {
        if let Some(dir) = path.parent() {
            crate::util::private_dir(dir).map_err(|e| io_err(dir, e))?;
        }
        // The database and its -wal and -shm files (SQLite gives those the database's mode).
        let private = || -> Result<(), StoreError> {
            for suffix in ["", "-wal", "-shm"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                crate::util::private_file(&file, suffix.is_empty())
                    .map_err(|e| io_err(&file, e))?;
            }
            Ok(())
        };
        private()?;
        let mut report = OpenReport {
            check,
            ..OpenReport::default()
        };
        let (conn, previous) = match open_and_migrate(path, functions, check) {
            Ok(ok) => ok,
            Err(e) if is_unreadable(&e) => {
                let aside = move_aside(path)?;
                tracing::warn!(
                    "the database could not be read ({e}); it was moved to {} and a new one created",
                    aside.display()
                );
                report.moved_aside = Some(aside);
                report.reason = Some(e.to_string());
                private()?;
                open_and_migrate(path, functions, check)?
            }
            Err(e) => return Err(e),
        };
        report.previous_version = previous;
        reclaim_free_pages(&conn)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&reader, functions)?;
        let damage = std::sync::Arc::default();
        Ok((
            Store {
                writer: DbThread {
                    dir: Some(std::sync::Arc::new(
                        path.parent().unwrap_or_else(|| Path::new(".")).to_owned(),
                    )),
                    ..DbThread::spawn(conn, "parley-db-writer", std::sync::Arc::clone(&damage))?
                },
                reader: DbThread::spawn(reader, "parley-db-reader", damage)?,
                path: path.to_owned(),
            },
            report,
        ))
    }

    /// Folds the WAL back into the file and empties it, waiting at most `within`; `true` when
    /// it did (no other connection in the way). At a clean end, so the next start finds the
    /// whole database in its file and can check its length (see `StartCheck::Cheap`).
    pub fn checkpoint_now(&self, within: std::time::Duration) -> bool {
        let (tx, rx) = std_mpsc::channel();
        let job: Job = Box::new(move |c| {
            let busy = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
            let _ = tx.send(matches!(busy, Ok(0)));
        });
        self.writer.tx.send(job).is_ok() && rx.recv_timeout(within).unwrap_or(false)
    }

    /// Whether SQLite reported a damaged page since the database was opened: the next start
    /// then checks every page (and moves the file aside if the damage is still there).
    pub fn damage_seen(&self) -> bool {
        self.writer.damage.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For the benchmark: checkpoints the WAL to empty, then sets how many pages the writer
    /// lets it grow before checkpointing (0: never), so the WAL's size is the bytes written.
    #[doc(hidden)]
    pub async fn bench_measure_wal(&self, autocheckpoint_pages: i64) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                c.pragma_update(None, "wal_autocheckpoint", autocheckpoint_pages)?;
                Ok(())
            })
            .await
    }

    /// Runs `PRAGMA integrity_check` and returns its first line (`ok` when healthy).
    ///
    /// It runs on a connection of its own: FTS5's check reads the index's structure as the
    /// connection last cached it, which is stale on a reader that has not searched since
    /// another connection merged the index (a search refreshes it; the check does not).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        let path = self.path().to_owned();
        self.reader
            .call(move |_| {
                let c = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
            })
            .await
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod durability_tests;

#[cfg(test)]
mod health_tests;
