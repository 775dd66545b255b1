//! Queue queries (table `queued_messages`, schema v15).

use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{ChatId, QueuedMessage};
use rusqlite::{params, OptionalExtension};

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedMessage> {
    Ok(QueuedMessage {
        id: r.get(0)?,
        text: r.get(1)?,
        provider: r.get(2)?,
        model: r.get(3)?,
        created_at: r.get(4)?,
    })
}

const COLUMNS: &str = "id, text, provider, model, created_at";

/// How adding to a queue went.
pub(super) enum Enqueued {
    Added,
    /// It holds the most messages already.
    Full,
    /// Its text would be over the limit.
    TooLarge,
}

impl Store {
    /// A chat's queue, in the order it goes.
    pub(super) async fn queued(&self, chat: &ChatId) -> Result<Vec<QueuedMessage>, StoreError> {
        let chat = chat.0.clone();
        self.reader
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM queued_messages WHERE session_id = ?1 ORDER BY seq, id"
                ))?;
                let rows = stmt.query_map([chat], row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Adds a message at the end of a chat's queue unless it holds `max.0` messages already or
    /// its text would be over `max.1` bytes. A chat that does not exist is `NoSuchChat`.
    pub(super) async fn enqueue(
        &self,
        chat: &ChatId,
        m: QueuedMessage,
        max: (usize, usize),
    ) -> Result<Enqueued, StoreError> {
        let chat = chat.0.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let exists: Option<i64> = tx
                    .query_row("SELECT 1 FROM sessions WHERE id = ?1", [&chat], |r| r.get(0))
                    .optional()?;
                if exists.is_none() {
                    return Err(StoreError::NoSuchChat(chat));
                }
                let (count, last, bytes): (i64, Option<i64>, i64) = tx.query_row(
                    "SELECT COUNT(*), MAX(seq), COALESCE(SUM(LENGTH(CAST(text AS BLOB))), 0)
                     FROM queued_messages WHERE session_id = ?1",
                    [&chat],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                if count as usize >= max.0 {
                    return Ok(Enqueued::Full);
                }
                if bytes as usize + m.text.len() > max.1 {
                    return Ok(Enqueued::TooLarge);
                }
                tx.execute(
                    "INSERT INTO queued_messages(id, session_id, seq, text, provider, model, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![m.id, chat, last.unwrap_or(0) + 1, m.text, m.provider, m.model, m.created_at],
                )?;
                tx.commit()?;
                Ok(Enqueued::Added)
            })
            .await
    }

    /// Changes a queued message's text; whether it was still queued.
    pub(super) async fn edit_queued(
        &self,
        chat: &ChatId,
        id: &str,
        text: String,
    ) -> Result<bool, StoreError> {
        let (chat, id) = (chat.0.clone(), id.to_owned());
        self.writer
            .call(move |c| {
                Ok(c.execute(
                    "UPDATE queued_messages SET text = ?3 WHERE session_id = ?1 AND id = ?2",
                    params![chat, id, text],
                )? > 0)
            })
            .await
    }

    /// Removes a queued message; whether it was still queued.
    pub(super) async fn unqueue(&self, chat: &ChatId, id: &str) -> Result<bool, StoreError> {
        let (chat, id) = (chat.0.clone(), id.to_owned());
        self.writer
            .call(move |c| {
                Ok(c.execute(
                    "DELETE FROM queued_messages WHERE session_id = ?1 AND id = ?2",
                    params![chat, id],
                )? > 0)
            })
            .await
    }
}
