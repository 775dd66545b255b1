//! Turn queries: begin a turn (the user's message committed first), the journal of the answer
//! being written, the end of a turn, a retry as a new branch. What a crash left running is
//! settled in `recovery.rs`.

use super::append::{apply_journal, fold_chunks};
use crate::error::StoreError;
use crate::store::{codec, Store};
use crate::util::now_ms;
use parley_protocol::{
    ChatId, ErrorInfo, Message, MessageId, Part, Role, StopReason, TurnId, TurnStatus, Usage,
};
use rusqlite::Connection;
use rusqlite::{params, OptionalExtension};

/// One change to a streaming assistant message.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalOp {
    /// A new part at `index`.
    InsertPart {
        /// The message.
        message_id: MessageId,
        /// Its position.
        index: u32,
        /// The part.
        part: Part,
    },
    /// More text for the part's growing body (text, reasoning, tool arguments).
    AppendText {
        /// The message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The text to append.
        text: String,
    },
    /// The part's new full value (status changes and the like).
    ReplacePart {
        /// The message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The part.
        part: Part,
    },
}

/// What [`Store::begin_turn`] committed.
#[derive(Debug, Clone)]
pub struct BegunTurn {
    /// The stored user message.
    pub user_message: Message,
    /// The new turn.
    pub turn_id: TurnId,
    /// The empty assistant message the output goes into.
    pub assistant_message_id: MessageId,
    /// Side by side: every answer of the comparison, in column order (empty: one answer).
    pub side_by_side: Vec<MessageId>,
}

/// How a turn ended.
#[derive(Debug, Clone)]
pub struct TurnEnd {
    /// Final status.
    pub status: TurnStatus,
    /// Token counts.
    pub usage: Option<Usage>,
    /// Normalised stop reason.
    pub stop_reason: Option<StopReason>,
    /// The provider's raw finish reason.
    pub finish_reason_raw: Option<String>,
    /// The error, for failed turns.
    pub error: Option<ErrorInfo>,
}

impl TurnEnd {
    /// A turn that ended normally, with nothing more to record.
    pub fn completed() -> TurnEnd {
        TurnEnd {
            status: TurnStatus::Completed,
            usage: None,
            stop_reason: None,
            finish_reason_raw: None,
            error: None,
        }
    }
}

/// Where a new user message goes, and the chat's revision the client saw.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// A new version of this (user) message: the new message becomes its sibling. `None`:
    /// after the selected path.
    pub edit: Option<MessageId>,
    /// The revision the client saw; a change on an older one is refused (`None`: unchecked).
    pub seen: Option<u64>,
    /// The message's attachments (checked: `AttachmentService::check_outgoing`), after its
    /// text. An edit keeps the edited message's attachments first, and adds those of these
    /// that it does not hold already.
    pub attachments: Vec<Part>,
}

impl Store {
    /// In one transaction: stores the user's message, a pending turn owned by `owner`, and the
    /// empty assistant message; moves the session's head; sets a default title.
    pub(in crate::chats) async fn begin_turn(
        &self,
        chat_id: &ChatId,
        text: String,
        provider: String,
        model: String,
        owner: String,
    ) -> Result<BegunTurn, StoreError> {
        self.begin_turn_at(chat_id, text, provider, model, owner, Placement::default())
            .await
    }

    /// [`Store::begin_turn`] placed as `at` says: after the selected path, or as a new version
    /// of an earlier user message (an edit: a sibling with the new text), and checked against
    /// the revision the client saw.
    pub(in crate::chats) async fn begin_turn_at(
        &self,
        chat_id: &ChatId,
        text: String,
        provider: String,
        model: String,
        owner: String,
        at: Placement,
    ) -> Result<BegunTurn, StoreError> {
        let mut begun = self
            .begin_turns_at(chat_id, text, vec![(provider, model)], owner, at)
            .await?;
        Ok(begun.remove(0))
    }

    /// [`Store::begin_turn_at`] with one answer per (provider, model) of `columns`: side by
    /// side, sibling answers of the one user message, each a pending turn, in one transaction.
    /// The first column's answer is the one the chat's path goes through until another is
    /// chosen; the columns' answers are ordered by their creation time.
    pub(in crate::chats) async fn begin_turns_at(
        &self,
        chat_id: &ChatId,
        text: String,
        columns: Vec<(String, String)>,
        owner: String,
        at: Placement,
    ) -> Result<Vec<BegunTurn>, StoreError> {
        let chat_id = chat_id.clone();
        self.writer
            .call(move |c| {
                let tx = begin_exclusive_turn(c, &chat_id)?;
                let (head, title): (Option<String>, String) = tx.query_row(
                    "SELECT head_message_id, title FROM sessions WHERE id = ?1",
                    [&chat_id.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let head = parent_of_new_message(&tx, &chat_id, head, &at)?;
                let now = now_ms();
                let user_id = MessageId(crate::new_id());
                let turn_ids: Vec<TurnId> =
                    columns.iter().map(|_| TurnId(crate::new_id())).collect();
                let attached = attachments_of(&tx, &at)?;
                insert_user_message(&tx, &chat_id, &user_id, &head, &turn_ids[0], &text, now)?;
                for (i, part) in attached.iter().enumerate() {
                    let (kind, body, meta) = codec::encode_part(part)?;
                    tx.prepare_cached(
                        "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![user_id.0, i as i64 + 1, kind, body, meta])?;
                }
                let mut answers = Vec::new();
                for (i, ((provider, model), turn_id)) in columns.iter().zip(&turn_ids).enumerate() {
                    let added = if i == 0 { 2 } else { 1 };
                    let at = now + i as i64;
                    answers.push(insert_turn_with_answer(
                        &tx, &chat_id, &user_id, turn_id, provider, model, &owner, at, added,
                    )?);
                }
                if answers.len() > 1 {
                    let (provider, model) = &columns[0];
                    tx.execute(
                        "UPDATE sessions SET head_message_id = ?2, provider = ?3, model = ?4 WHERE id = ?1",
                        params![chat_id.0, answers[0].0, provider, model],
                    )?;
                }
                if title.trim().is_empty() {
                    tx.execute(
                        "UPDATE sessions SET title = ?2 WHERE id = ?1",
                        params![chat_id.0, super::default_title(&text)],
                    )?;
                }
                tx.commit()?;
                let side_by_side = if answers.len() > 1 { answers.clone() } else { Vec::new() };
                Ok(turn_ids
                    .into_iter()
                    .zip(answers)
                    .map(|(turn_id, answer)| {
                        let mut b = begun(
                            chat_id.clone(),
                            user_id.clone(),
                            head.clone().map(MessageId),
                            text.clone(),
                            now,
                            turn_id,
                            answer,
                        );
                        b.user_message.parts.extend(attached.iter().cloned());
                        b.side_by_side = side_by_side.clone();
                        b
                    })
                    .collect())
            })
            .await
    }

    /// Applies a batch of streamed changes in one transaction.
    pub(in crate::chats) async fn journal(&self, ops: Vec<JournalOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                apply_journal(&tx, &ops)?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Marks a turn as streaming.
    pub(in crate::chats) async fn set_turn_streaming(
        &self,
        turn_id: &TurnId,
    ) -> Result<(), StoreError> {
        let id = turn_id.clone();
        self.writer
            .call(move |c| {
                c.execute(
                    "UPDATE turns SET status = 'streaming' WHERE id = ?1 AND status = 'pending'",
                    [id.0],
                )?;
                Ok(())
            })
            .await
    }

    /// Records the first message a turn's request carried (older ones were left out).
    pub(in crate::chats) async fn set_turn_context(
        &self,
        turn_id: &TurnId,
        first: &MessageId,
    ) -> Result<(), StoreError> {
        let (id, first) = (turn_id.clone(), first.clone());
        self.writer
            .call(move |c| {
                c.execute(
                    "UPDATE turns SET context_from = ?2 WHERE id = ?1",
                    [id.0, first.0],
                )?;
                Ok(())
            })
            .await
    }

    /// Flushes the last journal ops and records how the turn ended, in one transaction.
    pub(in crate::chats) async fn finish_turn(
        &self,
        turn_id: &TurnId,
        ops: Vec<JournalOp>,
        end: TurnEnd,
    ) -> Result<(), StoreError> {
        let id = turn_id.clone();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                apply_journal(&tx, &ops)?;
                tx.execute(
                    "UPDATE turns SET status = ?2, ended_at = ?3, usage = ?4, stop_reason = ?5,
                     finish_reason_raw = ?6, error = ?7 WHERE id = ?1",
                    params![
                        id.0,
                        end.status.as_str(),
                        now_ms(),
                        codec::to_json_opt(&end.usage)?,
                        codec::to_json_opt(&end.stop_reason)?,
                        end.finish_reason_raw,
                        codec::to_json_opt(&end.error)?,
                    ],
                )?;
                tx.execute(
                    "UPDATE sessions SET updated_at = ?2 WHERE id = (SELECT session_id FROM turns WHERE id = ?1)",
                    params![id.0, now_ms()],
                )?;
                fold_chunks(
                    &tx,
                    "SELECT assistant_message_id FROM turns WHERE id = ?1",
                    [&id.0],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// In one transaction: a new pending turn that answers the existing user message again,
    /// as a new branch (the earlier answer stays in the tree), and the session's head moves to it.
    pub(in crate::chats) async fn begin_retry(
        &self,
        chat_id: &ChatId,
        user_message_id: &MessageId,
        provider: String,
        model: String,
        owner: String,
    ) -> Result<BegunTurn, StoreError> {
        self.begin_retry_seen(chat_id, user_message_id, provider, model, owner, None)
            .await
    }

    /// [`Store::begin_retry`], checked against the revision of the chat the client saw.
    pub(in crate::chats) async fn begin_retry_seen(
        &self,
        chat_id: &ChatId,
        user_message_id: &MessageId,
        provider: String,
        model: String,
        owner: String,
        seen: Option<u64>,
    ) -> Result<BegunTurn, StoreError> {
        let chat_id = chat_id.clone();
        let user_id = user_message_id.clone();
        self.writer
            .call(move |c| {
                let tx = begin_exclusive_turn(c, &chat_id)?;
                let (parent, role, created_at): (Option<String>, String, i64) = tx
                    .query_row(
                        "SELECT parent_id, role, created_at FROM messages WHERE id = ?1 AND session_id = ?2",
                        [&user_id.0, &chat_id.0],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?
                    .ok_or_else(|| StoreError::NoSuchMessage {
                        message: user_id.0.clone(),
                    })?;
                if role != "user" {
                    return Err(StoreError::NotAUserMessage);
                }
                super::tree::next_revision(&tx, &chat_id, seen, "an answer was regenerated")?;
                let text: String = tx
                    .query_row(
                        "SELECT group_concat(body, '') FROM parts WHERE message_id = ?1 AND kind = 'text'",
                        [&user_id.0],
                        |r| r.get::<_, Option<String>>(0),
                    )?
                    .unwrap_or_default();
                let now = now_ms();
                let turn_id = TurnId(crate::new_id());
                let assistant_id = insert_turn_with_answer(
                    &tx, &chat_id, &user_id, &turn_id, &provider, &model, &owner, now, 1,
                )?;
                tx.commit()?;
                Ok(begun(
                    chat_id,
                    user_id,
                    parent.map(MessageId),
                    text,
                    created_at,
                    turn_id,
                    assistant_id,
                ))
            })
            .await
    }
}

/// The parent of a new user message: the selected path's end when sending, the edited
/// message's parent when editing (it must be a user message of this chat); the chat's
/// revision is checked and counted either way.
pub(super) fn parent_of_new_message(
    tx: &Connection,
    chat_id: &ChatId,
    head: Option<String>,
    at: &Placement,
) -> Result<Option<String>, StoreError> {
    Ok(match &at.edit {
        None => {
            super::tree::next_revision(tx, chat_id, at.seen, "a message was sent")?;
            head
        }
        Some(edited) => {
            let (parent, role): (Option<String>, String) = tx
                .query_row(
                    "SELECT parent_id, role FROM messages WHERE id = ?1 AND session_id = ?2",
                    [&edited.0, &chat_id.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NoSuchMessage {
                    message: edited.0.clone(),
                })?;
            if role != "user" {
                return Err(StoreError::NotAUserMessage);
            }
            super::tree::next_revision(tx, chat_id, at.seen, "a message was edited")?;
            parent
        }
    })
}

/// The attachments of a new message placed `at`: an edit's carried over from the edited
/// message (its images and files, in order), then the new ones it does not hold already.
fn attachments_of(tx: &Connection, at: &Placement) -> Result<Vec<Part>, StoreError> {
    let mut parts = Vec::new();
    if let Some(edited) = &at.edit {
        let mut m = [Message {
            id: edited.clone(),
            chat_id: ChatId(String::new()),
            parent_id: None,
            role: Role::User,
            parts: Vec::new(),
            turn_id: None,
            provider: None,
            model: None,
            created_at: 0,
        }];
        codec::load_parts(tx, &mut m)?;
        let [m] = m;
        parts.extend(
            m.parts
                .into_iter()
                .filter(|p| matches!(p, Part::Image { .. } | Part::File { .. })),
        );
    }
    for p in &at.attachments {
        if !parts.contains(p) {
            parts.push(p.clone());
        }
    }
    Ok(parts)
}

/// Inserts the user's message `user_id` (one text part) under `parent`, in turn `turn_id`.
fn insert_user_message(
    tx: &Connection,
    chat_id: &ChatId,
    user_id: &MessageId,
    parent: &Option<String>,
    turn_id: &TurnId,
    text: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO messages(id, session_id, parent_id, role, turn_id, created_at)
         VALUES (?1, ?2, ?3, 'user', ?4, ?5)",
        params![user_id.0, chat_id.0, parent, turn_id.0, now],
    )?;
    tx.execute(
        "INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)",
        params![user_id.0, text],
    )?;
    Ok(())
}

/// Opens the write transaction that begins a turn in `chat_id`, refusing when the chat
/// already has a running one — in this process or another (the app and `parley ask` share the
/// database). The transaction takes SQLite's write lock at once (IMMEDIATE), so two processes
/// cannot both see "no running turn" and both begin one.
pub(super) fn begin_exclusive_turn<'c>(
    c: &'c mut Connection,
    chat_id: &ChatId,
) -> Result<rusqlite::Transaction<'c>, StoreError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let owners = {
        let mut stmt = tx.prepare_cached(
            "SELECT DISTINCT COALESCE(owner, '') FROM turns
             WHERE session_id = ?1 AND status IN ('pending', 'streaming')",
        )?;
        let rows = stmt.query_map([&chat_id.0], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    if !owners.is_empty() {
        return Err(StoreError::TurnRunning { owners });
    }
    Ok(tx)
}

/// What a begun turn returns: the user message as stored, the turn, its empty answer.
pub(super) fn begun(
    chat_id: ChatId,
    user_id: MessageId,
    parent_id: Option<MessageId>,
    text: String,
    created_at: i64,
    turn_id: TurnId,
    assistant_message_id: MessageId,
) -> BegunTurn {
    BegunTurn {
        user_message: Message {
            id: user_id,
            chat_id,
            parent_id,
            role: Role::User,
            parts: vec![Part::Text { text }],
            turn_id: Some(turn_id.clone()),
            provider: None,
            model: None,
            created_at,
        },
        turn_id,
        assistant_message_id,
        side_by_side: Vec::new(),
    }
}

/// Inserts a pending turn answering `user_id` and its (empty) assistant message, and moves the
/// session's head to that answer. Shared by a new message and a retry.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_turn_with_answer(
    tx: &Connection,
    chat_id: &ChatId,
    user_id: &MessageId,
    turn_id: &TurnId,
    provider: &str,
    model: &str,
    owner: &str,
    now: i64,
    added_messages: i64,
) -> Result<MessageId, StoreError> {
    let assistant_id = MessageId(crate::new_id());
    tx.execute(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status, owner, provider, model, started_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8)",
        params![turn_id.0, chat_id.0, user_id.0, assistant_id.0, owner, provider, model, now],
    )?;
    tx.execute(
        "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
         VALUES (?1, ?2, ?3, 'assistant', ?4, ?5, ?6, ?7)",
        params![assistant_id.0, chat_id.0, user_id.0, turn_id.0, provider, model, now],
    )?;
    tx.execute(
        "UPDATE sessions SET head_message_id = ?2, updated_at = ?3, message_count = message_count + ?4,
         provider = ?5, model = ?6 WHERE id = ?1",
        params![chat_id.0, assistant_id.0, now, added_messages, provider, model],
    )?;
    Ok(assistant_id)
}
