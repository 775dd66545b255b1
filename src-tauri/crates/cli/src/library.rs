//! `parley prompts` (the prompt library; `prompts.rs` is the terminal's questions): saved prompts with `{{variables}}` (the same the window's `/` menu offers):
//! list, add, remove, import and export as JSON.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::PromptDraft;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PromptsCmd {
    /// The saved prompts, by name, with their variables.
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Save a prompt: its text from the argument, a file (`--file`), or standard input (`-`).
    Add {
        /// Its name (unique; `/NAME` finds it in the window).
        name: String,
        /// Its text; `{{name}}` marks a variable filled in when it is used.
        text: Option<String>,
        /// Read the text from this file.
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// Replace the text of the prompt of this name if there is one.
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove a prompt (by name or id).
    Remove { name: String },
    /// Write every prompt as JSON (to standard output, or a new file with `-o`).
    Export {
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Add the prompts of a JSON file (Parley's export, or a list of {name, body}); a name here
    /// is never changed.
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(core: &Core, cmd: PromptsCmd) -> Result<(), Failure> {
    match cmd {
        PromptsCmd::List { json } => list(core, json).await,
        PromptsCmd::Add {
            name,
            text,
            file,
            replace,
            json,
        } => {
            let body = body(text, file)?;
            let id = match core.prompts().get(&name).await {
                Ok(p) if replace => Some(p.id),
                _ => None,
            };
            let p = core.prompts().save(PromptDraft { id, name, body }).await?;
            if json {
                return term::json(&p);
            }
            errln!("Saved “{}”{}.", field(&p.name), vars(&p.variables));
            Ok(())
        }
        PromptsCmd::Remove { name } => {
            core.prompts().remove(&name).await?;
            errln!("Removed.");
            Ok(())
        }
        PromptsCmd::Export { output } => export(core, output).await,
        PromptsCmd::Import { file, json } => import(core, &file, json).await,
    }
}

fn vars(v: &[String]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        format!(
            " (variables: {})",
            v.iter().map(|n| field(n)).collect::<Vec<_>>().join(", ")
        )
    }
}

/// The text: the argument, a file, or standard input for `-`.
fn body(text: Option<String>, file: Option<PathBuf>) -> Result<String, Failure> {
    let read = |path: &std::path::Path| {
        let meta =
            std::fs::metadata(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        if meta.len() > parley_core::prompts::BODY_MAX as u64 {
            return Err(invalid(format!(
                "{} is over {} KB: not a prompt.",
                path.display(),
                parley_core::prompts::BODY_MAX / 1024
            )));
        }
        std::fs::read_to_string(path).map_err(|e| invalid(format!("{}: {e}", path.display())))
    };
    match (text, file) {
        (Some(t), None) if t == "-" => {
            use std::io::Read;
            let mut s = String::new();
            std::io::Read::read_to_string(
                &mut std::io::stdin().take(parley_core::prompts::BODY_MAX as u64 + 1),
                &mut s,
            )
            .map_err(|e| invalid(format!("standard input: {e}")))?;
            Ok(s)
        }
        (Some(t), None) => Ok(t),
        (None, Some(f)) => read(&f),
        _ => Err(invalid(
            "Give the prompt's text, --file FILE, or - to read it from standard input.",
        )),
    }
}

async fn list(core: &Core, json: bool) -> Result<(), Failure> {
    let all = core.prompts().list().await?;
    if json {
        return term::json(&all);
    }
    if all.is_empty() {
        errln!(
            "No prompts yet. Save one: parley prompts add NAME \"Text with {{{{a variable}}}}\""
        );
    }
    for p in &all {
        let first: String = p
            .body
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        outln!(
            "{}\t{}\t{}",
            field(&p.name),
            p.variables
                .iter()
                .map(|v| field(v))
                .collect::<Vec<_>>()
                .join(","),
            field(&first)
        )?;
    }
    Ok(())
}

async fn export(core: &Core, output: Option<PathBuf>) -> Result<(), Failure> {
    let text = core.prompts().export().await?;
    match output {
        None => outln!("{text}"),
        Some(path) => {
            let mut f = parley_core::create_private(&path)
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            std::io::Write::write_all(&mut f, text.as_bytes())
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            errln!("Wrote {}.", path.display());
            Ok(())
        }
    }
}

async fn import(core: &Core, file: &std::path::Path, json: bool) -> Result<(), Failure> {
    let meta = std::fs::metadata(file).map_err(|e| invalid(format!("{}: {e}", file.display())))?;
    if meta.len() > 8 * 1024 * 1024 {
        return Err(invalid(format!(
            "{} is over 8 MB: not a prompt list.",
            file.display()
        )));
    }
    let text =
        std::fs::read_to_string(file).map_err(|e| invalid(format!("{}: {e}", file.display())))?;
    let r = core.prompts().import(&text).await?;
    if json {
        return term::json(&r);
    }
    errln!("Added {} prompt(s).", r.added);
    for name in &r.skipped {
        errln!(
            "Kept “{}” as it is here (the file's text differs).",
            field(name)
        );
    }
    for why in &r.refused {
        errln!("Left out: {}", field(why));
    }
    Ok(())
}
