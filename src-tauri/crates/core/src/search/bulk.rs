//! Many chats indexed at once: an import's or a restore's merge. Within its transaction the
//! triggers that index each title and part as it is written are set aside; the chats written
//! meanwhile are indexed at the end, one statement for their titles and one for their parts,
//! exactly as the triggers would have indexed them; the triggers are put back before the
//! transaction commits (a failure rolls all of it back, triggers included).
//!
//! Why: a statement that fires those triggers opens a savepoint on the index, and FTS5 writes
//! out what it holds at every savepoint. Row by row, each title and each part became a tiny
//! segment of its own, and merging them took a third of an import (docs/PERFORMANCE.md,
//! imports). One statement lets the index gather its usual megabyte per segment. (Indexing
//! each few megabytes as they came was slower still: every statement ends with a merge of
//! the index's segments.)

use crate::error::StoreError;
use rusqlite::{params, Connection};

/// The triggers that index titles and parts as they are written (schema v8).
const TRIGGERS: [&str; 2] = ["search_part_added", "search_title_added"];

/// The index's insert triggers, set aside until [`Paused::resume`].
#[must_use = "the triggers must be put back before the transaction commits"]
pub(crate) struct Paused {
    /// Each trigger's SQL as the database holds it, to create it again unchanged.
    sql: Vec<String>,
    /// The last entry of the index before the pause: everything after it is new.
    last_doc: i64,
}

/// Sets the index's insert triggers aside, within the transaction `tx` is in.
pub(crate) fn pause(tx: &Connection) -> Result<Paused, StoreError> {
    let mut sql = Vec::new();
    for name in TRIGGERS {
        let text: String = tx.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute_batch(&format!("DROP TRIGGER {name}"))?;
        sql.push(text);
    }
    let last_doc = tx.query_row("SELECT coalesce(max(id), 0) FROM search_docs", [], |r| {
        r.get(0)
    })?;
    Ok(Paused { sql, last_doc })
}

impl Paused {
    /// Indexes the titles and parts of `chats` (written while paused, not indexed yet), as
    /// the triggers would have.
    pub(crate) fn index(&mut self, tx: &Connection, chats: &[String]) -> Result<(), StoreError> {
        if chats.is_empty() {
            return Ok(());
        }
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS bulk_chats(id TEXT PRIMARY KEY) WITHOUT ROWID;
             DELETE FROM temp.bulk_chats;",
        )?;
        let mut add = tx.prepare_cached("INSERT OR IGNORE INTO temp.bulk_chats(id) VALUES (?1)")?;
        for id in chats {
            add.execute([id])?;
        }
        tx.execute_batch(
            "INSERT INTO search_docs(session_id)
                 SELECT s.id FROM temp.bulk_chats b JOIN sessions s ON s.id = b.id
                 WHERE s.title <> '';
             INSERT INTO search_docs(session_id, message_id, idx, role, model, provider, at)
                 SELECT m.session_id, p.message_id, p.idx, m.role, m.model, m.provider, m.created_at
                 FROM temp.bulk_chats b
                 JOIN messages m ON m.session_id = b.id
                 JOIN parts p ON p.message_id = m.id
                 WHERE p.kind IN ('text', 'reasoning', 'tool_call', 'tool_result', 'file');",
        )?;
        tx.execute(
            "INSERT INTO search_fts(rowid, text)
                 SELECT d.id, parley_search_text(NULL, s.title, NULL, NULL)
                 FROM search_docs d JOIN sessions s ON s.id = d.session_id
                 WHERE d.id > ?1 AND d.message_id IS NULL ORDER BY d.id",
            params![self.last_doc],
        )?;
        tx.execute(
            "INSERT INTO search_fts(rowid, text)
                 SELECT d.id, parley_search_text(p.kind, p.body, p.meta, NULL)
                 FROM search_docs d JOIN parts p ON p.message_id = d.message_id AND p.idx = d.idx
                 WHERE d.id > ?1 AND d.message_id IS NOT NULL AND d.chunk IS NULL ORDER BY d.id",
            params![self.last_doc],
        )?;
        tx.execute_batch("DELETE FROM temp.bulk_chats;")?;
        self.last_doc = tx.query_row("SELECT coalesce(max(id), 0) FROM search_docs", [], |r| {
            r.get(0)
        })?;
        Ok(())
    }

    /// Puts the triggers back.
    pub(crate) fn resume(self, tx: &Connection) -> Result<(), StoreError> {
        for sql in &self.sql {
            tx.execute_batch(sql)?;
        }
        Ok(())
    }
}
