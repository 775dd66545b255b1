//! Row <-> type conversions. Parts are stored as (kind, body, meta JSON) so that the growing
//! text of any part lives in `body` and can be appended to.

use crate::error::StoreError;
use parley_protocol::{
    ChatId, ChatSummary, Message, MessageId, Part, Role, ToolCallStatus, TurnId, TurnInfo,
    TurnStatus,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct ToolCallMeta {
    call_id: String,
    name: String,
    status: ToolCallStatus,
}

#[derive(Serialize, Deserialize)]
struct ToolResultMeta {
    call_id: String,
    is_error: bool,
}

#[derive(Serialize, Deserialize)]
struct FileMeta {
    name: String,
    mime: String,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

pub(crate) fn to_json_opt<T: Serialize>(v: &Option<T>) -> Result<Option<String>, StoreError> {
    v.as_ref().map(json).transpose()
}

fn from_json_opt<T: DeserializeOwned>(v: Option<String>) -> Result<Option<T>, StoreError> {
    v.map(|s| serde_json::from_str(&s).map_err(corrupt))
        .transpose()
}

/// (kind, body, meta) for a part; the body is the part's own text, not a copy of it.
pub(crate) fn encode_part(part: &Part) -> Result<(&'static str, &str, Option<String>), StoreError> {
    Ok(match part {
        Part::Text { text } => ("text", text, None),
        Part::Reasoning { text, signature } => {
            ("reasoning", text, signature.as_ref().map(json).transpose()?)
        }
        Part::ToolCall {
            call_id,
            name,
            arguments,
            status,
        } => (
            "tool_call",
            arguments,
            Some(json(&ToolCallMeta {
                call_id: call_id.clone(),
                name: name.clone(),
                status: *status,
            })?),
        ),
        Part::ToolResult {
            call_id,
            output,
            is_error,
        } => (
            "tool_result",
            output,
            Some(json(&ToolResultMeta {
                call_id: call_id.clone(),
                is_error: *is_error,
            })?),
        ),
        Part::Image { mime, data } => ("image", data, Some(json(mime)?)),
        Part::File { name, mime, text } => (
            "file",
            text,
            Some(json(&FileMeta {
                name: name.clone(),
                mime: mime.clone(),
            })?),
        ),
    })
}

fn meta<T: DeserializeOwned>(kind: &str, meta: Option<&str>) -> Result<T, StoreError> {
    let m = meta.ok_or_else(|| corrupt(format!("{kind} part without metadata")))?;
    serde_json::from_str(m).map_err(corrupt)
}

pub(crate) fn decode_part(kind: &str, body: String, m: Option<&str>) -> Result<Part, StoreError> {
    Ok(match kind {
        "text" => Part::Text { text: body },
        "reasoning" => Part::Reasoning {
            text: body,
            signature: m.map(serde_json::from_str).transpose().map_err(corrupt)?,
        },
        "tool_call" => {
            let t: ToolCallMeta = meta(kind, m)?;
            Part::ToolCall {
                call_id: t.call_id,
                name: t.name,
                arguments: body,
                status: t.status,
            }
        }
        "tool_result" => {
            let t: ToolResultMeta = meta(kind, m)?;
            Part::ToolResult {
                call_id: t.call_id,
                output: body,
                is_error: t.is_error,
            }
        }
        "image" => Part::Image {
            mime: meta(kind, m)?,
            data: body,
        },
        "file" => {
            let f: FileMeta = meta(kind, m)?;
            Part::File {
                name: f.name,
                mime: f.mime,
                text: body,
            }
        }
        other => return Err(corrupt(format!("unknown part kind {other:?}"))),
    })
}

pub(crate) fn chat_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChatSummary> {
    Ok(ChatSummary {
        id: ChatId(r.get(0)?),
        title: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        message_count: r.get::<_, i64>(4)?.max(0) as u64,
        provider: r.get(5)?,
        model: r.get(6)?,
        // Settings that no longer parse fall back to the defaults rather than hide the chat.
        params: r
            .get::<_, Option<String>>(7)?
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default(),
        revision: r.get::<_, i64>(8)?.max(0) as u64,
        pinned: r.get(9)?,
        archived: r.get(10)?,
        forked_from: match (
            r.get::<_, Option<String>>(11)?,
            r.get::<_, Option<String>>(12)?,
        ) {
            (Some(s), Some(m)) => Some(parley_protocol::ForkOrigin {
                chat_id: ChatId(s),
                message_id: MessageId(m),
            }),
            _ => None,
        },
    })
}

pub(crate) fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Message, StoreError>> {
    let role: String = r.get(3)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(Err(corrupt(format!("unknown role {role:?}"))));
    };
    Ok(Ok(Message {
        id: MessageId(r.get(0)?),
        chat_id: ChatId(r.get(1)?),
        parent_id: r.get::<_, Option<String>>(2)?.map(MessageId),
        role,
        parts: Vec::new(),
        turn_id: r.get::<_, Option<String>>(4)?.map(TurnId),
        provider: r.get(5)?,
        model: r.get(6)?,
        created_at: r.get(7)?,
    }))
}

pub(crate) fn turn_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TurnInfo, StoreError>> {
    let status: String = r.get(4)?;
    let usage: Option<String> = r.get(9)?;
    let stop: Option<String> = r.get(10)?;
    let error: Option<String> = r.get(11)?;
    let build = || -> Result<TurnInfo, StoreError> {
        Ok(TurnInfo {
            id: TurnId(r.get(0)?),
            chat_id: ChatId(r.get(1)?),
            user_message_id: MessageId(r.get(2)?),
            assistant_message_id: r.get::<_, Option<String>>(3)?.map(MessageId),
            status: TurnStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("unknown turn status {status:?}")))?,
            provider: r.get(5)?,
            model: r.get(6)?,
            started_at: r.get(7)?,
            ended_at: r.get(8)?,
            usage: from_json_opt(usage.clone())?,
            stop_reason: from_json_opt(stop.clone())?,
            error: from_json_opt(error.clone())?,
            context_from: r.get::<_, Option<String>>(12)?.map(MessageId),
        })
    };
    Ok(build())
}

/// Fills each message's parts, in order, whole (chunks joined).
pub(crate) fn load_parts(
    c: &rusqlite::Connection,
    messages: &mut [Message],
) -> Result<(), StoreError> {
    let mut stmt = c.prepare_cached(concat!(
        "SELECT p.kind, ",
        part_body_sql!(),
        ", p.meta FROM parts p WHERE p.message_id = ?1 ORDER BY p.idx"
    ))?;
    for m in messages {
        let rows = stmt.query_map([&m.id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, body, meta) = row?;
            m.parts.push(decode_part(&kind, body, meta.as_deref())?);
        }
    }
    Ok(())
}
