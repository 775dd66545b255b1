//! File tools confined to the workspace: `read_file` and `list_dir` (read-only), `write_file`
//! and `edit_file` (mutating; atomic writes; edits replace exactly one unique match).

use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

pub use super::read::MAX_READ_BYTES;
/// The most entries a listing returns.
pub const MAX_LIST_ENTRIES: usize = 1000;

/// A refused path as the model sees it.
fn refused(e: super::paths::PathError) -> ToolError {
    ToolError::RespondToModel(format!("{e}."))
}

/// Why a write to `path` always asks: where it really lands (links followed) is protected.
pub(crate) fn protected_write(ctx: &ToolContext, path: &str) -> Option<String> {
    let real = ctx.workspace.real_relative(path).ok()?;
    protected_sentence(ctx, path, &real)
}

fn protected_sentence(ctx: &ToolContext, path: &str, real: &std::path::Path) -> Option<String> {
    let why = ctx.workspace.protected_reason(real, &ctx.protected)?;
    let lands = if real == std::path::Path::new(path) {
        String::new()
    } else {
        format!(" (it lands in {})", real.display())
    };
    Some(format!(
        "{path}{lands} is {why}, so writing it always asks a person and is never allowed in advance."
    ))
}

/// Refuses a write outside the workspace before anyone is asked.
fn check_write(ctx: &ToolContext, path: &str) -> Result<(), String> {
    ctx.workspace
        .real_relative(path)
        .map(|_| ())
        .map_err(|e| format!("The write was refused and nothing was written: {e}."))
}

/// Opens where a write lands and refuses it when it turned protected after the person was
/// asked (a link swapped in between).
fn write_target(ctx: &ToolContext, path: &str) -> Result<super::paths::WriteTarget, ToolError> {
    let target = ctx.workspace.write_target(path).map_err(refused)?;
    if !ctx.asked_in_person {
        if let Some(why) = protected_sentence(ctx, path, &target.real) {
            return Err(ToolError::RespondToModel(format!(
                "Nothing was written: {why} It was not asked about as such; call again to ask."
            )));
        }
    }
    if target.dir.is_dir(&target.name) {
        return Err(ToolError::RespondToModel(format!("{path} is a folder.")));
    }
    if let Ok(file) = super::read::open_regular(&target.dir, std::path::Path::new(&target.name)) {
        super::read::refuse_unasked_link(&file, path, "writing", ctx.asked_in_person)
            .map_err(ToolError::RespondToModel)?;
    }
    Ok(target)
}

/// A file system error as the model sees it: the path and what went wrong.
fn io(path: &str, e: std::io::Error) -> ToolError {
    ToolError::RespondToModel(format!("{path}: {e}"))
}

/// Arguments of `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFileInput {
    /// The file, relative to the workspace folder.
    pub path: String,
    /// The first line to return (1-based). Default 1.
    #[serde(default)]
    pub offset: Option<usize>,
    /// How many lines to return. Default 2000.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Reads a text file in the workspace.
pub struct ReadFile;

impl Tool for ReadFile {
    type Input = ReadFileInput;

    fn name(&self) -> &'static str {
        "read_file"
    }

    fn description(&self) -> &'static str {
        "Read a text file in the workspace folder. Returns numbered lines; use offset and limit for long files."
    }

    fn risk(&self, _input: &ReadFileInput, _ctx: &ToolContext) -> Risk {
        Risk::ReadOnly
    }

    fn base_risk(&self) -> Risk {
        Risk::ReadOnly
    }

    fn in_person(&self) -> bool {
        true
    }

    fn always_ask(&self, input: &ReadFileInput, ctx: &ToolContext) -> Option<String> {
        super::read::hard_link_reason(&ctx.workspace, &input.path, "reading")
    }

    fn run(
        &self,
        input: ReadFileInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let rel = ctx.workspace.relative_path(&input.path).map_err(refused)?;
            let root = ctx.workspace.dir().map_err(refused)?;
            let path = input.path.clone();
            let cancel = ctx.cancel.clone();
            let asked = ctx.asked_in_person;
            let read = tokio::task::spawn_blocking(move || {
                let file = super::read::open_regular(&root, &rel).map_err(|e| io(&path, e))?;
                super::read::refuse_unasked_link(&file, &path, "reading", asked)
                    .map_err(ToolError::RespondToModel)?;
                let size = file.metadata().map_err(|e| io(&path, e))?.len();
                let first = input.offset.unwrap_or(1);
                let limit = input.limit.unwrap_or(super::read::DEFAULT_LINES);
                let r = super::read::read_lines(file.into_std(), size, first, limit, &cancel);
                Ok::<_, ToolError>((r, size))
            });
            let (read, size) = read
                .await
                .map_err(|e| ToolError::Fatal(format!("the read failed: {e}")))??;
            use super::read::ReadError;
            let p = &input.path;
            let out = match read {
                Ok(out) if out.is_empty() => format!("{p} is empty."),
                Ok(out) => out,
                Err(ReadError::Binary(n)) => {
                    return Err(ToolError::RespondToModel(format!(
                        "{p} is a binary file ({n} bytes); it cannot be read as text."
                    )))
                }
                Err(ReadError::PastEnd { lines, offset }) => {
                    return Err(ToolError::RespondToModel(format!(
                        "{p} has {lines} lines; offset {offset} is past the end."
                    )))
                }
                Err(ReadError::Stopped) => {
                    return Err(ToolError::RespondToModel(format!(
                        "Reading {p} ({size} bytes) was stopped."
                    )))
                }
                Err(ReadError::Io(e)) => {
                    return Err(ToolError::RespondToModel(format!("{p}: {e}")))
                }
            };
            Ok(out)
        })
    }
}

/// Arguments of `list_dir`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDirInput {
    /// The folder, relative to the workspace folder. Default: the workspace itself.
    #[serde(default)]
    pub path: Option<String>,
}

/// Lists a folder in the workspace.
pub struct ListDir;

impl Tool for ListDir {
    type Input = ListDirInput;

    fn name(&self) -> &'static str {
        "list_dir"
    }

    fn description(&self) -> &'static str {
        "List the entries of a folder in the workspace (folders end with /)."
    }

    fn risk(&self, _input: &ListDirInput, _ctx: &ToolContext) -> Risk {
        Risk::ReadOnly
    }

    fn base_risk(&self) -> Risk {
        Risk::ReadOnly
    }

    fn run(
        &self,
        input: ListDirInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let shown = input.path.unwrap_or_else(|| ".".into());
            let rel = ctx.workspace.relative_path(&shown).map_err(refused)?;
            let root = ctx.workspace.dir().map_err(refused)?;
            let listed = shown.clone();
            let mut names = tokio::task::spawn_blocking(move || {
                let dir = root.open_dir(&rel).map_err(|e| io(&listed, e))?;
                let mut names = Vec::new();
                for entry in dir.entries().map_err(|e| io(&listed, e))? {
                    let entry = entry.map_err(|e| io(&listed, e))?;
                    let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    let name = entry.file_name().to_string_lossy().into_owned();
                    names.push(if is_dir { format!("{name}/") } else { name });
                }
                Ok::<_, ToolError>(names)
            })
            .await
            .map_err(|e| ToolError::Fatal(format!("listing failed: {e}")))??;
            names.sort();
            let total = names.len();
            if total == 0 {
                return Ok(format!("{shown} is empty."));
            }
            let mut out = names
                .into_iter()
                .take(MAX_LIST_ENTRIES)
                .collect::<Vec<_>>()
                .join("\n");
            if total > MAX_LIST_ENTRIES {
                out.push_str(&format!("\n[{MAX_LIST_ENTRIES} of {total} entries shown]"));
            }
            Ok(out)
        })
    }
}

/// Arguments of `write_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFileInput {
    /// The file, relative to the workspace folder (created with its folders if missing).
    pub path: String,
    /// The complete new content.
    pub content: String,
}

/// Creates or replaces a file in the workspace.
pub struct WriteFile;

impl Tool for WriteFile {
    type Input = WriteFileInput;

    fn name(&self) -> &'static str {
        "write_file"
    }

    fn description(&self) -> &'static str {
        "Create a file in the workspace folder, or replace its whole content."
    }

    fn risk(&self, _input: &WriteFileInput, _ctx: &ToolContext) -> Risk {
        Risk::Mutating
    }

    fn check(&self, input: &WriteFileInput, ctx: &ToolContext) -> Result<(), String> {
        check_write(ctx, &input.path)
    }

    fn in_person(&self) -> bool {
        true
    }

    fn always_ask(&self, input: &WriteFileInput, ctx: &ToolContext) -> Option<String> {
        protected_write(ctx, &input.path)
            .or_else(|| super::read::hard_link_reason(&ctx.workspace, &input.path, "writing"))
    }

    fn run(
        &self,
        input: WriteFileInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let target = write_target(&ctx, &input.path)?;
            let existed = target.dir.exists(&target.name);
            let path = input.path.clone();
            let bytes = input.content.clone().into_bytes();
            tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
                .await
                .map_err(|e| ToolError::Fatal(format!("the write failed: {e}")))?
                .map_err(|e| io(&path, e))?;
            Ok(format!(
                "{} {} ({} bytes).",
                if existed { "Replaced" } else { "Created" },
                input.path,
                input.content.len()
            ))
        })
    }
}

/// Arguments of `edit_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditFileInput {
    /// The file, relative to the workspace folder.
    pub path: String,
    /// The exact text to replace; it must occur exactly once.
    pub old_text: String,
    /// The replacement text.
    pub new_text: String,
}

/// Replaces one exact, unique piece of text in a file.
pub struct EditFile;

/// Replaces the single occurrence of `old` in `text`, or says why it cannot.
pub fn replace_unique(text: &str, old: &str, new: &str) -> Result<String, String> {
    if old.is_empty() {
        return Err("old_text is empty; give the exact text to replace.".into());
    }
    let mut hits = text.match_indices(old);
    match (hits.next(), hits.next()) {
        (None, _) => Err("old_text was not found in the file; read the file again and copy the text exactly (spaces and line breaks included).".into()),
        (Some(_), Some(_)) => Err(format!(
            "old_text occurs {} times; include more surrounding lines so it is unique.",
            text.matches(old).count()
        )),
        (Some((at, _)), None) => {
            let mut out = String::with_capacity(text.len() + new.len());
            out.push_str(&text[..at]);
            out.push_str(new);
            out.push_str(&text[at + old.len()..]);
            Ok(out)
        }
    }
}

impl Tool for EditFile {
    type Input = EditFileInput;

    fn name(&self) -> &'static str {
        "edit_file"
    }

    fn description(&self) -> &'static str {
        "Replace one exact piece of text in a workspace file. old_text must occur exactly once."
    }

    fn risk(&self, _input: &EditFileInput, _ctx: &ToolContext) -> Risk {
        Risk::Mutating
    }

    fn check(&self, input: &EditFileInput, ctx: &ToolContext) -> Result<(), String> {
        check_write(ctx, &input.path)
    }

    fn in_person(&self) -> bool {
        true
    }

    fn always_ask(&self, input: &EditFileInput, ctx: &ToolContext) -> Option<String> {
        protected_write(ctx, &input.path)
            .or_else(|| super::read::hard_link_reason(&ctx.workspace, &input.path, "editing"))
    }

    fn run(
        &self,
        input: EditFileInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let target = write_target(&ctx, &input.path)?;
            let path = input.path.clone();
            tokio::task::spawn_blocking(move || {
                let text = read_regular(&target.dir, &target.name, MAX_EDIT_BYTES)
                    .map_err(|e| io(&path, e))?;
                let edited = replace_unique(&text, &input.old_text, &input.new_text)
                    .map_err(|why| ToolError::RespondToModel(format!("{path}: {why}")))?;
                write_atomically(&target, edited.as_bytes()).map_err(|e| io(&path, e))
            })
            .await
            .map_err(|e| ToolError::Fatal(format!("the edit failed: {e}")))??;
            Ok(format!("Edited {}.", input.path))
        })
    }
}

/// The largest file `edit_file` edits.
pub const MAX_EDIT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a regular file (never a FIFO or device: opened without blocking, checked after
/// opening) of at most `cap` bytes as text.
fn read_regular(
    dir: &cap_std::fs::Dir,
    name: &std::ffi::OsStr,
    cap: u64,
) -> std::io::Result<String> {
    use std::io::Read;
    let file = super::read::open_regular(dir, std::path::Path::new(name))?;
    let len = file.metadata()?.len();
    if len > cap {
        return Err(std::io::Error::other(format!(
            "the file has {len} bytes; files over {cap} bytes are not edited here"
        )));
    }
    let mut text = String::new();
    file.into_std().take(cap).read_to_string(&mut text)?;
    Ok(text)
}

/// Writes through a temporary file in the same (open) folder and renames it into place, so a
/// crash never leaves a half-written file and the write lands in the folder that was checked.
/// The file's bytes are synced before the rename and the folder after it, so after a power
/// loss the name holds either the old content or the new, never an empty or partial file.
fn write_atomically(target: &super::paths::WriteTarget, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = format!(
        ".{}.parley-{}",
        target.name.to_string_lossy(),
        crate::new_id()
    );
    let written = (|| {
        let mut file = target.dir.create(&tmp)?;
        file.write_all(bytes)?;
        if let Ok(meta) = target.dir.metadata(&target.name) {
            let _ = file.set_permissions(meta.permissions());
        }
        file.sync_all()
    })();
    let renamed = written.and_then(|()| target.dir.rename(&tmp, &target.dir, &target.name));
    if let Err(e) = renamed {
        let _ = target.dir.remove_file(&tmp);
        return Err(e);
    }
    // The folder as a readable file: the `Dir` handle may be an O_PATH one (cannot sync).
    crate::util::sync_dir(&target.dir.open(".")?.into_std())
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
