//! Reading one chat of a file for the merge (`merge.rs`): through the same codec as every
//! read of Parley's own, within size caps, then made inert and its tree repaired.

use crate::clean::clean_title;
use crate::error::StoreError;
use crate::store::codec;
use parley_protocol::{
    ChatExport, ChatParams, Message, MessageId, Part, ToolCallStatus, TurnInfo, TurnStatus, Usage,
    PARAM_LIMITS,
};
use rusqlite::{Connection, OptionalExtension};
use std::collections::{HashMap, HashSet};

/// The most text one message part of a file may hold (an import's cap, for backups too); a
/// chat with a larger one is set aside.
const MAX_PART_BYTES: i64 = super::import::MAX_PART_BYTES as i64;
/// The most text one chat of a file may hold (all its parts).
const MAX_CHAT_BYTES: i64 = super::import::MAX_CHAT_BYTES as i64;
/// The most messages (or turns) one chat of a file may have: each is held in memory while its
/// chat is merged.
const MAX_CHAT_ROWS: i64 = 250_000;
/// The most tokens one answer can plausibly report; a larger figure is left out.
const MAX_TURN_TOKENS: u64 = 10_000_000;
/// The longest provider or model name kept from a file.
const MAX_LABEL_CHARS: usize = 200;

/// A chat read from a file, made inert: its messages without their parts, which are read one
/// at a time as they are written (`each_part`).
pub(super) struct Loaded {
    pub chat: ChatExport,
    /// `sessions.title_source`: whether the user wrote the title.
    pub title_source: String,
    /// Its tree had to be mended (a parent outside the chat, a cycle, a turn or head pointing
    /// elsewhere): it gets fresh ids.
    pub repaired: bool,
    pub notes: Notes,
    /// The text it holds (all its parts), in bytes.
    pub bytes: i64,
}

/// What making a chat inert changed.
#[derive(Default)]
pub(super) struct Notes {
    pub system_inactive: bool,
    pub settings_removed: bool,
    pub usage_imported: u32,
    pub usage_dropped: u32,
}

/// Reads chat `id` of the file: `Ok(Err(reason))` when it cannot be taken (a row Parley would
/// not write, a part or chat over the caps). `check_parts`: read every part through the codec
/// first (a file from elsewhere).
pub(super) fn load_chat(
    src: &Connection,
    id: &str,
    check_parts: bool,
) -> Result<Result<Loaded, String>, StoreError> {
    // Whatever goes wrong reading the file is the file's: that chat is set aside, named.
    let bytes = match too_large(src, id) {
        Ok(Err(why)) => return Ok(Err(why)),
        Ok(Ok(bytes)) => bytes,
        Err(e) => return Ok(Err(unreadable(&e))),
    };
    let read = || -> Result<(ChatExport, String), StoreError> {
        let (session, head, title_source) = src
            .prepare_cached(concat!(
                "SELECT ",
                chat_columns!(),
                ", head_message_id, title_source FROM sessions WHERE id = ?1"
            ))?
            .query_row([id], |r| {
                Ok((
                    codec::chat_row(r)?,
                    r.get::<_, Option<String>>(13)?,
                    r.get::<_, String>(14)?,
                ))
            })?;
        let messages: Vec<Message> = src
            .prepare_cached(
                "SELECT id, session_id, parent_id, role, turn_id, provider, model, created_at
                 FROM messages WHERE session_id = ?1 ORDER BY created_at, id",
            )?
            .query_map([id], codec::message_row)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .collect::<Result<_, _>>()?;
        // Every part of a file from elsewhere is read through the codec here, and again as it
        // is written: the chat's text is never held whole.
        if check_parts {
            each_part(src, id, |message, p| match p.chunks {
                Some(idx) => each_chunk(src, message, idx, |_| Ok(())),
                None => Ok(()),
            })?;
        }
        let turns: Vec<TurnInfo> = src
            .prepare_cached(
                "SELECT id, session_id, user_message_id, assistant_message_id, status, provider,
                        model, started_at, ended_at, usage, stop_reason, error, context_from
                 FROM turns WHERE session_id = ?1 ORDER BY started_at, id",
            )?
            .query_map([id], codec::turn_row)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .collect::<Result<_, _>>()?;
        let chat = ChatExport {
            session,
            head: head.map(MessageId),
            messages,
            turns,
        };
        Ok((chat, title_source))
    };
    let (mut chat, title_source) = match read() {
        Ok(v) => v,
        Err(e) => return Ok(Err(unreadable(&e))),
    };
    let notes = make_inert(&mut chat);
    let repaired = repair_tree(&mut chat);
    let title_source = if title_source == "user" {
        "user"
    } else {
        "first-words"
    };
    Ok(Ok(Loaded {
        chat,
        title_source: title_source.to_owned(),
        repaired,
        notes,
        bytes,
    }))
}

/// One part of a file as it is stored: decoded and made inert, its text the row's own. A
/// part over 64 KB keeps the rest of its text in chunk rows (as a streamed answer does, and
/// as [`super::merge_rows::insert_part`] writes a long part): `chunks` is its index among
/// its message's rows, to copy them one at a time, never the whole text at once.
pub(super) struct StoredPart {
    pub part: Part,
    pub chunks: Option<i64>,
}

/// The parts of the messages of chat `id`, one at a time (never all at once: a chat's text
/// is not held), ordered by message and position, each decoded by the codec and made inert:
/// `each(message id, part)`. The first failure stops it.
pub(super) fn each_part(
    src: &Connection,
    id: &str,
    mut each: impl FnMut(&str, StoredPart) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = src.prepare_cached(
        "SELECT p.message_id, p.kind, p.body, p.meta, p.idx,
                (SELECT sum(octet_length(c.body)) FROM part_chunks c
                 WHERE c.message_id = p.message_id AND c.idx = p.idx)
         FROM parts p
         WHERE p.message_id IN (SELECT id FROM messages WHERE session_id = ?1)
         ORDER BY p.message_id, p.idx",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let message: String = r.get(0)?;
        let kind: String = r.get(1)?;
        let idx: i64 = r.get(4)?;
        let mut body: String = r.get(2)?;
        let in_pieces: Option<i64> = r.get(5)?;
        if in_pieces.is_some() && !CHUNKED_KINDS.contains(&kind.as_str()) {
            return Err(StoreError::Corrupt(format!(
                "a part of kind {kind} stored in pieces, which only text parts are"
            )));
        }
        // A short part in pieces (an answer that was streaming) is read whole and written as
        // one row, as the journal folds it when its turn ends; a long one is copied piece by
        // piece.
        let chunks = match in_pieces {
            Some(n) if body.len() as i64 + n <= super::merge_rows::CHUNKED_OVER as i64 => {
                each_chunk(src, &message, idx, |text| {
                    body.push_str(text);
                    Ok(())
                })?;
                None
            }
            Some(_) => Some(idx),
            None => None,
        };
        let mut part = codec::decode_part(&kind, body, r.get::<_, Option<String>>(3)?.as_deref())?;
        inert_part(&mut part);
        each(&message, StoredPart { part, chunks })?;
    }
    Ok(())
}

/// The kinds of part whose text may be kept in chunk rows.
pub(super) const CHUNKED_KINDS: [&str; 4] = ["text", "reasoning", "tool_result", "file"];

/// The chunk rows of part `idx` of `message`, in order, one at a time: `each(text)`.
pub(super) fn each_chunk(
    src: &Connection,
    message: &str,
    idx: i64,
    mut each: impl FnMut(&str) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = src.prepare_cached(
        "SELECT body FROM part_chunks WHERE message_id = ?1 AND idx = ?2 ORDER BY id",
    )?;
    let mut rows = stmt.query(rusqlite::params![message, idx])?;
    while let Some(r) = rows.next()? {
        let text = r
            .get_ref(0)?
            .as_str()
            .map_err(|_| StoreError::Corrupt("a piece of a part that is not UTF-8 text".into()))?;
        each(text)?;
    }
    Ok(())
}

/// The parts of one message of the file, in order, decoded and made inert.
pub(super) fn message_parts(src: &Connection, message: &str) -> Result<Vec<Part>, StoreError> {
    let mut stmt = src.prepare_cached(concat!(
        "SELECT p.kind, ",
        part_body_sql!(),
        ", p.meta FROM parts p WHERE p.message_id = ?1 ORDER BY p.idx"
    ))?;
    let mut rows = stmt.query([message])?;
    let mut parts = Vec::new();
    while let Some(r) = rows.next()? {
        let mut part = codec::decode_part(
            &r.get::<_, String>(0)?,
            r.get(1)?,
            r.get::<_, Option<String>>(2)?.as_deref(),
        )?;
        inert_part(&mut part);
        parts.push(part);
    }
    Ok(parts)
}

/// A part from a file: a tool call still running there is cancelled here.
fn inert_part(part: &mut Part) {
    if let Part::ToolCall { status, .. } = part {
        if !status.is_terminal() {
            *status = ToolCallStatus::Cancelled;
        }
    }
}

/// Why a chat the file holds could not be read, as the report says it.
fn unreadable(e: &StoreError) -> String {
    let why = match e {
        StoreError::Corrupt(why) => why.clone(),
        other => other.to_string(),
    };
    format!("it holds a row Parley does not write ({why}); nothing of it was added.")
}

/// The text the chat holds, or why it is too large to take (measured before any of it is
/// read).
fn too_large(src: &Connection, id: &str) -> Result<Result<i64, String>, StoreError> {
    let rows: i64 = src
        .prepare_cached(
            "SELECT max((SELECT count(*) FROM messages WHERE session_id = ?1),
                        (SELECT count(*) FROM turns WHERE session_id = ?1))",
        )?
        .query_row([id], |r| r.get(0))?;
    if rows > MAX_CHAT_ROWS {
        return Ok(Err(format!(
            "it has {rows} messages or turns; Parley takes chats of up to {MAX_CHAT_ROWS} from a file."
        )));
    }
    let sizes: Option<(i64, i64)> = src
        .prepare_cached(
            "WITH sizes AS (
                 SELECT octet_length(p.body) + coalesce(octet_length(p.meta), 0)
                        + coalesce((SELECT sum(octet_length(c.body)) FROM part_chunks c
                                    WHERE c.message_id = p.message_id AND c.idx = p.idx), 0) AS n
                 FROM parts p JOIN messages m ON m.id = p.message_id WHERE m.session_id = ?1)
             SELECT max(n), sum(n) FROM sizes WHERE n IS NOT NULL",
        )?
        .query_row([id], |r| {
            Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?))
        })
        .optional()?
        .flatten();
    let Some((largest, total)) = sizes else {
        return Ok(Ok(0));
    };
    let mb = |n: i64| n >> 20;
    Ok(if largest > MAX_PART_BYTES {
        Err(format!(
            "one of its messages holds {} MB; Parley takes parts of up to {} MB from a file.",
            mb(largest),
            mb(MAX_PART_BYTES)
        ))
    } else if total > MAX_CHAT_BYTES {
        Err(format!(
            "it holds {} MB of text; Parley takes chats of up to {} MB from a file.",
            mb(total),
            mb(MAX_CHAT_BYTES)
        ))
    } else {
        Ok(total)
    })
}

/// Takes away everything that would arm the chat or mislead: workspace, tools, assistant and an
/// active system prompt; values out of range; labels with control characters; running states;
/// implausible usage.
fn make_inert(chat: &mut ChatExport) -> Notes {
    let mut notes = Notes::default();
    let s = &mut chat.session;
    // An untitled chat stays untitled (the list names it by its first words).
    if !s.title.trim().is_empty() {
        s.title = clean_title(&s.title);
    }
    s.params = inert_params(std::mem::take(&mut s.params), &mut notes);
    s.provider = s.provider.as_deref().map(label);
    s.model = s.model.as_deref().map(label);
    for m in &mut chat.messages {
        m.provider = m.provider.as_deref().map(label);
        m.model = m.model.as_deref().map(label);
    }
    for t in &mut chat.turns {
        t.provider = t.provider.as_deref().map(label);
        t.model = t.model.as_deref().map(label);
        if matches!(t.status, TurnStatus::Pending | TurnStatus::Streaming) {
            t.status = TurnStatus::Interrupted;
        }
        match &t.usage {
            Some(u) if plausible(u) => notes.usage_imported += 1,
            Some(_) => {
                t.usage = None;
                notes.usage_dropped += 1;
            }
            None => {}
        }
    }
    notes
}

/// The settings a chat from a file keeps: sampling values within range; the system prompt set
/// aside as inactive; never a workspace, tools or an assistant.
fn inert_params(p: ChatParams, notes: &mut Notes) -> ChatParams {
    let l = &PARAM_LIMITS;
    notes.settings_removed = p.workspace.is_some() || p.tools.is_some() || p.assistant.is_some();
    let system = p
        .system
        .or(p.imported_system)
        .filter(|s| !s.trim().is_empty() && s.len() <= l.system_prompt_bytes as usize);
    notes.system_inactive = system.is_some();
    ChatParams {
        system: None,
        imported_system: system,
        temperature: p
            .temperature
            .filter(|t| l.temperature.refuses(f64::from(*t)).is_none()),
        top_p: p.top_p.filter(|t| l.top_p.refuses(f64::from(*t)).is_none()),
        max_output_tokens: p
            .max_output_tokens
            .filter(|t| l.max_output_tokens.refuses(f64::from(*t)).is_none()),
        reasoning: p.reasoning,
        workspace: None,
        tools: None,
        assistant: None,
    }
}

/// A provider or model name: no control or invisible characters, at most 200 characters.
fn label(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !parley_protocol::visible::is_hidden(*c))
        .take(MAX_LABEL_CHARS)
        .collect()
}

fn plausible(u: &Usage) -> bool {
    let ok = |n: u64| n <= MAX_TURN_TOKENS;
    ok(u.input_tokens)
        && ok(u.output_tokens)
        && u.reasoning_tokens.is_none_or(ok)
        && u.cached_input_tokens.is_none_or(ok)
}

/// Puts the chat's messages parents first and mends what points outside it: a parent that is
/// not in the chat (or a cycle) makes the message a root; a turn whose question is not in the
/// chat is dropped; links to answers, context starts and the head that are not in the chat
/// are cleared (the head then is the newest message). Returns whether anything was mended.
fn repair_tree(chat: &mut ChatExport) -> bool {
    let mut repaired = false;
    let ids: HashSet<String> = chat.messages.iter().map(|m| m.id.0.clone()).collect();
    for m in &mut chat.messages {
        if m.parent_id.as_ref().is_some_and(|p| !ids.contains(&p.0)) {
            m.parent_id = None;
            repaired = true;
        }
    }
    repaired |= order_parents_first(&mut chat.messages);
    let before = chat.turns.len();
    chat.turns.retain(|t| ids.contains(&t.user_message_id.0));
    repaired |= chat.turns.len() != before;
    let turn_ids: HashSet<String> = chat.turns.iter().map(|t| t.id.0.clone()).collect();
    for t in &mut chat.turns {
        for link in [&mut t.assistant_message_id, &mut t.context_from] {
            if link.as_ref().is_some_and(|a| !ids.contains(&a.0)) {
                *link = None;
                repaired = true;
            }
        }
    }
    for m in &mut chat.messages {
        if m.turn_id.as_ref().is_some_and(|t| !turn_ids.contains(&t.0)) {
            m.turn_id = None;
            repaired = true;
        }
    }
    if chat.head.as_ref().is_some_and(|h| !ids.contains(&h.0)) || chat.head.is_none() {
        let newest = chat.messages.iter().max_by_key(|m| m.created_at);
        repaired |= chat.head.is_some();
        chat.head = newest.map(|m| m.id.clone());
    }
    repaired
}

/// Orders messages so that each comes after its parent (oldest first among siblings), in
/// linear time. A message in a cycle becomes a root. Returns whether a cycle was broken.
fn order_parents_first(messages: &mut Vec<Message>) -> bool {
    let index: HashMap<String, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.0.clone(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); messages.len()];
    let mut roots = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m.parent_id.as_ref().and_then(|p| index.get(&p.0)) {
            Some(&p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(messages.len());
    let mut placed = vec![false; messages.len()];
    let walk = |from: usize, placed: &mut Vec<bool>, order: &mut Vec<usize>| {
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if !placed[i] {
                placed[i] = true;
                order.push(i);
                stack.extend(children[i].iter().rev());
            }
        }
    };
    for &r in &roots {
        walk(r, &mut placed, &mut order);
    }
    // Only messages in cycles are left: each cycle is cut at its oldest message.
    let mut broke = false;
    for i in 0..messages.len() {
        if !placed[i] {
            messages[i].parent_id = None;
            broke = true;
            walk(i, &mut placed, &mut order);
        }
    }
    let mut taken: Vec<Option<Message>> = messages.drain(..).map(Some).collect();
    messages.extend(order.into_iter().filter_map(|i| taken[i].take()));
    broke
}
