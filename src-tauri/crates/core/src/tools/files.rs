//! Read-only file tools: `read_file` and `list_dir`, confined to the workspace.

use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

/// The most text a read returns; longer files are cut with a notice saying how to read on.
pub const MAX_READ_BYTES: usize = 256 * 1024;
/// The most entries a listing returns.
pub const MAX_LIST_ENTRIES: usize = 1000;

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

    fn run(
        &self,
        input: ReadFileInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let real = ctx
                .workspace
                .resolve(&input.path)
                .map_err(|e| ToolError::RespondToModel(e.to_string()))?;
            let bytes = tokio::fs::read(&real)
                .await
                .map_err(|e| ToolError::RespondToModel(format!("{}: {e}", input.path)))?;
            if bytes.iter().take(8192).any(|b| *b == 0) {
                return Err(ToolError::RespondToModel(format!(
                    "{} is a binary file ({} bytes); it cannot be read as text.",
                    input.path,
                    bytes.len()
                )));
            }
            let text = String::from_utf8_lossy(&bytes);
            let first = input.offset.unwrap_or(1).max(1);
            let limit = input.limit.unwrap_or(2000).max(1);
            let total = text.lines().count();
            let mut out = String::new();
            let mut last = first.saturating_sub(1);
            for (i, line) in text.lines().enumerate().skip(first - 1).take(limit) {
                let numbered = format!("{:>6}\t{line}\n", i + 1);
                if out.len() + numbered.len() > MAX_READ_BYTES {
                    break;
                }
                out.push_str(&numbered);
                last = i + 1;
            }
            if total == 0 {
                return Ok(format!("{} is empty.", input.path));
            }
            if first > total {
                return Err(ToolError::RespondToModel(format!(
                    "{} has {total} lines; offset {first} is past the end.",
                    input.path
                )));
            }
            if last < total {
                out.push_str(&format!(
                    "[lines {first}–{last} of {total}; read on with offset {}]\n",
                    last + 1
                ));
            }
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

    fn run(
        &self,
        input: ListDirInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let shown = input.path.unwrap_or_else(|| ".".into());
            let real = ctx
                .workspace
                .resolve(&shown)
                .map_err(|e| ToolError::RespondToModel(e.to_string()))?;
            let mut dir = tokio::fs::read_dir(&real)
                .await
                .map_err(|e| ToolError::RespondToModel(format!("{shown}: {e}")))?;
            let mut names = Vec::new();
            while let Some(entry) = dir
                .next_entry()
                .await
                .map_err(|e| ToolError::RespondToModel(format!("{shown}: {e}")))?
            {
                let is_dir = entry.file_type().await.map(|t| t.is_dir()).unwrap_or(false);
                let name = entry.file_name().to_string_lossy().into_owned();
                names.push(if is_dir { format!("{name}/") } else { name });
            }
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
        let ctx = ToolContext {
            workspace: Workspace::new(dir.path()).unwrap(),
            cancel: Default::default(),
        };
        (dir, ctx)
    }

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add(ReadFile).add(ListDir);
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
