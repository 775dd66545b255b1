//! The private staging database of an import: a fresh database of the current schema that the
//! file's chats are written into one at a time, in transactions of a few megabytes, that the
//! merge follows. It is disposable (removed after the merge, swept at start when a killed
//! import left it), so it is written without syncing, with a small cache, and without the
//! search index, which the merge builds in the real database. An image's bytes from the file
//! are taken in here, like an attached file's (`attachments::transfer::take_in`), and stored
//! in this database's own attachment tables, which the merge brings along.

use super::import::repeated;
use crate::error::StoreError;
use parley_protocol::{ChatExport, Part};
use rusqlite::Connection;
use std::path::Path;

pub(super) struct Staging {
    conn: Connection,
    /// What an image of the file may be (it is taken in like an attached file).
    limits: crate::attachments::ingest::Limits,
}

impl Staging {
    /// Creates the database at `path` (which must not exist) and opens its first transaction.
    pub(super) fn create(path: &Path) -> Result<Staging, StoreError> {
        crate::util::private_file(path, true).map_err(|e| crate::store::io_err(path, e))?;
        let (conn, _) = crate::store::open_and_migrate_with(
            path,
            crate::store::schema::MIGRATIONS,
            false,
            crate::search::register,
        )?;
        conn.execute_batch(
            "PRAGMA synchronous = OFF;
             PRAGMA cache_size = -256;
             DROP TRIGGER IF EXISTS search_part_added;
             DROP TRIGGER IF EXISTS search_title_added;
             BEGIN;",
        )?;
        Ok(Staging {
            conn,
            limits: crate::attachments::ingest::Limits::default(),
        })
    }

    /// Commits what is written so far and opens the next transaction.
    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT; BEGIN;")?;
        Ok(())
    }

    /// The row id of the last chat written (what the merge may read once committed).
    pub(super) fn last_chat(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(rowid), 0) FROM sessions", [], |r| {
                r.get(0)
            })?)
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
        super::merge_rows::insert_chat_row(&self.conn, chat, "first-words")
            .map_err(|e| repeated(e, "a chat", &s.id.0))?;
        for m in &chat.messages {
            super::merge_rows::insert_message(&self.conn, m)
                .map_err(|e| repeated(e, "a message", &m.id.0))?;
            for (i, p) in m.parts.iter().enumerate() {
                // An image's bytes from the file are taken in as an attached file's are
                // (checked, stripped, stored once), or a note takes its place; the file's
                // claims about an image (address, size, pixels) are never taken.
                let mut p = std::borrow::Cow::Borrowed(p);
                if matches!(&*p, Part::Image { .. }) {
                    crate::attachments::transfer::take_in(&self.conn, p.to_mut(), &self.limits)
                        .map_err(|e| e.to_string())?;
                }
                super::merge_rows::insert_part(&self.conn, &m.id.0, i as i64, &p)
                    .map_err(|e| e.to_string())?;
            }
        }
        for t in &chat.turns {
            super::merge_rows::insert_turn(&self.conn, t, false)
                .map_err(|e| repeated(e, "a turn", &t.id.0))?;
        }
        Ok(())
    }
}
