//! SQLite storage. One writer thread owns the only writing connection (WAL mode), a second
//! thread serves reads, so a long read never blocks the journal. Migrations run on
//! `PRAGMA user_version`, each in one transaction. A database that cannot be read is moved
//! aside (never overwritten); one written by a newer Parley is refused and left untouched.
//!
//! Every user-visible operation is one transaction. Streaming output is appended to one part
//! row at a time ([`JournalOp::AppendText`]), so appending costs the same at any history size.

mod codec;
pub mod schema;

use crate::error::StoreError;
use crate::util::now_ms;
use parley_protocol::{
    ErrorInfo, Message, MessageId, Part, ProviderKind, Role, SessionHistory, SessionId,
    SessionSummary, StopReason, TurnId, TurnInfo, TurnStatus, Usage,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A thread that owns one connection and runs jobs on it in order.
#[derive(Clone)]
struct DbThread {
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

    async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
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

/// A provider as stored (no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    /// Unique name.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
    /// The host a saved key is bound to; `None` when no key is saved.
    pub key_host: Option<String>,
    /// When it was added.
    pub created_at: i64,
}

/// One change to a streaming assistant message.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalOp {
    /// A new part at `index`.
    InsertPart {
        /// The message.
        message_id: MessageId,
        /// Its position.
        index: u32,
        /// The part.
        part: Part,
    },
    /// More text for the part's growing body (text, reasoning, tool arguments).
    AppendText {
        /// The message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The text to append.
        text: String,
    },
    /// The part's new full value (status changes and the like).
    ReplacePart {
        /// The message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The part.
        part: Part,
    },
}

/// What [`Store::begin_turn`] committed.
#[derive(Debug, Clone)]
pub struct BegunTurn {
    /// The stored user message.
    pub user_message: Message,
    /// The new turn.
    pub turn_id: TurnId,
    /// The empty assistant message the output goes into.
    pub assistant_message_id: MessageId,
}

/// How a turn ended.
#[derive(Debug, Clone)]
pub struct TurnEnd {
    /// Final status.
    pub status: TurnStatus,
    /// Token counts.
    pub usage: Option<Usage>,
    /// Normalised stop reason.
    pub stop_reason: Option<StopReason>,
    /// The provider's raw finish reason.
    pub finish_reason_raw: Option<String>,
    /// The error, for failed turns.
    pub error: Option<ErrorInfo>,
}

/// The database.
#[derive(Clone)]
pub struct Store {
    writer: DbThread,
    reader: DbThread,
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
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
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

    // ----- providers -----

    /// Adds a provider; fails if the name is taken.
    pub async fn insert_provider(&self, row: ProviderRow) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO providers(name, kind, base_url, default_model, key_host, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        row.name,
                        row.kind.as_str(),
                        row.base_url,
                        row.default_model,
                        row.key_host,
                        row.created_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    /// Replaces a provider's settings.
    pub async fn update_provider(&self, row: ProviderRow) -> Result<bool, StoreError> {
        self.writer
            .call(move |c| {
                let n = c.execute(
                    "UPDATE providers SET kind = ?2, base_url = ?3, default_model = ?4, key_host = ?5
                     WHERE name = ?1",
                    params![
                        row.name,
                        row.kind.as_str(),
                        row.base_url,
                        row.default_model,
                        row.key_host
                    ],
                )?;
                Ok(n > 0)
            })
            .await
    }

    /// All providers, oldest first.
    pub async fn list_providers(&self) -> Result<Vec<ProviderRow>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT name, kind, base_url, default_model, key_host, created_at
                     FROM providers ORDER BY created_at, name",
                )?;
                let rows = stmt.query_map([], codec::provider_row)?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(r??);
                }
                Ok(out)
            })
            .await
    }

    /// One provider by name.
    pub async fn get_provider(&self, name: &str) -> Result<Option<ProviderRow>, StoreError> {
        let name = name.to_owned();
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        "SELECT name, kind, base_url, default_model, key_host, created_at
                         FROM providers WHERE name = ?1",
                        [name],
                        codec::provider_row,
                    )
                    .optional()?;
                row.transpose()
            })
            .await
    }

    /// Deletes a provider; returns whether it existed.
    pub async fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM providers WHERE name = ?1", [name])? > 0))
            .await
    }

    // ----- sessions -----

    /// Creates an empty session.
    pub async fn create_session(
        &self,
        id: SessionId,
        title: String,
    ) -> Result<SessionSummary, StoreError> {
        self.writer
            .call(move |c| {
                let now = now_ms();
                c.execute(
                    "INSERT INTO sessions(id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                    params![id.0, title, now],
                )?;
                Ok(SessionSummary {
                    id,
                    title,
                    created_at: now,
                    updated_at: now,
                    message_count: 0,
                    provider: None,
                    model: None,
                    params: Default::default(),
                })
            })
            .await
    }

    /// Sessions by most recent activity, `limit` from `offset`.
    pub async fn list_sessions(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        self.reader
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, title, created_at, updated_at, message_count, provider, model, params
                     FROM sessions ORDER BY updated_at DESC, id DESC LIMIT ?1 OFFSET ?2",
                )?;
                let rows = stmt.query_map(params![limit, offset], codec::session_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// One session.
    pub async fn get_session(&self, id: &SessionId) -> Result<Option<SessionSummary>, StoreError> {
        let id = id.clone();
        self.reader
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT id, title, created_at, updated_at, message_count, provider, model, params
                     FROM sessions WHERE id = ?1",
                    [id.0],
                    codec::session_row,
                )
                .optional()?)
            })
            .await
    }

    /// Renames a session; returns whether it existed.
    pub async fn rename_session(&self, id: &SessionId, title: String) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .call(move |c| {
                Ok(c.execute(
                    "UPDATE sessions SET title = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.0, title, now_ms()],
                )? > 0)
            })
            .await
    }

    /// Replaces a session's generation settings; returns whether the session exists.
    pub async fn set_session_params(
        &self,
        id: &SessionId,
        params: parley_protocol::SessionParams,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        let json =
            serde_json::to_string(&params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                Ok(c.execute(
                    "UPDATE sessions SET params = ?2 WHERE id = ?1",
                    params![id.0, json],
                )? > 0)
            })
            .await
    }

    /// A provider's cached model list (`None` when never fetched).
    pub async fn model_list(
        &self,
        provider: &str,
    ) -> Result<Option<parley_protocol::ModelList>, StoreError> {
        let provider = provider.to_owned();
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        "SELECT models, fetched_at, error FROM model_lists WHERE provider = ?1",
                        [&provider],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Option<i64>>(1)?,
                                r.get::<_, Option<String>>(2)?,
                            ))
                        },
                    )
                    .optional()?;
                Ok(
                    row.map(|(models, fetched_at, error)| parley_protocol::ModelList {
                        provider,
                        // A list that no longer parses is simply fetched again.
                        models: serde_json::from_str(&models).unwrap_or_default(),
                        fetched_at,
                        error: error.and_then(|e| serde_json::from_str(&e).ok()),
                    }),
                )
            })
            .await
    }

    /// Forgets a provider's cached model list (its address changed).
    pub async fn clear_model_list(&self, provider: &str) -> Result<(), StoreError> {
        let provider = provider.to_owned();
        self.writer
            .call(move |c| {
                c.execute("DELETE FROM model_lists WHERE provider = ?1", [provider])?;
                Ok(())
            })
            .await
    }

    /// Stores a freshly fetched model list, or (with `Err`) records why the refresh failed
    /// while keeping the models cached before.
    pub async fn put_model_list(
        &self,
        provider: &str,
        fetched: Result<Vec<parley_protocol::ModelInfo>, parley_protocol::ErrorInfo>,
    ) -> Result<(), StoreError> {
        let provider = provider.to_owned();
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        let (models, error) = match &fetched {
            Ok(m) => (Some(serde_json::to_string(m).map_err(corrupt)?), None),
            Err(e) => (None, Some(serde_json::to_string(e).map_err(corrupt)?)),
        };
        self.writer
            .call(move |c| {
                match models {
                    Some(models) => c.execute(
                        "INSERT INTO model_lists(provider, models, fetched_at, error) VALUES (?1, ?2, ?3, NULL)
                         ON CONFLICT(provider) DO UPDATE SET models = ?2, fetched_at = ?3, error = NULL",
                        params![provider, models, now_ms()],
                    )?,
                    None => c.execute(
                        "INSERT INTO model_lists(provider, models, fetched_at, error) VALUES (?1, '[]', NULL, ?2)
                         ON CONFLICT(provider) DO UPDATE SET error = ?2",
                        params![provider, error],
                    )?,
                };
                Ok(())
            })
            .await
    }

    /// Deletes a session and everything in it, in one transaction.
    pub async fn delete_session(&self, id: &SessionId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                // Children before parents: the tree's foreign keys are checked per row.
                tx.execute(
                    "DELETE FROM parts WHERE message_id IN (SELECT id FROM messages WHERE session_id = ?1)",
                    [&id.0],
                )?;
                tx.execute("DELETE FROM turns WHERE session_id = ?1", [&id.0])?;
                tx.execute(
                    "UPDATE messages SET parent_id = NULL WHERE session_id = ?1",
                    [&id.0],
                )?;
                tx.execute("DELETE FROM messages WHERE session_id = ?1", [&id.0])?;
                let n = tx.execute("DELETE FROM sessions WHERE id = ?1", [&id.0])?;
                tx.commit()?;
                Ok(n > 0)
            })
            .await
    }

    // ----- turns and the journal -----

    /// In one transaction: stores the user's message, a pending turn owned by `owner`, and the
    /// empty assistant message; moves the session's head; sets a default title.
    pub async fn begin_turn(
        &self,
        session_id: &SessionId,
        text: String,
        provider: String,
        model: String,
        owner: String,
    ) -> Result<BegunTurn, StoreError> {
        let session_id = session_id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let (head, title): (Option<String>, String) = tx.query_row(
                    "SELECT head_message_id, title FROM sessions WHERE id = ?1",
                    [&session_id.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let now = now_ms();
                let user_id = MessageId(crate::new_id());
                let turn_id = TurnId(crate::new_id());
                tx.execute(
                    "INSERT INTO messages(id, session_id, parent_id, role, turn_id, created_at)
                     VALUES (?1, ?2, ?3, 'user', ?4, ?5)",
                    params![user_id.0, session_id.0, head, turn_id.0, now],
                )?;
                tx.execute(
                    "INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)",
                    params![user_id.0, text],
                )?;
                let assistant_id = insert_turn_with_answer(
                    &tx,
                    &session_id,
                    &user_id,
                    &turn_id,
                    &provider,
                    &model,
                    &owner,
                    now,
                    2,
                )?;
                if title.trim().is_empty() {
                    tx.execute(
                        "UPDATE sessions SET title = ?2 WHERE id = ?1",
                        params![session_id.0, default_title(&text)],
                    )?;
                }
                tx.commit()?;
                Ok(begun(
                    session_id,
                    user_id,
                    head.map(MessageId),
                    text,
                    now,
                    turn_id,
                    assistant_id,
                ))
            })
            .await
    }

    /// Applies a batch of streamed changes in one transaction.
    pub async fn journal(&self, ops: Vec<JournalOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                apply_journal(&tx, &ops)?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Marks a turn as streaming.
    pub async fn set_turn_streaming(&self, turn_id: &TurnId) -> Result<(), StoreError> {
        let id = turn_id.clone();
        self.writer
            .call(move |c| {
                c.execute(
                    "UPDATE turns SET status = 'streaming' WHERE id = ?1 AND status = 'pending'",
                    [id.0],
                )?;
                Ok(())
            })
            .await
    }

    /// Flushes the last journal ops and records how the turn ended, in one transaction.
    pub async fn finish_turn(
        &self,
        turn_id: &TurnId,
        ops: Vec<JournalOp>,
        end: TurnEnd,
    ) -> Result<(), StoreError> {
        let id = turn_id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                apply_journal(&tx, &ops)?;
                tx.execute(
                    "UPDATE turns SET status = ?2, ended_at = ?3, usage = ?4, stop_reason = ?5,
                     finish_reason_raw = ?6, error = ?7 WHERE id = ?1",
                    params![
                        id.0,
                        end.status.as_str(),
                        now_ms(),
                        codec::to_json_opt(&end.usage)?,
                        codec::to_json_opt(&end.stop_reason)?,
                        end.finish_reason_raw,
                        codec::to_json_opt(&end.error)?,
                    ],
                )?;
                tx.execute(
                    "UPDATE sessions SET updated_at = ?2 WHERE id = (SELECT session_id FROM turns WHERE id = ?1)",
                    params![id.0, now_ms()],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Owners of turns still marked pending or streaming.
    pub async fn active_turn_owners(&self) -> Result<Vec<String>, StoreError> {
        self.writer
            .call(|c| {
                let mut stmt = c.prepare(
                    "SELECT DISTINCT COALESCE(owner, '') FROM turns WHERE status IN ('pending', 'streaming')",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Saves an "always allow" grant (idempotent) and returns it.
    pub async fn add_grant(
        &self,
        tool: &str,
        arguments: &str,
    ) -> Result<parley_protocol::Grant, StoreError> {
        let (tool, arguments) = (tool.to_owned(), arguments.to_owned());
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO grants(tool, arguments, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(tool, arguments) DO NOTHING",
                    params![tool, arguments, now_ms()],
                )?;
                Ok(c.query_row(
                    "SELECT id, tool, arguments, created_at FROM grants WHERE tool = ?1 AND arguments = ?2",
                    params![tool, arguments],
                    grant_row,
                )?)
            })
            .await
    }

    /// Every saved grant, oldest first.
    pub async fn list_grants(&self) -> Result<Vec<parley_protocol::Grant>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt =
                    c.prepare("SELECT id, tool, arguments, created_at FROM grants ORDER BY id")?;
                let rows = stmt.query_map([], grant_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Deletes a grant; returns it when it existed.
    pub async fn delete_grant(
        &self,
        id: i64,
    ) -> Result<Option<parley_protocol::Grant>, StoreError> {
        self.writer
            .call(move |c| {
                let g = c
                    .query_row(
                        "SELECT id, tool, arguments, created_at FROM grants WHERE id = ?1",
                        [id],
                        grant_row,
                    )
                    .optional()?;
                c.execute("DELETE FROM grants WHERE id = ?1", [id])?;
                Ok(g)
            })
            .await
    }

    /// Every assistant, by name.
    pub async fn list_assistants(&self) -> Result<Vec<parley_protocol::Assistant>, StoreError> {
        self.reader
            .call(|c| {
                let mut stmt = c.prepare("SELECT body FROM assistants")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                let mut out = Vec::new();
                for body in rows {
                    let a: parley_protocol::Assistant = serde_json::from_str(&body?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    out.push(a);
                }
                out.sort_by_key(|a| a.name.to_lowercase());
                Ok(out)
            })
            .await
    }

    /// Inserts or replaces an assistant (by id).
    pub async fn put_assistant(&self, a: parley_protocol::Assistant) -> Result<(), StoreError> {
        let body = serde_json::to_string(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO assistants(id, body, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET body = ?2",
                    params![a.id, body, now_ms()],
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes an assistant; returns whether it existed.
    pub async fn delete_assistant(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .call(move |c| Ok(c.execute("DELETE FROM assistants WHERE id = ?1", [id])? > 0))
            .await
    }

    /// Marks the running turns of a dead owner as interrupted (their output is kept). Tool
    /// calls they left unfinished are ended as cancelled, each with a result saying so, so
    /// every call has exactly one result and the conversation can be sent again.
    pub async fn interrupt_turns_of(&self, owner: &str) -> Result<usize, StoreError> {
        let owner = owner.to_owned();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                settle_interrupted_calls(&tx, &owner)?;
                tx.commit()?;
                let info = ErrorInfo::new(
                    parley_protocol::ErrorCode::StreamInterrupted,
                    "Parley closed while this answer was being written; the partial answer is kept. Retry to ask again.",
                    true,
                );
                let n = c.execute(
                    "UPDATE turns SET status = 'interrupted', ended_at = ?2, error = ?3
                     WHERE status IN ('pending', 'streaming') AND COALESCE(owner, '') = ?1",
                    params![owner, now_ms(), serde_json::to_string(&info).map_err(|e| StoreError::Corrupt(e.to_string()))?],
                )?;
                Ok(n)
            })
            .await
    }

    /// The session with all the messages of its current branch and their turns, oldest first.
    pub async fn history(&self, id: &SessionId) -> Result<Option<SessionHistory>, StoreError> {
        self.history_page(id, None, u32::MAX).await
    }

    /// Up to `limit` messages of the current branch ending just before `before` (or at the
    /// head), oldest first, with their turns; `has_more` says whether older ones exist.
    pub async fn history_page(
        &self,
        id: &SessionId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Option<SessionHistory>, StoreError> {
        let id = id.clone();
        self.reader
            .call(move |c| load_history(c, &id, before.as_ref(), limit))
            .await
    }

    /// In one transaction: a new pending turn that answers the existing user message again,
    /// as a new branch (the earlier answer stays in the tree), and the session's head moves to it.
    pub async fn begin_retry(
        &self,
        session_id: &SessionId,
        user_message_id: &MessageId,
        provider: String,
        model: String,
        owner: String,
    ) -> Result<BegunTurn, StoreError> {
        let session_id = session_id.clone();
        let user_id = user_message_id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let (parent, role, created_at): (Option<String>, String, i64) = tx.query_row(
                    "SELECT parent_id, role, created_at FROM messages WHERE id = ?1 AND session_id = ?2",
                    [&user_id.0, &session_id.0],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                if role != "user" {
                    return Err(StoreError::Corrupt("only a user message can be answered again".into()));
                }
                let text: String = tx
                    .query_row(
                        "SELECT group_concat(body, '') FROM parts WHERE message_id = ?1 AND kind = 'text'",
                        [&user_id.0],
                        |r| r.get::<_, Option<String>>(0),
                    )?
                    .unwrap_or_default();
                let now = now_ms();
                let turn_id = TurnId(crate::new_id());
                let assistant_id = insert_turn_with_answer(
                    &tx, &session_id, &user_id, &turn_id, &provider, &model, &owner, now, 1,
                )?;
                tx.commit()?;
                Ok(begun(
                    session_id,
                    user_id,
                    parent.map(MessageId),
                    text,
                    created_at,
                    turn_id,
                    assistant_id,
                ))
            })
            .await
    }

    /// The stored settings, if the user ever saved any.
    pub async fn settings(&self) -> Result<Option<parley_protocol::Settings>, StoreError> {
        self.reader
            .call(|c| {
                let v: Option<String> = c
                    .query_row("SELECT value FROM settings WHERE key = 'app'", [], |r| {
                        r.get(0)
                    })
                    .optional()?;
                Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
            })
            .await
    }

    /// Saves the settings.
    pub async fn save_settings(
        &self,
        settings: parley_protocol::Settings,
    ) -> Result<(), StoreError> {
        let value =
            serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO settings(key, value) VALUES ('app', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [value],
                )?;
                Ok(())
            })
            .await
    }

    /// Runs `PRAGMA integrity_check` and returns its first line (`ok` when healthy).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        self.reader
            .call(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
            .await
    }
}

/// A title from the first line of the first message, at most 60 characters.
pub fn default_title(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("New chat");
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    title
}

/// What a begun turn returns: the user message as stored, the turn, its empty answer.
fn begun(
    session_id: SessionId,
    user_id: MessageId,
    parent_id: Option<MessageId>,
    text: String,
    created_at: i64,
    turn_id: TurnId,
    assistant_message_id: MessageId,
) -> BegunTurn {
    BegunTurn {
        user_message: Message {
            id: user_id,
            session_id,
            parent_id,
            role: Role::User,
            parts: vec![Part::Text { text }],
            turn_id: Some(turn_id.clone()),
            provider: None,
            model: None,
            created_at,
        },
        turn_id,
        assistant_message_id,
    }
}

/// Inserts a pending turn answering `user_id` and its (empty) assistant message, and moves the
/// session's head to that answer. Shared by a new message and a retry.
#[allow(clippy::too_many_arguments)]
fn insert_turn_with_answer(
    tx: &Connection,
    session_id: &SessionId,
    user_id: &MessageId,
    turn_id: &TurnId,
    provider: &str,
    model: &str,
    owner: &str,
    now: i64,
    added_messages: i64,
) -> Result<MessageId, StoreError> {
    let assistant_id = MessageId(crate::new_id());
    tx.execute(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status, owner, provider, model, started_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8)",
        params![turn_id.0, session_id.0, user_id.0, assistant_id.0, owner, provider, model, now],
    )?;
    tx.execute(
        "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
         VALUES (?1, ?2, ?3, 'assistant', ?4, ?5, ?6, ?7)",
        params![assistant_id.0, session_id.0, user_id.0, turn_id.0, provider, model, now],
    )?;
    tx.execute(
        "UPDATE sessions SET head_message_id = ?2, updated_at = ?3, message_count = message_count + ?4,
         provider = ?5, model = ?6 WHERE id = ?1",
        params![session_id.0, assistant_id.0, now, added_messages, provider, model],
    )?;
    Ok(assistant_id)
}

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<parley_protocol::Grant> {
    Ok(parley_protocol::Grant {
        id: r.get(0)?,
        tool: r.get(1)?,
        arguments: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// Ends the unfinished tool calls of `owner`'s running turns: status cancelled, plus a result
/// for each call that has none.
fn settle_interrupted_calls(c: &Connection, owner: &str) -> Result<(), StoreError> {
    let mut stmt = c.prepare(
        "SELECT assistant_message_id FROM turns
         WHERE status IN ('pending', 'streaming') AND COALESCE(owner, '') = ?1
           AND assistant_message_id IS NOT NULL",
    )?;
    let messages = stmt
        .query_map([owner], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for m in messages {
        let mut parts = Vec::new();
        let mut q = c.prepare(
            "SELECT idx, kind, body, meta FROM parts WHERE message_id = ?1 ORDER BY idx",
        )?;
        let rows = q.query_map([&m], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (idx, kind, body, meta) = row?;
            parts.push((idx, codec::decode_part(&kind, body, meta.as_deref())?));
        }
        let answered: std::collections::HashSet<String> = parts
            .iter()
            .filter_map(|(_, p)| match p {
                Part::ToolResult { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect();
        let mut next = parts.last().map_or(0, |(i, _)| i + 1);
        let mut ops = Vec::new();
        let message_id = MessageId(m.clone());
        for (idx, p) in &parts {
            if let Part::ToolCall {
                call_id,
                name,
                arguments,
                status,
            } = p
            {
                if status.is_terminal() {
                    continue;
                }
                ops.push(JournalOp::ReplacePart {
                    message_id: message_id.clone(),
                    index: *idx,
                    part: Part::ToolCall {
                        call_id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                        status: parley_protocol::ToolCallStatus::Cancelled,
                    },
                });
                if !answered.contains(call_id) {
                    ops.push(JournalOp::InsertPart {
                        message_id: message_id.clone(),
                        index: next,
                        part: Part::ToolResult {
                            call_id: call_id.clone(),
                            output: "Parley closed before this call finished; it may or may not have run. Check before relying on it.".into(),
                            is_error: true,
                        },
                    });
                    next += 1;
                }
            }
        }
        apply_journal(c, &ops)?;
    }
    Ok(())
}

fn apply_journal(c: &Connection, ops: &[JournalOp]) -> Result<(), StoreError> {
    for op in ops {
        match op {
            JournalOp::InsertPart {
                message_id,
                index,
                part,
            } => {
                let (kind, body, meta) = codec::encode_part(part)?;
                c.prepare_cached(
                    "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![message_id.0, index, kind, body, meta])?;
            }
            JournalOp::AppendText {
                message_id,
                index,
                text,
            } => {
                c.prepare_cached(
                    "UPDATE parts SET body = body || ?3 WHERE message_id = ?1 AND idx = ?2",
                )?
                .execute(params![message_id.0, index, text])?;
            }
            JournalOp::ReplacePart {
                message_id,
                index,
                part,
            } => {
                let (kind, body, meta) = codec::encode_part(part)?;
                c.prepare_cached(
                    "UPDATE parts SET kind = ?3, body = ?4, meta = ?5 WHERE message_id = ?1 AND idx = ?2",
                )?
                .execute(params![message_id.0, index, kind, body, meta])?;
            }
        }
    }
    Ok(())
}

/// The session and up to `limit` messages of its current branch ending just before `before`
/// (or at the head), oldest first. Walks parent links from the end, so the cost is O(limit)
/// whatever the length of the conversation.
fn load_history(
    c: &Connection,
    id: &SessionId,
    before: Option<&MessageId>,
    limit: u32,
) -> Result<Option<SessionHistory>, StoreError> {
    let Some(session) = c
        .query_row(
            "SELECT id, title, created_at, updated_at, message_count, provider, model, params
             FROM sessions WHERE id = ?1",
            [&id.0],
            codec::session_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let start: Option<String> = match before {
        None => c.query_row(
            "SELECT head_message_id FROM sessions WHERE id = ?1",
            [&id.0],
            |r| r.get(0),
        )?,
        Some(m) => c
            .query_row(
                "SELECT parent_id FROM messages WHERE id = ?1 AND session_id = ?2",
                [&m.0, &id.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("no message {m} in this chat")))?,
    };
    let mut messages = Vec::new();
    let mut has_more = false;
    if let Some(start) = start {
        let mut stmt = c.prepare_cached(
            "WITH RECURSIVE chain(id, depth) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
                 WHERE m.parent_id IS NOT NULL AND chain.depth < ?2
             )
             SELECT m.id, m.session_id, m.parent_id, m.role, m.turn_id, m.provider, m.model, m.created_at
             FROM chain JOIN messages m ON m.id = chain.id ORDER BY chain.depth DESC",
        )?;
        messages = stmt
            .query_map(params![start, i64::from(limit)], codec::message_row)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        if messages.len() > limit as usize {
            has_more = true;
            messages.remove(0);
        }
    }
    let mut parts_stmt =
        c.prepare_cached("SELECT kind, body, meta FROM parts WHERE message_id = ?1 ORDER BY idx")?;
    for m in &mut messages {
        let rows = parts_stmt.query_map([&m.id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, body, meta) = row?;
            m.parts
                .push(codec::decode_part(&kind, body, meta.as_deref())?);
        }
    }
    let mut turn_stmt = c.prepare_cached(
        "SELECT id, session_id, user_message_id, assistant_message_id, status, provider, model,
                started_at, ended_at, usage, stop_reason, error
         FROM turns WHERE id = ?1",
    )?;
    let mut turns: Vec<TurnInfo> = Vec::new();
    // Turns through their answers: after a retry the user message is shared by two turns, and
    // only the one whose answer is on this branch belongs to the page.
    for m in messages.iter().filter(|m| m.role == Role::Assistant) {
        let Some(tid) = &m.turn_id else { continue };
        if turns.iter().any(|t| &t.id == tid) {
            continue;
        }
        if let Some(t) = turn_stmt.query_row([&tid.0], codec::turn_row).optional()? {
            turns.push(t?);
        }
    }
    turns.sort_by(|a, b| (a.started_at, &a.id.0).cmp(&(b.started_at, &b.id.0)));
    Ok(Some(SessionHistory {
        session,
        messages,
        turns,
        has_more,
    }))
}

#[cfg(test)]
mod tests;
