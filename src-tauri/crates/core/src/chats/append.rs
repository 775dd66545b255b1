//! Writing a streamed answer: the journal's ops applied to the parts, streamed text appended
//! as chunk rows (only the new bytes per flush), and short parts folded into one row when
//! their turn ends.

use super::JournalOp;
use crate::error::StoreError;
use crate::store::codec;
use rusqlite::{params, Connection};

/// Streamed text up to this size is folded into its part when the turn ends (one small
/// rewrite keeps the common answer in one row). A longer part keeps its chunk rows as its
/// storage: folding would write it all to the WAL twice more (the folded copy and the freed
/// chunks), and readers join the chunks anyway (`part_body_sql!`).
pub const FOLD_AT_MOST: i64 = 64 * 1024;

/// Folds the streamed chunks of the messages `messages` (SQL selecting message ids, with
/// `params`) into their parts — one write of each part's whole text — and deletes them, for
/// parts of at most `FOLD_AT_MOST` bytes whose turn is no longer running. Callers name the
/// messages of turns that just ended, so the parts stored as chunks elsewhere are not scanned.
pub(crate) fn fold_chunks(
    c: &Connection,
    messages: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    c.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS folding(message_id TEXT, idx INTEGER);
         DELETE FROM temp.folding;
         CREATE TEMP TABLE IF NOT EXISTS fold_messages(id TEXT);
         DELETE FROM temp.fold_messages;",
    )?;
    c.execute(
        &format!("INSERT INTO temp.fold_messages SELECT id FROM messages WHERE id IN ({messages})"),
        params,
    )?;
    c.execute(
        "INSERT INTO temp.folding
             SELECT c.message_id, c.idx FROM part_chunks c
             JOIN messages m ON m.id = c.message_id LEFT JOIN turns t ON t.id = m.turn_id
             WHERE c.message_id IN (SELECT id FROM temp.fold_messages)
               AND (t.status IS NULL OR t.status NOT IN ('pending', 'streaming'))
             GROUP BY c.message_id, c.idx
             HAVING sum(length(CAST(c.body AS BLOB))) <= ?1",
        [FOLD_AT_MOST],
    )?;
    let folded = c.execute(
        "UPDATE parts SET body = body || (SELECT group_concat(c.body, '' ORDER BY c.id)
           FROM part_chunks c WHERE c.message_id = parts.message_id AND c.idx = parts.idx)
         WHERE (message_id, idx) IN (SELECT message_id, idx FROM temp.folding)",
        [],
    )?;
    c.execute(
        "DELETE FROM part_chunks WHERE (message_id, idx) IN (SELECT message_id, idx FROM temp.folding)",
        [],
    )?;
    // The parts kept as chunks: what is still waiting to be indexed goes in now.
    crate::search::index_pending_of(c, "SELECT id FROM temp.fold_messages", [])?;
    Ok(folded)
}

pub(super) fn apply_journal(c: &Connection, ops: &[JournalOp]) -> Result<(), StoreError> {
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
                // Only the new bytes are written: a chunk row (folded into the part when the
                // turn ends, if short: `fold_chunks`). Appending to the part's own row
                // would rewrite the whole growing text on every flush.
                c.prepare_cached(
                    "INSERT INTO part_chunks(message_id, idx, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![message_id.0, index, text])?;
                crate::search::index_streamed(c, &message_id.0, i64::from(*index), false)?;
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
                // The replacement is the whole part: chunks streamed into it are superseded.
                c.prepare_cached("DELETE FROM part_chunks WHERE message_id = ?1 AND idx = ?2")?
                    .execute(params![message_id.0, index])?;
            }
        }
    }
    Ok(())
}
