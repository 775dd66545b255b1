//! `parley mcp prompts NAME` (a server's prompts with their arguments) and `parley mcp prompt
//! NAME PROMPT --arg K=V…` (its text, to read or to pass to `parley ask`). The text is the
//! server's: shown with hidden characters marked on a terminal, exact into a pipe.

use crate::term::{self, field};
use crate::{invalid, Failure};
use parley_core::Core;
use parley_protocol::NamedValue;
use std::path::{Path, PathBuf};

pub(crate) fn folder(workspace: &Option<PathBuf>) -> PathBuf {
    workspace.clone().unwrap_or_default()
}

/// Server `name` when it is on, and its entry as a chat's tools name it.
pub(crate) async fn server_on(
    core: &Core,
    name: &str,
) -> Result<(parley_protocol::McpServer, [String; 1]), Failure> {
    let server = core.mcp().get(name).await?;
    if !server.enabled {
        return Err(invalid(format!(
            "MCP server {} is off: turn it on first (parley mcp enable).",
            field(&server.name)
        )));
    }
    let entry = format!("{}{}", parley_core::mcp::SERVER_ENTRY, server.name);
    Ok((server, [entry]))
}

/// Lists server `name`'s prompts.
pub async fn list(
    core: &Core,
    name: &str,
    workspace: &Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    let (server, entries) = server_on(core, name).await?;
    let listed = core.mcp().prompts(&entries, &folder(workspace)).await;
    core.mcp().close_all().await;
    let listed = listed?;
    if json {
        return term::json(&listed);
    }
    if listed.is_empty() {
        errln!("{} offers no prompts.", field(&server.name));
    }
    for p in &listed {
        let title = p
            .title
            .as_deref()
            .map(|t| format!("  ({})", field(t)))
            .unwrap_or_default();
        outln!("{}{title}", field(&p.name))?;
        if !p.description.is_empty() {
            outln!("    {}", field(&p.description))?;
        }
        for a in &p.arguments {
            let req = if a.required { " (required)" } else { "" };
            outln!(
                "    --arg {}=…{req}  {}",
                field(&a.name),
                field(&a.description)
            )?;
        }
    }
    Ok(())
}

/// Prints the text of prompt `prompt` of server `name` with `args` (NAME=VALUE).
pub async fn text(
    core: &Core,
    (name, prompt): (&str, &str),
    args: &[String],
    workspace: &Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    let arguments = args
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(n, v)| NamedValue {
                    name: n.to_owned(),
                    value: v.to_owned(),
                })
                .ok_or_else(|| invalid(format!("--arg {}: give NAME=VALUE.", field(a))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entries = [format!("{}{name}", parley_core::mcp::SERVER_ENTRY)];
    let got = core
        .mcp()
        .prompt_text(
            &entries,
            (name, prompt),
            &arguments,
            Path::new(&folder(workspace)),
        )
        .await;
    core.mcp().close_all().await;
    let got = got?;
    if json {
        return term::json(&got);
    }
    if got.hidden {
        errln!("note: this text holds invisible or direction-changing characters.");
    }
    if term::stdout_is_terminal() {
        outln!("{}", parley_protocol::visible::mark_hidden(&got.text))?;
    } else {
        term::out_exact(&got.text)?;
        term::out_exact("\n")?;
    }
    Ok(())
}
