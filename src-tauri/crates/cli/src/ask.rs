//! `parley ask`: one message, its answer streamed; tools asked about on a terminal and
//! decided in advance without one (the terminal prompts are in `prompts.rs`).

use crate::prompts::{prompt_approval, read_line};
use crate::term::{self, out};
use crate::{invalid, Failure};
use clap::{Args, ValueEnum};
use parley_core::Core;
use parley_core::CoreError;
use parley_protocol::{
    visible, ApprovalDecision, ChatId, ErrorInfo, EventMsg, MessageId, Part, SendOptions,
    ToolCallStatus,
};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

#[derive(Args)]
pub struct AskArgs {
    /// The message ("-" reads it from standard input); not with --regenerate.
    #[arg(required_unless_present = "regenerate")]
    pub(crate) text: Option<String>,
    /// Edit this earlier message of yours (with --chat): the text becomes a new version of
    /// it, answered anew; the old version and what followed it stay in the chat's tree.
    #[arg(
        long,
        value_name = "MSG",
        requires = "chat",
        conflicts_with = "regenerate"
    )]
    pub(crate) edit: Option<String>,
    /// Answer again (with --chat): the last answer, or answer MSG; a new version of it, the
    /// earlier one kept. --model/--provider pick another model.
    #[arg(long, value_name = "MSG", num_args = 0..=1, default_missing_value = "", requires = "chat")]
    pub(crate) regenerate: Option<String>,
    /// Which provider to ask (default: the chat's last one, else the first configured).
    /// Side by side: one for all the models, or one per --model, in the same order.
    #[arg(long)]
    pub(crate) provider: Vec<String>,
    /// Which model to ask (default: the chat's last one, else the provider's default).
    /// Repeat it to compare 2–4 models side by side (their answers are versions of one answer).
    #[arg(long)]
    pub(crate) model: Vec<String>,
    /// Continue this chat instead of starting a new one (`--session` still works).
    #[arg(long, alias = "session")]
    pub(crate) chat: Option<String>,
    /// A system prompt.
    #[arg(long)]
    pub(crate) system: Option<String>,
    /// Print the protocol events as JSON lines instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Let the model use the built-in tools in this folder (read, search, edit files, run
    /// commands, fetch pages). Without it, no tools are offered but web search, when a search
    /// service is set (`parley websearch`).
    #[arg(long, value_name = "DIR")]
    pub(crate) workspace: Option<PathBuf>,
    /// Offer the tools of this MCP server too (repeatable; needs a workspace: its roots). Its
    /// calls ask like any tool with effects.
    #[arg(long, value_name = "SERVER")]
    pub(crate) mcp: Vec<String>,
    /// Let the MCP servers ask the model to answer something (sampling) during this run; each
    /// request is shown on the terminal and asks first (without one, it is declined).
    #[arg(long)]
    pub(crate) allow_sampling: bool,
    /// What runs without asking. On a terminal every other call is asked about; without one,
    /// calls not covered here are denied.
    #[arg(long, value_enum)]
    pub(crate) approve: Option<Approve>,
    /// Attach a file to the message (repeatable): an image (metadata stripped, stored once),
    /// a text or code file, or a PDF (its text). Not with --regenerate.
    #[arg(long, value_name = "FILE", conflicts_with = "regenerate")]
    pub(crate) attach: Vec<PathBuf>,
    /// When the chat is answering (in the app, or another `parley ask`), queue the message
    /// instead of refusing it: the Parley app sends it when that answer ends (with --chat).
    #[arg(
        long,
        requires = "chat",
        conflicts_with_all = ["edit", "regenerate", "attach", "system", "workspace", "mcp", "approve", "allow_sampling"]
    )]
    pub(crate) queue: bool,
    /// Print the model's text and reasoning exactly as received, terminal escape sequences
    /// included. Without it, escapes (clipboard writes, titles, erasing) are shown, not obeyed.
    #[arg(long)]
    pub(crate) raw: bool,
}

/// What tool calls `parley ask` lets run without asking.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Approve {
    /// Calls that only read inside the workspace.
    ReadOnly,
    /// Calls a grant covers ("always allow" saved earlier, or given in this chat); without a
    /// terminal every other call is denied, on one it is asked about.
    Granted,
    /// Every call (the model may change files and run commands).
    All,
}

/// A model-written value for a log line (not for a decision: see `review`): control and bidi
/// characters made visible, long values cut with the length that is not shown.
fn shown(s: &str) -> String {
    // Hidden characters are marked by the one shared table (the window uses the same);
    // line breaks and tabs are escaped so a value stays on its line.
    let out = visible::mark_hidden(s)
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    let chars = out.chars().count();
    if chars > LOG_CHARS {
        let cut: String = out.chars().take(LOG_CHARS).collect();
        return format!("{cut}… ({} more characters)", chars - LOG_CHARS);
    }
    out
}

/// How much of a value a log line shows.
const LOG_CHARS: usize = 2000;

fn status_word(s: ToolCallStatus) -> &'static str {
    match s {
        ToolCallStatus::Completed => "ran",
        ToolCallStatus::Failed => "failed",
        ToolCallStatus::Denied => "denied",
        ToolCallStatus::Cancelled => "cancelled",
        _ => "pending",
    }
}

pub async fn run(core: &Core, args: AskArgs) -> Result<(), Failure> {
    if args.side_by_side() {
        return crate::compare::run(core, &args).await;
    }
    let text = message_text(&args)?;
    // Every file is attached before a chat is made or anything sent.
    let attachments = crate::attachments::attach_all(core, &args.attach, args.json).await?;
    let (chat_id, created) = open_chat(core, &args).await?;
    if args.allow_sampling {
        core.mcp().sampler().allow_here();
    }
    // On a terminal the user is asked; without one, nobody is.
    let interactive = std::io::stdin().is_terminal() && term::stderr_is_terminal();
    print_estimate(core, &args, (&chat_id, &text, &attachments), interactive).await?;
    let handle = match start(core, &args, (&chat_id, &text, attachments), interactive).await {
        Ok(h) => h,
        Err(CoreError::Busy) if args.queue => return queue(core, &args, &chat_id, &text).await,
        Err(e) => {
            if created {
                // Nothing was sent: do not leave an empty chat behind.
                let _ = core.chats().delete_chat(&chat_id).await;
            }
            return Err(e.into());
        }
    };
    let asked = Asked {
        core,
        args: &args,
        chat_id: &chat_id,
        interactive,
        color: term::stderr_is_terminal(),
    };
    let result = follow(&asked, handle.events).await;
    // The MCP servers the turn started end with it (each local one's process group too), and
    // so does the built-in engine.
    core.mcp().close_all().await;
    core.models().stop_engine().await;
    if created && !args.json {
        errln!("(chat {chat_id}; continue it with --chat {chat_id})");
    }
    result
}

/// `--queue` while the chat answers: the message waits in the chat's queue.
async fn queue(core: &Core, args: &AskArgs, chat_id: &ChatId, text: &str) -> Result<(), Failure> {
    let queued = core
        .queue()
        .add(chat_id, text, args.one_provider(), args.one_model())
        .await?
        .queued;
    let position = queued.len();
    if args.json {
        return term::json_line(&serde_json::json!({
            "session_id": chat_id,
            "queued": queued.last(),
            "position": position,
        }));
    }
    errln!(
        "The chat is answering: your message is queued (number {position}). If the Parley app is the one answering, it sends it when the answer ends; otherwise it waits in the chat's queue (`parley queue list {chat_id}`; the app sends it from there)."
    );
    Ok(())
}

/// The message: the argument, or standard input for "-"; checked against --regenerate.
pub(crate) fn message_text(args: &AskArgs) -> Result<String, Failure> {
    let text = match args.text.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| invalid(format!("could not read the message from stdin: {e}")))?;
            s
        }
        Some(t) => t.to_owned(),
        None => String::new(),
    };
    if args.text.is_some() && args.regenerate.is_some() {
        return Err(invalid(
            "--regenerate answers an existing message again: give no text with it",
        ));
    }
    if args.regenerate.is_none() && text.trim().is_empty() {
        return Err(CoreError::InvalidInput(
            "The message is empty. Type something before sending.".into(),
        )
        .into());
    }
    Ok(text)
}

/// The chat asked in (`--chat`, or a new one) with its workspace set; whether it is new.
pub(crate) async fn open_chat(core: &Core, args: &AskArgs) -> Result<(ChatId, bool), Failure> {
    let (chat_id, created) = match &args.chat {
        Some(id) => {
            let id = ChatId(id.clone());
            // Fails with a clear message for an unknown id (without loading the chat).
            core.chats().get_chat(&id).await?;
            (id, false)
        }
        None => (core.chats().create_chat(None).await?.id, true),
    };
    if let Some(dir) = &args.workspace {
        if let Err(e) = core.chats().set_workspace(&chat_id, Some(dir)).await {
            if created {
                let _ = core.chats().delete_chat(&chat_id).await;
            }
            return Err(e.into());
        }
    }
    if let Err(e) = crate::mcp::offer_servers(core, &chat_id, &args.mcp).await {
        if created {
            let _ = core.chats().delete_chat(&chat_id).await;
        }
        return Err(e);
    }
    Ok((chat_id, created))
}

/// The options of the send, from the arguments.
fn send_options(args: &AskArgs, interactive: bool, attachments: Vec<Part>) -> SendOptions {
    // Without a terminal read-only calls need `--approve read-only` (or `all`) too, and
    // nothing runs unasked, grants included: a grant was given for a person watching, not
    // for every script that starts `parley`.
    let confirm_read_only = !interactive && matches!(args.approve, None | Some(Approve::Granted));
    let ignore_grants = !interactive && args.approve != Some(Approve::Granted);
    SendOptions {
        provider: args.one_provider(),
        model: args.one_model(),
        system: args.system.clone(),
        confirm_read_only,
        ignore_grants,
        revision: None,
        attachments,
    }
}

/// A new message's context estimate, before it is sent — the same figures as the window's
/// gauge. With `--json` it is the first line, `{"session_id": …, "context": {…}}`; without,
/// a message that will not fit is warned about on stderr (the send goes on, as the window's
/// "Send anyway"). A chat the estimate cannot be made for says nothing (the send says why).
async fn print_estimate(
    core: &Core,
    args: &AskArgs,
    (chat_id, text, attachments): (&ChatId, &str, &[Part]),
    interactive: bool,
) -> Result<(), Failure> {
    if args.edit.is_some() || args.regenerate.is_some() {
        return Ok(());
    }
    let options = send_options(args, interactive, attachments.to_vec());
    let Ok(context) = core.chats().estimate_context(chat_id, text, &options).await else {
        return Ok(());
    };
    if args.json {
        return term::json_line(&serde_json::json!({
            "session_id": chat_id,
            "context": context,
        }));
    }
    if context.draft_too_long {
        errln!(
            "Warning: this message alone is about {} tokens; {} takes about {} for a request's messages ({} window). It will likely be refused or cut: send less (fewer or smaller --attach files), or pick a model with a larger window.",
            context.draft_tokens, context.model, context.budget, context.window
        );
    } else if context.left_out_by_draft > 0 {
        errln!(
            "Note: with this message the {} oldest messages of the chat no longer fit {}'s window and are left out of the request.",
            context.left_out, context.model
        );
    }
    Ok(())
}

/// Sends the message (or the edit, or asks again) and returns the running turn.
async fn start(
    core: &Core,
    args: &AskArgs,
    (chat_id, text, attachments): (&ChatId, &str, Vec<Part>),
    interactive: bool,
) -> Result<parley_core::TurnHandle, CoreError> {
    let options = send_options(args, interactive, attachments);
    let chats = core.chats();
    match (&args.edit, &args.regenerate) {
        (Some(m), _) => {
            chats
                .edit_message(chat_id, &MessageId(m.clone()), text, options)
                .await
        }
        (None, Some(m)) => {
            let answer = (!m.is_empty()).then(|| MessageId(m.clone()));
            chats.regenerate(chat_id, answer.as_ref(), options).await
        }
        (None, None) => chats.send_message(chat_id, text, options).await,
    }
}

/// One `parley ask`: where it asks and how.
struct Asked<'a> {
    core: &'a Core,
    args: &'a AskArgs,
    chat_id: &'a ChatId,
    interactive: bool,
    /// Reasoning is shown dim on a terminal.
    color: bool,
}

/// What to do after an event.
enum Next {
    Go,
    Done(Result<(), Failure>),
}

/// Shows the turn's events as they come until it ends; Ctrl-C stops the turn (its partial
/// answer is saved).
async fn follow(
    asked: &Asked<'_>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<parley_protocol::Event>,
) -> Result<(), Failure> {
    let mut ended_with_newline = true;
    let mut result: Result<(), Failure> = Ok(());
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    // On a terminal, what an MCP server asks the person is asked here, between events.
    let mut answerer = asked.interactive.then(|| asked.core.mcp().asks().attach());
    loop {
        let event = tokio::select! {
            ev = events.recv() => ev,
            id = async {
                match answerer.as_mut() {
                    Some(a) => a.news.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                match id {
                    Ok(id) => crate::mcp_asks::answer_on_terminal(asked.core, &id).await,
                    // Questions came faster than they were read: every one still waiting is asked.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        for ask in asked.core.mcp().asks().all() {
                            crate::mcp_asks::answer_on_terminal(asked.core, &ask.id).await;
                        }
                    }
                    Err(_) => {}
                }
                continue;
            }
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                asked.core.chats().stop_turn(asked.chat_id).await;
                continue;
            }
        };
        let Some(event) = event else { break };
        if asked.args.json {
            term::json_line(&event)?;
        }
        match on_event(asked, &event.msg, &mut ended_with_newline).await? {
            Next::Go => {}
            Next::Done(r) => {
                result = r;
                break;
            }
        }
    }
    if !asked.args.json && !ended_with_newline {
        out("\n")?;
    }
    result
}

/// Shows one event (or answers it: an approval, a question); says whether the turn ended.
async fn on_event(
    asked: &Asked<'_>,
    msg: &EventMsg,
    ended_with_newline: &mut bool,
) -> Result<Next, Failure> {
    let args = asked.args;
    match msg {
        EventMsg::TextDelta { delta, .. } if !args.json => {
            // --raw: exactly as received, escapes included (the user asked for it).
            if args.raw {
                term::out_exact(delta)?;
            } else {
                out(delta)?;
            }
            *ended_with_newline = delta.ends_with('\n');
        }
        EventMsg::ReasoningDelta { delta, .. } if !args.json => {
            if args.raw {
                term::err_exact(delta);
            } else if asked.color {
                term::err_dim(delta);
            } else {
                term::err(delta);
            }
        }
        EventMsg::StreamRetry {
            attempt,
            delay_ms,
            reason,
        } => errln!(
            "note: {} Trying again in {:.1} s (try {attempt}).",
            reason.message,
            *delay_ms as f64 / 1000.0
        ),
        EventMsg::ApprovalRequested { call_id, .. } => {
            let decision = approval(asked, msg).await;
            if let Err(e) = asked
                .core
                .approvals()
                .decide_approval(asked.chat_id, call_id, decision)
            {
                errln!("note: {}", e.to_info().message);
            }
        }
        EventMsg::QuestionAsked { call_id, question } => {
            let answer = if asked.interactive {
                errln!("\nThe model asks: {}", shown(question));
                read_line("Your answer (empty to skip): ").await
            } else {
                errln!("[not answered: no terminal] {}", shown(question));
                None
            };
            if let Err(e) = asked
                .core
                .approvals()
                .answer_question(asked.chat_id, call_id, answer)
            {
                errln!("note: {}", e.to_info().message);
            }
        }
        EventMsg::ItemCompleted { part, .. } if !args.json => show_item(part),
        _ => return Ok(turn_end(msg)),
    }
    Ok(Next::Go)
}

/// A line for a finished part: a tool call with its status, an image a tool returned (stored;
/// sent to the model with the result).
fn show_item(part: &Part) {
    match part {
        Part::ToolCall {
            name,
            arguments,
            status,
            ..
        } => errln!("[{}] {name} {}", status_word(*status), shown(arguments)),
        Part::Image {
            mime,
            width,
            height,
            sha256,
            ..
        } => errln!(
            "[image {width}×{height} {}, stored as {}]",
            shown(mime),
            sha256.get(..12).unwrap_or_default()
        ),
        _ => {}
    }
}

/// Whether the turn ended, and how.
fn turn_end(msg: &EventMsg) -> Next {
    match msg {
        EventMsg::TurnCompleted { stop_reason, .. } => {
            if *stop_reason == Some(parley_protocol::StopReason::ToolRoundLimit) {
                errln!("\nnote: stopped after the most rounds of tool calls allowed in one turn. Ask again (e.g. \"continue\") to let it go on.");
            }
            Next::Done(Ok(()))
        }
        EventMsg::TurnStopped { .. } => {
            errln!("\n(stopped; the partial answer is saved)");
            Next::Done(Err(Failure {
                info: ErrorInfo::new(
                    parley_protocol::ErrorCode::InvalidInput,
                    "interrupted",
                    true,
                ),
                code: 130,
            }))
        }
        EventMsg::TurnFailed { error, .. } => Next::Done(Err(Failure {
            info: error.clone(),
            code: 1,
        })),
        _ => Next::Go,
    }
}

/// The decision on an approval request: asked on a terminal; without one, decided by
/// `--approve` (a call that needs a person is never allowed unasked).
async fn approval(asked: &Asked<'_>, msg: &EventMsg) -> ApprovalDecision {
    let EventMsg::ApprovalRequested {
        name,
        arguments,
        risk,
        reason,
        can_grant,
        in_person,
        ..
    } = msg
    else {
        return ApprovalDecision::Deny { note: None };
    };
    let nobody = |why: &str, note: &str| {
        errln!("[denied] {name} {} — {reason} {why}", shown(arguments));
        ApprovalDecision::Deny {
            note: Some(note.into()),
        }
    };
    const IN_PERSON: &str =
        "Not approved: this call needs a person at the prompt, and nobody was asked.";
    match (asked.args.approve, asked.interactive) {
        (Some(Approve::All), false) if *in_person => nobody(
            "--approve all never covers it; run parley ask in a terminal to decide it yourself.",
            IN_PERSON,
        ),
        (Some(Approve::All), _) if !*in_person => {
            errln!("[approved by --approve all] {name} {}", shown(arguments));
            ApprovalDecision::AllowOnce
        }
        (_, true) => prompt_approval(name, arguments, *risk, reason, *can_grant).await,
        (_, false) if *in_person => nobody(
            "Nobody can be asked without a terminal, and only a person at a terminal can allow it.",
            IN_PERSON,
        ),
        (_, false) => nobody(
            "Nobody can be asked without a terminal; rerun with --approve granted to let saved grants apply, or --approve all to allow it.",
            "Not approved: Parley runs non-interactively and this call was not allowed in advance.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    /// The terminal shows hidden characters with the shared table's markers (the same the
    /// window shows) and keeps each value on its line.
    #[test]
    fn values_are_shown_with_hidden_characters_marked_on_one_line() {
        for (input, want) in [
            ("ls -la", "ls -la"),
            ("a\nb\tc", "a\\nb\\tc"),
            ("rm -rf \u{202E}/ fdp", "rm -rf ⟦U+202E⟧/ fdp"),
            ("\u{1b}[2J\r", "⟦U+001B⟧[2J⟦U+000D⟧"),
            ("\u{E0041}smuggled", "⟦U+E0041⟧smuggled"),
            ("x\u{FE0F}\u{2066}", "x⟦U+FE0F⟧⟦U+2066⟧"),
        ] {
            assert_eq!(shown(input), want, "{input:?}");
        }
        let long = shown(&"a".repeat(3000));
        assert!(long.starts_with(&"a".repeat(2000)));
        assert!(long.ends_with("… (1000 more characters)"), "{long}");
    }
}
