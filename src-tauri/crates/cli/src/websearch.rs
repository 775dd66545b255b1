//! `parley websearch`: the search service the `web_search` tool uses (off until one is set):
//! show it, set it (a key from standard input goes to the keychain), turn it off, try it.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{SearchBackendKind, SearchBackendSetup};

#[derive(Subcommand)]
pub enum WebSearchCmd {
    /// The search service, or that web search is off.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Choose the search service: `searxng` (your server's address), `brave` or `tavily` (an
    /// API key on standard input with --key-stdin).
    Set {
        /// searxng, brave or tavily.
        kind: String,
        /// The address (required for SearXNG, e.g. http://localhost:8888).
        #[arg(long)]
        url: Option<String>,
        /// Read the API key from standard input.
        #[arg(long)]
        key_stdin: bool,
    },
    /// Turn web search off (the key is deleted).
    Off,
    /// Search once and print the results (recorded in the ledger as a test).
    Test {
        query: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(core: &Core, cmd: WebSearchCmd) -> Result<(), Failure> {
    let service = core.websearch();
    match cmd {
        WebSearchCmd::Show { json } => show(core, json).await,
        WebSearchCmd::Set {
            kind,
            url,
            key_stdin,
        } => {
            let kind = SearchBackendKind::parse(&kind).ok_or_else(|| {
                invalid(format!(
                    "{} is not a search service: searxng, brave or tavily.",
                    field(&kind)
                ))
            })?;
            let key = if key_stdin {
                Some(crate::providers::key_from_stdin()?)
            } else {
                None
            };
            let b = service
                .set_backend(SearchBackendSetup { kind, url, key })
                .await?;
            errln!(
                "Web search goes to {} at {}.",
                b.kind.label(),
                field(&b.url)
            );
            if let Some(w) = b.warning {
                errln!("{}", field(&w));
            }
            Ok(())
        }
        WebSearchCmd::Off => {
            service.remove_backend().await?;
            errln!("Web search is off.");
            Ok(())
        }
        WebSearchCmd::Test { query, json } => test(core, &query, json).await,
    }
}

/// `websearch show`.
async fn show(core: &Core, json: bool) -> Result<(), Failure> {
    let backend = core.websearch().backend().await?;
    if json {
        return term::json(&backend);
    }
    match backend {
        None => {
            errln!("Web search is off: `parley websearch set searxng --url …` turns it on.")
        }
        Some(b) => {
            outln!(
                "{}  {}  key: {}",
                b.kind.label(),
                field(&b.url),
                if b.has_key { "saved" } else { "none" }
            )?;
            if let Some(w) = b.warning {
                errln!("{}", field(&w));
            }
        }
    }
    Ok(())
}

/// `websearch test`.
async fn test(core: &Core, query: &str, json: bool) -> Result<(), Failure> {
    let hits = core.websearch().test_backend(query).await?;
    if json {
        return term::json(&hits);
    }
    if hits.is_empty() {
        errln!("No results.");
    }
    for (i, h) in hits.iter().enumerate() {
        outln!(
            "[{}] {}\n    {}\n    {}",
            i + 1,
            field(&h.title),
            field(&h.url),
            field(&h.snippet)
        )?;
    }
    Ok(())
}
