//! Claude's `conversations.json`, as Parley chats: each conversation's messages in order
//! (following `parent_message_uuid` when it names an earlier message), its title and times,
//! thinking as reasoning, attachments' extracted text as file parts.

use super::foreign::{message, summary, title_of};
use super::import::{stream_array, Meter};
use crate::error::CoreError;
use parley_protocol::{ChatExport, Message, Part, Role};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

#[derive(Deserialize)]
struct ClaudeConversation {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    chat_messages: Vec<ClaudeMessage>,
}

#[derive(Deserialize)]
struct ClaudeMessage {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    content: Vec<Value>,
    #[serde(default)]
    attachments: Vec<ClaudeAttachment>,
    #[serde(default)]
    parent_message_uuid: Option<String>,
}

#[derive(Deserialize)]
struct ClaudeAttachment {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
    #[serde(default)]
    extracted_content: Option<String>,
}

/// An RFC 3339 time (`2024-05-01T12:34:56.789Z`, or with an offset) in ms since the epoch.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        rest = &frac[digits.len()..];
        let three: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = three.parse::<i64>().ok()?;
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 60 + o[4..6].parse::<i64>().ok()?)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms)
}

/// Fills `msg` with the parts of Claude's message `m`: thinking as reasoning, attachments'
/// text as files, then the text (blocks Parley does not know kept as text with a note).
fn claude_parts(m: &ClaudeMessage, msg: &mut Message) {
    let mut text = String::new();
    for block in &m.content {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = block.get("text").and_then(Value::as_str) {
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str(t);
                }
            }
            Some("thinking") => {
                if let Some(t) = block.get("thinking").and_then(Value::as_str) {
                    msg.parts.push(Part::Reasoning {
                        text: t.to_owned(),
                        signature: None,
                    });
                }
            }
            Some(other) => {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(&format!(
                    "[Parley does not know Claude content of type \"{other}\"; kept as it was]\n{}",
                    serde_json::to_string(block).unwrap_or_default()
                ));
            }
            None => {}
        }
    }
    if text.is_empty() {
        text = m.text.clone().unwrap_or_default();
    }
    for a in &m.attachments {
        msg.parts.push(Part::File {
            name: a.file_name.clone().unwrap_or_else(|| "attachment".into()),
            mime: a
                .file_type
                .clone()
                .map(|t| {
                    if t.contains('/') {
                        t
                    } else {
                        format!("text/{t}")
                    }
                })
                .unwrap_or_else(|| "text/plain".into()),
            text: a.extracted_content.clone().unwrap_or_default(),
        });
    }
    msg.parts.push(Part::Text { text });
}

fn convert_claude(i: usize, c: ClaudeConversation, meter: &Meter) -> Result<ChatExport, String> {
    let source_id = c.uuid.unwrap_or_else(|| format!("{i}"));
    let sid = format!("claude-{source_id}");
    let created = c.created_at.as_deref().and_then(rfc3339_ms).unwrap_or(0);
    let updated = c
        .updated_at
        .as_deref()
        .and_then(rfc3339_ms)
        .unwrap_or(created);
    let mut messages: Vec<Message> = Vec::new();
    let mut ids = HashSet::new();
    for (k, m) in c.chat_messages.into_iter().enumerate() {
        if k.is_multiple_of(4096) {
            meter.check()?;
        }
        let id = format!(
            "claude-{}",
            m.uuid.clone().unwrap_or_else(|| format!("{source_id}-{k}"))
        );
        if !ids.insert(id.clone()) {
            return Err(format!("message {id} appears twice"));
        }
        let role = match m.sender.as_deref() {
            Some("human") | Some("user") => Role::User,
            _ => Role::Assistant,
        };
        // The parent the export names, when it is an earlier message; else the one before.
        let parent = m
            .parent_message_uuid
            .as_ref()
            .map(|p| format!("claude-{p}"))
            .filter(|p| ids.contains(p) && p != &id)
            .or_else(|| messages.last().map(|l| l.id.0.clone()));
        let at = m
            .created_at
            .as_deref()
            .and_then(rfc3339_ms)
            .unwrap_or(created);
        let mut msg = message(&sid, id, parent, role, at);
        claude_parts(&m, &mut msg);
        messages.push(msg);
    }
    let head = messages.last().map(|m| m.id.clone());
    Ok(ChatExport {
        session: summary(
            sid,
            title_of(c.name.as_deref(), "Claude conversation"),
            created,
            updated,
            messages.len(),
        ),
        head,
        messages,
        turns: Vec::new(),
    })
}

/// The chats of Claude's `conversations.json`, one conversation at a time.
pub(super) fn each_claude(
    file: &Path,
    meter: &Meter,
    each: &mut dyn FnMut(ChatExport) -> Result<(), String>,
) -> Result<(), CoreError> {
    stream_array::<ClaudeConversation>(file, meter, |i, c| {
        let title = c.name.clone().unwrap_or_default();
        let chat = convert_claude(i, c, meter)
            .map_err(|e| format!("conversation {} (\"{title}\"): {e}", i + 1))?;
        each(chat)
    })
}
