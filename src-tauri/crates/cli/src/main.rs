//! `parley`: Parley's command line. The same core and the same database as the desktop app,
//! for headless chat, scripting and tests (DESIGN.md §6).

use clap::{Args, Parser, Subcommand, ValueEnum};
use parley_core::secrets::{KeyringStore, Secret};
use parley_core::{Core, CoreError, CoreOptions, NewProvider};
use parley_protocol::{
    ApprovalDecision, ErrorInfo, EventMsg, Part, ProviderKind, Role, SendOptions, SessionHistory,
    SessionId, ToolCallStatus, ToolRisk, TurnStatus,
};
use std::io::{IsTerminal, Read, Write};
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
    Providers(ProvidersCmd),
    /// Ask a question and stream the answer.
    Ask(AskArgs),
    /// List, show, rename and delete chats.
    #[command(subcommand)]
    Sessions(SessionsCmd),
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Openai,
    OpenaiResponses,
    OpenaiCompatible,
    Anthropic,
    Gemini,
    Ollama,
}

impl From<KindArg> for ProviderKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Openai => ProviderKind::Openai,
            KindArg::OpenaiResponses => ProviderKind::OpenaiResponses,
            KindArg::OpenaiCompatible => ProviderKind::OpenaiCompatible,
            KindArg::Anthropic => ProviderKind::Anthropic,
            KindArg::Gemini => ProviderKind::Gemini,
            KindArg::Ollama => ProviderKind::Ollama,
        }
    }
}

#[derive(Subcommand)]
enum ProvidersCmd {
    /// Add a provider. The key (from stdin) goes to the OS keychain, nowhere else.
    Add {
        /// A name for it, e.g. "local" or "openai".
        name: String,
        /// The wire format it speaks.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Its base URL, e.g. http://127.0.0.1:8080/v1.
        #[arg(long)]
        base_url: String,
        /// The model to use when none is given.
        #[arg(long)]
        model: Option<String>,
        /// Read the API key from standard input.
        #[arg(long)]
        key_stdin: bool,
    },
    /// List providers (keys are never shown, only whether one is saved).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the models a provider offers.
    Models {
        /// The provider's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Look for model servers running on this computer (127.0.0.1 only, the usual ports).
    Discover {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider and its key.
    Remove {
        /// The provider's name.
        name: String,
    },
}

#[derive(Args)]
struct AskArgs {
    /// The message ("-" reads it from standard input).
    text: String,
    /// Which provider to ask (default: the chat's last one, else the first configured).
    #[arg(long)]
    provider: Option<String>,
    /// Which model to ask (default: the chat's last one, else the provider's default).
    #[arg(long)]
    model: Option<String>,
    /// Continue this chat instead of starting a new one.
    #[arg(long)]
    session: Option<String>,
    /// A system prompt.
    #[arg(long)]
    system: Option<String>,
    /// Print the protocol events as JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Let the model use the built-in tools in this folder (read, search, edit files, run
    /// commands, fetch pages). Without it, no tools are offered.
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// What runs without asking. On a terminal every other call is asked about; without one,
    /// calls not covered here are denied.
    #[arg(long, value_enum)]
    approve: Option<Approve>,
}

/// What tool calls `parley ask` lets run without asking.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Approve {
    /// Calls that only read inside the workspace.
    ReadOnly,
    /// Every call (the model may change files and run commands).
    All,
}

#[derive(Subcommand)]
enum SessionsCmd {
    /// List chats, most recent first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show a chat's messages.
    Show {
        /// The chat's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rename a chat.
    Rename {
        /// The chat's id.
        id: String,
        /// The new title.
        title: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a chat (a running answer in it is stopped first).
    Delete {
        /// The chat's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A failure to report: the error and the exit code.
struct Failure {
    info: ErrorInfo,
    code: u8,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure {
            info: e.to_info(),
            code: 1,
        }
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure {
        info: ErrorInfo::new(parley_protocol::ErrorCode::InvalidInput, message, false),
        code: 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARLEY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.info.message);
            ExitCode::from(f.code)
        }
    }
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
        eprintln!(
            "warning: the database could not be read and was moved to {}; a new one was created.",
            aside.display()
        );
    }
    match cli.command {
        Command::Providers(cmd) => providers(&core, cmd).await,
        Command::Ask(args) => ask(&core, args).await,
        Command::Sessions(cmd) => sessions(&core, cmd).await,
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| invalid(format!("could not encode output: {e}")))?;
    out(&format!("{text}\n"))
}

fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`parley ... | head`) is not an error worth a message.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    Ok(())
}

async fn providers(core: &Core, cmd: ProvidersCmd) -> Result<(), Failure> {
    match cmd {
        ProvidersCmd::Add {
            name,
            kind,
            base_url,
            model,
            key_stdin,
        } => {
            let api_key = if key_stdin {
                let mut key = String::new();
                std::io::stdin()
                    .read_to_string(&mut key)
                    .map_err(|e| invalid(format!("could not read the key from stdin: {e}")))?;
                let key = key.trim().to_owned();
                if key.is_empty() {
                    return Err(invalid(
                        "--key-stdin was given but standard input was empty.",
                    ));
                }
                Some(Secret::new(key))
            } else {
                None
            };
            let info = core
                .add_provider(NewProvider {
                    name,
                    kind: kind.into(),
                    base_url,
                    default_model: model,
                    api_key,
                })
                .await?;
            let key_note = if info.has_key {
                " (key saved in the system keychain)"
            } else {
                ""
            };
            eprintln!(
                "Added provider \"{}\" at {}{key_note}.",
                info.name, info.base_url
            );
            Ok(())
        }
        ProvidersCmd::List { json } => {
            let list = core.list_providers().await?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                eprintln!("No providers yet. Add one: parley providers add NAME --kind openai-compatible --base-url URL --model MODEL");
            }
            for p in list {
                out(&format!(
                    "{}\t{}\t{}\tmodel={}\tkey={}\n",
                    p.name,
                    p.kind.as_str(),
                    p.base_url,
                    p.default_model.as_deref().unwrap_or("-"),
                    if p.has_key { "saved" } else { "none" }
                ))?;
            }
            Ok(())
        }
        ProvidersCmd::Models { name, json } => {
            let models = core.list_models(&name).await?;
            if json {
                return print_json(&models);
            }
            for m in models {
                out(&format!("{}\n", m.id))?;
            }
            Ok(())
        }
        ProvidersCmd::Discover { json } => {
            let found = core.discover_local().await?;
            if json {
                return print_json(&found);
            }
            if found.is_empty() {
                eprintln!("No model server is running on this computer (checked Ollama, LM Studio, llama.cpp, vLLM, Jan, KoboldCpp on 127.0.0.1).");
            }
            for s in found {
                let kind = s.kind.as_str();
                let added = s
                    .configured_as
                    .map(|n| format!(" (configured as \"{n}\")"))
                    .unwrap_or_default();
                out(&format!(
                    "{}\t{}\t--kind {kind}\t{} models{added}\n",
                    s.label,
                    s.base_url,
                    s.models.len()
                ))?;
            }
            Ok(())
        }
        ProvidersCmd::Remove { name } => {
            core.remove_provider(&name).await?;
            eprintln!("Removed provider \"{name}\" and its key.");
            Ok(())
        }
    }
}

/// A model-written value for the terminal: control and bidi characters made visible, long
/// values cut.
fn shown(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let visible = match c {
            '\n' => "\\n".to_owned(),
            '\t' => "\\t".to_owned(),
            c if c.is_control()
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}') =>
            {
                format!("\\u{{{:04X}}}", c as u32)
            }
            c => c.to_string(),
        };
        out.push_str(&visible);
    }
    if out.chars().count() > 2000 {
        out = out.chars().take(2000).collect::<String>() + "…";
    }
    out
}

fn status_word(s: ToolCallStatus) -> &'static str {
    match s {
        ToolCallStatus::Completed => "ran",
        ToolCallStatus::Failed => "failed",
        ToolCallStatus::Denied => "denied",
        ToolCallStatus::Cancelled => "cancelled",
        _ => "pending",
    }
}

async fn read_line(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
        }
    })
    .await
    .ok()
    .flatten()
    .filter(|l| !l.trim().is_empty())
}

async fn prompt_approval(
    name: &str,
    arguments: &str,
    risk: ToolRisk,
    reason: &str,
    can_grant: bool,
) -> ApprovalDecision {
    eprintln!("\nThe model wants to run {name} ({risk:?}): {reason}");
    eprintln!("  arguments: {}", shown(arguments));
    let choices = if can_grant {
        "[y] allow once  [s] allow for this chat  [a] always allow  [n] deny"
    } else {
        "[y] allow once  [n] deny"
    };
    loop {
        let answer = read_line(&format!("{choices} > ")).await;
        match answer.as_deref().map(str::trim) {
            Some("y") | Some("Y") => return ApprovalDecision::AllowOnce,
            Some("s") | Some("S") if can_grant => return ApprovalDecision::AllowSession,
            Some("a") | Some("A") if can_grant => return ApprovalDecision::AllowAlways,
            Some("n") | Some("N") | None => {
                let note = read_line("A note for the model (optional): ").await;
                return ApprovalDecision::Deny { note };
            }
            _ => eprintln!("Please type one of the letters shown."),
        }
    }
}

async fn ask(core: &Core, args: AskArgs) -> Result<(), Failure> {
    let text = if args.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| invalid(format!("could not read the message from stdin: {e}")))?;
        s
    } else {
        args.text
    };
    if text.trim().is_empty() {
        return Err(CoreError::InvalidInput(
            "The message is empty. Type something before sending.".into(),
        )
        .into());
    }
    let (session_id, created) = match args.session {
        Some(id) => {
            let id = SessionId(id);
            // Fails with a clear message for an unknown id.
            core.history(&id).await?;
            (id, false)
        }
        None => (core.create_session(None).await?.id, true),
    };
    if let Some(dir) = &args.workspace {
        if let Err(e) = core.set_workspace(&session_id, Some(dir)).await {
            if created {
                let _ = core.delete_session(&session_id).await;
            }
            return Err(e.into());
        }
    }
    // On a terminal the user is asked; without one, nobody is, so read-only calls need
    // `--approve read-only` (or `all`) too.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let confirm_read_only = !interactive && args.approve.is_none();
    let handle = match core
        .send(
            &session_id,
            &text,
            SendOptions {
                provider: args.provider,
                model: args.model,
                system: args.system,
                confirm_read_only,
            },
        )
        .await
    {
        Ok(h) => h,
        Err(e) => {
            if created {
                // Nothing was sent: do not leave an empty chat behind.
                let _ = core.delete_session(&session_id).await;
            }
            return Err(e.into());
        }
    };
    let mut events = handle.events;
    let color = std::io::stderr().is_terminal();
    let mut ended_with_newline = true;
    let mut result: Result<(), Failure> = Ok(());
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    loop {
        let event = tokio::select! {
            ev = events.recv() => ev,
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                core.stop(&session_id).await;
                continue;
            }
        };
        let Some(event) = event else { break };
        if args.json {
            let line = serde_json::to_string(&event)
                .map_err(|e| invalid(format!("could not encode event: {e}")))?;
            out(&format!("{line}\n"))?;
        }
        match &event.msg {
            EventMsg::TextDelta { delta, .. } if !args.json => {
                out(delta)?;
                ended_with_newline = delta.ends_with('\n');
            }
            EventMsg::ReasoningDelta { delta, .. } if !args.json => {
                if color {
                    eprint!("\x1b[2m{delta}\x1b[0m");
                } else {
                    eprint!("{delta}");
                }
            }
            EventMsg::StreamRetry {
                attempt,
                delay_ms,
                reason,
            } => eprintln!(
                "note: {} Trying again in {:.1} s (try {attempt}).",
                reason.message,
                *delay_ms as f64 / 1000.0
            ),
            EventMsg::ApprovalRequested {
                call_id,
                name,
                arguments,
                risk,
                reason,
                can_grant,
            } => {
                let decision = match (args.approve, interactive) {
                    (Some(Approve::All), _) => {
                        eprintln!("[approved by --approve all] {name} {}", shown(arguments));
                        ApprovalDecision::AllowOnce
                    }
                    (_, true) => prompt_approval(name, arguments, *risk, reason, *can_grant).await,
                    (_, false) => {
                        eprintln!(
                            "[denied] {name} {} — {reason} Nobody can be asked without a terminal; rerun with --approve all to allow it.",
                            shown(arguments)
                        );
                        ApprovalDecision::Deny {
                            note: Some("Not approved: Parley runs non-interactively and this call was not allowed in advance.".into()),
                        }
                    }
                };
                if let Err(e) = core.decide_approval(&session_id, call_id, decision) {
                    eprintln!("note: {}", e.to_info().message);
                }
            }
            EventMsg::QuestionAsked { call_id, question } => {
                let answer = if interactive {
                    eprintln!("\nThe model asks: {}", shown(question));
                    read_line("Your answer (empty to skip): ").await
                } else {
                    eprintln!("[not answered: no terminal] {}", shown(question));
                    None
                };
                if let Err(e) = core.answer_question(&session_id, call_id, answer) {
                    eprintln!("note: {}", e.to_info().message);
                }
            }
            EventMsg::ItemCompleted {
                part:
                    Part::ToolCall {
                        name,
                        arguments,
                        status,
                        ..
                    },
                ..
            } if !args.json => {
                eprintln!("[{}] {name} {}", status_word(*status), shown(arguments));
            }
            EventMsg::TurnCompleted { stop_reason, .. } => {
                if *stop_reason == Some(parley_protocol::StopReason::ToolRoundLimit) {
                    eprintln!("\nnote: stopped after the most rounds of tool calls allowed in one turn. Ask again (e.g. \"continue\") to let it go on.");
                }
                break;
            }
            EventMsg::TurnStopped { .. } => {
                eprintln!("\n(stopped; the partial answer is saved)");
                result = Err(Failure {
                    info: ErrorInfo::new(
                        parley_protocol::ErrorCode::InvalidInput,
                        "interrupted",
                        true,
                    ),
                    code: 130,
                });
                break;
            }
            EventMsg::TurnFailed { error, .. } => {
                result = Err(Failure {
                    info: error.clone(),
                    code: 1,
                });
                break;
            }
            _ => {}
        }
    }
    if !args.json && !ended_with_newline {
        out("\n")?;
    }
    if created && !args.json {
        eprintln!("(chat {session_id}; continue it with --session {session_id})");
    }
    result
}

async fn sessions(core: &Core, cmd: SessionsCmd) -> Result<(), Failure> {
    match cmd {
        SessionsCmd::List { json, limit } => {
            let list = core.list_sessions(limit, 0).await?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                eprintln!("No chats yet. Start one: parley ask \"Hello\"");
            }
            for s in list {
                out(&format!(
                    "{}\t{}\t{} messages\n",
                    s.id, s.title, s.message_count
                ))?;
            }
            Ok(())
        }
        SessionsCmd::Show { id, json } => {
            let h = core.history(&SessionId(id)).await?;
            if json {
                return print_json(&h);
            }
            out(&render_history(&h))
        }
        SessionsCmd::Rename { id, title, json } => {
            let id = SessionId(id);
            core.rename_session(&id, &title).await?;
            if json {
                return print_json(&core.history(&id).await?.session);
            }
            eprintln!("Renamed.");
            Ok(())
        }
        SessionsCmd::Delete { id, json } => {
            core.delete_session(&SessionId(id.clone())).await?;
            if json {
                return print_json(&serde_json::json!({"deleted": id}));
            }
            eprintln!("Deleted.");
            Ok(())
        }
    }
}

fn render_history(h: &SessionHistory) -> String {
    let mut s = format!("# {}\n", h.session.title);
    for m in &h.messages {
        let turn = m
            .turn_id
            .as_ref()
            .and_then(|t| h.turns.iter().find(|x| &x.id == t));
        match m.role {
            Role::User => s.push_str("\n## user\n"),
            Role::System => s.push_str("\n## system\n"),
            Role::Assistant => {
                let status = turn.map(|t| t.status);
                let label = match status {
                    Some(TurnStatus::Completed) | None => String::new(),
                    Some(st) => format!(" [{}]", st.as_str()),
                };
                s.push_str(&format!(
                    "\n## assistant ({}){label}\n",
                    m.model.as_deref().unwrap_or("?")
                ));
            }
        }
        for p in &m.parts {
            match p {
                Part::Text { text } => s.push_str(text),
                Part::Reasoning { text, .. } => {
                    s.push_str(&format!("> (reasoning) {}\n", text.replace('\n', "\n> ")))
                }
                Part::ToolCall {
                    name,
                    arguments,
                    status,
                    ..
                } => s.push_str(&format!("[tool call {name} {arguments} — {status:?}]\n")),
                Part::ToolResult {
                    output, is_error, ..
                } => s.push_str(&format!(
                    "[tool result{}: {output}]\n",
                    if *is_error { " (error)" } else { "" }
                )),
                Part::Image { mime, .. } => s.push_str(&format!("[image {mime}]\n")),
                Part::File { name, .. } => s.push_str(&format!("[file {name}]\n")),
            }
        }
        if !s.ends_with('\n') {
            s.push('\n');
        }
        if m.role == Role::Assistant {
            if let Some(err) = turn.and_then(|t| t.error.as_ref()) {
                s.push_str(&format!("(error: {})\n", err.message));
            }
        }
    }
    s
}
