//! `find_files` (glob) and `grep` (regex): read-only searches of the workspace. `.gitignore`
//! is honoured and `.git` skipped; symlinks are not followed, and a file reached through a
//! symlink is only read when it resolves inside the workspace. `grep` never reads a file with
//! more than one name (a hard link may be a file from outside): it names them instead.

use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The most paths `find_files` returns.
pub const MAX_FOUND: usize = 500;
/// The most matching lines `grep` returns.
pub const MAX_MATCHES: usize = 200;
/// Files larger than this are not searched by `grep`.
pub const MAX_GREP_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Every file (or link) under `start` that a search may look at, as (path relative to the
/// root, the same with `/` separators). Stops early when `cancel` fires.
fn walk(ctx: &ToolContext, start: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(start)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    for entry in walker.flatten() {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if !(ft.is_symlink() || ft.is_file()) {
            continue;
        }
        let Ok(inside) = path.strip_prefix(ctx.workspace.root()) else {
            continue;
        };
        // Read beneath the root by this relative path: a link that leads out fails to open.
        let rel = inside.to_string_lossy().replace('\\', "/");
        if ft.is_symlink() && !ctx.workspace.resolve(&rel).is_ok_and(|r| r.is_file()) {
            continue;
        }
        out.push((inside.to_path_buf(), rel));
    }
    out
}

fn start_dir(ctx: &ToolContext, path: &Option<String>) -> Result<PathBuf, ToolError> {
    let given = path.as_deref().unwrap_or(".");
    let real = ctx
        .workspace
        .resolve(given)
        .map_err(|e| ToolError::RespondToModel(e.to_string()))?;
    if !real.is_dir() {
        return Err(ToolError::RespondToModel(format!(
            "{given} is not a folder."
        )));
    }
    Ok(real)
}

fn glob_matcher(pattern: &str) -> Result<globset::GlobMatcher, ToolError> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            ToolError::RespondToModel(format!("The pattern {pattern:?} is not a valid glob: {e}."))
        })
}

/// True when `rel` matches: the whole relative path, or (for a pattern without `/`) the name.
fn matches(m: &globset::GlobMatcher, pattern: &str, rel: &str) -> bool {
    m.is_match(rel) || (!pattern.contains('/') && m.is_match(rel.rsplit('/').next().unwrap_or(rel)))
}

/// Arguments of `find_files`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindFilesInput {
    /// A glob such as `**/*.rs`, `src/*.ts` or `Cargo.toml` (a pattern without `/` matches
    /// file names anywhere).
    pub pattern: String,
    /// The folder to search, relative to the workspace (default: the whole workspace).
    #[serde(default)]
    pub path: Option<String>,
}

/// Finds files by glob.
pub struct FindFiles;

impl Tool for FindFiles {
    type Input = FindFilesInput;

    fn name(&self) -> &'static str {
        "find_files"
    }

    fn description(&self) -> &'static str {
        "Find files in the workspace folder whose path matches a glob (e.g. **/*.rs). Honors .gitignore."
    }

    fn base_risk(&self) -> Risk {
        Risk::ReadOnly
    }

    fn risk(&self, _input: &FindFilesInput, _ctx: &ToolContext) -> Risk {
        Risk::ReadOnly
    }

    fn run(
        &self,
        input: FindFilesInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let m = glob_matcher(&input.pattern)?;
            let start = start_dir(&ctx, &input.path)?;
            let found = tokio::task::spawn_blocking(move || {
                let all = walk(&ctx, &start);
                all.into_iter()
                    .filter(|(_, rel)| matches(&m, &input.pattern, rel))
                    .map(|(_, rel)| rel)
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| ToolError::Fatal(format!("the search failed: {e}")))?;
            if found.is_empty() {
                return Ok("No files match.".into());
            }
            let mut out: String = found
                .iter()
                .take(MAX_FOUND)
                .map(|p| format!("{p}\n"))
                .collect();
            if found.len() > MAX_FOUND {
                out.push_str(&format!(
                    "[{} more not shown; narrow the pattern or the folder]\n",
                    found.len() - MAX_FOUND
                ));
            }
            Ok(out)
        })
    }
}

/// Arguments of `grep`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrepInput {
    /// A regular expression (Rust regex syntax).
    pub pattern: String,
    /// The folder to search, relative to the workspace (default: the whole workspace).
    #[serde(default)]
    pub path: Option<String>,
    /// Only search files whose path matches this glob (e.g. `*.rs`).
    #[serde(default)]
    pub glob: Option<String>,
    /// Ignore letter case.
    #[serde(default)]
    pub case_insensitive: Option<bool>,
}

/// Searches file contents by regular expression.
pub struct Grep;

impl Tool for Grep {
    type Input = GrepInput;

    fn name(&self) -> &'static str {
        "grep"
    }

    fn description(&self) -> &'static str {
        "Search the text of files in the workspace folder for a regular expression. Returns path:line: text for each match."
    }

    fn base_risk(&self) -> Risk {
        Risk::ReadOnly
    }

    fn risk(&self, _input: &GrepInput, _ctx: &ToolContext) -> Risk {
        Risk::ReadOnly
    }

    fn run(
        &self,
        input: GrepInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            let re = regex::RegexBuilder::new(&input.pattern)
                .case_insensitive(input.case_insensitive.unwrap_or(false))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    ToolError::RespondToModel(format!(
                        "The pattern {:?} is not a valid regular expression: {e}.",
                        input.pattern
                    ))
                })?;
            let filter = match &input.glob {
                Some(g) => Some((glob_matcher(g)?, g.clone())),
                None => None,
            };
            let start = start_dir(&ctx, &input.path)?;
            let root = ctx
                .workspace
                .dir()
                .map_err(|e| ToolError::RespondToModel(e.to_string()))?;
            let (lines, more, linked) = tokio::task::spawn_blocking(move || {
                search_files(&ctx, &start, &root, &re, &filter)
            })
            .await
            .map_err(|e| ToolError::Fatal(format!("the search failed: {e}")))?;
            let mut out = if lines.is_empty() {
                "No matches.".to_owned()
            } else {
                let mut out = lines.join("\n");
                out.push('\n');
                out
            };
            if more > 0 {
                out.push_str(&format!(
                    "[{more} more matches not shown; narrow the pattern, folder or glob]\n"
                ));
            }
            if !linked.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&linked_notice(&linked));
            }
            Ok(out)
        })
    }
}

/// What `grep` found: the matching lines (at most [`MAX_MATCHES`]), how many more matched, and
/// the files it did not read because they have more than one name.
fn search_files(
    ctx: &ToolContext,
    start: &Path,
    root: &cap_std::fs::Dir,
    re: &regex::Regex,
    filter: &Option<(globset::GlobMatcher, String)>,
) -> (Vec<String>, usize, Vec<String>) {
    let mut lines = Vec::new();
    let mut more = 0usize;
    let mut linked = Vec::new();
    for (real, rel) in walk(ctx, start) {
        if ctx.cancel.is_cancelled() {
            break;
        }
        if let Some((m, g)) = filter {
            if !matches(m, g, &rel) {
                continue;
            }
        }
        let Ok(file) = super::read::open_regular(root, &real) else {
            continue;
        };
        let Ok(meta) = file.metadata() else {
            continue;
        };
        if super::read::link_count(&meta) > 1 {
            // A second name may be a file from elsewhere: never read unasked.
            linked.push(rel);
            continue;
        }
        if meta.len() > MAX_GREP_FILE_BYTES {
            continue;
        }
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(
            &mut std::io::Read::take(file.into_std(), MAX_GREP_FILE_BYTES),
            &mut bytes,
        )
        .is_err()
        {
            continue;
        }
        if bytes.iter().take(8192).any(|b| *b == 0) {
            continue; // binary
        }
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            if re.is_match(line) {
                if lines.len() < MAX_MATCHES {
                    let shown: String = line.chars().take(300).collect();
                    lines.push(format!("{rel}:{}: {shown}", i + 1));
                } else {
                    more += 1;
                }
            }
        }
    }
    (lines, more, linked)
}

/// What `grep` says about the hard links it did not read.
fn linked_notice(linked: &[String]) -> String {
    let shown: Vec<&str> = linked.iter().take(20).map(String::as_str).collect();
    let more = linked.len().saturating_sub(shown.len());
    format!(
        "[not searched: {} hard-linked file(s) — a file with more than one name may be a file outside the workspace; read_file asks the user before reading one: {}{}]\n",
        linked.len(),
        shown.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::paths::Workspace;

    fn setup() -> (tempfile::TempDir, ToolContext) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(
            root.join("src/main.rs"),
            "fn main() {\n    println!(\"hi\");\n}\n",
        )
        .unwrap();
        std::fs::write(root.join("src/deep/lib.rs"), "pub fn Hello() {}\n").unwrap();
        std::fs::write(root.join("README.md"), "hello world\n").unwrap();
        std::fs::write(root.join(".git/config"), "hello from git\n").unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
        std::fs::write(root.join("target/out.rs"), "hello built\n").unwrap();
        std::fs::write(root.join("blob.bin"), b"hello\0binary").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.rs"), "hello secret\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.rs"), root.join("src/link.rs"))
            .unwrap();
        std::mem::forget(outside);
        let ctx = ToolContext::new(Workspace::new(root).unwrap(), Default::default());
        (dir, ctx)
    }

    #[tokio::test]
    async fn find_files_by_glob_honours_gitignore_and_never_escapes() {
        let (_d, ctx) = setup();
        let run = |pattern: &str, path: Option<&str>| {
            FindFiles.run(
                FindFilesInput {
                    pattern: pattern.into(),
                    path: path.map(Into::into),
                },
                ctx.clone(),
            )
        };
        assert_eq!(
            run("**/*.rs", None).await.unwrap(),
            "src/deep/lib.rs\nsrc/main.rs\n"
        );
        assert_eq!(
            run("*.rs", None).await.unwrap(),
            "src/deep/lib.rs\nsrc/main.rs\n"
        );
        assert_eq!(run("src/*.rs", None).await.unwrap(), "src/main.rs\n");
        assert_eq!(run("*.md", Some("src")).await.unwrap(), "No files match.");
        assert!(run("[", None)
            .await
            .unwrap_err()
            .to_string()
            .contains("not a valid glob"));
        assert!(run("*", Some("../.."))
            .await
            .unwrap_err()
            .to_string()
            .contains("outside"));
    }

    #[tokio::test]
    async fn grep_finds_lines_skips_binaries_ignored_and_outside_files() {
        let (_d, ctx) = setup();
        let run = |pattern: &str, glob: Option<&str>, ci: bool| {
            Grep.run(
                GrepInput {
                    pattern: pattern.into(),
                    path: None,
                    glob: glob.map(Into::into),
                    case_insensitive: Some(ci),
                },
                ctx.clone(),
            )
        };
        assert_eq!(
            run("hello", None, false).await.unwrap(),
            "README.md:1: hello world\n"
        );
        assert_eq!(
            run("hello", Some("*.rs"), true).await.unwrap(),
            "src/deep/lib.rs:1: pub fn Hello() {}\n"
        );
        assert_eq!(
            run("println", None, false).await.unwrap(),
            "src/main.rs:2:     println!(\"hi\");\n"
        );
        assert!(run("(", None, false)
            .await
            .unwrap_err()
            .to_string()
            .contains("not a valid regular expression"));
        assert_eq!(
            run("nothing-like-this", None, false).await.unwrap(),
            "No matches."
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn grep_never_reads_a_hard_link_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("id_rsa"), "KEY line\n").unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a.txt"), "line a\n").unwrap();
        std::fs::hard_link(outside.path().join("id_rsa"), dir.path().join("notes.txt")).unwrap();
        std::fs::hard_link(outside.path().join("id_rsa"), dir.path().join("src/b.txt")).unwrap();
        std::os::unix::fs::symlink("notes.txt", dir.path().join("via-symlink.txt")).unwrap();
        let ctx = ToolContext::new(Workspace::new(dir.path()).unwrap(), Default::default());
        for (pattern, glob, first) in [
            ("line", None, "src/a.txt:1: line a\n"),
            ("KEY", None, "No matches.\n"),
            (".", Some("*.txt"), "src/a.txt:1: line a\n"),
            ("KEY", Some("notes.txt"), "No matches.\n"),
        ] {
            let out = Grep
                .run(
                    GrepInput {
                        pattern: pattern.into(),
                        path: None,
                        glob: glob.map(Into::into),
                        case_insensitive: None,
                    },
                    ctx.clone(),
                )
                .await
                .unwrap();
            assert!(!out.contains("KEY line"), "{pattern}: {out}");
            assert!(out.starts_with(first), "{pattern}: {out}");
            assert!(
                out.contains("[not searched:") && out.contains("hard-linked"),
                "{out}"
            );
            assert!(out.contains("notes.txt"), "{out}");
        }
    }
}
