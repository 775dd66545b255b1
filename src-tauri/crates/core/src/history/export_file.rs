//! An export decided once, for the window and the CLI alike: what goes in (which chats, every
//! branch or the selected one), in which format and encoding, and how it reaches the disk —
//! whole or not at all, readable by the user only (an export holds whole conversations).

use super::HistoryService;
use crate::error::CoreError;
use parley_protocol::{ChatId, LeftOutChat};
use std::io::Write;
use std::path::Path;

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Parley's format (docs/FORMAT.md), pretty-printed JSON: every part, losslessly.
    Json,
    /// For reading: each chat's selected versions, chats apart by a rule.
    Markdown,
}

/// Which chats an export holds and how.
#[derive(Debug, Clone)]
pub struct ExportChoice {
    /// The chats, in this order; every chat when `None` (one that cannot be read is then left
    /// out and named, the others are written).
    pub chats: Option<Vec<ChatId>>,
    /// Parley's format with only each chat's selected branch (Markdown always shows it).
    pub branch: bool,
    pub format: ExportFormat,
}

/// What to do when the file is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, leaving it as it is (the CLI: `--output` must name a new file).
    Keep,
    /// Replace it whole (the window: the save dialog asked).
    Replace,
}

/// An export's text and the chats it left out.
#[derive(Debug, Clone)]
pub struct ExportText {
    pub text: String,
    pub left_out: Vec<LeftOutChat>,
}

impl ExportFormat {
    /// The file name's extension, for a save dialog's filter.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Markdown => "md",
        }
    }
}

impl ExportChoice {
    /// The file name a save dialog proposes.
    pub fn file_name(&self) -> &'static str {
        match (self.format, &self.chats, self.branch) {
            (ExportFormat::Markdown, Some(_), _) => "chat.md",
            (ExportFormat::Markdown, None, _) => "parley-chats.md",
            (ExportFormat::Json, Some(_), true) => "chat-branch.json",
            (ExportFormat::Json, Some(_), false) => "chat.json",
            (ExportFormat::Json, None, _) => "parley-chats.json",
        }
    }
}

/// Markdown chats are set apart by a rule.
const CHAT_RULE: &str = "\n---\n\n";

impl HistoryService {
    /// The export's text, encoded, and the chats left out of an export of every chat.
    pub async fn export_text(&self, choice: &ExportChoice) -> Result<ExportText, CoreError> {
        let (text, left_out) = match (choice.format, &choice.chats) {
            (ExportFormat::Json, Some(ids)) => {
                let ids = Some(ids.clone());
                let file = if choice.branch {
                    self.export_branches(ids).await?
                } else {
                    self.export(ids).await?
                };
                (encode(&file)?, Vec::new())
            }
            (ExportFormat::Json, None) => {
                let every = self.export_every(choice.branch).await?;
                (encode(&every.file)?, every.unreadable)
            }
            (ExportFormat::Markdown, Some(ids)) => {
                let mut all = Vec::new();
                for id in ids {
                    all.push(self.export_markdown(id).await?);
                }
                (all.join(CHAT_RULE), Vec::new())
            }
            (ExportFormat::Markdown, None) => {
                let (all, left_out) = self.markdown_every().await?;
                (all.join(CHAT_RULE), left_out)
            }
        };
        Ok(ExportText { text, left_out })
    }

    /// Writes the export to `path` whole or not at all (see [`write_whole`]); returns the
    /// chats left out.
    pub async fn export_to_file(
        &self,
        choice: &ExportChoice,
        path: &Path,
        existing: Existing,
    ) -> Result<Vec<LeftOutChat>, CoreError> {
        let export = self.export_text(choice).await?;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            write_whole(&path, existing, |f| f.write_all(export.text.as_bytes()))
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the export's writer stopped: {e}")))??;
        Ok(export.left_out)
    }
}

fn encode(file: &parley_protocol::ExportFile) -> Result<String, CoreError> {
    serde_json::to_string_pretty(file)
        .map_err(|e| CoreError::Internal(format!("could not encode the export: {e}")))
}

/// Writes `path` whole or not at all, readable by the user only (0600 on Unix): `write` fills a
/// temporary file beside it (a short name of its own, so any name that fits the folder fits),
/// which is synced, then put at `path` and the folder synced. Any failure leaves what was at
/// `path` as it was and no temporary file behind. With [`Existing::Replace`] it is renamed over
/// `path`; with [`Existing::Keep`] an existing `path` is refused ("could not create …") and the
/// finished file is linked to the name only if nothing is there by then — never an empty or half
/// file under the name, even if Parley is killed mid-write (what is left then is the hidden
/// temporary file only).
pub(crate) fn write_whole(
    path: &Path,
    existing: Existing,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), CoreError> {
    let shown = path.display();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if existing == Existing::Keep && std::fs::symlink_metadata(path).is_ok() {
        return Err(CoreError::InvalidInput(format!(
            "could not create {shown}: it already exists (choose a new name)"
        )));
    }
    let tmp = dir.join(format!(".parley-export-{}.part", crate::new_id()));
    let result = (|| {
        let mut f = crate::create_private(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        drop(f);
        match existing {
            Existing::Replace => std::fs::rename(&tmp, path)?,
            Existing::Keep => put_new(&tmp, path)?,
        }
        crate::util::sync_dir(&std::fs::File::open(dir)?)
    })();
    // Best effort: a temporary file that was never made, or already renamed, is not there.
    let _ = std::fs::remove_file(&tmp);
    result.map_err(|e| {
        let verb = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "create"
        } else {
            "write"
        };
        CoreError::InvalidInput(format!("could not {verb} {shown}: {e}"))
    })
}

/// Puts the finished file `tmp` at `path` only if nothing is there: a hard link, which fails
/// when the name is taken. Where the file system has no hard links, the name is claimed empty
/// first and the file renamed over it.
fn put_new(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            drop(crate::create_private(path)?);
            std::fs::rename(tmp, path).inspect_err(|_| {
                let _ = std::fs::remove_file(path);
            })
        }
    }
}
