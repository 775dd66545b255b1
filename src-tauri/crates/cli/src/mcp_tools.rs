//! `parley mcp tools NAME`: a server's tools with their descriptions, each against its pin (a
//! changed or added one blocked, with how to accept it) and the user's read-only marks;
//! `--accept TOOL:HASH`, `--read-only TOOL:HASH` and `--asks TOOL` change them.

use crate::term::{self, field};
use crate::{invalid, Failure};
use parley_core::Core;
use parley_protocol::{McpPin, McpToolState};

/// Runs `parley mcp tools`: the changes asked for (accepted definitions, read-only marks put
/// on or taken off), else the listing.
pub async fn run(
    core: &Core,
    name: &str,
    (accept, read_only, asks): (&[String], &[String], &[String]),
    json: bool,
) -> Result<(), Failure> {
    if !accept.is_empty() {
        return accept_tools(core, name, accept, json).await;
    }
    if read_only.is_empty() && asks.is_empty() {
        return tools(core, name, json).await;
    }
    let mut marked = Vec::new();
    for a in read_only {
        let (tool, hash) = a.rsplit_once(':').ok_or_else(|| {
            invalid("--read-only takes TOOL:HASH, as `parley mcp tools NAME` shows it.")
        })?;
        marked.push(core.mcp().mark_read_only(name, tool, hash).await?);
    }
    for tool in asks {
        if core.mcp().unmark_read_only(name, tool).await? {
            errln!("{} asks again before each call.", field(tool));
        } else {
            errln!("{} was not marked read-only.", field(tool));
        }
    }
    if json {
        return term::json(&marked);
    }
    for t in &marked {
        errln!(
            "Marked {} read-only: its calls run without asking where read-only calls do, until the server changes it.",
            field(&t.tool.name)
        );
    }
    Ok(())
}

async fn tools(core: &Core, name: &str, json: bool) -> Result<(), Failure> {
    let r = core.mcp().test(name).await?;
    if json {
        return term::json(&r.tools);
    }
    for t in &r.tools {
        print_tool(&r.server, t)?;
    }
    Ok(())
}

async fn accept_tools(
    core: &Core,
    name: &str,
    accept: &[String],
    json: bool,
) -> Result<(), Failure> {
    let mut accepted = Vec::new();
    for a in accept {
        let (tool, hash) = a.rsplit_once(':').ok_or_else(|| {
            invalid("--accept takes TOOL:HASH, as `parley mcp tools NAME` shows it.")
        })?;
        accepted.push(core.mcp().accept(name, tool, hash).await?);
    }
    if json {
        return term::json(&accepted);
    }
    for t in &accepted {
        errln!(
            "Accepted the new definition of {}; it can be used again.",
            field(&t.tool.name)
        );
    }
    Ok(())
}

/// A tool: its name, where it stands against its pin, hints, description; a changed one with
/// what it was and how to accept it.
fn print_tool(server: &str, t: &McpToolState) -> Result<(), Failure> {
    let mut notes = Vec::new();
    match &t.pin {
        McpPin::New => notes.push("new: its definition is pinned now".to_owned()),
        McpPin::Pinned => {}
        McpPin::Changed { .. } => notes.push("CHANGED since it was pinned: blocked".to_owned()),
        McpPin::Added { .. } => {
            notes.push("ADDED after the server's tools were pinned: blocked".to_owned())
        }
    }
    if t.read_only {
        notes.push("marked read-only by you".into());
    } else if t.tool.hints.read_only == Some(true) {
        notes.push("says read-only (it still asks)".into());
    }
    if t.tool.hints.destructive == Some(true) {
        notes.push("says destructive".into());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("  ({})", notes.join("; "))
    };
    outln!("{}{notes}", field(&t.tool.name))?;
    if matches!(t.pin, McpPin::New | McpPin::Pinned) && !t.hash.is_empty() {
        outln!("    definition {}", &t.hash[..12])?;
    }
    for line in t.tool.description.lines().filter(|l| !l.trim().is_empty()) {
        outln!("    {}", field(line))?;
    }
    if let McpPin::Added { hash } = &t.pin {
        outln!(
            "    accept it with: parley mcp tools {} --accept {}:{}",
            field(server),
            field(&t.tool.name),
            &hash[..12]
        )?;
    }
    if let McpPin::Changed { hash, was } = &t.pin {
        if was.description != t.tool.description {
            outln!("    was:")?;
            for line in was.description.lines().filter(|l| !l.trim().is_empty()) {
                outln!("    - {}", field(line))?;
            }
        }
        if was.input_schema != t.tool.input_schema {
            outln!(
                "    its input schema changed: was {}",
                field(&was.input_schema)
            )?;
            outln!(
                "                              now {}",
                field(&t.tool.input_schema)
            )?;
        }
        if was.hints != t.tool.hints
            || was.title != t.tool.title
            || was.output_schema != t.tool.output_schema
        {
            outln!("    its title, output schema or hints changed")?;
        }
        outln!(
            "    accept it with: parley mcp tools {} --accept {}:{}",
            field(server),
            field(&t.tool.name),
            &hash[..12]
        )?;
    }
    Ok(())
}
