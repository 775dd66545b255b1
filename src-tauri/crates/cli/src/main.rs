//! `parley`: Parley's command line. The same core and the same database as the desktop app,
//! for headless chat, scripting and tests (DESIGN.md §6). One module per subcommand group:
//! `providers`, `ask` (its `--attach`: `attachments`), `chats`, `transfer`, `search`, `usage`.

// Test code may run long (a scenario reads top to bottom). Everything else keeps to 80 lines
// (clippy.toml): the build without cfg(test), which `clippy --all-targets` checks too, has
// no such allowance.
#![cfg_attr(test, allow(clippy::too_many_lines))]
// The one terminal-safe writer: nothing else may print (see `term`).
#![deny(
    clippy::disallowed_macros,
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[macro_use]
mod term;
mod artifacts;
mod ask;
mod attachments;
mod chats;
mod compare;
mod ledger;
mod library;
mod mcp;
mod mcp_asks;
mod mcp_login;
mod mcp_prompts;
mod mcp_resources;
mod mcp_tools;
mod models;
mod prompts;
mod providers;
mod queue;
mod review;
mod search;
mod transfer;
mod usage;
mod websearch;

// Where the commands found their writer before `term`: the same terminal-safe functions.
#[allow(unused_imports)]
pub(crate) use term::{json as print_json, out};

use clap::{Parser, Subcommand};
use parley_core::secrets::KeyringStore;
use parley_core::{Core, CoreError, CoreOptions};
use parley_protocol::ErrorInfo;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "parley",
    version,
    about = "Chat with language models from the terminal, on Parley's local database"
)]
struct Cli {
    /// Where Parley keeps its data (default: the platform's app-data folder).
    #[arg(long, global = true, env = "PARLEY_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Configure model providers.
    #[command(subcommand)]
    Providers(providers::ProvidersCmd),
    /// Ask a question and stream the answer.
    Ask(ask::AskArgs),
    /// List, show, rename and delete chats; steer a chat's tree (`sessions` still works).
    #[command(subcommand, alias = "sessions")]
    Chats(chats::ChatsCmd),
    /// Write a consistent copy of the database (default: into the data folder's backups/).
    Backup {
        /// Where to write the copy; it must not exist yet.
        file: Option<PathBuf>,
    },
    /// Add the chats of a backup that are not here, inert (no workspace, tools or assistant;
    /// a system prompt kept inactive). Nothing present is changed or removed.
    Restore {
        /// The backup (a Parley database file).
        file: PathBuf,
        /// Only say what would be added.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write chats out: in Parley's format (every branch, losslessly) or as Markdown.
    Export(transfer::ExportArgs),
    /// Add the chats and messages of an export (Parley's, ChatGPT's or Claude's) that are
    /// missing here.
    Import(transfer::ImportArgs),
    /// Search every chat: message text, reasoning, tool calls and results, titles.
    Search(search::SearchArgs),
    /// Tokens used and what they cost, per day, model, provider and chat.
    Usage(usage::UsageArgs),
    /// Every network request Parley made: when, where, why, what caused it, the bytes.
    Ledger(ledger::LedgerArgs),
    /// MCP servers: add, list, turn on or off, remove, import another client's file.
    #[command(subcommand)]
    Mcp(mcp::McpCmd),
    /// Saved prompts with {{variables}} (the window's `/` menu offers them): list, add, remove,
    /// import and export.
    #[command(subcommand)]
    Prompts(library::PromptsCmd),
    /// The HTML, SVG and Mermaid blocks of a chat's answers (the window previews them): list,
    /// save one.
    #[command(subcommand)]
    Artifacts(artifacts::ArtifactsCmd),
    /// The messages waiting in a chat's queue (`ask --queue`, or typed in the window while it
    /// answered): list, remove.
    #[command(subcommand)]
    Queue(queue::QueueCmd),
    /// Web search for the `web_search` tool: the service (SearXNG, Brave Search, Tavily), off
    /// until one is set; show, set, off, test.
    #[command(subcommand)]
    Websearch(websearch::WebSearchCmd),
    /// Local models for the built-in engine ("On this computer (built in)"): add, list, remove,
    /// settings, the engine's state.
    #[command(subcommand)]
    Models(models::ModelsCmd),
}

/// A failure to report: the error and the exit code.
pub(crate) struct Failure {
    pub(crate) info: ErrorInfo,
    pub(crate) code: u8,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure {
            info: e.to_info(),
            code: 1,
        }
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> Failure {
    Failure {
        info: ErrorInfo::new(parley_protocol::ErrorCode::InvalidInput, message, false),
        code: 1,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARLEY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_ansi(false)
        .with_writer(term::log_line)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            errln!("error: could not start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            errln!("error: {}", f.info.message);
            ExitCode::from(f.code)
        }
    }
}

/// Help, the version, or a usage error (which may echo what was typed) from clap, through the
/// terminal-safe writer: help in clap's colours on a terminal (it is Parley's own text), an
/// error as plain text.
fn clap_exit(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let text = if term::stdout_is_terminal() {
            e.render().ansi().to_string()
        } else {
            e.render().to_string()
        };
        let _ = term::out_exact(&text);
    } else {
        term::err(&e.render().to_string());
    }
    ExitCode::from(code)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let data_dir = parley_core::paths::data_dir(cli.data_dir).ok_or_else(|| {
        invalid(
            "Could not find a folder for Parley's data; pass --data-dir or set PARLEY_DATA_DIR.",
        )
    })?;
    let core = Core::open(CoreOptions {
        data_dir,
        secrets: Arc::new(KeyringStore),
        http: Default::default(),
    })
    .await?;
    if let Some(aside) = &core.open_report().moved_aside {
        errln!(
            "warning: the database could not be read ({}) and was moved to {} — it was not deleted; a new, empty one was created. Earlier backups are in {}.",
            core.open_report().reason.as_deref().unwrap_or("unknown reason"),
            aside.display(),
            core.data_status().backups
        );
    }
    match cli.command {
        Command::Providers(cmd) => providers::run(&core, cmd).await,
        Command::Ask(args) => ask::run(&core, args).await,
        Command::Chats(cmd) => chats::run(&core, cmd).await,
        Command::Backup { file } => {
            let at = core.backups().backup(file).await?;
            outln!("Backed up to {}", at.display())
        }
        Command::Export(args) => transfer::export(&core, args).await,
        Command::Import(args) => transfer::import(&core, args).await,
        Command::Search(args) => search::search(&core, args).await,
        Command::Usage(args) => usage::usage(&core, args).await,
        Command::Ledger(args) => ledger::ledger(&core, args).await,
        Command::Mcp(cmd) => mcp::run(&core, cmd).await,
        Command::Models(cmd) => models::run(&core, cmd).await,
        Command::Prompts(cmd) => library::run(&core, cmd).await,
        Command::Artifacts(cmd) => artifacts::run(&core, cmd).await,
        Command::Queue(cmd) => queue::run(&core, cmd).await,
        Command::Websearch(cmd) => websearch::run(&core, cmd).await,
        Command::Restore {
            file,
            dry_run,
            json,
        } => {
            let r = core.backups().restore(&file, dry_run).await?;
            if json {
                return print_json(&r);
            }
            out(&transfer::describe_import(&file, &r))
        }
    }
}
