//! `parley ask --model A --model B` (or `--provider`s): side by side. One message answered by
//! 2–4 models at once; each answer is printed whole when it ends, under its model's name, with
//! its tokens (or its error) — their streams interleave, so they are not printed as they come
//! (`--json` prints every event as it comes, each carrying its answer's id). The answers are
//! versions of one answer in the chat: the window's switcher shows them, and the chat goes on
//! from the first unless another is chosen. The columns answer without tools. Exit codes: 0
//! when at least one answer completed or stopped, 1 when every one failed, 130 on Ctrl+C.

use crate::ask::{message_text, open_chat, AskArgs};
use crate::term::{self, field, out};
use crate::{invalid, Failure};
use parley_core::Core;
use parley_protocol::{
    ApprovalDecision, ChatId, EventMsg, MessageId, ModelChoice, SendOptions, COMPARE_MAX,
};
use std::collections::HashMap;

/// A column as it streams: whose it is and the text so far.
#[derive(Default)]
struct Column {
    name: String,
    text: String,
}

/// Which models `--provider` and `--model` ask (several: side by side).
impl AskArgs {
    /// The provider asked, when one is.
    pub(crate) fn one_provider(&self) -> Option<String> {
        self.provider.first().cloned()
    }

    /// The model asked, when one is.
    pub(crate) fn one_model(&self) -> Option<String> {
        self.model.first().cloned()
    }

    /// Whether several models are asked side by side.
    pub(crate) fn side_by_side(&self) -> bool {
        self.model.len() > 1 || self.provider.len() > 1
    }
}

pub(crate) async fn run(core: &Core, args: &AskArgs) -> Result<(), Failure> {
    refuse_options(args)?;
    let models = choices(args)?;
    let text = message_text(args)?;
    let attachments = crate::attachments::attach_all(core, &args.attach, args.json).await?;
    let (chat_id, created) = open_chat(core, args).await?;
    let options = SendOptions {
        system: args.system.clone(),
        confirm_read_only: true,
        ignore_grants: true,
        attachments,
        ..SendOptions::default()
    };
    let handle = match core.chats().compare(&chat_id, &text, models, options).await {
        Ok(h) => h,
        Err(e) => {
            if created {
                let _ = core.chats().delete_chat(&chat_id).await;
            }
            return Err(e.into());
        }
    };
    let result = follow(core, args, &chat_id, handle).await;
    core.mcp().close_all().await;
    core.models().stop_engine().await;
    if created && !args.json {
        errln!(
            "(chat {chat_id}; continue it with --chat {chat_id}: it goes on from the first answer)"
        );
    }
    result
}

/// What side by side cannot take.
fn refuse_options(args: &AskArgs) -> Result<(), Failure> {
    let taken = [
        (args.edit.is_some(), "--edit"),
        (args.regenerate.is_some(), "--regenerate"),
        (args.queue, "--queue"),
        (args.workspace.is_some(), "--workspace"),
        (!args.mcp.is_empty(), "--mcp"),
        (args.approve.is_some(), "--approve"),
        (args.allow_sampling, "--allow-sampling"),
    ];
    match taken.iter().find(|(on, _)| *on) {
        Some((_, name)) => Err(invalid(format!(
            "{name} is not for side by side (several --model or --provider): ask one model at a time for that."
        ))),
        None => Ok(()),
    }
}

/// The models: one --provider for all, or one per --model in order; --providers alone
/// compare their default models.
fn choices(args: &AskArgs) -> Result<Vec<ModelChoice>, Failure> {
    let (p, m) = (&args.provider, &args.model);
    let pairs: Vec<ModelChoice> = if m.len() > 1 && p.len() <= 1 {
        m.iter()
            .map(|model| ModelChoice {
                provider: p.first().cloned(),
                model: Some(model.clone()),
            })
            .collect()
    } else if p.len() > 1 && m.len() <= 1 {
        p.iter()
            .map(|provider| ModelChoice {
                provider: Some(provider.clone()),
                model: m.first().cloned(),
            })
            .collect()
    } else if p.len() == m.len() {
        p.iter()
            .zip(m)
            .map(|(provider, model)| ModelChoice {
                provider: Some(provider.clone()),
                model: Some(model.clone()),
            })
            .collect()
    } else {
        return Err(invalid(format!(
            "{} --provider for {} --model: give one --provider for all, or one per --model in the same order.",
            p.len(),
            m.len()
        )));
    };
    if pairs.len() > COMPARE_MAX {
        return Err(invalid(format!(
            "Side by side compares at most {COMPARE_MAX} models."
        )));
    }
    Ok(pairs)
}

/// Prints each answer when it ends; Ctrl+C stops them all. Fails only when every one failed.
async fn follow(
    core: &Core,
    args: &AskArgs,
    chat_id: &ChatId,
    mut handle: parley_core::CompareHandle,
) -> Result<(), Failure> {
    let mut columns: HashMap<MessageId, Column> = HashMap::new();
    let (mut left, mut failures) = (handle.columns.len(), Vec::new());
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    while left > 0 {
        let event = tokio::select! {
            ev = handle.events.recv() => ev,
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                core.chats().stop_turn(chat_id).await;
                continue;
            }
        };
        let Some(event) = event else { break };
        if args.json {
            term::json_line(&event)?;
        }
        if event.msg.is_turn_end() {
            left -= 1;
        }
        if let Some(e) = on_event(core, args, chat_id, &handle, &mut columns, event.msg).await? {
            failures.push(e);
        }
    }
    if interrupted {
        return Err(Failure {
            info: parley_protocol::ErrorInfo::new(
                parley_protocol::ErrorCode::InvalidInput,
                "interrupted",
                true,
            ),
            code: 130,
        });
    }
    match failures.len() == handle.columns.len() {
        true => Err(failures.remove(0)),
        false => Ok(()),
    }
}

/// Keeps a column's text; prints it when it ends; declines approvals. A failed column's
/// error is returned.
async fn on_event(
    core: &Core,
    args: &AskArgs,
    chat_id: &ChatId,
    handle: &parley_core::CompareHandle,
    columns: &mut HashMap<MessageId, Column>,
    msg: EventMsg,
) -> Result<Option<Failure>, Failure> {
    let answer_of = |turn: &parley_protocol::TurnId| {
        handle
            .columns
            .iter()
            .find(|(t, _)| t == turn)
            .map(|(_, m)| m.clone())
    };
    match msg {
        EventMsg::TurnStarted {
            assistant_message_id,
            provider,
            model,
            ..
        } => {
            let c = columns.entry(assistant_message_id).or_default();
            c.name = format!("{model} · {provider}");
        }
        EventMsg::TextDelta {
            message_id, delta, ..
        } => {
            columns.entry(message_id).or_default().text.push_str(&delta);
        }
        EventMsg::ApprovalRequested { call_id, name, .. } => {
            let note =
                Some("Side by side from the command line runs no tool that asks first.".to_owned());
            let _ = core.approvals().decide_approval(
                chat_id,
                &call_id,
                ApprovalDecision::Deny { note },
            );
            errln!(
                "Declined {} (side by side runs no tool that asks).",
                field(&name)
            );
        }
        EventMsg::TurnCompleted { turn_id, usage, .. } => {
            let tokens =
                usage.map(|u| format!(" ({} in · {} out tokens)", u.input_tokens, u.output_tokens));
            print_column(
                args,
                columns,
                answer_of(&turn_id),
                &tokens.unwrap_or_default(),
            )?;
        }
        EventMsg::TurnStopped { turn_id } => {
            print_column(args, columns, answer_of(&turn_id), " (stopped)")?;
        }
        EventMsg::TurnFailed { turn_id, error } => {
            print_column(args, columns, answer_of(&turn_id), " (failed)")?;
            if !args.json {
                errln!("{}", field(&error.message));
            }
            return Ok(Some(Failure {
                info: error,
                code: 1,
            }));
        }
        _ => {}
    }
    Ok(None)
}

/// One column's answer under its model's name.
fn print_column(
    args: &AskArgs,
    columns: &HashMap<MessageId, Column>,
    answer: Option<MessageId>,
    note: &str,
) -> Result<(), Failure> {
    if args.json {
        return Ok(());
    }
    let Some(c) = answer.as_ref().and_then(|a| columns.get(a)) else {
        return Ok(());
    };
    out(&format!("── {}{note} ──\n", c.name))?;
    if !c.text.is_empty() {
        if args.raw {
            term::out_exact(&c.text)?;
        } else {
            out(&c.text)?;
        }
        out("\n")?;
    }
    out("\n")
}
