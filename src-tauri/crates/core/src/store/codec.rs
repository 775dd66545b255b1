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

/// A stored image's details; its body is the SHA-256 of its bytes.
#[derive(Serialize, Deserialize)]
struct ImageMeta {
    mime: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    width: u32,
    #[serde(default)]
    height: u32,
    #[serde(default)]
    size: u64,
}

/// An image row as written before attachments were stored apart: the meta is the MIME type
/// alone and the body the base64 bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum ImageRowMeta {
    Stored(ImageMeta),
    Inline(String),
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
        // An image not (yet) stored keeps the older inline shape rather than lose its bytes.
        Part::Image {
            mime,
            sha256,
            data: Some(data),
            ..
        } if sha256.is_empty() => ("image", data, Some(json(mime)?)),
        Part::Image {
            mime,
            sha256,
            name,
            width,
            height,
            size,
            ..
        } => (
            "image",
            sha256,
            Some(json(&ImageMeta {
                mime: mime.clone(),
                name: name.clone(),
                width: *width,
                height: *height,
                size: *size,
            })?),
        ),
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
        "image" => decode_image(body, meta(kind, m)?),
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

fn decode_image(body: String, meta: ImageRowMeta) -> Part {
    match meta {
        ImageRowMeta::Stored(i) => Part::Image {
            mime: i.mime,
            sha256: body,
            name: i.name,
            width: i.width,
            height: i.height,
            size: i.size,
            data: None,
        },
        ImageRowMeta::Inline(mime) => Part::Image {
            mime,
            sha256: String::new(),
            name: String::new(),
            width: 0,
            height: 0,
            size: 0,
            data: Some(body),
        },
    }
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

#[cfg(test)]
mod image_rows {
    use super::*;

    fn image(sha256: &str, data: Option<&str>) -> Part {
        Part::Image {
            mime: "image/png".into(),
            sha256: sha256.into(),
            name: if sha256.is_empty() { "" } else { "shot.png" }.into(),
            width: if sha256.is_empty() { 0 } else { 640 },
            height: if sha256.is_empty() { 0 } else { 480 },
            size: if sha256.is_empty() { 0 } else { 1234 },
            data: data.map(String::from),
        }
    }

    #[test]
    fn a_stored_image_keeps_its_address_and_details_never_its_bytes() {
        let sha = "ab".repeat(32);
        // Bytes that travel with a stored image (a request, an export) are not written.
        for data in [None, Some("AAAA")] {
            let part = image(&sha, data);
            let (kind, body, meta) = encode_part(&part).unwrap();
            assert_eq!((kind, body), ("image", sha.as_str()));
            let back = decode_part(kind, body.to_owned(), meta.as_deref()).unwrap();
            assert_eq!(back, image(&sha, None));
        }
    }

    #[test]
    fn an_image_row_of_the_older_shape_still_reads() {
        // Before attachments were stored apart: meta = the MIME type, body = base64.
        let back = decode_part("image", "AAAA".into(), Some("\"image/png\"")).unwrap();
        assert_eq!(back, image("", Some("AAAA")));
        // And an image not yet stored is written in that shape rather than lose its bytes.
        let part = image("", Some("AAAA"));
        let (kind, body, meta) = encode_part(&part).unwrap();
        assert_eq!(
            (kind, body, meta.as_deref()),
            ("image", "AAAA", Some("\"image/png\""))
        );
    }
}
