//! The merge every import and every restore ends in. A file from elsewhere is untrusted, so
//! what it brings comes in inert, whatever the file says:
//! - each chat is read back through the same codec as Parley's own reads (a row Parley would
//!   not write — an unknown role, part kind or turn status, a part over the size cap — sets
//!   that chat aside, named, and the rest goes on);
//! - a chat never arms anything: no workspace, no tools, no assistant; its system prompt is
//!   kept but inactive until the user turns it on; its answers' usage is marked imported;
//! - a chat is never grafted into one that is here: a chat whose ids are taken here by other
//!   content, point outside it, or are not in Parley's form is added whole as a new chat with
//!   fresh ids; one that is here already, identical, adds nothing.
//!
//! A dry run makes the same decisions and writes nothing.

pub(crate) use super::merge_follow::{stopped_reading, Follow, Written};
use super::merge_load::{load_chat, message_parts, Loaded};
use super::merge_rows::{insert_chat, insert_parts};
use crate::clean::{clean_id, is_clean_id};
use crate::error::StoreError;
use crate::store::codec;
use parley_protocol::{
    ChatExport, ChatId, ImportAction, ImportReport, ImportedChat, Message, SetAside,
    IMPORT_LIST_MAX,
};
use rusqlite::{params, Connection, OpenFlags, Transaction};
use std::collections::HashMap;
use std::path::Path;

/// What the merge decided for one chat.
enum Plan {
    /// Add it with its own ids.
    Keep,
    /// Add it as a new chat with fresh ids.
    Fresh,
    /// It is here already, identical.
    Skip,
}

/// The file merged. `ours`: an import's staging database, written by this process from chats
/// it parsed into Parley's types and checked, so its parts are read once, as they are written
/// (any other file's are read through the codec first, and a chat with a row Parley does not
/// write is set aside whole).
#[derive(Clone, Copy)]
struct Source<'c> {
    conn: &'c Connection,
    ours: bool,
}

/// The page cache of the file read (`cache_size`, negative: KiB).
const SOURCE_CACHE_KB: i64 = -256;
/// The page cache of the database merged into, while it is.
const MERGE_CACHE_KB: i64 = -1024;

/// After a chat of more text than this is merged, the memory it took is given back at once
/// (`util::release_freed_memory`).
pub(super) const RELEASE_AFTER: i64 = 1 << 20;

/// What the merge added so far: the chats, and the chat and message ids given fresh ones
/// (old → new; apart, as a file may use one id for a chat and a message).
#[derive(Default)]
struct Added {
    chats: Vec<String>,
    renamed_chats: HashMap<String, String>,
    renamed_messages: HashMap<String, String>,
}

/// Merges the chats of the Parley database `source` (a backup, or an import's staging
/// database as it is written, at the current schema) into `main`, in one transaction. Nothing
/// of `main` is changed but for the chats added; `dry_run` writes nothing.
pub(crate) fn merge(
    main: &mut Connection,
    source: &Path,
    dry_run: bool,
    follow: Follow,
) -> Result<ImportReport, StoreError> {
    // A file streams through: the database's own cache is kept small meanwhile (memory,
    // docs/PERFORMANCE.md; no slower), and put back after.
    let cache: i64 = main.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    main.pragma_update(None, "cache_size", MERGE_CACHE_KB)?;
    let merged = merge_all(main, source, dry_run, follow);
    main.pragma_update(None, "cache_size", cache)?;
    merged
}

fn merge_all(
    main: &mut Connection,
    source: &Path,
    dry_run: bool,
    mut follow: Follow,
) -> Result<ImportReport, StoreError> {
    // The source exists once its first chats are written.
    let (mut upto, mut whole) = follow.next()?;
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    super::merge_shape::check_shape(&src)?;
    // Each chat is read once, in order: a small cache will do (memory, docs/PERFORMANCE.md).
    src.pragma_update(None, "cache_size", SOURCE_CACHE_KB)?;
    // The statement journals SQLite keeps (an insert that checks keys) and the list of the
    // chats to index (`search::bulk`) stay in memory: a few pages, not a file each.
    main.pragma_update(None, "temp_store", "MEMORY")?;
    let tx = main.transaction()?;
    // Messages point at their parents; they are checked at commit.
    tx.pragma_update(None, "defer_foreign_keys", true)?;
    // Indexed for search at the end, not row by row (`search::bulk`).
    let paused = (!dry_run)
        .then(|| crate::search::pause_indexing(&tx))
        .transpose()?;
    let mut added = Added::default();
    let mut after = 0;
    loop {
        follow.check()?;
        let rows = (after, upto);
        let source = Source {
            conn: &src,
            ours: follow.ours(),
        };
        after = merge_chats(source, &tx, rows, paused.is_none(), &mut added, &mut report)?;
        if whole {
            break;
        }
        (upto, whole) = follow.next()?;
    }
    file_counts(&src, &mut report)?;
    let Some(mut paused) = paused else {
        return Ok(report);
    };
    // In one statement at the end: indexed a batch at a time as the file came, each batch
    // ended with a merge of the index's segments, and the import took a quarter longer.
    follow.check()?;
    paused.index(&tx, &added.chats)?;
    paused.resume(&tx)?;
    relink_forks(&tx, &added)?;
    // The last moment a Cancel undoes the import; after the commit it is done.
    follow.check()?;
    tx.commit()?;
    Ok(report)
}

/// The chats of the file in `rows` (after, up to: row ids), a page at a time in the order they
/// were written (never every id at once): set aside or merged. Returns the last row id read.
fn merge_chats(
    src: Source<'_>,
    tx: &Transaction<'_>,
    (mut after, upto): (i64, i64),
    dry_run: bool,
    added: &mut Added,
    report: &mut ImportReport,
) -> Result<i64, StoreError> {
    let mut page = src.conn.prepare_cached(
        "SELECT rowid, id FROM sessions WHERE rowid > ?1 AND rowid <= ?2
             AND typeof(id) = 'text' ORDER BY rowid LIMIT 500",
    )?;
    loop {
        let ids: Vec<(i64, String)> = page
            .query_map([after, upto], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some((last, _)) = ids.last() else {
            return Ok(after);
        };
        after = *last;
        for (_, id) in &ids {
            match load_chat(src.conn, id, !src.ours)? {
                Ok(loaded) => {
                    let large = loaded.bytes > RELEASE_AFTER;
                    merge_chat(tx, (src.conn, id), loaded, dry_run, added, report)?;
                    if large {
                        crate::util::release_freed_memory();
                    }
                }
                Err(reason) => report.set_aside.push(SetAside {
                    chat: shown_id(id),
                    reason,
                }),
            }
        }
    }
}

/// Chats, messages and the time span the file holds. Only well-typed values count: a crafted
/// cell must not fail the whole file here.
fn file_counts(src: &Connection, report: &mut ImportReport) -> Result<(), StoreError> {
    let (chats, odd, messages, min, max): (i64, i64, i64, Option<i64>, Option<i64>) = src
        .query_row(
            "SELECT (SELECT count(*) FROM sessions),
                    (SELECT count(*) FROM sessions WHERE typeof(id) <> 'text'),
                    count(*),
                    min(CASE WHEN typeof(created_at) = 'integer' THEN created_at END),
                    max(CASE WHEN typeof(created_at) = 'integer' THEN created_at END)
             FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    report.chats_in_file = chats as u32;
    report.messages_in_file = messages as u32;
    report.span = min.zip(max);
    if odd > 0 {
        report.set_aside.push(SetAside {
            chat: format!("{odd} chat{}", if odd == 1 { "" } else { "s" }),
            reason: "their ids are not text, so they cannot be read; nothing of them was added."
                .into(),
        });
    }
    Ok(())
}

/// A file's chat id as the report may show it.
fn shown_id(id: &str) -> String {
    clean_id(id).unwrap_or_else(|| "(an id that is not in Parley's form)".to_owned())
}

/// Decides and (unless a dry run) adds one chat; counts it in the report.
fn merge_chat(
    tx: &Transaction<'_>,
    file: (&Connection, &str),
    loaded: Loaded,
    dry_run: bool,
    added: &mut Added,
    report: &mut ImportReport,
) -> Result<(), StoreError> {
    let Loaded {
        mut chat,
        title_source,
        repaired,
        notes,
        ..
    } = loaded;
    let plan = plan(tx, file.0, &chat, repaired)?;
    let mut renamed: Option<HashMap<String, String>> = None;
    let action = match plan {
        Plan::Skip => ImportAction::AlreadyHere,
        Plan::Keep => ImportAction::Added,
        Plan::Fresh => {
            let old = chat.session.id.0.clone();
            let messages = renumber(&mut chat);
            added.renamed_chats.insert(old, chat.session.id.0.clone());
            // Forks elsewhere in the file that start from this chat follow it.
            added
                .renamed_messages
                .extend(messages.iter().map(|(o, n)| (o.clone(), n.clone())));
            renamed = Some(messages);
            ImportAction::AddedAsCopy
        }
    };
    if !matches!(action, ImportAction::AlreadyHere) {
        report.chats_added += 1;
        report.messages_added += chat.messages.len() as u32;
        report.system_prompts_inactive += u32::from(notes.system_inactive);
        report.settings_removed += u32::from(notes.settings_removed);
        report.usage_imported += notes.usage_imported;
        report.usage_dropped += notes.usage_dropped;
        if !dry_run {
            insert_chat(tx, &chat, &title_source)?;
            insert_parts(tx, file, renamed.as_ref())?;
            added.chats.push(chat.session.id.0.clone());
        }
    }
    if report.chats.len() < IMPORT_LIST_MAX {
        report.chats.push(ImportedChat {
            id: chat.session.id.clone(),
            title: chat.session.title.clone(),
            messages: chat.messages.len() as u32,
            action,
        });
    } else {
        report.chats_listed_more += 1;
    }
    Ok(())
}

/// Whether the chat can keep its ids, must get fresh ones, or is here already.
fn plan(
    tx: &Transaction<'_>,
    src: &Connection,
    chat: &ChatExport,
    repaired: bool,
) -> Result<Plan, StoreError> {
    let mut has_chat = tx.prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?;
    if has_chat.exists([&chat.session.id.0])? {
        return Ok(if identical_here(tx, src, chat)? {
            Plan::Skip
        } else {
            Plan::Fresh
        });
    }
    let clean = is_clean_id(&chat.session.id.0)
        && chat.messages.iter().all(|m| is_clean_id(&m.id.0))
        && chat.turns.iter().all(|t| is_clean_id(&t.id.0));
    if repaired || !clean || ids_taken(tx, chat)? {
        return Ok(Plan::Fresh);
    }
    Ok(Plan::Keep)
}

/// Whether any of the chat's message or turn ids is taken here (one query each, the ids
/// passed as a JSON array).
fn ids_taken(tx: &Transaction<'_>, chat: &ChatExport) -> Result<bool, StoreError> {
    let json = |ids: Vec<&str>| serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    let messages = json(chat.messages.iter().map(|m| m.id.0.as_str()).collect());
    let turns = json(chat.turns.iter().map(|t| t.id.0.as_str()).collect());
    let taken = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE id IN (SELECT value FROM json_each(?1)))
                 OR EXISTS (SELECT 1 FROM turns WHERE id IN (SELECT value FROM json_each(?2)))",
        )?
        .query_row([messages, turns], |r| r.get(0))?;
    Ok(taken)
}

/// Whether every message of the file's chat is here, in the chat of the same id, with the same
/// parent, author and parts (the file holds nothing this chat does not).
fn identical_here(
    tx: &Transaction<'_>,
    src: &Connection,
    chat: &ChatExport,
) -> Result<bool, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, session_id, parent_id, role, turn_id, provider, model, created_at
         FROM messages WHERE id = ?1",
    )?;
    for m in &chat.messages {
        let here: Option<Result<Message, StoreError>> = stmt
            .query_map([&m.id.0], codec::message_row)?
            .next()
            .transpose()?;
        let Some(Ok(mut here)) = here else {
            return Ok(false);
        };
        if here.chat_id != chat.session.id || here.parent_id != m.parent_id || here.role != m.role {
            return Ok(false);
        }
        crate::store::codec::load_parts(tx, std::slice::from_mut(&mut here))?;
        if here.parts != message_parts(src, &m.id.0)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Gives the chat, its messages and its turns fresh ids, keeping every link inside it;
/// returns its messages' (old → new). Message and turn ids are mapped apart: a file may use
/// one id for both.
fn renumber(chat: &mut ChatExport) -> HashMap<String, String> {
    let sid = ChatId(crate::new_id());
    let fresh = |ids: Vec<&String>| -> HashMap<String, String> {
        ids.into_iter()
            .map(|id| (id.clone(), crate::new_id()))
            .collect()
    };
    let messages = fresh(chat.messages.iter().map(|m| &m.id.0).collect());
    let turns = fresh(chat.turns.iter().map(|t| &t.id.0).collect());
    let map = |ids: &HashMap<String, String>, s: &mut String| {
        if let Some(n) = ids.get(s.as_str()) {
            *s = n.clone();
        }
    };
    let message = |s: &mut String| map(&messages, s);
    let turn = |s: &mut String| map(&turns, s);
    for m in &mut chat.messages {
        message(&mut m.id.0);
        m.chat_id = sid.clone();
        m.parent_id.iter_mut().for_each(|p| message(&mut p.0));
        m.turn_id.iter_mut().for_each(|t| turn(&mut t.0));
    }
    for t in &mut chat.turns {
        turn(&mut t.id.0);
        t.chat_id = sid.clone();
        message(&mut t.user_message_id.0);
        t.assistant_message_id
            .iter_mut()
            .for_each(|a| message(&mut a.0));
        t.context_from.iter_mut().for_each(|c| message(&mut c.0));
    }
    chat.head.iter_mut().for_each(|h| message(&mut h.0));
    chat.session.id = sid;
    messages
}

/// "Branched from": a chat added here keeps its link only to a message that is here, in the
/// chat the link names (followed to its fresh ids when that chat was renumbered).
fn relink_forks(tx: &Transaction<'_>, added: &Added) -> Result<(), StoreError> {
    let mut read = tx.prepare_cached(
        "SELECT forked_from_session, forked_from_message FROM sessions
         WHERE id = ?1 AND forked_from_message IS NOT NULL",
    )?;
    let mut write = tx.prepare_cached(
        "UPDATE sessions SET forked_from_session = ?2, forked_from_message = ?3 WHERE id = ?1",
    )?;
    let mut here = tx.prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND session_id = ?2")?;
    for id in &added.chats {
        let link: Option<(String, String)> = read
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .next()
            .transpose()?;
        let Some((chat, message)) = link else {
            continue;
        };
        let chat = added.renamed_chats.get(&chat).cloned().unwrap_or(chat);
        let message = (added.renamed_messages.get(&message).cloned()).unwrap_or(message);
        if here.exists(params![message, chat])? {
            write.execute(params![id, chat, message])?;
        } else {
            write.execute(params![id, None::<String>, None::<String>])?;
        }
    }
    Ok(())
}
