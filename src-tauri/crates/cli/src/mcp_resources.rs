//! `parley mcp resources NAME` (a server's resources) and `parley mcp resource NAME URI` (one
//! read: text shown with hidden characters marked on a terminal, bytes exact into a pipe or a
//! file — `> notes.md`, then `parley ask --attach notes.md`).

use crate::term::{self, field};
use crate::Failure;
use parley_core::Core;
use std::path::PathBuf;

/// Lists server `name`'s resources.
pub async fn list(
    core: &Core,
    name: &str,
    workspace: &Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    let (server, entries) = crate::mcp_prompts::server_on(core, name).await?;
    let listed = core
        .mcp()
        .resources(&entries, &crate::mcp_prompts::folder(workspace))
        .await;
    core.mcp().close_all().await;
    let listed = listed?;
    if json {
        return term::json(&listed);
    }
    if listed.is_empty() {
        errln!("{} offers no resources.", field(&server.name));
    }
    for r in &listed {
        let mime = r
            .mime
            .as_deref()
            .map(|m| format!("  ({})", field(m)))
            .unwrap_or_default();
        outln!(
            "{}  {}{mime}",
            field(&r.uri),
            field(r.title.as_deref().unwrap_or(&r.name))
        )?;
    }
    Ok(())
}

/// Prints resource `uri` of server `name`.
pub async fn read(
    core: &Core,
    (name, uri): (&str, &str),
    workspace: &Option<PathBuf>,
) -> Result<(), Failure> {
    let entries = [format!("{}{name}", parley_core::mcp::SERVER_ENTRY)];
    let got = core
        .mcp()
        .read_resource(
            &entries,
            (name, uri),
            &crate::mcp_prompts::folder(workspace),
        )
        .await;
    core.mcp().close_all().await;
    let file = got?;
    if term::stdout_is_terminal() {
        match String::from_utf8(file.bytes) {
            Ok(text) => outln!("{}", parley_protocol::visible::mark_hidden(&text))?,
            Err(e) => errln!(
                "{} ({}, {} bytes) is not text: send it into a file (> {}).",
                field(&file.name),
                field(&file.mime),
                e.as_bytes().len(),
                field(&file.name)
            ),
        }
        return Ok(());
    }
    term::out_bytes(&file.bytes)
}
