//! Crash recovery: the turns a dead process left pending or streaming are marked interrupted
//! (their output kept), and the tool calls they left unfinished ended as cancelled, each with
//! a result saying so.

use super::append::{apply_journal, fold_chunks};
use super::JournalOp;
use crate::error::StoreError;
use crate::store::{codec, Store};
use crate::util::now_ms;
use parley_protocol::{ErrorInfo, MessageId, Part};
use rusqlite::{params, Connection};

impl Store {
    /// Owners of turns still marked pending or streaming.
    pub(in crate::chats) async fn active_turn_owners(&self) -> Result<Vec<String>, StoreError> {
        self.writer
            .call(|c| {
                let mut stmt = c.prepare(
                    "SELECT DISTINCT COALESCE(owner, '') FROM turns WHERE status IN ('pending', 'streaming')",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// Marks the running turns of a dead owner as interrupted (their output is kept). Tool
    /// calls they left unfinished are ended as cancelled, each with a result saying so, so
    /// every call has exactly one result and the conversation can be sent again.
    pub(in crate::chats) async fn interrupt_turns_of(
        &self,
        owner: &str,
    ) -> Result<usize, StoreError> {
        let owner = owner.to_owned();
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                settle_interrupted_calls(&tx, &owner)?;
                let info = ErrorInfo::new(
                    parley_protocol::ErrorCode::StreamInterrupted,
                    "Parley closed while this answer was being written; the partial answer is kept. Retry to ask again.",
                    true,
                );
                let answers: Vec<String> = tx
                    .prepare(
                        "SELECT assistant_message_id FROM turns
                         WHERE status IN ('pending', 'streaming') AND COALESCE(owner, '') = ?1
                           AND assistant_message_id IS NOT NULL",
                    )?
                    .query_map([&owner], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let n = tx.execute(
                    "UPDATE turns SET status = 'interrupted', ended_at = ?2, error = ?3
                     WHERE status IN ('pending', 'streaming') AND COALESCE(owner, '') = ?1",
                    params![owner, now_ms(), serde_json::to_string(&info).map_err(|e| StoreError::Corrupt(e.to_string()))?],
                )?;
                for answer in answers {
                    fold_chunks(&tx, "?1", [answer])?;
                }
                tx.commit()?;
                Ok(n)
            })
            .await
    }
}

/// Ends the unfinished tool calls of `owner`'s running turns: status cancelled, plus a result
/// for each call that has none.
fn settle_interrupted_calls(c: &Connection, owner: &str) -> Result<(), StoreError> {
    let mut stmt = c.prepare(
        "SELECT assistant_message_id FROM turns
         WHERE status IN ('pending', 'streaming') AND COALESCE(owner, '') = ?1
           AND assistant_message_id IS NOT NULL",
    )?;
    let messages = stmt
        .query_map([owner], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for m in messages {
        let mut parts = Vec::new();
        let mut q = c.prepare(concat!(
            "SELECT p.idx, p.kind, ",
            part_body_sql!(),
            ", p.meta FROM parts p WHERE p.message_id = ?1 ORDER BY p.idx"
        ))?;
        let rows = q.query_map([&m], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (idx, kind, body, meta) = row?;
            parts.push((idx, codec::decode_part(&kind, body, meta.as_deref())?));
        }
        let answered: std::collections::HashSet<String> = parts
            .iter()
            .filter_map(|(_, p)| match p {
                Part::ToolResult { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect();
        let mut next = parts.last().map_or(0, |(i, _)| i + 1);
        let mut ops = Vec::new();
        let message_id = MessageId(m.clone());
        for (idx, p) in &parts {
            if let Part::ToolCall {
                call_id,
                name,
                arguments,
                status,
            } = p
            {
                if status.is_terminal() {
                    continue;
                }
                ops.push(JournalOp::ReplacePart {
                    message_id: message_id.clone(),
                    index: *idx,
                    part: Part::ToolCall {
                        call_id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                        status: parley_protocol::ToolCallStatus::Cancelled,
                    },
                });
                if !answered.contains(call_id) {
                    ops.push(JournalOp::InsertPart {
                        message_id: message_id.clone(),
                        index: next,
                        part: Part::ToolResult {
                            call_id: call_id.clone(),
                            output: "Parley closed before this call finished; it may or may not have run. Check before relying on it.".into(),
                            is_error: true,
                        },
                    });
                    next += 1;
                }
            }
        }
        apply_journal(c, &ops)?;
    }
    Ok(())
}
