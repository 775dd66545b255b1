//! `parley export` and `parley import`: chats out in Parley's format (lossless, every branch)
//! or as Markdown (for reading), and exports back in — Parley's, ChatGPT's, Claude's (what is
//! missing is added).

use crate::{invalid, out, print_json, Failure};
use clap::{Args, ValueEnum};
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::{ImportAction, ImportReport, SessionId};
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
    let r = core.history().import(&args.file, args.dry_run).await?;
    if args.json {
        return print_json(&r);
    }
    out(&describe_import(&args.file, &r))
}

/// How many chats of an import or restore are listed one by one in the text report.
const LISTED: usize = 50;

/// An import's or restore's report for people: what the file holds, what is (or would be)
/// added, what was set aside, and what came in inactive.
pub(crate) fn describe_import(file: &std::path::Path, r: &ImportReport) -> String {
    let plural = |n: u32, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let span = r
        .span
        .map(|(a, b)| format!(", from {} to {}", day_of(a), day_of(b)))
        .unwrap_or_default();
    let mut s = format!(
        "{}: {} and {}{span}.\n{} {} and {}; no chat here is changed.\n",
        file.display(),
        plural(r.chats_in_file, "chat"),
        plural(r.messages_in_file, "message"),
        if r.dry_run { "Would add" } else { "Added" },
        plural(r.chats_added, "chat"),
        plural(r.messages_added, "message"),
    );
    for c in r.chats.iter().take(LISTED) {
        let what = match c.action {
            ImportAction::Added => String::new(),
            ImportAction::AddedAsCopy => {
                " — as a new chat: its ids are taken here by other content or not Parley's"
                    .to_owned()
            }
            ImportAction::AlreadyHere => " — already here, nothing to add".to_owned(),
        };
        let mark = if c.action == ImportAction::AlreadyHere {
            '='
        } else {
            '+'
        };
        s.push_str(&format!(
            "  {mark} {} ({}){what}\n",
            c.title,
            plural(c.messages, "message")
        ));
    }
    let more = r.chats.len().saturating_sub(LISTED) as u32 + r.chats_listed_more;
    if more > 0 {
        s.push_str(&format!("  … and {more} more (--json lists them)\n"));
    }
    for a in &r.set_aside {
        s.push_str(&format!("Set aside: chat {}: {}\n", a.chat, a.reason));
    }
    s.push_str(&inert_notes(r));
    s
}

/// What came in inactive, as sentences.
fn inert_notes(r: &ImportReport) -> String {
    let mut s = String::new();
    if r.system_prompts_inactive > 0 {
        s.push_str(&format!(
            "{} system prompt{} from the file {} kept inactive until you turn {} on for that chat \
             (`parley sessions system ID`).\n",
            r.system_prompts_inactive,
            if r.system_prompts_inactive == 1 {
                ""
            } else {
                "s"
            },
            if r.system_prompts_inactive == 1 {
                "is"
            } else {
                "are"
            },
            if r.system_prompts_inactive == 1 {
                "it"
            } else {
                "each"
            },
        ));
    }
    if r.settings_removed > 0 {
        s.push_str(&format!(
            "The workspace, tools or assistant that {} chat{} named in the file {} left out: \
             imported chats run no tools until you choose a workspace.\n",
            r.settings_removed,
            if r.settings_removed == 1 { "" } else { "s" },
            if r.settings_removed == 1 {
                "was"
            } else {
                "were"
            },
        ));
    }
    if r.usage_imported > 0 {
        s.push_str(&format!(
            "The usage of {} answer{} is kept as imported, apart from your own \
             (`parley usage --include-imported` counts it).\n",
            r.usage_imported,
            if r.usage_imported == 1 { "" } else { "s" },
        ));
    }
    if r.usage_dropped > 0 {
        s.push_str(&format!(
            "Implausible usage figures were left out for {} answer{}.\n",
            r.usage_dropped,
            if r.usage_dropped == 1 { "" } else { "s" },
        ));
    }
    s
}
