//! SQLite storage. One writer thread owns the only writing connection (WAL mode), a second
//! thread serves reads, so a long read never blocks the journal. Migrations run on
//! `PRAGMA user_version`, each in one transaction. A database that cannot be read is moved
//! aside (never overwritten); one written by a newer Parley is refused and left untouched.
//!
//! Every user-visible operation is one transaction. Streaming output is appended to one part
//! row at a time (`JournalOp::AppendText`), so appending costs the same at any history size.
//!
//! This module is the database itself: opening, migrating, the two connection threads and the
//! row codec. Each topic's queries live with the topic, as `impl Store` blocks: chats
//! (`chats/store.rs`, `chats/journal.rs`), history (`history/store.rs`), providers
//! (`providers/store.rs`), assistants, approvals (grants) and settings (`*/store.rs`).

pub use crate::chats::{default_title, BegunTurn, JournalOp, TurnEnd};
pub use crate::providers::ProviderRow;

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
}

impl DbThread {
    fn spawn(mut conn: Connection, name: &str) -> Result<DbThread, StoreError> {
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
        Ok(DbThread { tx })
    }

    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (otx, orx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Box::new(move |c| {
                let _ = otx.send(f(c));
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
    /// The schema version before migrations ran.
    pub previous_version: i64,
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pub(crate) writer: DbThread,
    pub(crate) reader: DbThread,
    path: PathBuf,
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
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

fn open_and_migrate(path: &Path) -> Result<(Connection, i64), StoreError> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    // Check the version before anything writes: a newer database must stay byte-identical.
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let latest = schema::latest_version();
    if version > latest {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found: version,
            supported: latest,
        });
    }
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!("SQLite refused WAL mode (got {mode})");
    }
    // FULL: a committed message survives power loss, not only an app crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    for (i, sql) in schema::MIGRATIONS.iter().enumerate() {
        let target = i as i64 + 1;
        if target <= version {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
        tracing::info!("database migrated to schema {target}");
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
    Ok(aside)
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<(Store, OpenReport), StoreError> {
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
        let mut report = OpenReport::default();
        let (conn, previous) = match open_and_migrate(path) {
            Ok(ok) => ok,
            Err(e) if is_unreadable(&e) => {
                let aside = move_aside(path)?;
                tracing::warn!(
                    "the database could not be read ({e}); it was moved to {} and a new one created",
                    aside.display()
                );
                report.moved_aside = Some(aside);
                private()?;
                open_and_migrate(path)?
            }
            Err(e) => return Err(e),
        };
        report.previous_version = previous;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&reader)?;
        Ok((
            Store {
                writer: DbThread::spawn(conn, "parley-db-writer")?,
                reader: DbThread::spawn(reader, "parley-db-reader")?,
                path: path.to_owned(),
            },
            report,
        ))
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `PRAGMA integrity_check` and returns its first line (`ok` when healthy).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        self.reader
            .call(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
            .await
    }
}

#[cfg(test)]
mod tests;
