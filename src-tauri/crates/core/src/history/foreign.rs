//! Other apps' exports, turned into Parley's: ChatGPT's `conversations.json` (its `mapping`
//! tree becomes branches, `current_node` the selected path) and Claude's `conversations.json`
//! (messages, titles, times, attachments' extracted text). The file is read one conversation
//! at a time (the array is streamed, never held whole as JSON); ids are derived from the
//! source's, so importing the same export twice adds nothing. What Parley has no place for is
//! kept as text with a note, never dropped silently.

use super::import::{stream_array, Meter};
use crate::error::CoreError;
use parley_protocol::{
    ChatExport, ChatId, ChatParams, ChatSummary, ExportFile, Message, MessageId, Part, Role,
    ToolCallStatus, EXPORT_FORMAT, EXPORT_VERSION,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::path::Path;

pub use super::claude::rfc3339_ms;

/// Whose export a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Parley's own (`parley export`).
    Parley,
    /// ChatGPT's `conversations.json`.
    ChatGpt,
    /// Claude's `conversations.json`.
    Claude,
}

/// Tells the kind of export from the file's start.
pub fn detect(file: &Path) -> Result<Source, CoreError> {
    let mut head = vec![0u8; 1 << 20];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| invalid(file, format!("it could not be read ({e}).")))?;
    let head = String::from_utf8_lossy(&head[..n]);
    let start = head.trim_start().chars().next();
    Ok(match start {
        Some('{') => Source::Parley,
        Some('[') if head.contains("\"mapping\"") => Source::ChatGpt,
        Some('[') if head.contains("\"chat_messages\"") => Source::Claude,
        Some('[') if head.trim_start()[1..].trim_start().starts_with(']') => Source::ChatGpt,
        _ => {
            return Err(invalid(
                file,
                "it is not an export Parley knows (Parley's own, or ChatGPT's or Claude's conversations.json).".into(),
            ))
        }
    })
}

pub(super) fn invalid(file: &Path, why: String) -> CoreError {
    CoreError::InvalidInput(format!("{}: {why}", file.display()))
}

pub(super) fn export_of(chats: Vec<ChatExport>) -> ExportFile {
    ExportFile {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        exported_at: crate::now_ms(),
        chats,
    }
}

pub(super) fn summary(
    id: String,
    title: String,
    created: i64,
    updated: i64,
    n: usize,
) -> ChatSummary {
    ChatSummary {
        id: ChatId(id),
        title,
        created_at: created,
        updated_at: updated,
        message_count: n as u64,
        provider: None,
        model: None,
        params: ChatParams::default(),
        revision: 0,
        pinned: false,
        archived: false,
        forked_from: None,
    }
}

pub(super) fn message(
    session: &str,
    id: String,
    parent: Option<String>,
    role: Role,
    at: i64,
) -> Message {
    Message {
        id: MessageId(id),
        chat_id: ChatId(session.to_owned()),
        parent_id: parent.map(MessageId),
        role,
        parts: Vec::new(),
        turn_id: None,
        provider: None,
        model: None,
        created_at: at,
    }
}

/// The longest title kept, in characters.
const TITLE_MAX: usize = 200;

pub(super) fn title_of(raw: Option<&str>, fallback: &str) -> String {
    let t = raw
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback);
    t.chars()
        .filter(|c| !c.is_control())
        .take(TITLE_MAX)
        .collect()
}

// ---- ChatGPT ----

#[derive(Deserialize)]
struct GptConversation {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    create_time: Option<f64>,
    #[serde(default)]
    update_time: Option<f64>,
    #[serde(default)]
    mapping: HashMap<String, GptNode>,
    #[serde(default)]
    current_node: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct GptNode {
    #[serde(default)]
    message: Option<GptMessage>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Deserialize)]
struct GptMessage {
    #[serde(default)]
    author: Option<GptAuthor>,
    #[serde(default)]
    create_time: Option<f64>,
    #[serde(default, deserialize_with = "gpt_content")]
    content: Option<GptContent>,
    #[serde(default, deserialize_with = "gpt_meta")]
    metadata: GptMeta,
    #[serde(default)]
    recipient: Option<String>,
}

/// A message's content as read: its type and its text, rendered as it is read so that the
/// conversation is held as text, not as parsed JSON (one message's JSON at a time).
struct GptContent {
    kind: Option<String>,
    text: String,
}

fn gpt_content<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<GptContent>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(v.map(|v| GptContent {
        kind: v
            .get("content_type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        text: gpt_text(&v).0,
    }))
}

/// What Parley reads of a message's metadata.
#[derive(Default)]
struct GptMeta {
    hidden: bool,
    model_slug: Option<String>,
}

fn gpt_meta<'de, D: serde::Deserializer<'de>>(d: D) -> Result<GptMeta, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    let v = v.as_ref();
    Ok(GptMeta {
        hidden: v
            .and_then(|v| v.get("is_visually_hidden_from_conversation"))
            .and_then(Value::as_bool)
            == Some(true),
        model_slug: v
            .and_then(|v| v.get("model_slug"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

#[derive(Deserialize)]
struct GptAuthor {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

fn secs_to_ms(s: Option<f64>) -> Option<i64> {
    s.filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
        .map(|s| (s * 1000.0) as i64)
}

/// The text of a ChatGPT message's content, and whether Parley understood its type.
fn gpt_text(content: &Value) -> (String, bool) {
    let kind = content
        .get("content_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let str_of = |k: &str| content.get(k).and_then(Value::as_str).map(str::to_owned);
    match kind {
        "text" | "multimodal_text" => {
            let mut out = Vec::new();
            let mut all_known = true;
            for p in content
                .get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match p {
                    Value::String(s) => out.push(s.clone()),
                    other => {
                        all_known = false;
                        let t = other
                            .get("content_type")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown");
                        out.push(format!("[Not imported: a {t} part]"));
                    }
                }
            }
            (out.join("\n"), all_known)
        }
        "code" | "execution_output" => (str_of("text").unwrap_or_default(), true),
        "tether_browsing_display" => (str_of("result").unwrap_or_default(), true),
        "tether_quote" => {
            let title = str_of("title").unwrap_or_default();
            let text = str_of("text").unwrap_or_default();
            (format!("> {title}\n\n{text}"), true)
        }
        "reasoning_recap" => (str_of("content").unwrap_or_default(), true),
        "thoughts" => {
            let t = content
                .get("thoughts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    let s = t.get("summary").and_then(Value::as_str).unwrap_or("");
                    let c = t.get("content").and_then(Value::as_str).unwrap_or("");
                    (!(s.is_empty() && c.is_empty())).then(|| format!("{s}\n{c}"))
                })
                .collect::<Vec<_>>()
                .join("\n\n");
            (t, true)
        }
        _ => (
            format!(
                "[Parley does not know ChatGPT content of type \"{kind}\"; kept as it was]\n{}",
                serde_json::to_string(content).unwrap_or_default()
            ),
            false,
        ),
    }
}

/// Whether ChatGPT hid the message from its own view (system prompts, custom instructions).
fn gpt_hidden(m: &GptMessage) -> bool {
    let kind = m.content.as_ref().and_then(|c| c.kind.as_deref());
    m.metadata.hidden || kind == Some("user_editable_context")
}

/// The role and part of a ChatGPT message of node `id`, by its author's role (`role_name`).
fn gpt_part(id: &str, m: &mut GptMessage, role_name: &str) -> (Role, Part) {
    let text = m
        .content
        .as_mut()
        .map(|c| std::mem::take(&mut c.text))
        .unwrap_or_default();
    let recipient = m.recipient.as_deref().unwrap_or("all");
    match role_name {
        "user" => (Role::User, Part::Text { text }),
        "system" => (Role::System, Part::Text { text }),
        "tool" => (
            Role::Assistant,
            Part::ToolResult {
                call_id: id.to_owned(),
                output: format!(
                    "[{}]\n{text}",
                    m.author
                        .as_ref()
                        .and_then(|a| a.name.clone())
                        .unwrap_or_else(|| "tool".into())
                ),
                is_error: false,
            },
        ),
        "assistant" if recipient != "all" => (
            Role::Assistant,
            Part::ToolCall {
                call_id: id.to_owned(),
                name: recipient.to_owned(),
                arguments: text,
                status: ToolCallStatus::Completed,
            },
        ),
        "assistant" => {
            let thinking = m
                .content
                .as_ref()
                .and_then(|c| c.kind.as_deref())
                .is_some_and(|k| k == "thoughts" || k == "reasoning_recap");
            if thinking {
                (
                    Role::Assistant,
                    Part::Reasoning {
                        text,
                        signature: None,
                    },
                )
            } else {
                (Role::Assistant, Part::Text { text })
            }
        }
        other => (
            Role::Assistant,
            Part::Text {
                text: format!("[A ChatGPT message from \"{other}\"]\n{text}"),
            },
        ),
    }
}

/// Whether ChatGPT showed the node's message (hidden ones — system prompts, custom
/// instructions — and empty system messages are left out).
fn gpt_kept(n: &GptNode) -> bool {
    n.message.as_ref().is_some_and(|m| {
        let system = m.author.as_ref().and_then(|a| a.role.as_deref()) == Some("system");
        let empty = m.content.as_ref().is_none_or(|c| c.text.trim().is_empty());
        !(gpt_hidden(m) || (system && empty))
    })
}

/// Every node's nearest kept node, itself included, following `parent` links: each node is
/// resolved once (a walk up stops at the first node already resolved), so the whole mapping
/// takes time linear in its size however long its chains of hidden nodes. A cycle of a
/// hostile file resolves to no node.
fn kept_ancestors<'c>(
    mapping: &'c HashMap<String, GptNode>,
    kept: &HashSet<&'c str>,
    meter: &Meter,
) -> Result<HashMap<&'c str, Option<&'c str>>, String> {
    let mut up: HashMap<&str, Option<&str>> = HashMap::with_capacity(mapping.len());
    let mut path: Vec<&str> = Vec::new();
    let mut on_path: HashSet<&str> = HashSet::new();
    for (n, start) in mapping.keys().enumerate() {
        if n.is_multiple_of(4096) {
            meter.check()?;
        }
        let mut at = Some(start.as_str());
        let found = loop {
            let Some(id) = at else { break None };
            if let Some(done) = up.get(id) {
                break *done;
            }
            if kept.contains(id) {
                break Some(id);
            }
            if !on_path.insert(id) {
                break None;
            }
            path.push(id);
            at = mapping.get(id).and_then(|n| n.parent.as_deref());
        };
        for id in path.drain(..) {
            up.insert(id, found);
        }
        on_path.clear();
        if let Some(k) = found.filter(|k| kept.contains(k)) {
            up.insert(k, Some(k));
        }
    }
    Ok(up)
}

/// The mapping's node ids, parents before children: breadth first from the roots.
fn gpt_order(mapping: &HashMap<String, GptNode>) -> Vec<&str> {
    let mut order = Vec::with_capacity(mapping.len());
    let mut queue: VecDeque<&str> = mapping
        .iter()
        .filter(|(_, n)| n.parent.as_ref().is_none_or(|p| !mapping.contains_key(p)))
        .map(|(id, _)| id.as_str())
        .collect();
    let mut seen: HashSet<&str> = HashSet::with_capacity(mapping.len());
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        order.push(id);
        if let Some(n) = mapping.get(id) {
            queue.extend(
                n.children
                    .iter()
                    .map(String::as_str)
                    .filter(|ch| mapping.contains_key(*ch) && !seen.contains(ch)),
            );
        }
    }
    order
}

fn convert_gpt(i: usize, c: GptConversation, meter: &Meter) -> Result<ChatExport, String> {
    let source_id = c.conversation_id.or(c.id).unwrap_or_else(|| format!("{i}"));
    let sid = format!("chatgpt-{source_id}");
    let created = secs_to_ms(c.create_time).unwrap_or(0);
    let updated = secs_to_ms(c.update_time).unwrap_or(created);
    // Messages shown in ChatGPT are kept; the others are left out, their children hung from
    // the nearest kept node above (computed once for every node).
    let kept: HashSet<&str> = c
        .mapping
        .iter()
        .filter(|(_, n)| gpt_kept(n))
        .map(|(id, _)| id.as_str())
        .collect();
    let up = kept_ancestors(&c.mapping, &kept, meter)?;
    let kept_parent = |at: Option<&str>| at.and_then(|id| up.get(id).copied().flatten());
    // The kept nodes, parents first, each with the kept node it hangs from; then the nodes
    // are taken out of the mapping one by one, their text moved, never copied.
    let plan: Vec<(String, Option<String>)> = gpt_order(&c.mapping)
        .into_iter()
        .filter(|id| kept.contains(id))
        .map(|id| {
            let parent = c.mapping.get(id).and_then(|n| n.parent.as_deref());
            (id.to_owned(), kept_parent(parent).map(str::to_owned))
        })
        .collect();
    let head = kept_parent(c.current_node.as_deref()).map(|h| MessageId(format!("chatgpt-{h}")));
    drop((up, kept));
    let mut mapping = c.mapping;
    let mut messages = Vec::with_capacity(plan.len());
    let mut model = None;
    for (n, (id, parent)) in plan.into_iter().enumerate() {
        if n.is_multiple_of(4096) {
            meter.check()?;
        }
        let Some(mut m) = mapping.remove(&id).and_then(|node| node.message) else {
            continue;
        };
        let role_name = m
            .author
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_default();
        let at = secs_to_ms(m.create_time).unwrap_or(created);
        let parent = parent.map(|p| format!("chatgpt-{p}"));
        let (role, part) = gpt_part(&id, &mut m, &role_name);
        let mut msg = message(&sid, format!("chatgpt-{id}"), parent, role, at);
        if role == Role::Assistant {
            msg.model = m.metadata.model_slug.take();
            if msg.model.is_some() {
                model.clone_from(&msg.model);
            }
        }
        msg.parts.push(part);
        messages.push(msg);
    }
    let head = head.or_else(|| messages.last().map(|m| m.id.clone()));
    let mut session = summary(
        sid,
        title_of(c.title.as_deref(), "ChatGPT conversation"),
        created,
        updated,
        messages.len(),
    );
    session.model = model;
    Ok(ChatExport {
        session,
        head,
        messages,
        turns: Vec::new(),
    })
}

/// The chats of ChatGPT's `conversations.json`, one conversation at a time.
pub(super) fn each_chatgpt(
    file: &Path,
    meter: &Meter,
    each: &mut dyn FnMut(ChatExport) -> Result<(), String>,
) -> Result<(), CoreError> {
    stream_array::<GptConversation>(file, meter, |i, c| {
        let title = c.title.clone().unwrap_or_default();
        let chat = convert_gpt(i, c, meter)
            .map_err(|e| format!("conversation {} (\"{title}\"): {e}", i + 1))?;
        each(chat)
    })
}

/// A reader of a file's chats, one at a time (`each_chatgpt`, `each_claude`).
#[cfg(test)]
type EachChat =
    fn(&Path, &Meter, &mut dyn FnMut(ChatExport) -> Result<(), String>) -> Result<(), CoreError>;

/// Reads a whole foreign file into memory (tests; an import streams it).
#[cfg(test)]
pub(super) fn read_all(file: &Path, each_of: EachChat) -> Result<ExportFile, CoreError> {
    let control = super::ImportControl::new();
    let meter = Meter::new(&control, 0);
    let mut chats = Vec::new();
    each_of(file, &meter, &mut |chat| {
        chats.push(chat);
        Ok(())
    })?;
    Ok(export_of(chats))
}

/// ChatGPT's `conversations.json`, as Parley chats, whole (tests).
#[cfg(test)]
pub(super) fn read_chatgpt(file: &Path) -> Result<ExportFile, CoreError> {
    read_all(file, each_chatgpt)
}

/// Claude's `conversations.json`, as Parley chats, whole (tests).
#[cfg(test)]
pub(super) fn read_claude(file: &Path) -> Result<ExportFile, CoreError> {
    read_all(file, super::claude::each_claude)
}
