//! The private staging database of an import: a fresh database of the current schema that the
//! file's chats are written into one at a time, in transactions of a few megabytes, before the
//! whole of it is merged. It is disposable (removed after the merge, swept at start when a
//! killed import left it), so it is written without syncing and without the search index,
//! which the merge builds in the real database.

use super::import::repeated;
use crate::error::StoreError;
use crate::store::codec;
use parley_protocol::ChatExport;
use rusqlite::{params, Connection};
use std::path::Path;

pub(super) struct Staging {
    conn: Connection,
}

impl Staging {
    /// Creates the database at `path` (which must not exist) and opens its first transaction.
    pub(super) fn create(path: &Path) -> Result<Staging, StoreError> {
        crate::util::private_file(path, true).map_err(|e| crate::store::io_err(path, e))?;
        let (conn, _) =
            crate::store::open_and_migrate_with(path, crate::store::schema::MIGRATIONS, false)?;
        conn.execute_batch(
            "PRAGMA synchronous = OFF;
             PRAGMA cache_size = -1024;
             DROP TRIGGER IF EXISTS search_part_added;
             DROP TRIGGER IF EXISTS search_title_added;
             BEGIN;",
        )?;
        Ok(Staging { conn })
    }

    /// Commits what is written so far and opens the next transaction.
    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT; BEGIN;")?;
        Ok(())
    }

    /// Commits and closes the database.
    pub(super) fn finish(self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT;")?;
        self.conn.close().map_err(|(_, e)| StoreError::from(e))
    }

    /// Writes one checked chat; a chat, message or turn id already written (another chat of
    /// the file) is refused with a sentence.
    pub(super) fn write(&mut self, chat: &ChatExport) -> Result<(), String> {
        let s = &chat.session;
        write_session(&self.conn, chat).map_err(|e| repeated(e, "a chat", &s.id.0))?;
        for m in &chat.messages {
            self.conn
                .prepare_cached(
                    "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        m.id.0,
                        m.session_id.0,
                        m.parent_id.as_ref().map(|p| &p.0),
                        m.role.as_str(),
                        m.turn_id.as_ref().map(|t| &t.0),
                        m.provider,
                        m.model,
                        m.created_at
                    ])
                })
                .map_err(|e| repeated(e.into(), "a message", &m.id.0))?;
            let mut part = self
                .conn
                .prepare_cached(
                    "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(|e| e.to_string())?;
            for (i, p) in m.parts.iter().enumerate() {
                let (kind, body, meta) = codec::encode_part(p).map_err(|e| e.to_string())?;
                part.execute(params![m.id.0, i as i64, kind, body, meta])
                    .map_err(|e| e.to_string())?;
            }
        }
        for t in &chat.turns {
            write_turn(&self.conn, t).map_err(|e| repeated(e, "a turn", &t.id.0))?;
        }
        Ok(())
    }
}

fn write_session(c: &Connection, chat: &ChatExport) -> Result<(), StoreError> {
    let s = &chat.session;
    let params_json =
        serde_json::to_string(&s.params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (fs, fm) = match &s.forked_from {
        Some(f) => (Some(&f.session_id.0), Some(&f.message_id.0)),
        None => (None, None),
    };
    c.prepare_cached(
        "INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count,
                              provider, model, params, revision, pinned, archived,
                              forked_from_session, forked_from_message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        s.id.0,
        s.title,
        s.created_at,
        s.updated_at,
        chat.head.as_ref().map(|h| &h.0),
        chat.messages.len() as i64,
        s.provider,
        s.model,
        params_json,
        s.revision as i64,
        s.pinned,
        s.archived,
        fs,
        fm
    ])?;
    Ok(())
}

fn write_turn(c: &Connection, t: &parley_protocol::TurnInfo) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status,
                           provider, model, started_at, ended_at, usage, stop_reason, error,
                           context_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        t.id.0,
        t.session_id.0,
        t.user_message_id.0,
        t.assistant_message_id.as_ref().map(|a| &a.0),
        t.status.as_str(),
        t.provider,
        t.model,
        t.started_at,
        t.ended_at,
        codec::to_json_opt(&t.usage)?,
        codec::to_json_opt(&t.stop_reason)?,
        codec::to_json_opt(&t.error)?,
        t.context_from.as_ref().map(|m| &m.0)
    ])?;
    Ok(())
}
