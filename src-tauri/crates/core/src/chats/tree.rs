//! The conversation as a tree the user steers: versions (siblings), switching between them,
//! rewinding, branching into a new chat, deleting a branch — and the chat's revision, which
//! every change counts and checks, so two windows (or the app beside `parley`) never silently
//! overwrite each other.

use crate::error::StoreError;
use crate::store::{codec, Store};
use crate::util::now_ms;
use parley_protocol::{ChatId, ChatTree, MessageId, Role, TreeNode, Versions};
use rusqlite::{params, Connection, OptionalExtension};

/// How many past changes a chat remembers, to say what changed when a client is behind.
const CHANGES_KEPT: i64 = 50;

/// Checks that the client saw the chat's current revision (when it says which it saw), then
/// counts a new one and records what it was, inside the caller's transaction. A client that
/// is behind gets [`StoreError::Conflict`] naming the changes it missed; nothing is changed.
pub(crate) fn next_revision(
    tx: &Connection,
    session: &ChatId,
    seen: Option<u64>,
    what: &str,
) -> Result<u64, StoreError> {
    let current: i64 = tx
        .query_row(
            "SELECT revision FROM sessions WHERE id = ?1",
            [&session.0],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::NoSuchChat(session.0.clone()))?;
    if let Some(seen) = seen {
        if seen as i64 != current {
            let mut stmt = tx.prepare_cached(
                "SELECT what FROM session_changes WHERE session_id = ?1 AND revision > ?2
                 ORDER BY revision",
            )?;
            let changes = stmt
                .query_map(params![session.0, seen as i64], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            return Err(StoreError::Conflict { changes });
        }
    }
    let next = current + 1;
    tx.execute(
        "UPDATE sessions SET revision = ?2 WHERE id = ?1",
        params![session.0, next],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO session_changes(session_id, revision, what, at) VALUES (?1, ?2, ?3, ?4)",
        params![session.0, next, what, now_ms()],
    )?;
    tx.execute(
        "DELETE FROM session_changes WHERE session_id = ?1 AND revision <= ?2",
        params![session.0, next - CHANGES_KEPT],
    )?;
    Ok(next as u64)
}

/// Lists `message` and every message after it on every branch in `temp.doomed`.
fn mark_subtree(tx: &Connection, message: &MessageId) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS doomed(id TEXT PRIMARY KEY);
         DELETE FROM temp.doomed;",
    )?;
    tx.execute(
        "INSERT INTO temp.doomed
         WITH RECURSIVE sub(id) AS (
             SELECT ?1 UNION ALL
             SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id
         ) SELECT id FROM sub",
        [&message.0],
    )?;
    Ok(())
}

/// Whether the chat's selected path ends in a message listed in `temp.doomed`.
fn head_is_marked(tx: &Connection, session: &ChatId) -> Result<bool, StoreError> {
    let head: Option<String> = tx.query_row(
        "SELECT head_message_id FROM sessions WHERE id = ?1",
        [&session.0],
        |r| r.get(0),
    )?;
    Ok(match &head {
        Some(h) => {
            tx.query_row("SELECT count(*) FROM temp.doomed WHERE id = ?1", [h], |r| {
                r.get::<_, i64>(0)
            })? > 0
        }
        None => false,
    })
}

/// Deletes the messages listed in `temp.doomed`, with their parts and the turns that began or
/// answered in them; how many messages.
fn delete_marked(tx: &Connection, session: &ChatId) -> Result<u64, StoreError> {
    // Turns that began or answered in the subtree go with it.
    tx.execute(
        "DELETE FROM turns WHERE session_id = ?1 AND (user_message_id IN (SELECT id FROM temp.doomed)
           OR assistant_message_id IN (SELECT id FROM temp.doomed))",
        [&session.0],
    )?;
    tx.execute(
        "DELETE FROM part_chunks WHERE message_id IN (SELECT id FROM temp.doomed)",
        [],
    )?;
    tx.execute(
        "DELETE FROM parts WHERE message_id IN (SELECT id FROM temp.doomed)",
        [],
    )?;
    tx.execute(
        "UPDATE messages SET parent_id = NULL WHERE id IN (SELECT id FROM temp.doomed)",
        [],
    )?;
    Ok(tx.execute(
        "DELETE FROM messages WHERE id IN (SELECT id FROM temp.doomed)",
        [],
    )? as u64)
}

/// Selects, after the selected path's end was deleted below `parent`, the newest remaining
/// version at that point (its newest leaf), else `parent` itself.
fn move_head_after_delete(
    tx: &Connection,
    session: &ChatId,
    parent: Option<String>,
) -> Result<(), StoreError> {
    let sibling: Option<String> = tx
        .query_row(
            "SELECT id FROM messages WHERE session_id = ?1 AND parent_id IS ?2
             ORDER BY created_at DESC, id DESC LIMIT 1",
            params![session.0, parent],
            |r| r.get(0),
        )
        .optional()?;
    let new_head = match sibling {
        Some(s) => Some(newest_leaf(tx, &s)?),
        None => parent,
    };
    tx.execute(
        "UPDATE sessions SET head_message_id = ?2 WHERE id = ?1",
        params![session.0, new_head],
    )?;
    Ok(())
}

/// A message of chat `session`, or the error that says it is not one.
fn message_in(
    c: &Connection,
    session: &ChatId,
    message: &MessageId,
) -> Result<(Option<String>, String), StoreError> {
    c.query_row(
        "SELECT parent_id, role FROM messages WHERE id = ?1 AND session_id = ?2",
        [&message.0, &session.0],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::NoSuchMessage {
        message: message.0.clone(),
    })
}

/// The newest leaf below `message` (itself when it has no children), following the newest
/// child at each step: where a switch to `message`'s version lands.
fn newest_leaf(c: &Connection, message: &str) -> Result<String, StoreError> {
    let mut at = message.to_owned();
    let mut stmt = c.prepare_cached(
        "SELECT id FROM messages WHERE parent_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )?;
    while let Some(child) = stmt
        .query_row([&at], |r| r.get::<_, String>(0))
        .optional()?
    {
        at = child;
    }
    Ok(at)
}

/// The versions of each message in `path` that has siblings, oldest first.
pub(super) fn versions_of(
    c: &Connection,
    session: &ChatId,
    path: &[(MessageId, Option<MessageId>)],
) -> Result<Vec<Versions>, StoreError> {
    let mut out = Vec::new();
    let mut children =
        c.prepare_cached("SELECT id FROM messages WHERE parent_id = ?1 ORDER BY created_at, id")?;
    let mut roots = c.prepare_cached(
        "SELECT id FROM messages WHERE session_id = ?1 AND parent_id IS NULL ORDER BY created_at, id",
    )?;
    for (id, parent) in path {
        let ids: Vec<MessageId> = match parent {
            Some(p) => children
                .query_map([&p.0], |r| r.get::<_, String>(0))?
                .map(|r| r.map(MessageId))
                .collect::<Result<_, _>>()?,
            None => roots
                .query_map([&session.0], |r| r.get::<_, String>(0))?
                .map(|r| r.map(MessageId))
                .collect::<Result<_, _>>()?,
        };
        if ids.len() > 1 {
            out.push(Versions {
                selected: id.clone(),
                ids,
            });
        }
    }
    Ok(out)
}

impl Store {
    /// The whole tree of a chat, oldest first, with the selected path marked.
    pub(in crate::chats) async fn tree(
        &self,
        session: &ChatId,
    ) -> Result<Option<ChatTree>, StoreError> {
        let session = session.clone();
        self.reader
            .call(move |c| {
                let Some(summary) = c
                    .query_row(
                        concat!("SELECT ", chat_columns!(), " FROM sessions WHERE id = ?1"),
                        [&session.0],
                        codec::chat_row,
                    )
                    .optional()?
                else {
                    return Ok(None);
                };
                let head: Option<String> = c.query_row(
                    "SELECT head_message_id FROM sessions WHERE id = ?1",
                    [&session.0],
                    |r| r.get(0),
                )?;
                let mut stmt = c.prepare(
                    "WITH RECURSIVE path(id) AS (
                         SELECT ?2 UNION ALL
                         SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id
                         WHERE m.parent_id IS NOT NULL
                     )
                     SELECT m.id, m.parent_id, m.role, m.created_at, m.model,
                            m.id IN (SELECT id FROM path),
                            (SELECT coalesce(nullif(substr(p.body, 1, 200), ''),
                                    (SELECT substr(k.body, 1, 200) FROM part_chunks k
                                     WHERE k.message_id = p.message_id AND k.idx = p.idx
                                     ORDER BY k.id LIMIT 1))
                             FROM parts p
                             WHERE p.message_id = m.id AND p.kind = 'text' ORDER BY p.idx LIMIT 1)
                     FROM messages m WHERE m.session_id = ?1 ORDER BY m.created_at, m.id",
                )?;
                let nodes = stmt
                    .query_map(params![session.0, head], |r| {
                        let role: String = r.get(2)?;
                        let preview: Option<String> = r.get(6)?;
                        Ok(TreeNode {
                            id: MessageId(r.get(0)?),
                            parent_id: r.get::<_, Option<String>>(1)?.map(MessageId),
                            role: Role::parse(&role).unwrap_or(Role::User),
                            created_at: r.get(3)?,
                            model: r.get(4)?,
                            selected: r.get(5)?,
                            preview: preview
                                .unwrap_or_default()
                                .lines()
                                .map(str::trim)
                                .find(|l| !l.is_empty())
                                .unwrap_or("")
                                .chars()
                                .take(80)
                                .collect(),
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(ChatTree {
                    session: summary,
                    head: head.map(MessageId),
                    nodes,
                }))
            })
            .await
    }

    /// Selects `message`'s version: the head moves to the newest leaf below it, so what is
    /// shown (and sent to the model) follows that branch. Returns the new head.
    pub(in crate::chats) async fn switch_branch(
        &self,
        session: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<MessageId, StoreError> {
        let (session, message) = (session.clone(), message.clone());
        self.writer
            .call(move |c| {
                let tx = super::journal::begin_exclusive_turn(c, &session)?;
                message_in(&tx, &session, &message)?;
                let leaf = newest_leaf(&tx, &message.0)?;
                next_revision(&tx, &session, seen, "another version was selected")?;
                tx.execute(
                    "UPDATE sessions SET head_message_id = ?2 WHERE id = ?1",
                    params![session.0, leaf],
                )?;
                tx.commit()?;
                Ok(MessageId(leaf))
            })
            .await
    }

    /// Rewinds the chat to `message`: it becomes the end of the selected path. The messages
    /// after it stay in the tree as a branch (the next message sent becomes their sibling,
    /// and the switcher reaches them); nothing is deleted.
    pub(in crate::chats) async fn rewind(
        &self,
        session: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<(), StoreError> {
        let (session, message) = (session.clone(), message.clone());
        self.writer
            .call(move |c| {
                let tx = super::journal::begin_exclusive_turn(c, &session)?;
                message_in(&tx, &session, &message)?;
                next_revision(&tx, &session, seen, "the chat was rewound")?;
                tx.execute(
                    "UPDATE sessions SET head_message_id = ?2 WHERE id = ?1",
                    params![session.0, message.0],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Copies the path from the first message to `message` into a new chat `new_id` (new
    /// message ids, same texts, parts and turns' models), linked back to where it came from.
    pub(in crate::chats) async fn fork(
        &self,
        session: &ChatId,
        message: &MessageId,
        new_id: ChatId,
    ) -> Result<(), StoreError> {
        let (session, message) = (session.clone(), message.clone());
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                message_in(&tx, &session, &message)?;
                let mut path: Vec<String> = tx
                    .prepare(
                        "WITH RECURSIVE path(id, depth) AS (
                             SELECT ?1, 0 UNION ALL
                             SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
                             WHERE m.parent_id IS NOT NULL
                         ) SELECT id FROM path ORDER BY depth DESC",
                    )?
                    .query_map([&message.0], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let now = now_ms();
                tx.execute(
                    "INSERT INTO sessions(id, title, created_at, updated_at, provider, model, params,
                                          forked_from_session, forked_from_message, title_source)
                     SELECT ?2, title || ' (branch)', ?3, ?3, provider, model, params, id, ?4, title_source
                     FROM sessions WHERE id = ?1",
                    params![session.0, new_id.0, now, message.0],
                )?;
                let mut parent: Option<String> = None;
                for old in path.drain(..) {
                    let id = crate::new_id();
                    tx.execute(
                        "INSERT INTO messages(id, session_id, parent_id, role, provider, model, created_at)
                         SELECT ?2, ?3, ?4, role, provider, model, created_at FROM messages WHERE id = ?1",
                        params![old, id, new_id.0, parent],
                    )?;
                    tx.execute(
                        &format!(
                            "INSERT INTO parts(message_id, idx, kind, body, meta)
                             SELECT ?2, p.idx, p.kind, {}, p.meta FROM parts p WHERE p.message_id = ?1",
                            part_body_sql!()
                        ),
                        params![old, id],
                    )?;
                    parent = Some(id);
                }
                let count: i64 = tx.query_row(
                    "SELECT count(*) FROM messages WHERE session_id = ?1",
                    [&new_id.0],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "UPDATE sessions SET head_message_id = ?2, message_count = ?3 WHERE id = ?1",
                    params![new_id.0, parent, count],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Deletes `message` and every message after it on every branch (its subtree). When the
    /// selected path ran through it, the selection moves to the newest remaining version at
    /// that point, or to the message before it. Returns how many messages were deleted.
    pub(in crate::chats) async fn delete_branch(
        &self,
        session: &ChatId,
        message: &MessageId,
        seen: Option<u64>,
    ) -> Result<u64, StoreError> {
        let (session, message) = (session.clone(), message.clone());
        self.writer
            .call(move |c| {
                let tx = super::journal::begin_exclusive_turn(c, &session)?;
                let (parent, _) = message_in(&tx, &session, &message)?;
                next_revision(&tx, &session, seen, "messages were deleted")?;
                mark_subtree(&tx, &message)?;
                let head_doomed = head_is_marked(&tx, &session)?;
                let n = delete_marked(&tx, &session)?;
                if head_doomed {
                    move_head_after_delete(&tx, &session, parent)?;
                }
                tx.execute(
                    "UPDATE sessions SET message_count = (SELECT count(*) FROM messages WHERE session_id = ?1),
                     updated_at = ?2 WHERE id = ?1",
                    params![session.0, now_ms()],
                )?;
                tx.commit()?;
                Ok(n)
            })
            .await
    }

    /// Pins or unpins, archives or unarchives a chat.
    pub(in crate::chats) async fn set_chat_flags(
        &self,
        session: &ChatId,
        pinned: Option<bool>,
        archived: Option<bool>,
        seen: Option<u64>,
    ) -> Result<(), StoreError> {
        let session = session.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let what = match (pinned, archived) {
                    (Some(true), _) => "the chat was pinned",
                    (Some(false), _) => "the chat was unpinned",
                    (_, Some(true)) => "the chat was archived",
                    _ => "the chat was unarchived",
                };
                next_revision(&tx, &session, seen, what)?;
                tx.execute(
                    "UPDATE sessions SET pinned = coalesce(?2, pinned), archived = coalesce(?3, archived)
                     WHERE id = ?1",
                    params![session.0, pinned, archived],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }
}
