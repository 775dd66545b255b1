//! `parley sessions tree|fork|rewind|switch|pin|archive`: a chat's tree, printed and steered.

use crate::term::{self, field, out};
use crate::Failure;
use parley_core::Core;
use parley_protocol::{ChatId, ChatTree, MessageId, Role};

/// After a change: the chat's summary as JSON, or a sentence on stderr.
pub async fn done(core: &Core, id: ChatId, json: bool, said: &str) -> Result<(), Failure> {
    if json {
        return term::json(&core.chats().get_chat(&id).await?);
    }
    errln!("{said}");
    Ok(())
}

pub async fn show(core: &Core, id: ChatId, json: bool) -> Result<(), Failure> {
    let tree = core.chats().tree(&id).await?;
    if json {
        return term::json(&tree);
    }
    out(&render(&tree))
}

pub async fn fork(core: &Core, id: ChatId, message: MessageId, json: bool) -> Result<(), Failure> {
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
