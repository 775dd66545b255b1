//! The merge's row writers: a chat's row, its messages and turns, and its parts read from the
//! file one at a time (an import's staging database writes with them too); an image part
//! brings its stored bytes (`attachments::transfer::bring_blob`).

use super::merge_load::{each_chunk, each_part, CHUNKED_KINDS};
use crate::error::StoreError;
use crate::store::codec;
use parley_protocol::{ChatExport, Message, Part, TurnInfo};
use rusqlite::{params, Connection, Transaction};
use std::collections::HashMap;

/// A chat's row (`title_source`: whether the user wrote the title). Also writes an import's
/// staging database.
pub(super) fn insert_chat_row(
    c: &Connection,
    chat: &ChatExport,
    title_source: &str,
) -> Result<(), StoreError> {
    let s = &chat.session;
    let params_json =
        serde_json::to_string(&s.params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (fs, fm) = match &s.forked_from {
        Some(f) => (Some(f.chat_id.0.clone()), Some(f.message_id.0.clone())),
        None => (None, None),
    };
    c.prepare_cached(
        "INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count,
                              provider, model, params, revision, pinned, archived,
                              forked_from_session, forked_from_message, title_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        s.id.0,
        s.title,
        s.created_at,
        s.updated_at,
        chat.head.as_ref().map(|h| h.0.clone()),
        chat.messages.len() as i64,
        s.provider,
        s.model,
        params_json,
        s.revision as i64,
        s.pinned,
        s.archived,
        fs,
        fm,
        title_source
    ])?;
    Ok(())
}

/// Adds one checked chat: its row, its messages and its turns (marked imported); its parts
/// follow (`insert_parts`).
pub(super) fn insert_chat(
    tx: &Transaction<'_>,
    chat: &ChatExport,
    title_source: &str,
) -> Result<(), StoreError> {
    insert_chat_row(tx, chat, title_source)?;
    // In key order, all messages first, then their parts: each insert lands next to the last
    // one in the indexes (the tree order would scatter them across a large chat's pages).
    let mut in_order: Vec<&Message> = chat.messages.iter().collect();
    in_order.sort_unstable_by(|a, b| a.id.0.cmp(&b.id.0));
    for m in &in_order {
        insert_message(tx, m)?;
    }
    for t in &chat.turns {
        insert_turn(tx, t, true)?;
    }
    Ok(())
}

/// The parts of chat `file.1` of the file `file.0`, read and written one at a time, under the
/// fresh ids of its messages when it was `renamed`. Each is numbered from 0 within its
/// message, as the chat is read. (One row per statement: with the search triggers set aside,
/// a statement of many rows is slower, for the statement journal it needs.)
pub(super) fn insert_parts(
    tx: &Transaction<'_>,
    (src, id): (&Connection, &str),
    renamed: Option<&HashMap<String, String>>,
) -> Result<(), StoreError> {
    let mut at: Option<(String, i64)> = None;
    let limits = crate::attachments::ingest::Limits::default();
    each_part(src, id, |message, stored| {
        let idx = match &mut at {
            Some((m, i)) if m == message => {
                *i += 1;
                *i
            }
            _ => {
                at = Some((message.to_owned(), 0));
                0
            }
        };
        let to = renamed
            .and_then(|r| r.get(message))
            .map_or(message, String::as_str);
        let mut chunked = insert_part(tx, to, idx, &stored.part)?;
        if let Part::Image { sha256, .. } = &stored.part {
            // Its stored bytes come along (checked again), unless they are here already.
            crate::attachments::transfer::bring_blob(tx, src, sha256, &limits)?;
        }
        if let Some(from) = stored.chunks {
            // Cut again: a crafted backup's one chunk row of megabytes would be held, and
            // indexed, whole.
            each_chunk(src, message, from, |text| {
                pieces(text, CHUNK_BYTES).try_for_each(|piece| insert_chunk(tx, to, idx, piece))
            })?;
            chunked = true;
        }
        if chunked {
            // Indexed in pieces, as a streamed answer is: one row of megabytes would make the
            // index hold all its words at once.
            crate::search::index_streamed(tx, to, idx, true)?;
        }
        Ok(())
    })
}

/// One message's row (its parts: [`insert_part`]). Also writes an import's staging database.
pub(super) fn insert_message(c: &Connection, m: &Message) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        m.id.0,
        m.chat_id.0,
        m.parent_id.as_ref().map(|p| p.0.clone()),
        m.role.as_str(),
        m.turn_id.as_ref().map(|t| t.0.clone()),
        m.provider,
        m.model,
        m.created_at
    ])?;
    Ok(())
}

/// A part of more text than this is written as a streamed answer is kept: an empty row and
/// its text in chunk rows (`chats::append::FOLD_AT_MOST`; readers join them), so that neither
/// SQLite nor the search index ever holds it as one value.
pub(super) const CHUNKED_OVER: usize = 64 * 1024;
/// The size of each chunk row of a long part.
const CHUNK_BYTES: usize = 16 * 1024;

/// One part's row, and its text in chunk rows when it is long (then `true`: the caller
/// indexes it, `search::index_streamed`). Also writes an import's staging database.
pub(super) fn insert_part(
    c: &Connection,
    message_id: &str,
    idx: i64,
    part: &Part,
) -> Result<bool, StoreError> {
    let (kind, body, meta) = codec::encode_part(part)?;
    let chunked = body.len() > CHUNKED_OVER && CHUNKED_KINDS.contains(&kind);
    c.prepare_cached(
        "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        message_id,
        idx,
        kind,
        if chunked { "" } else { body },
        meta
    ])?;
    if chunked {
        for piece in pieces(body, CHUNK_BYTES) {
            insert_chunk(c, message_id, idx, piece)?;
        }
    }
    Ok(chunked)
}

fn insert_chunk(c: &Connection, message_id: &str, idx: i64, text: &str) -> Result<(), StoreError> {
    c.prepare_cached("INSERT INTO part_chunks(message_id, idx, body) VALUES (?1, ?2, ?3)")?
        .execute(params![message_id, idx, text])?;
    Ok(())
}

/// `text` cut into pieces of about `size` bytes, each ending on a character's boundary.
pub(super) fn pieces(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, after) = rest.split_at(end);
        rest = after;
        Some(piece)
    })
}

/// One turn's row (`imported`: it came with a chat from a file). Also writes an import's
/// staging database.
pub(super) fn insert_turn(c: &Connection, t: &TurnInfo, imported: bool) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status,
                           provider, model, started_at, ended_at, usage, stop_reason, error,
                           context_from, imported)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        t.id.0,
        t.chat_id.0,
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
        t.context_from.as_ref().map(|m| &m.0),
        imported
    ])?;
    Ok(())
}
