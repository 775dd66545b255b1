//! Export and import in Parley's own format (docs/FORMAT.md; ChatGPT's and Claude's exports
//! are converted to it first: `foreign.rs`): whole chats, every branch,
//! losslessly. An import is written into a private database of the current schema first and
//! then merged like a restore (`Store::restore`): one transaction, missing chats and messages
//! added, nothing present changed, so importing a file twice adds nothing the second time.
//! Markdown is for reading: the selected path of a chat, reasoning and tool steps folded.

use super::{not_found, HistoryService};
use crate::error::{CoreError, StoreError};
use crate::store::{codec, Store};
use parley_protocol::{
    ChatExport, ExportFile, ImportReport, Message, MessageId, Part, SessionId, EXPORT_FORMAT,
    EXPORT_VERSION,
};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The largest file an import reads (a Parley export is read whole).
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;

impl Store {
    /// Whole chats (every branch, parts and turns): `ids`, or every chat when `None`.
    pub async fn export_chats(
        &self,
        ids: Option<Vec<SessionId>>,
    ) -> Result<Vec<ChatExport>, StoreError> {
        self.reader
            .call(move |c| {
                let ids: Vec<String> = match ids {
                    Some(ids) => ids.into_iter().map(|i| i.0).collect(),
                    None => c
                        .prepare("SELECT id FROM sessions ORDER BY created_at, id")?
                        .query_map([], |r| r.get(0))?
                        .collect::<Result<_, _>>()?,
                };
                ids.iter().map(|id| export_chat(c, id)).collect()
            })
            .await
    }
}

pub(super) fn export_chat(c: &Connection, id: &str) -> Result<ChatExport, StoreError> {
    let session = c
        .query_row(
            concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE id = ?1"
            ),
            [id],
            codec::session_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NoSuchChat(id.to_owned()))?;
    let head: Option<String> = c.query_row(
        "SELECT head_message_id FROM sessions WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    // Parents before children: a walk down the tree from its roots, oldest first at each level.
    let mut messages: Vec<Message> = c
        .prepare(
            "WITH RECURSIVE tree(id, depth) AS (
                 SELECT id, 0 FROM messages WHERE session_id = ?1 AND parent_id IS NULL
                 UNION ALL
                 SELECT m.id, tree.depth + 1 FROM messages m JOIN tree ON m.parent_id = tree.id
             )
             SELECT m.id, m.session_id, m.parent_id, m.role, m.turn_id, m.provider, m.model, m.created_at
             FROM tree JOIN messages m ON m.id = tree.id ORDER BY tree.depth, m.created_at, m.id",
        )?
        .query_map([id], codec::message_row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<_, _>>()?;
    super::store::load_parts(c, &mut messages)?;
    let turns = c
        .prepare(
            "SELECT id, session_id, user_message_id, assistant_message_id, status, provider, model,
                    started_at, ended_at, usage, stop_reason, error, context_from
             FROM turns WHERE session_id = ?1 ORDER BY started_at, id",
        )?
        .query_map([id], codec::turn_row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok(ChatExport {
        session,
        head: head.map(MessageId),
        messages,
        turns,
    })
}

/// Reads and checks an export file: its format and version first (a newer one is refused
/// whole), then that every chat is a tree whose messages belong to it.
pub fn read_export(file: &Path) -> Result<ExportFile, CoreError> {
    let invalid = |why: String| CoreError::InvalidInput(format!("{}: {why}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| invalid(e.to_string()))?;
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(invalid(format!(
            "the file is {} MB; Parley imports files of up to {} MB.",
            meta.len() >> 20,
            MAX_IMPORT_BYTES >> 20
        )));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| invalid(format!("it could not be read as text ({e}).")))?;
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
        version: Option<u32>,
    }
    let probe: Probe = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "it is not a Parley export (not JSON of that shape: {e})."
        ))
    })?;
    if probe.format.as_deref() != Some(EXPORT_FORMAT) {
        return Err(invalid(format!(
            "it is not a Parley export (its \"format\" is not \"{EXPORT_FORMAT}\")."
        )));
    }
    match probe.version {
        Some(v) if v > EXPORT_VERSION => {
            return Err(invalid(format!(
                "it was written by a newer Parley (format version {v}; this one reads up to {EXPORT_VERSION}). Update Parley to import it."
            )))
        }
        Some(_) => {}
        None => return Err(invalid("it has no format version.".into())),
    }
    let export: ExportFile = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "it does not have the shape of a Parley export: {e}."
        ))
    })?;
    check_export(&export).map_err(invalid)?;
    Ok(export)
}

pub(crate) fn check_export(export: &ExportFile) -> Result<(), String> {
    let mut chat_ids = HashSet::new();
    let mut all_messages = HashSet::new();
    for chat in &export.chats {
        let sid = &chat.session.id;
        if sid.0.trim().is_empty() || !chat_ids.insert(sid.0.clone()) {
            return Err(format!("a chat has an empty or repeated id ({sid})."));
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for m in &chat.messages {
            if m.id.0.trim().is_empty() || !all_messages.insert(m.id.0.clone()) {
                return Err(format!("a message has an empty or repeated id ({}).", m.id));
            }
            if &m.session_id != sid {
                return Err(format!(
                    "message {} is listed in chat {sid} but says it belongs to {}.",
                    m.id, m.session_id
                ));
            }
            if let Some(p) = &m.parent_id {
                if !seen.contains(p.0.as_str()) {
                    return Err(format!(
                        "message {} follows {p}, which is not listed before it in its chat.",
                        m.id
                    ));
                }
            }
            seen.insert(&m.id.0);
        }
        if let Some(h) = &chat.head {
            if !seen.contains(h.0.as_str()) {
                return Err(format!(
                    "chat {sid} ends at {h}, which is not one of its messages."
                ));
            }
        }
        for t in &chat.turns {
            if &t.session_id != sid || !seen.contains(t.user_message_id.0.as_str()) {
                return Err(format!("turn {} does not belong to chat {sid}.", t.id));
            }
        }
    }
    Ok(())
}

/// Writes `export` into the fresh database `c` (of the current schema), in one transaction.
fn write_export(c: &mut Connection, export: &ExportFile) -> Result<(), StoreError> {
    let tx = c.transaction()?;
    for chat in &export.chats {
        let s = &chat.session;
        let params_json =
            serde_json::to_string(&s.params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (fs, fm) = match &s.forked_from {
            Some(f) => (Some(f.session_id.0.clone()), Some(f.message_id.0.clone())),
            None => (None, None),
        };
        tx.execute(
            "INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count,
                                  provider, model, params, revision, pinned, archived,
                                  forked_from_session, forked_from_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                s.id.0,
                s.title,
                s.created_at,
                s.updated_at,
                chat.head.as_ref().map(|h| h.0.clone()),
                chat.messages.len() as i64,
                s.provider,
                s.model,
                params_json,
                s.revision as i64,
                s.pinned,
                s.archived,
                fs,
                fm
            ],
        )?;
        for m in &chat.messages {
            tx.execute(
                "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    m.id.0,
                    m.session_id.0,
                    m.parent_id.as_ref().map(|p| p.0.clone()),
                    m.role.as_str(),
                    m.turn_id.as_ref().map(|t| t.0.clone()),
                    m.provider,
                    m.model,
                    m.created_at
                ],
            )?;
            for (i, part) in m.parts.iter().enumerate() {
                let (kind, body, meta) = codec::encode_part(part)?;
                tx.execute(
                    "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![m.id.0, i as i64, kind, body, meta],
                )?;
            }
        }
        for t in &chat.turns {
            tx.execute(
                "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status,
                                   provider, model, started_at, ended_at, usage, stop_reason, error,
                                   context_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    t.id.0,
                    t.session_id.0,
                    t.user_message_id.0,
                    t.assistant_message_id.as_ref().map(|a| a.0.clone()),
                    t.status.as_str(),
                    t.provider,
                    t.model,
                    t.started_at,
                    t.ended_at,
                    codec::to_json_opt(&t.usage)?,
                    codec::to_json_opt(&t.stop_reason)?,
                    codec::to_json_opt(&t.error)?,
                    t.context_from.as_ref().map(|m| m.0.clone())
                ],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

impl HistoryService {
    /// Chats in Parley's format: `ids`, or every chat when `None`.
    pub async fn export(&self, ids: Option<Vec<SessionId>>) -> Result<ExportFile, CoreError> {
        let chats = match self.shared.store.export_chats(ids).await {
            Err(StoreError::NoSuchChat(id)) => return Err(not_found(&SessionId(id))),
            other => other?,
        };
        Ok(ExportFile {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: crate::now_ms(),
            chats,
        })
    }

    /// Chats' selected branches in Parley's format: the messages of each one's selected path
    /// and their turns, nothing of their other versions. Imported, each is a chat of that one
    /// branch.
    pub async fn export_branches(
        &self,
        ids: Option<Vec<SessionId>>,
    ) -> Result<ExportFile, CoreError> {
        let mut file = self.export(ids).await?;
        file.chats.iter_mut().for_each(keep_selected_path);
        Ok(file)
    }

    /// A chat's selected path as Markdown, for reading.
    pub async fn export_markdown(&self, id: &SessionId) -> Result<String, CoreError> {
        let h = self
            .shared
            .store
            .history(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(markdown(
            &h.session.title,
            &h.messages,
            !h.versions.is_empty(),
        ))
    }

    /// Imports a Parley export: what is missing is added (one transaction), nothing present
    /// is changed. `dry_run`: only says what would be added.
    pub async fn import(&self, file: &Path, dry_run: bool) -> Result<ImportReport, CoreError> {
        use super::foreign::{detect, read_chatgpt, read_claude, Source};
        let export = match detect(file)? {
            Source::Parley => read_export(file)?,
            foreign => {
                let export = if foreign == Source::ChatGpt {
                    read_chatgpt(file)?
                } else {
                    read_claude(file)?
                };
                check_export(&export)
                    .map_err(|why| CoreError::InvalidInput(format!("{}: {why}", file.display())))?;
                export
            }
        };
        Ok(self.shared.store.import_export(&export, dry_run).await?)
    }
}

impl Store {
    /// Adds what `export` holds, inert, in one transaction (`dry_run`: says what it would
    /// add): the export is written into a private database of the current schema, which is
    /// then merged like a backup (`history::merge`).
    pub async fn import_export(
        &self,
        export: &ExportFile,
        dry_run: bool,
    ) -> Result<ImportReport, StoreError> {
        let dir = crate::store::backup::backups_dir(self.path());
        crate::util::private_dir(&dir).map_err(|e| crate::store::io_err(&dir, e))?;
        let staging: PathBuf = dir.join(format!(".importing-{}.db", crate::new_id()));
        let staged = (|| -> Result<(), StoreError> {
            let (mut c, _) = crate::store::open_and_migrate_with(
                &staging,
                crate::store::schema::MIGRATIONS,
                false,
            )?;
            write_export(&mut c, export)
        })();
        let merged = match staged {
            Ok(()) => self.merge_from(&staging, dry_run).await,
            Err(e) => Err(e),
        };
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
        }
        merged
    }
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

fn folded(out: &mut String, summary: &str, body: &str, code: Option<&str>) {
    out.push_str(&format!(
        "<details>\n<summary>{}</summary>\n\n",
        escape_html(summary)
    ));
    match code {
        Some(lang) => {
            let f = fence(body);
            out.push_str(&format!("{f}{lang}\n{body}\n{f}\n"));
        }
        None => out.push_str(body),
    }
    out.push_str("\n\n</details>\n\n");
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Markdown of a chat's messages: a heading per message, text as written, reasoning and
/// tool steps in `<details>` sections.
pub fn markdown(title: &str, messages: &[Message], has_versions: bool) -> String {
    let mut out = format!("# {}\n\n", title.trim());
    out.push_str(&format!(
        "_Exported from Parley: {} messages{}._\n\n",
        messages.len(),
        if has_versions {
            " of the selected versions (the JSON export holds every version)"
        } else {
            ""
        }
    ));
    for m in messages {
        let who = match m.role {
            parley_protocol::Role::User => "You".to_owned(),
            parley_protocol::Role::System => "System".to_owned(),
            parley_protocol::Role::Assistant => {
                let by = [m.model.as_deref(), m.provider.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                if by.is_empty() {
                    "Assistant".to_owned()
                } else {
                    format!("Assistant ({by})")
                }
            }
        };
        out.push_str(&format!("## {who}\n\n"));
        for p in &m.parts {
            match p {
                Part::Text { text } => {
                    out.push_str(text.trim_end());
                    out.push_str("\n\n");
                }
                Part::Reasoning { text, .. } if !text.is_empty() => {
                    folded(&mut out, "Reasoning", text.trim_end(), None)
                }
                Part::Reasoning { .. } => {}
                Part::ToolCall {
                    name, arguments, ..
                } => folded(
                    &mut out,
                    &format!("Tool call: {name}"),
                    arguments,
                    Some("json"),
                ),
                Part::ToolResult {
                    output, is_error, ..
                } => folded(
                    &mut out,
                    if *is_error {
                        "Tool error"
                    } else {
                        "Tool result"
                    },
                    output,
                    Some(""),
                ),
                Part::Image { mime, .. } => out.push_str(&format!("_(an image, {mime})_\n\n")),
                Part::File { name, text, .. } => {
                    folded(&mut out, &format!("File: {name}"), text, Some(""))
                }
            }
        }
    }
    out
}

/// Leaves in a chat only the messages of its selected path (root to head) and their turns.
pub(crate) fn keep_selected_path(chat: &mut ChatExport) {
    let by_id: std::collections::HashMap<&MessageId, &Message> =
        chat.messages.iter().map(|m| (&m.id, m)).collect();
    let mut path = HashSet::new();
    let mut at = chat.head.as_ref();
    while let Some(m) = at.and_then(|id| by_id.get(id)) {
        if !path.insert(m.id.clone()) {
            break;
        }
        at = m.parent_id.as_ref();
    }
    chat.messages.retain(|m| path.contains(&m.id));
    // A turn belongs to the branch when its answer is on it (a regenerated answer's earlier
    // turns share its question but not its answer).
    chat.turns.retain(|t| match &t.assistant_message_id {
        Some(answer) => path.contains(answer),
        None => path.contains(&t.user_message_id),
    });
    chat.session.message_count = chat.messages.len() as u64;
}
