//! `parley artifacts`: the HTML, SVG and Mermaid blocks of a chat's answers (the window previews
//! them in a sandboxed frame): list them, save one.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{ArtifactKind, ChatId};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ArtifactsCmd {
    /// The chat's previewable blocks (on its selected path), numbered in order.
    List {
        chat: String,
        /// Print them as JSON, with their text.
        #[arg(long)]
        json: bool,
    },
    /// Write block NUMBER's text to standard output (escape sequences shown, not obeyed), or
    /// exactly to a new file with `-o`.
    Save {
        chat: String,
        number: u32,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

fn kind_word(k: ArtifactKind) -> &'static str {
    match k {
        ArtifactKind::Html => "html",
        ArtifactKind::Svg => "svg",
        ArtifactKind::Mermaid => "mermaid",
    }
}

pub async fn run(core: &Core, cmd: ArtifactsCmd) -> Result<(), Failure> {
    match cmd {
        ArtifactsCmd::List { chat, json } => {
            let found = core.artifacts().list(&ChatId(chat)).await?;
            if json {
                return term::json(&found);
            }
            if found.is_empty() {
                errln!("No HTML, SVG or Mermaid blocks in this chat's answers.");
            }
            for a in &found {
                let first = a
                    .source
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                let first: String = first.trim().chars().take(60).collect();
                outln!(
                    "{:>3}  {:<8} {:>8} B  {}",
                    a.number,
                    kind_word(a.kind),
                    a.source.len(),
                    field(&first)
                )?;
            }
            Ok(())
        }
        ArtifactsCmd::Save {
            chat,
            number,
            output,
        } => save(core, &ChatId(chat), number, output).await,
    }
}

async fn save(
    core: &Core,
    chat: &ChatId,
    number: u32,
    output: Option<PathBuf>,
) -> Result<(), Failure> {
    let found = core.artifacts().list(chat).await?;
    let Some(a) = found.into_iter().find(|a| a.number == number) else {
        return Err(invalid(format!(
            "This chat has no block {number}: `parley artifacts list {chat}` numbers them."
        )));
    };
    parley_core::artifacts::check_size(&a.source)?;
    match output {
        None => outln!("{}", a.source),
        Some(path) => {
            let mut f = parley_core::create_private(&path)
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            std::io::Write::write_all(&mut f, a.source.as_bytes())
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            errln!("Wrote {} ({}).", path.display(), kind_word(a.kind));
            Ok(())
        }
    }
}
