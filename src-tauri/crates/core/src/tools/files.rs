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
            let read = tokio::task::spawn_blocking(move || {
                let file = super::read::open_regular(&root, &rel).map_err(|e| io(&path, e))?;
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
mod tests {
    use super::super::paths::Workspace;
    use super::super::tool::{Registry, Risk, ToolContext, ToolError};
    use super::*;

    fn ctx() -> (tempfile::TempDir, ToolContext) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let lines: String = (1..=5).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("notes.txt"), lines).unwrap();
        std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2]).unwrap();
        let ctx = ToolContext::new(Workspace::new(dir.path()).unwrap(), Default::default());
        (dir, ctx)
    }

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add(ReadFile).add(ListDir).add(WriteFile).add(EditFile);
        r
    }

    async fn call(
        r: &Registry,
        ctx: &ToolContext,
        name: &str,
        args: &str,
    ) -> Result<String, String> {
        let p = r.prepare(name, args, ctx)?;
        assert_eq!(p.risk, Risk::ReadOnly);
        p.run(ctx.clone()).await.map_err(|e| match e {
            ToolError::RespondToModel(m) | ToolError::Fatal(m) => m,
        })
    }

    #[tokio::test]
    async fn reads_lines_with_offsets_and_says_how_to_go_on() {
        let (_d, ctx) = ctx();
        let r = registry();
        let all = call(&r, &ctx, "read_file", r#"{"path":"notes.txt"}"#)
            .await
            .unwrap();
        assert!(all.starts_with("     1\tline 1\n") && all.contains("     5\tline 5\n"));
        let part = call(
            &r,
            &ctx,
            "read_file",
            r#"{"path":"notes.txt","offset":2,"limit":2}"#,
        )
        .await
        .unwrap();
        assert_eq!(
            part,
            "     2\tline 2\n     3\tline 3\n[lines 2–3 of 5; read on with offset 4]\n"
        );
        let past = call(&r, &ctx, "read_file", r#"{"path":"notes.txt","offset":9}"#).await;
        assert!(past.unwrap_err().contains("past the end"));
        let bin = call(&r, &ctx, "read_file", r#"{"path":"blob.bin"}"#).await;
        assert!(bin.unwrap_err().contains("binary"));
        let outside = call(&r, &ctx, "read_file", r#"{"path":"../etc/passwd"}"#).await;
        assert!(outside.unwrap_err().contains("outside the workspace"));
        let missing = call(&r, &ctx, "read_file", r#"{"path":"nope.txt"}"#).await;
        assert!(missing.unwrap_err().contains("nope.txt"));
    }

    #[tokio::test]
    async fn lists_folders_and_refuses_bad_calls_before_running() {
        let (_d, ctx) = ctx();
        let r = registry();
        assert_eq!(
            call(&r, &ctx, "list_dir", "").await.unwrap(),
            "blob.bin\nnotes.txt\nsub/"
        );
        assert_eq!(
            call(&r, &ctx, "list_dir", r#"{"path":"sub"}"#)
                .await
                .unwrap(),
            "sub is empty."
        );
        // Unknown tool, unknown field, wrong type, truncated JSON: sentences, never a run.
        for (name, args, says) in [
            ("delete_everything", "{}", "no tool named"),
            ("read_file", r#"{"path":"a","mode":"w"}"#, "unknown field"),
            ("read_file", r#"{"path":7}"#, "invalid type"),
            ("read_file", r#"{"path":"a"#, "EOF"),
            ("read_file", "{}", "missing field `path`"),
        ] {
            let e = r.prepare(name, args, &ctx).err().unwrap_or_default();
            assert!(e.contains(says), "{name} {args}: {e}");
        }
    }

    #[tokio::test]
    async fn writes_and_exact_edits_stay_inside_and_say_what_is_wrong() {
        let (dir, ctx) = ctx();
        let r = registry();
        let run = |name: &'static str, args: &'static str| {
            let p = r.prepare(name, args, &ctx).unwrap();
            assert_eq!(p.risk, Risk::Mutating);
            p.run(ctx.clone())
        };
        assert_eq!(
            run(
                "write_file",
                r#"{"path":"new/dir/f.txt","content":"a\nb\na\n"}"#
            )
            .await
            .unwrap(),
            "Created new/dir/f.txt (6 bytes)."
        );
        let e = run(
            "edit_file",
            r#"{"path":"new/dir/f.txt","old_text":"a","new_text":"x"}"#,
        )
        .await;
        assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("occurs 2 times")));
        let e = run(
            "edit_file",
            r#"{"path":"new/dir/f.txt","old_text":"zzz","new_text":"x"}"#,
        )
        .await;
        assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("not found")));
        run(
            "edit_file",
            r#"{"path":"new/dir/f.txt","old_text":"b\n","new_text":"B\n"}"#,
        )
        .await
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("new/dir/f.txt")).unwrap(),
            "a\nB\na\n"
        );
        // Writes outside are refused when prepared: nobody is asked, nothing runs.
        for (name, args) in [
            ("write_file", r#"{"path":"../escape.txt","content":"x"}"#),
            ("write_file", r#"{"path":"/tmp/escape.txt","content":"x"}"#),
            (
                "write_file",
                r#"{"path":"\\\\host\\share\\x","content":"x"}"#,
            ),
            ("write_file", r#"{"path":"C:\\x","content":"x"}"#),
            ("write_file", r#"{"path":"a.txt:stream","content":"x"}"#),
            (
                "edit_file",
                r#"{"path":"../x","old_text":"a","new_text":"b"}"#,
            ),
            (
                "edit_file",
                r#"{"path":"sub/../../x","old_text":"a","new_text":"b"}"#,
            ),
        ] {
            let e = r.prepare(name, args, &ctx).err().unwrap_or_default();
            assert!(e.contains("refused and nothing was written"), "{args}: {e}");
        }
        assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
        let e = run("write_file", r#"{"path":"sub","content":"x"}"#).await;
        assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("folder")));
        // No temporary files are left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("new/dir"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn the_schema_the_model_sees_comes_from_the_input_type() {
        let specs = registry().specs();
        let read = specs.iter().find(|s| s.name == "read_file").unwrap();
        let p = &read.parameters;
        assert_eq!(p["type"], "object");
        assert_eq!(p["required"], serde_json::json!(["path"]));
        assert!(p["properties"]["offset"].is_object());
        assert_eq!(p["additionalProperties"], false);
        assert!(p.get("$schema").is_none());
    }
}
