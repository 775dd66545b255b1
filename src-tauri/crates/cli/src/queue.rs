//! `parley queue`: the messages waiting in a chat's queue (queued with `parley ask --queue`, or
//! in the window while it answered): list them, take one off.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::ChatId;

#[derive(Subcommand)]
pub enum QueueCmd {
    /// The chat's queued messages, in the order they go, and why they wait if they do.
    List {
        chat: String,
        #[arg(long)]
        json: bool,
    },
    /// Take a message off the chat's queue: its number in `list`, or its id.
    Remove { chat: String, message: String },
}

pub async fn run(core: &Core, cmd: QueueCmd) -> Result<(), Failure> {
    match cmd {
        QueueCmd::List { chat, json } => {
            let chat = ChatId(chat);
            core.chats().get_chat(&chat).await?;
            let state = core.queue().state(&chat).await?;
            if json {
                return term::json(&state);
            }
            if state.queued.is_empty() {
                errln!("Nothing is queued in this chat.");
            }
            if let Some(why) = &state.held {
                errln!("{}", field(why));
            }
            for (i, m) in state.queued.iter().enumerate() {
                let text: String = m.text.chars().take(70).collect();
                let more = if m.text.chars().count() > 70 {
                    "…"
                } else {
                    ""
                };
                outln!("{:>3}  {}  {}{more}", i + 1, m.id, field(&text))?;
            }
            Ok(())
        }
        QueueCmd::Remove { chat, message } => {
            let chat = ChatId(chat);
            let queued = core.queue().list(&chat).await?;
            let by_number = message.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
            let id = match by_number.and_then(|i| queued.get(i)) {
                Some(m) => m.id.clone(),
                None if queued.iter().any(|m| m.id == message) => message,
                None => {
                    return Err(invalid(format!(
                        "No queued message {} in this chat: `parley queue list` shows them.",
                        field(&message)
                    )))
                }
            };
            let left = core.queue().remove(&chat, &id).await?;
            errln!("Removed; {} still queued.", left.queued.len());
            Ok(())
        }
    }
}
