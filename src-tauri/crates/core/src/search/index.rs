//! Streamed text into the index, in pieces (see schema v8): a part's first flush at once,
//! then whenever 64 KB are waiting or a second has passed since its last piece, and what is
//! left when its turn ends (`index_pending_of`, called where chunks are folded).

use super::text::{carry, index_text};
use crate::error::StoreError;
use rusqlite::{params, Connection, OptionalExtension};

/// Text waiting this long is indexed with the next flush.
pub const PIECE_BYTES: usize = 64 * 1024;
/// A piece is written at least this often while a part streams (ms).
pub const PIECE_EVERY_MS: i64 = 1000;

/// The part's last indexed chunk and when its piece was written (0, 0 when none).
fn last_piece(c: &Connection, message: &str, idx: i64) -> Result<(i64, i64), StoreError> {
    Ok(c.prepare_cached(
        "SELECT chunk, coalesce(written, 0) FROM search_docs
             WHERE message_id = ?1 AND idx = ?2 AND chunk IS NOT NULL
             ORDER BY chunk DESC LIMIT 1",
    )?
    .query_row(params![message, idx], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?
    .unwrap_or((0, 0)))
}

/// The text before the chunks after `done` (the part's row and up to 8 chunks), which a piece
/// begins with.
pub(super) fn text_before(
    c: &Connection,
    message: &str,
    idx: i64,
    done: i64,
) -> Result<String, StoreError> {
    Ok(c.prepare_cached(
        "SELECT coalesce((SELECT body FROM parts WHERE message_id = ?1 AND idx = ?2), '')
                 || coalesce((SELECT group_concat(body, '' ORDER BY id) FROM (
                        SELECT id, body FROM part_chunks WHERE message_id = ?1 AND idx = ?2
                            AND id <= ?3 ORDER BY id DESC LIMIT 8)), '')",
    )?
    .query_row(params![message, idx, done], |r| r.get(0))?)
}

/// The chunks of a part after `done` up to `upto`, in order.
pub(super) fn chunks_after(
    c: &Connection,
    message: &str,
    idx: i64,
    done: i64,
    upto: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, body FROM part_chunks
         WHERE message_id = ?1 AND idx = ?2 AND id > ?3 AND id <= ?4 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![message, idx, done, upto], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Indexes the part's streamed text not yet in the index: in pieces of about `PIECE_BYTES`,
/// and what is left over when it is due — a part's first text, a second after its last piece,
/// or `force` (its turn ended). A piece is never much over `PIECE_BYTES` plus one flush, so a
/// snippet is cut from a bounded text even for an answer restored or imported whole.
pub(crate) fn index_streamed(
    c: &Connection,
    message: &str,
    idx: i64,
    force: bool,
) -> Result<(), StoreError> {
    let (mut done, written) = last_piece(c, message, idx)?;
    let now = crate::now_ms();
    let rest_due = force || done == 0 || now - written >= PIECE_EVERY_MS;
    // Read a chunk at a time: a part imported whole can be megabytes of chunks.
    let mut pending = c.prepare_cached(
        "SELECT id, body FROM part_chunks WHERE message_id = ?1 AND idx = ?2 AND id > ?3 ORDER BY id",
    )?;
    let mut rows = pending.query(params![message, idx, done])?;
    let mut piece = String::new();
    let mut last = done;
    while let Some(r) = rows.next()? {
        piece.push_str(
            r.get_ref(1)?
                .as_str()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        last = r.get(0)?;
        if piece.len() >= PIECE_BYTES {
            write_piece(c, message, idx, done, last, &piece, now)?;
            done = last;
            piece.clear();
        }
    }
    if !piece.is_empty() && rest_due {
        write_piece(c, message, idx, done, last, &piece, now)?;
    }
    Ok(())
}

/// One index entry for the chunks after `done` up to `last`, whose text is `piece`.
fn write_piece(
    c: &Connection,
    message: &str,
    idx: i64,
    done: i64,
    last: i64,
    piece: &str,
    now: i64,
) -> Result<(), StoreError> {
    let before = text_before(c, message, idx, done)?;
    let inserted = c
        .prepare_cached(
            "INSERT INTO search_docs(session_id, message_id, idx, chunk, role, model, provider, at, written)
             SELECT session_id, id, ?2, ?3, role, model, provider, created_at, ?4
             FROM messages WHERE id = ?1",
        )?
        .execute(params![message, idx, last, now])?;
    if inserted == 1 {
        c.prepare_cached("INSERT INTO search_fts(rowid, text) VALUES (?1, ?2)")?
            .execute(params![
                c.last_insert_rowid(),
                index_text(None, piece, None, Some(carry(&before)))
            ])?;
    }
    Ok(())
}

/// Indexes what is waiting of every streamed part of `messages` (SQL selecting message ids):
/// their turns have ended.
pub(crate) fn index_pending_of(
    c: &Connection,
    messages: &str,
    params: impl rusqlite::Params,
) -> Result<(), StoreError> {
    let parts: Vec<(String, i64)> = c
        .prepare(&format!(
            "SELECT DISTINCT message_id, idx FROM part_chunks WHERE message_id IN ({messages})"
        ))?
        .query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (message, idx) in parts {
        index_streamed(c, &message, idx, true)?;
    }
    Ok(())
}
