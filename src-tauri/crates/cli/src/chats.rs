//! `parley chats …` (`sessions` is kept as an alias): list, show, rename, delete; a chat's
//! tree printed and steered (`tree|fork|rewind|switch|pin|archive`); retitle; the imported
//! system prompt.

use crate::term::{self, field, out};
use crate::Failure;
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{ChatHistory, ChatId, ChatSort, ChatTree, MessageId, Part, Role, TurnStatus};

#[derive(Subcommand)]
pub enum ChatsCmd {
    /// List chats, most recent first (or by `--sort`).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// How many to list (no upper cap).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// How many to skip (for paging).
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// The order: `updated` (most recently active first), `created` (newest first) or
        /// `title` (A to Z).
        #[arg(long, value_enum, default_value_t = Sort::Updated)]
        sort: Sort,
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
    /// Show a chat's whole tree: every version of every message, the selected path marked.
    Tree {
        /// The chat's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy a chat up to a message into a new chat (it links back to this one).
    Fork {
        /// The chat's id.
        id: String,
        /// The last message to copy.
        message: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rewind a chat to a message; what came after stays in its tree as a branch.
    Rewind {
        /// The chat's id.
        id: String,
        /// The message that becomes the last one shown.
        message: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show another version of a message (one of its siblings in the tree).
    Switch {
        /// The chat's id.
        id: String,
        /// The version to show.
        message: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pin a chat to the top of the list (--off unpins).
    Pin {
        /// The chat's id.
        id: String,
        /// Unpin.
        #[arg(long)]
        off: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give a chat a new title written by a model (the title model of Settings, else the
    /// chat's own); it replaces any title, yours included.
    Retitle {
        /// The chat's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn on the system prompt an imported chat came with (it is kept inactive until you
    /// do), or discard it.
    System {
        /// The chat's id.
        id: String,
        /// Discard it instead.
        #[arg(long)]
        discard: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Archive a chat (--off brings it back).
    Archive {
        /// The chat's id.
        id: String,
        /// Unarchive.
        #[arg(long)]
        off: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(core: &Core, cmd: ChatsCmd) -> Result<(), Failure> {
    match cmd {
        ChatsCmd::List {
            json,
            limit,
            offset,
            sort,
        } => list(core, json, (limit, offset), sort.into()).await,
        ChatsCmd::Show { id, json, raw } => show(core, ChatId(id), json, raw).await,
        ChatsCmd::Rename { id, title, json } => {
            let id = ChatId(id);
            core.chats().rename_chat(&id, &title).await?;
            if json {
                return term::json(&core.history().full_history(&id).await?.session);
            }
            errln!("Renamed.");
            Ok(())
        }
        ChatsCmd::Tree { id, json } => show_tree(core, ChatId(id), json).await,
        ChatsCmd::Fork { id, message, json } => {
            fork(core, ChatId(id), MessageId(message), json).await
        }
        ChatsCmd::Rewind { id, message, json } => {
            let id = ChatId(id);
            core.chats().rewind(&id, &MessageId(message), None).await?;
            done(
                core,
                id,
                json,
                "Rewound; what came after is kept as a branch (parley chats tree).",
            )
            .await
        }
        ChatsCmd::Switch { id, message, json } => {
            let id = ChatId(id);
            core.chats()
                .switch_branch(&id, &MessageId(message), None)
                .await?;
            done(core, id, json, "Switched.").await
        }
        ChatsCmd::Pin { id, off, json } => {
            let id = ChatId(id);
            core.chats().set_pinned(&id, !off, None).await?;
            let said = if off { "Unpinned." } else { "Pinned." };
            done(core, id, json, said).await
        }
        ChatsCmd::Retitle { id, json } => {
            let id = ChatId(id);
            let title = core.chats().retitle(&id).await?;
            if json {
                return term::json(&core.chats().get_chat(&id).await?);
            }
            outln!("{}", field(&title))
        }
        ChatsCmd::System { id, discard, json } => {
            imported_system(core, ChatId(id), discard, json).await
        }
        ChatsCmd::Archive { id, off, json } => {
            let id = ChatId(id);
            core.chats().set_archived(&id, !off, None).await?;
            let said = if off { "Unarchived." } else { "Archived." };
            done(core, id, json, said).await
        }
        ChatsCmd::Delete { id, json } => delete(core, id, json).await,
    }
}

/// `--sort`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Sort {
    Updated,
    Created,
    Title,
}

impl From<Sort> for ChatSort {
    fn from(s: Sort) -> ChatSort {
        match s {
            Sort::Updated => ChatSort::Updated,
            Sort::Created => ChatSort::Created,
            Sort::Title => ChatSort::Title,
        }
    }
}

/// `chats list`: a page of chats in `sort`'s order; says when another page follows.
async fn list(
    core: &Core,
    json: bool,
    (limit, offset): (u32, u32),
    sort: ChatSort,
) -> Result<(), Failure> {
    // One more than asked says whether another page exists.
    let mut list = core
        .chats()
        .chats_by(limit.saturating_add(1), offset, sort)
        .await?;
    let more = list.len() > limit as usize;
    list.truncate(limit as usize);
    if json {
        return term::json(&list);
    }
    if list.is_empty() && offset == 0 {
        errln!("No chats yet. Start one: parley ask \"Hello\"");
    } else if list.is_empty() {
        errln!("No chats after the first {offset}.");
    }
    for s in &list {
        outln!(
            "{}\t{}\t{} messages",
            field(&s.id.0),
            field(&s.title),
            s.message_count
        )?;
    }
    if more {
        let next = u64::from(offset) + list.len() as u64;
        let order = match sort {
            ChatSort::Updated => "",
            ChatSort::Created => " --sort created",
            ChatSort::Title => " --sort title",
        };
        errln!("More chats follow: parley chats list{order} --offset {next}");
    }
    Ok(())
}

/// `chats show`: the chat's current path.
async fn show(core: &Core, id: ChatId, json: bool, raw: bool) -> Result<(), Failure> {
    let h = core.history().full_history(&id).await?;
    if json {
        return term::json(&h);
    }
    let text = render_history(&h);
    if raw {
        term::out_exact(&text)
    } else {
        out(&text)
    }
}

/// `chats system`: turn the imported system prompt on, or discard it.
async fn imported_system(
    core: &Core,
    id: ChatId,
    discard: bool,
    json: bool,
) -> Result<(), Failure> {
    core.chats().use_imported_system(&id, !discard).await?;
    let said = if discard {
        "The imported system prompt was discarded."
    } else {
        "The imported system prompt is now this chat's system prompt."
    };
    done(core, id, json, said).await
}

/// `chats delete`.
async fn delete(core: &Core, id: String, json: bool) -> Result<(), Failure> {
    core.chats().delete_chat(&ChatId(id.clone())).await?;
    if json {
        return term::json(&serde_json::json!({"deleted": id}));
    }
    errln!("Deleted.");
    Ok(())
}

fn render_history(h: &ChatHistory) -> String {
    let mut s = format!("# {}\n", field(&h.session.title));
    if let Some(system) = &h.session.params.imported_system {
        s.push_str(&format!(
            "\n(This chat came from a file with a system prompt. It is not in use; \
             `parley chats system {}` turns it on, `--discard` drops it.)\n> {}\n",
            field(&h.session.id.0),
            system.replace('\n', "\n> ")
        ));
    }
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
                    field(m.model.as_deref().unwrap_or("?"))
                ));
            }
        }
        for p in &m.parts {
            // Every part but text starts on a line of its own (`[file …]` right after a
            // question's text ran into it).
            if !matches!(p, Part::Text { .. }) && !s.ends_with('\n') {
                s.push('\n');
            }
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
                } => s.push_str(&format!(
                    "[tool call {} {arguments} — {status:?}]\n",
                    field(name)
                )),
                Part::ToolResult {
                    output, is_error, ..
                } => s.push_str(&format!(
                    "[tool result{}: {output}]\n",
                    if *is_error { " (error)" } else { "" }
                )),
                Part::Image { mime, .. } => s.push_str(&format!("[image {}]\n", field(mime))),
                Part::File { name, .. } => s.push_str(&format!("[file {}]\n", field(name))),
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

/// After a change: the chat's summary as JSON, or a sentence on stderr.
async fn done(core: &Core, id: ChatId, json: bool, said: &str) -> Result<(), Failure> {
    if json {
        return term::json(&core.chats().get_chat(&id).await?);
    }
    errln!("{said}");
    Ok(())
}

/// `chats tree`: every version of every message.
async fn show_tree(core: &Core, id: ChatId, json: bool) -> Result<(), Failure> {
    let tree = core.chats().tree(&id).await?;
    if json {
        return term::json(&tree);
    }
    out(&render(&tree))
}

/// `chats fork`.
async fn fork(core: &Core, id: ChatId, message: MessageId, json: bool) -> Result<(), Failure> {
    let new = core.chats().fork(&id, &message).await?;
    if json {
        return term::json(&new);
    }
    outln!("{}", field(&new.id.0))?;
    errln!(
        "Branched into a new chat: {} ({} messages).",
        field(&new.id.0),
        new.message_count
    );
    Ok(())
}

/// The tree as lines, oldest version first; a branch point indents its versions, `*` marks
/// the selected path and `[2/3]` a message's place among its versions.
fn render(tree: &ChatTree) -> String {
    use parley_protocol::TreeNode;
    use std::collections::HashMap;
    let mut s = format!(
        "# {} (revision {})\n",
        field(&tree.session.title),
        tree.session.revision
    );
    let mut children: HashMap<Option<&MessageId>, Vec<&TreeNode>> = HashMap::new();
    for n in &tree.nodes {
        children.entry(n.parent_id.as_ref()).or_default().push(n);
    }
    // Depth-first with an explicit stack (a chat can be thousands of messages deep); a linear
    // stretch stays at its depth, only a point with versions indents.
    let mut stack: Vec<(&TreeNode, usize, usize, usize)> = Vec::new();
    fn push<'a>(
        stack: &mut Vec<(&'a TreeNode, usize, usize, usize)>,
        kids: Option<&Vec<&'a TreeNode>>,
        depth: usize,
    ) {
        let kids = kids.map(Vec::as_slice).unwrap_or_default();
        let depth = depth + usize::from(kids.len() > 1);
        for (i, k) in kids.iter().enumerate().rev() {
            stack.push((*k, depth, i + 1, kids.len()));
        }
    }
    push(&mut stack, children.get(&None), 0);
    while let Some((n, depth, pos, of)) = stack.pop() {
        let mark = if n.selected { "*" } else { " " };
        let who = match n.role {
            Role::User => "user".to_owned(),
            Role::System => "system".to_owned(),
            Role::Assistant => format!("assistant ({})", field(n.model.as_deref().unwrap_or("?"))),
        };
        let versions = if of > 1 {
            format!(" [{pos}/{of}]")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "{mark} {}{} {who}{versions}: {}\n",
            "  ".repeat(depth),
            field(&n.id.0),
            field(&n.preview)
        ));
        push(&mut stack, children.get(&Some(&n.id)), depth);
    }
    s
}
