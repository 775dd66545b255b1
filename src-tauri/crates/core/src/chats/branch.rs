//! A chat's current branch, a page at a time, walking parent links; one part of a message
//! whole. The chats topic reads its own messages here; the history topic (pages for the
//! window, exports) asks [`super::ChatService`].

use crate::error::StoreError;
use crate::store::codec::{self, load_parts};
use crate::store::Store;
use parley_protocol::{ChatHistory, ChatId, Message, MessageId, Part, Role, TurnInfo};
use rusqlite::Connection;
use rusqlite::{params, OptionalExtension};

impl Store {
    /// The session with all the messages of its current branch and their turns, oldest first.
    pub(in crate::chats) async fn history(
        &self,
        id: &ChatId,
    ) -> Result<Option<ChatHistory>, StoreError> {
        self.history_page(id, None, u32::MAX).await
    }

    /// Up to `limit` messages of the current branch ending just before `before` (or at the
    /// head), oldest first, with their turns; `has_more` says whether older ones exist.
    pub(in crate::chats) async fn history_page(
        &self,
        id: &ChatId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Option<ChatHistory>, StoreError> {
        let id = id.clone();
        self.reader
            .call(move |c| load_history(c, &id, before.as_ref(), limit))
            .await
    }
}

/// The session and up to `limit` messages of its current branch ending just before `before`
/// (or at the head), oldest first. Walks parent links from the end, so the cost is O(limit)
/// whatever the length of the conversation.
fn load_history(
    c: &Connection,
    id: &ChatId,
    before: Option<&MessageId>,
    limit: u32,
) -> Result<Option<ChatHistory>, StoreError> {
    let Some(session) = c
        .query_row(
            concat!("SELECT ", chat_columns!(), " FROM sessions WHERE id = ?1"),
            [&id.0],
            codec::chat_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let start = page_end(c, id, before)?;
    let (mut messages, has_more) = match start {
        Some(start) => walk_back(c, &start, limit)?,
        None => (Vec::new(), false),
    };
    load_parts(c, &mut messages)?;
    let turns = turns_of(c, &messages)?;
    let path: Vec<(MessageId, Option<MessageId>)> = messages
        .iter()
        .map(|m| (m.id.clone(), m.parent_id.clone()))
        .collect();
    let versions = super::tree::versions_of(c, id, &path)?;
    let later = later_turns(c, before, &messages)?;
    Ok(Some(ChatHistory {
        session,
        messages,
        turns,
        has_more,
        running: Vec::new(),
        clipped: Vec::new(),
        versions,
        later,
    }))
}

/// The last message of the page: the chat's head, or the parent of `before` (an error when
/// `before` is not in this chat); `None` when there is none.
fn page_end(
    c: &Connection,
    id: &ChatId,
    before: Option<&MessageId>,
) -> Result<Option<String>, StoreError> {
    Ok(match before {
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
    })
}

/// Up to `limit` messages from `start` back along parent links, oldest first (without their
/// parts), and whether older ones exist.
fn walk_back(c: &Connection, start: &str, limit: u32) -> Result<(Vec<Message>, bool), StoreError> {
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
    let mut messages = stmt
        .query_map(params![start, i64::from(limit)], codec::message_row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let mut has_more = false;
    if messages.len() > limit as usize {
        has_more = true;
        messages.remove(0);
    }
    Ok((messages, has_more))
}

/// The turns of the page's answers, in the order they started.
fn turns_of(c: &Connection, messages: &[Message]) -> Result<Vec<TurnInfo>, StoreError> {
    let mut turn_stmt = c.prepare_cached(
        "SELECT id, session_id, user_message_id, assistant_message_id, status, provider, model,
                started_at, ended_at, usage, stop_reason, error, context_from
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
    Ok(turns)
}

/// The messages that follow the head of a rewound chat (they begin the later turns it kept),
/// newest first; on the newest page only.
fn later_turns(
    c: &Connection,
    before: Option<&MessageId>,
    messages: &[Message],
) -> Result<Vec<MessageId>, StoreError> {
    Ok(match (before, messages.last()) {
        (None, Some(head)) => c
            .prepare_cached(
                "SELECT id FROM messages WHERE parent_id = ?1 ORDER BY created_at DESC, id DESC",
            )?
            .query_map([&head.id.0], |r| r.get::<_, String>(0))?
            .map(|r| r.map(MessageId))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    })
}

impl Store {
    /// One part of a message of a chat, whole.
    pub(in crate::chats) async fn part(
        &self,
        session: &ChatId,
        message: &MessageId,
        index: u32,
    ) -> Result<Option<Part>, StoreError> {
        let (session, message) = (session.clone(), message.clone());
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        concat!(
                            "SELECT p.kind, ",
                            part_body_sql!(),
                            ", p.meta FROM parts p JOIN messages m ON m.id = p.message_id
                             WHERE p.message_id = ?1 AND p.idx = ?2 AND m.session_id = ?3"
                        ),
                        params![message.0, index, session.0],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, Option<String>>(2)?,
                            ))
                        },
                    )
                    .optional()?;
                row.map(|(kind, body, meta)| codec::decode_part(&kind, body, meta.as_deref()))
                    .transpose()
            })
            .await
    }
}
