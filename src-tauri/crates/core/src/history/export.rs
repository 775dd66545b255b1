//! Export in Parley's own format (docs/FORMAT.md): whole chats, every branch, losslessly; and
//! the hand-over of an import to the merge (`merge_staged`): the file, read into a private
//! database of the current schema first (`import.rs`), is merged like a restore
//! (`history::merge`): one transaction, inert chats added, nothing present changed, so
//! importing a file twice adds nothing the second time. Markdown is for reading: the selected path of a chat,
//! reasoning and tool steps folded.

use super::{not_found, HistoryService};
use crate::error::{CoreError, StoreError};
use crate::store::{codec, Store};
use parley_protocol::{
    ChatExport, ChatId, ExportFile, ImportReport, Message, MessageId, Part, EXPORT_FORMAT,
    EXPORT_VERSION,
};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashSet;
use std::path::Path;

impl Store {
    /// Whole chats (every branch, parts and turns): `ids`, or every chat when `None`.
    pub(in crate::history) async fn export_chats(
        &self,
        ids: Option<Vec<ChatId>>,
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
            concat!("SELECT ", chat_columns!(), " FROM sessions WHERE id = ?1"),
            [id],
            codec::chat_row,
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
    crate::store::codec::load_parts(c, &mut messages)?;
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

impl HistoryService {
    /// Chats in Parley's format: `ids`, or every chat when `None`.
    pub async fn export(&self, ids: Option<Vec<ChatId>>) -> Result<ExportFile, CoreError> {
        let mut chats = match self.shared.store.export_chats(ids).await {
            Err(StoreError::NoSuchChat(id)) => return Err(not_found(&ChatId(id))),
            other => other?,
        };
        // The file stands alone: each image's bytes go inline.
        self.attachments.inline_images(&mut chats).await?;
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
    pub async fn export_branches(&self, ids: Option<Vec<ChatId>>) -> Result<ExportFile, CoreError> {
        let mut file = self.export(ids).await?;
        file.chats.iter_mut().for_each(keep_selected_path);
        Ok(file)
    }

    /// A chat's selected path as Markdown, for reading.
    pub async fn export_markdown(&self, id: &ChatId) -> Result<String, CoreError> {
        let h = self.chats.branch(id).await?.ok_or_else(|| not_found(id))?;
        Ok(markdown(
            &h.session.title,
            &h.messages,
            !h.versions.is_empty(),
        ))
    }
}

impl Store {
    /// Adds what `export` holds, inert, in one transaction (`dry_run`: says what it would add):
    /// the export is written into a private staging database of the current schema, which is
    /// then merged like a backup (`merge_staged`). An import of a file streams it instead
    /// (`HistoryService::import`). Tests only: what they import is made in memory.
    #[cfg(test)]
    pub(in crate::history) async fn import_export(
        &self,
        export: &ExportFile,
        dry_run: bool,
    ) -> Result<ImportReport, StoreError> {
        let dir = crate::store::backup::backups_dir(self.path());
        crate::util::private_dir(&dir).map_err(|e| crate::store::io_err(&dir, e))?;
        let staging: std::path::PathBuf = dir.join(format!(".importing-{}.db", crate::new_id()));
        let staged = (|| -> Result<(), StoreError> {
            let mut db = super::staging::Staging::create(&staging)?;
            for chat in &export.chats {
                super::import::check_chat(chat)
                    .and_then(|()| db.write(chat))
                    .map_err(StoreError::Corrupt)?;
            }
            db.finish()
        })();
        let merged = match staged {
            Ok(()) => {
                self.merge_staged(&staging, dry_run, super::merge::Follow::whole())
                    .await
            }
            Err(e) => Err(e),
        };
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
        }
        merged
    }

    /// Merges the staging database `staging` (the chats of the file, written and checked;
    /// private to this process, at the current schema) into this one as it is written
    /// (`follow`), or, for a dry run, decides the same without writing (`history::merge`).
    /// The one place an import goes from reading to merging.
    pub(super) async fn merge_staged(
        &self,
        staging: &Path,
        dry_run: bool,
        follow: super::merge::Follow,
    ) -> Result<ImportReport, StoreError> {
        super::store::merge_database(self, staging, dry_run, follow).await
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
                Part::Image {
                    mime,
                    name,
                    width,
                    height,
                    ..
                } => out.push_str(&image_line(name, mime, *width, *height)),
                Part::File { name, text, .. } => {
                    folded(&mut out, &format!("File: {name}"), text, Some(""))
                }
            }
        }
    }
    out
}

/// How Markdown names an image (its bytes are in the JSON export only): its name, pixels and
/// type, escaped.
fn image_line(name: &str, mime: &str, width: u32, height: u32) -> String {
    let name = crate::clean::visible_line(name);
    let named = if name.is_empty() {
        "a pasted image".to_owned()
    } else {
        format!("image “{}”", escape_html(&name).replace(['*', '_', '`', '[', ']'], " "))
    };
    let size = if width > 0 && height > 0 {
        format!(", {width}×{height}")
    } else {
        String::new()
    };
    format!("_({named}{size}, {})_\n\n", escape_html(mime))
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
