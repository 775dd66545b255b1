//! `parley sessions list|show|rename|delete`.

use crate::{out, print_json, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{Part, Role, SessionHistory, SessionId, TurnStatus};

#[derive(Subcommand)]
pub enum SessionsCmd {
    /// List chats, most recent first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// How many to list (no upper cap).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// How many of the most recent to skip (for paging).
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Show a chat's messages.
    Show {
        /// The chat's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Print text exactly as stored, terminal escape sequences included (by default they
        /// are shown, not obeyed).
        #[arg(long)]
        raw: bool,
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

pub async fn run(core: &Core, cmd: SessionsCmd) -> Result<(), Failure> {
    match cmd {
        SessionsCmd::List {
            json,
            limit,
            offset,
        } => {
            // One more than asked says whether another page exists.
            let mut list = core
                .chats()
                .list_sessions(limit.saturating_add(1), offset)
                .await?;
            let more = list.len() > limit as usize;
            list.truncate(limit as usize);
            if json {
                return print_json(&list);
            }
            if list.is_empty() && offset == 0 {
                eprintln!("No chats yet. Start one: parley ask \"Hello\"");
            } else if list.is_empty() {
                eprintln!("No chats after the first {offset}.");
            }
            for s in &list {
                out(&format!(
                    "{}\t{}\t{} messages\n",
                    s.id, s.title, s.message_count
                ))?;
            }
            if more {
                let next = u64::from(offset) + list.len() as u64;
                eprintln!("More chats follow: parley sessions list --offset {next}");
            }
            Ok(())
        }
        SessionsCmd::Show { id, json, raw } => {
            let h = core.history().full_history(&SessionId(id)).await?;
            if json {
                return print_json(&h);
            }
            let text = render_history(&h);
            if raw {
                out(&text)
            } else {
                out(&parley_protocol::visible::terminal_safe(&text))
            }
        }
        SessionsCmd::Rename { id, title, json } => {
            let id = SessionId(id);
            core.chats().rename_session(&id, &title).await?;
            if json {
                return print_json(&core.history().full_history(&id).await?.session);
            }
            eprintln!("Renamed.");
            Ok(())
        }
        SessionsCmd::Delete { id, json } => {
            core.chats().delete_session(&SessionId(id.clone())).await?;
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
