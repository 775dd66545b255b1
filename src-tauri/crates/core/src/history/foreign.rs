//! Other apps' exports, turned into Parley's: ChatGPT's `conversations.json` (its `mapping`
//! tree becomes branches, `current_node` the selected path) and Claude's `conversations.json`
//! (messages, titles, times, attachments' extracted text). The file is read one conversation
//! at a time (the array is streamed, never held whole as JSON); ids are derived from the
//! source's, so importing the same export twice adds nothing. What Parley has no place for is
//! kept as text with a note, never dropped silently.

use crate::error::CoreError;
use parley_protocol::{
    ChatExport, ExportFile, Message, MessageId, Part, Role, SessionId, SessionParams,
    SessionSummary, ToolCallStatus, EXPORT_FORMAT, EXPORT_VERSION,
};
use serde::de::{DeserializeOwned, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::path::Path;

pub use super::claude::{read_claude, rfc3339_ms};

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

/// Reads a JSON array one element at a time, converting each; the first failure stops it.
pub(super) fn stream_array<T: DeserializeOwned>(
    file: &Path,
    mut each: impl FnMut(usize, T) -> Result<(), String>,
) -> Result<(), CoreError> {
    struct Each<'a, T, F: FnMut(usize, T) -> Result<(), String>> {
        each: &'a mut F,
        _t: std::marker::PhantomData<T>,
    }
    impl<'de, T: DeserializeOwned, F: FnMut(usize, T) -> Result<(), String>> Visitor<'de>
        for Each<'_, T, F>
    {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of conversations")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while let Some(item) = seq.next_element::<T>()? {
                (self.each)(i, item).map_err(serde::de::Error::custom)?;
                i += 1;
            }
            Ok(())
        }
    }
    let f = std::fs::File::open(file).map_err(|e| invalid(file, e.to_string()))?;
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(f));
    serde::Deserializer::deserialize_seq(
        &mut de,
        Each {
            each: &mut each,
            _t: std::marker::PhantomData,
        },
    )
    .and_then(|()| de.end())
    .map_err(|e| invalid(file, format!("it could not be imported: {e}.")))
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
) -> SessionSummary {
    SessionSummary {
        id: SessionId(id),
        title,
        created_at: created,
        updated_at: updated,
        message_count: n as u64,
        provider: None,
        model: None,
        params: SessionParams::default(),
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
        session_id: SessionId(session.to_owned()),
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
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    recipient: Option<String>,
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
    let meta = m.metadata.as_ref();
    let flag = |k: &str| meta.and_then(|v| v.get(k)).and_then(Value::as_bool) == Some(true);
    let kind = m
        .content
        .as_ref()
        .and_then(|c| c.get("content_type"))
        .and_then(Value::as_str);
    flag("is_visually_hidden_from_conversation") || kind == Some("user_editable_context")
}

fn convert_gpt(i: usize, c: GptConversation) -> Result<ChatExport, String> {
    let source_id = c.conversation_id.or(c.id).unwrap_or_else(|| format!("{i}"));
    let sid = format!("chatgpt-{source_id}");
    let created = secs_to_ms(c.create_time).unwrap_or(0);
    let updated = secs_to_ms(c.update_time).unwrap_or(created);
    // Messages shown in ChatGPT are kept; hidden ones (system prompts, custom instructions)
    // and empty system messages are left out, their children hung from what is kept above.
    let kept = |id: &str| -> bool {
        c.mapping
            .get(id)
            .and_then(|n| n.message.as_ref())
            .is_some_and(|m| {
                let system = m.author.as_ref().and_then(|a| a.role.as_deref()) == Some("system");
                let empty = m
                    .content
                    .as_ref()
                    .is_none_or(|c| gpt_text(c).0.trim().is_empty());
                !(gpt_hidden(m) || (system && empty))
            })
    };
    // The nearest kept ancestor of a node (a skipped node's children hang from it), guarding
    // against cycles in a hostile file.
    let kept_parent = |mut at: Option<String>| -> Option<String> {
        let mut steps = 0;
        while let Some(id) = at {
            if kept(&id) {
                return Some(id);
            }
            steps += 1;
            if steps > c.mapping.len() {
                return None;
            }
            at = c.mapping.get(&id).and_then(|n| n.parent.clone());
        }
        None
    };
    // Parents before children: breadth first from the roots.
    let mut order = Vec::new();
    let mut queue: VecDeque<&String> = c
        .mapping
        .iter()
        .filter(|(_, n)| n.parent.as_ref().is_none_or(|p| !c.mapping.contains_key(p)))
        .map(|(id, _)| id)
        .collect();
    let mut seen = HashSet::new();
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        order.push(id.clone());
        if let Some(n) = c.mapping.get(id) {
            queue.extend(n.children.iter().filter(|ch| c.mapping.contains_key(*ch)));
        }
    }
    let mut messages = Vec::new();
    let mut model = None;
    for id in &order {
        if !kept(id) {
            continue;
        }
        let node = &c.mapping[id];
        let Some(m) = node.message.as_ref() else {
            continue;
        };
        let role_name = m
            .author
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_default();
        let at = secs_to_ms(m.create_time).unwrap_or(created);
        let parent = kept_parent(node.parent.clone()).map(|p| format!("chatgpt-{p}"));
        let (text, _) = m.content.as_ref().map(gpt_text).unwrap_or_default();
        let recipient = m.recipient.as_deref().unwrap_or("all");
        let (role, part) = match role_name.as_str() {
            "user" => (Role::User, Part::Text { text }),
            "system" => (Role::System, Part::Text { text }),
            "tool" => (
                Role::Assistant,
                Part::ToolResult {
                    call_id: id.clone(),
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
                    call_id: id.clone(),
                    name: recipient.to_owned(),
                    arguments: text,
                    status: ToolCallStatus::Completed,
                },
            ),
            "assistant" => {
                let thinking = m
                    .content
                    .as_ref()
                    .and_then(|c| c.get("content_type"))
                    .and_then(Value::as_str)
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
        };
        let mut msg = message(&sid, format!("chatgpt-{id}"), parent, role, at);
        if role == Role::Assistant {
            msg.model = m
                .metadata
                .as_ref()
                .and_then(|v| v.get("model_slug"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if msg.model.is_some() {
                model.clone_from(&msg.model);
            }
        }
        msg.parts.push(part);
        messages.push(msg);
    }
    let head = kept_parent(c.current_node.clone())
        .map(|h| MessageId(format!("chatgpt-{h}")))
        .or_else(|| messages.last().map(|m| m.id.clone()));
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

/// ChatGPT's `conversations.json`, as Parley chats.
pub fn read_chatgpt(file: &Path) -> Result<ExportFile, CoreError> {
    let mut chats = Vec::new();
    stream_array::<GptConversation>(file, |i, c| {
        let title = c.title.clone().unwrap_or_default();
        chats.push(
            convert_gpt(i, c).map_err(|e| format!("conversation {} (\"{title}\"): {e}", i + 1))?,
        );
        Ok(())
    })?;
    Ok(export_of(chats))
}
