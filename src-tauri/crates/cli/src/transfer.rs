//! `parley export` and `parley import`: chats out in Parley's format (lossless, every branch)
//! or as Markdown (for reading), and exports back in — Parley's, ChatGPT's, Claude's (what is
//! missing is added).

use crate::term::{self, field, out};
use crate::Failure;
use clap::{Args, ValueEnum};
use parley_core::history::{Existing, ExportChoice, ExportFormat, ImportControl};
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::{
    ChatId, ErrorCode, ErrorInfo, ImportAction, ImportProgress, ImportReport, LeftOutChat,
};
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

/// The exit code of an export of every chat that left out chats it could not read (the rest
/// is written; each one left out is named on standard error).
pub const EXIT_SOME_LEFT_OUT: u8 = 3;

pub async fn export(core: &Core, args: ExportArgs) -> Result<(), Failure> {
    let choice = ExportChoice {
        chats: (!args.chats.is_empty()).then(|| args.chats.into_iter().map(ChatId).collect()),
        branch: args.branch,
        format: match args.format {
            Format::Json => ExportFormat::Json,
            Format::Md => ExportFormat::Markdown,
        },
    };
    let history = core.history();
    let unreadable = match args.output {
        Some(path) => {
            let left_out = history
                .export_to_file(&choice, &path, Existing::Keep)
                .await?;
            errln!("Exported to {}", path.display());
            left_out
        }
        None => {
            let export = history.export_text(&choice).await?;
            // On a terminal, what the chats hold is shown, not obeyed; into a pipe
            // (`parley export --format md > chats.md`) the bytes are exact.
            match choice.format {
                _ if !term::stdout_is_terminal() => term::out_exact(&export.text)?,
                ExportFormat::Json => out(&term::json_inert(&export.text))?,
                ExportFormat::Markdown => out(&export.text)?,
            }
            export.left_out
        }
    };
    left_out(&unreadable)
}

/// Names each chat an export of every chat left out; exits with [`EXIT_SOME_LEFT_OUT`] when
/// there was one.
fn left_out(unreadable: &[LeftOutChat]) -> Result<(), Failure> {
    for u in unreadable {
        errln!(
            "warning: left out chat {} “{}”: it could not be read ({}).",
            field(&u.id.0),
            field(&u.title),
            u.why
        );
    }
    if unreadable.is_empty() {
        return Ok(());
    }
    let n = unreadable.len();
    Err(Failure {
        info: ErrorInfo::new(
            ErrorCode::InvalidInput,
            format!(
                "{n} chat{} could not be read and {} left out; every other chat was exported.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "was" } else { "were" }
            ),
            false,
        ),
        code: EXIT_SOME_LEFT_OUT,
    })
}

pub async fn import(core: &Core, args: ImportArgs) -> Result<(), Failure> {
    let terminal = term::stderr_is_terminal();
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
        // Parley's own control sequence: clears the progress line.
        term::err_exact("\r\x1b[2K");
    }
    let r = r?;
    if args.json {
        return term::json(&r);
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
            field(&c.title),
            plural(c.messages, "message")
        ));
    }
    let more = r.chats.len().saturating_sub(LISTED) as u32 + r.chats_listed_more;
    if more > 0 {
        s.push_str(&format!("  … and {more} more (--json lists them)\n"));
    }
    for a in &r.set_aside {
        s.push_str(&format!(
            "Set aside: chat {}: {}\n",
            field(&a.chat),
            a.reason
        ));
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
             (`parley chats system ID`).\n",
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

/// The import's progress on one line of the terminal, rewritten in place (stderr is one).
fn progress_line(p: &ImportProgress) {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let what = if p.merging { "Merging" } else { "Reading" };
    // Parley's own control sequence (back to the line's start, clear it); the rest is numbers.
    term::err_exact(&format!(
        "\r\x1b[2K{what}: {:.1} of {:.1} MB, {} chat{}…",
        mb(p.bytes_read),
        mb(p.bytes_total),
        p.chats,
        if p.chats == 1 { "" } else { "s" }
    ));
}
