//! `parley export` and `parley import`: chats out in Parley's format (lossless, every branch)
//! or as Markdown (for reading), and exports back in — Parley's, ChatGPT's, Claude's (what is
//! missing is added).

use crate::{invalid, out, print_json, Failure};
use clap::{Args, ValueEnum};
use parley_core::history::ImportControl;
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::ImportProgress;
use parley_protocol::SessionId;
use std::io::Write;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Parley's format (docs/FORMAT.md): every branch, every part, losslessly.
    Json,
    /// For reading: each chat's selected versions, reasoning and tool steps folded.
    Md,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The chats to export (repeat it); every chat when none is given.
    #[arg(long = "chat")]
    chats: Vec<String>,
    /// Only each chat's selected branch (its other versions are left out). Markdown always
    /// shows the selected branch.
    #[arg(long)]
    branch: bool,
    /// What to write.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Where to write it (it must not exist yet); standard output when not given.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// A Parley export (`parley export`), or ChatGPT's or Claude's `conversations.json`.
    file: PathBuf,
    /// Only say what would be added.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn export(core: &Core, args: ExportArgs) -> Result<(), Failure> {
    let ids = (!args.chats.is_empty()).then(|| args.chats.into_iter().map(SessionId).collect());
    let text = match args.format {
        Format::Json => {
            let file = if args.branch {
                core.history().export_branches(ids).await?
            } else {
                core.history().export(ids).await?
            };
            serde_json::to_string_pretty(&file)
                .map_err(|e| invalid(format!("could not encode the export: {e}")))?
        }
        Format::Md => {
            let ids: Vec<SessionId> = match ids {
                Some(ids) => ids,
                None => core
                    .history()
                    .export(None)
                    .await?
                    .chats
                    .into_iter()
                    .map(|c| c.session.id)
                    .collect(),
            };
            let mut all = Vec::new();
            for id in &ids {
                all.push(core.history().export_markdown(id).await?);
            }
            all.join("\n---\n\n")
        }
    };
    match args.output {
        None => out(&text),
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| invalid(format!("could not create {}: {e}", path.display())))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| invalid(format!("could not write {}: {e}", path.display())))?;
            eprintln!("Exported to {}", path.display());
            Ok(())
        }
    }
}

pub async fn import(core: &Core, args: ImportArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let mut control = ImportControl::new();
    if terminal {
        control = control.on_progress(|p| progress_line(&p));
    }
    let run = core
        .history()
        .import_with(&args.file, args.dry_run, &control);
    tokio::pin!(run);
    // Ctrl-C stops the reading (its staging file is removed, nothing is merged); once the
    // merge has begun it finishes, whole, in its one transaction.
    let r = tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => {
            control.cancel();
            run.await
        }
    };
    if terminal {
        eprint!("\r\x1b[2K");
    }
    let r = r?;
    if args.json {
        return print_json(&r);
    }
    let plural = |n: u32, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let span = r
        .span
        .map(|(a, b)| format!(", from {} to {}", day_of(a), day_of(b)))
        .unwrap_or_default();
    out(&format!(
        "{}: {} and {}{span}.\n{} {} and {}; nothing present was changed.\n",
        args.file.display(),
        plural(r.chats_in_file, "chat"),
        plural(r.messages_in_file, "message"),
        if r.dry_run { "Would add" } else { "Added" },
        plural(r.chats_added, "chat"),
        plural(r.messages_added, "message"),
    ))
}

/// The import's progress on one line of the terminal, rewritten in place (stderr is one).
fn progress_line(p: &ImportProgress) {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let what = if p.merging { "Merging" } else { "Reading" };
    eprint!(
        "\r\x1b[2K{what}: {:.1} of {:.1} MB, {} chat{}…",
        mb(p.bytes_read),
        mb(p.bytes_total),
        p.chats,
        if p.chats == 1 { "" } else { "s" }
    );
}
