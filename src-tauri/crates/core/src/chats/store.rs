//! Chat queries: create, list, rename, settings, delete.

use crate::error::StoreError;
use crate::store::{codec, Store};
use crate::util::now_ms;
use parley_protocol::{ChatCounts, ChatFilter, ChatId, ChatSort, ChatSummary};
use rusqlite::{params, OptionalExtension};

/// Every chat in an order, paged (`?1` limit, `?2` offset).
macro_rules! all_sql {
    ($order:literal) => {
        concat!(
            "SELECT ",
            chat_columns!(),
            " FROM sessions ORDER BY ",
            $order,
            " LIMIT ?1 OFFSET ?2"
        )
    };
}

/// The pinned chats a filter selects, and a page of the others (`?1` archived, `?2` assistant,
/// `?3` limit, `?4` offset), each in an order.
macro_rules! list_sql {
    ($pinned:literal, $others:literal) => {
        (
            concat!(
                "SELECT ",
                chat_columns!(),
                " FROM sessions WHERE pinned != 0 AND archived = ?1 AND message_count > 0
                  AND (?2 IS NULL OR json_extract(params, '$.assistant') = ?2) ORDER BY ",
                $pinned
            ),
            concat!(
                "SELECT ",
                chat_columns!(),
                " FROM sessions WHERE pinned = 0 AND archived = ?1 AND message_count > 0
                  AND (?2 IS NULL OR json_extract(params, '$.assistant') = ?2) ORDER BY ",
                $others,
                " LIMIT ?3 OFFSET ?4"
            ),
        )
    };
}

impl Store {
    /// Creates an empty session.
    pub(in crate::chats) async fn create_chat(
        &self,
        id: ChatId,
        title: String,
    ) -> Result<ChatSummary, StoreError> {
        self.writer
            .call(move |c| {
                let now = now_ms();
                c.execute(
                    "INSERT INTO sessions(id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                    params![id.0, title, now],
                )?;
                Ok(ChatSummary {
                    id,
                    title,
                    created_at: now,
                    updated_at: now,
                    message_count: 0,
                    provider: None,
                    model: None,
                    params: Default::default(),
                    revision: 0,
                    pinned: false,
                    archived: false,
                    forked_from: None,
                })
            })
            .await
    }

    /// Every chat (with messages or not) in `sort`'s order, `limit` from `offset`.
    pub(in crate::chats) async fn recent_chats(
        &self,
        limit: u32,
        offset: u32,
        sort: ChatSort,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        self.reader
            .call(move |c| {
                let sql = match sort {
                    ChatSort::Updated => all_sql!("updated_at DESC, id DESC"),
                    ChatSort::Created => all_sql!("created_at DESC, id DESC"),
                    ChatSort::Title => all_sql!("title COLLATE NOCASE, id"),
                };
                let mut stmt = c.prepare_cached(sql)?;
                let rows = stmt.query_map(params![limit, offset], codec::chat_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// A page of the chats `filter` selects: pinned first, then in the filter's order; chats
    /// without messages are left out.
    pub(in crate::chats) async fn list_chats(
        &self,
        filter: ChatFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        // Pinned chats (few) first, then the others. By activity, a page walks
        // `sessions_by_activity` and costs what it holds (4 ms at 10,000 chats); by creation or
        // title SQLite sorts the chats the filter selects (a few ms more at 10,000).
        let (pinned_sql, others_sql) = match filter.sort {
            // (`+`: a scan of the table, not a walk of the whole activity index.)
            ChatSort::Updated => list_sql!("+updated_at DESC, id DESC", "updated_at DESC, id DESC"),
            ChatSort::Created => list_sql!("created_at DESC, id DESC", "created_at DESC, id DESC"),
            ChatSort::Title => list_sql!("title COLLATE NOCASE, id", "title COLLATE NOCASE, id"),
        };
        self.reader
            .call(move |c| {
                let mut pinned = c.prepare_cached(pinned_sql)?;
                let mut out = pinned
                    .query_map(params![filter.archived, filter.assistant], codec::chat_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                let skip = (offset as usize).min(out.len());
                out.drain(..skip);
                out.truncate(limit as usize);
                let rest_offset = offset as usize - skip;
                let rest_limit = limit as usize - out.len();
                if rest_limit > 0 {
                    let mut others = c.prepare_cached(others_sql)?;
                    let rows = others.query_map(
                        params![
                            filter.archived,
                            filter.assistant,
                            rest_limit as i64,
                            rest_offset as i64
                        ],
                        codec::chat_row,
                    )?;
                    for r in rows {
                        out.push(r?);
                    }
                }
                Ok(out)
            })
            .await
    }

    /// How many chats are in use, archived, and set up from each assistant.
    pub(in crate::chats) async fn chat_counts(&self) -> Result<ChatCounts, StoreError> {
        self.reader
            .call(move |c| {
                let (active, archived) = c.query_row(
                    "SELECT coalesce(sum(archived = 0), 0), coalesce(sum(archived != 0), 0)
                     FROM sessions WHERE message_count > 0",
                    [],
                    |r| Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?)),
                )?;
                let mut stmt = c.prepare_cached(
                    "SELECT json_extract(params, '$.assistant') AS a, count(*) FROM sessions
                     WHERE archived = 0 AND message_count > 0 AND a IS NOT NULL
                     GROUP BY a ORDER BY count(*) DESC, a",
                )?;
                let per_assistant = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(ChatCounts {
                    active,
                    archived,
                    per_assistant,
                })
            })
            .await
    }

    /// One session.
    pub(in crate::chats) async fn get_chat(
        &self,
        id: &ChatId,
    ) -> Result<Option<ChatSummary>, StoreError> {
        let id = id.clone();
        self.reader
            .call(move |c| {
                Ok(c.query_row(
                    concat!("SELECT ", chat_columns!(), " FROM sessions WHERE id = ?1"),
                    [id.0],
                    codec::chat_row,
                )
                .optional()?)
            })
            .await
    }

    /// Renames a session (the user's title: a generated one never replaces it), checked
    /// against the revision the client saw; returns whether it existed.
    pub(in crate::chats) async fn rename_chat(
        &self,
        id: &ChatId,
        title: String,
        seen: Option<u64>,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let what = format!("it was renamed to “{title}”");
                match super::tree::next_revision(&tx, &id, seen, &what) {
                    Err(StoreError::NoSuchChat(_)) => return Ok(false),
                    other => other?,
                };
                tx.execute(
                    "UPDATE sessions SET title = ?2, title_source = 'user', updated_at = ?3 WHERE id = ?1",
                    params![id.0, title, now_ms()],
                )?;
                tx.commit()?;
                Ok(true)
            })
            .await
    }

    /// Replaces a session's generation settings; returns whether the session exists.
    pub(in crate::chats) async fn set_chat_params(
        &self,
        id: &ChatId,
        params: parley_protocol::ChatParams,
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

    /// Deletes a session and everything in it, in one transaction.
    pub(in crate::chats) async fn delete_chat(&self, id: &ChatId) -> Result<bool, StoreError> {
        self.delete_chat_seen(id, None).await
    }

    /// Deletes a session if it is still at revision `seen` (when given); returns whether it
    /// existed. Its freed pages are given back to the file system after the commit.
    pub(in crate::chats) async fn delete_chat_seen(
        &self,
        id: &ChatId,
        seen: Option<u64>,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                if let Some(seen) = seen {
                    match super::tree::next_revision(&tx, &id, Some(seen), "") {
                        Err(StoreError::NoSuchChat(_)) => return Ok(false),
                        other => other?,
                    };
                }
                // Children before parents: the tree's foreign keys are checked per row.
                tx.execute(
                    "DELETE FROM parts WHERE message_id IN (SELECT id FROM messages WHERE session_id = ?1)",
                    [&id.0],
                )?;
                tx.execute(
                    "DELETE FROM part_chunks WHERE message_id IN (SELECT id FROM messages WHERE session_id = ?1)",
                    [&id.0],
                )?;
                tx.execute("DELETE FROM turns WHERE session_id = ?1", [&id.0])?;
                tx.execute(
                    "UPDATE messages SET parent_id = NULL WHERE session_id = ?1",
                    [&id.0],
                )?;
                tx.execute("DELETE FROM messages WHERE session_id = ?1", [&id.0])?;
                tx.execute("DELETE FROM session_changes WHERE session_id = ?1", [&id.0])?;
                let n = tx.execute("DELETE FROM sessions WHERE id = ?1", [&id.0])?;
                tx.commit()?;
                // The chat is gone either way: failing to shrink the file is not a failed delete.
                // Its words leave the index's pages first (a delete only marks them).
                if let Err(e) = crate::search::purge_deleted(c)
                    .and_then(|()| crate::store::reclaim_free_pages(c))
                {
                    tracing::warn!("could not give freed pages back after a delete: {e}");
                }
                Ok(n > 0)
            })
            .await
    }
}

/// A title from the first line of the first message, at most 60 characters, with control and
/// invisible characters removed (the rules every title follows: `crate::clean`).
pub fn default_title(text: &str) -> String {
    use crate::clean::{cap, visible_line, UNTITLED};
    let line = text
        .lines()
        .map(visible_line)
        .find(|l| !l.is_empty())
        .unwrap_or_else(|| UNTITLED.to_owned());
    cap(&line, 60)
}
