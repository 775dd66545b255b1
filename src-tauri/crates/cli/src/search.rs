//! `parley search`: find any word ever said or run, in every chat or one.

use crate::term::{self, field, out};
use crate::{invalid, Failure};
use clap::Args;
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::{ChatId, Role, SearchQuery};

#[derive(Args)]
pub struct SearchArgs {
    /// What to look for. Words are taken literally; "a phrase" in quotes, a prefix with a
    /// trailing * (conf*), a word to leave out with a leading - (-draft).
    query: String,
    /// Only this chat.
    #[arg(long)]
    chat: Option<String>,
    /// Only messages of this role (user, assistant).
    #[arg(long)]
    role: Option<String>,
    /// Only answers of this model.
    #[arg(long)]
    model: Option<String>,
    /// Only answers of this provider.
    #[arg(long)]
    provider: Option<String>,
    /// Only messages from this day on (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// Only messages before this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    until: Option<String>,
    /// Only messages that called a tool.
    #[arg(long)]
    tools: bool,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

/// Midnight UTC of a YYYY-MM-DD day, in ms.
pub(crate) fn parse_day(s: &str) -> Result<i64, Failure> {
    parley_core::history::rfc3339_ms(&format!("{s}T00:00:00Z"))
        .filter(|ms| day_of(*ms) == s)
        .ok_or_else(|| invalid(format!("{s:?} is not a day; write it as YYYY-MM-DD.")))
}

/// `parley search`: the ranked matches with their snippets.
pub async fn search(core: &Core, args: SearchArgs) -> Result<(), Failure> {
    let role = match args.role.as_deref() {
        None => None,
        Some(r) => Some(Role::parse(r).ok_or_else(|| {
            invalid(format!(
                "{r:?} is not a role; use user, assistant or system."
            ))
        })?),
    };
    let query = SearchQuery {
        text: args.query,
        chat: args.chat.map(ChatId),
        role,
        model: args.model,
        provider: args.provider,
        assistant: None,
        since: args.since.as_deref().map(parse_day).transpose()?,
        until: args.until.as_deref().map(parse_day).transpose()?,
        has_tool_calls: args.tools,
        limit: Some(args.limit),
    };
    let r = core.search().search(query).await?;
    if args.json {
        return term::json(&r);
    }
    if r.hits.is_empty() {
        return out("No matches.\n");
    }
    let mut text = String::new();
    for h in &r.hits {
        let snippet: String = h
            .snippet
            .iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect();
        let who = match (h.role, &h.model) {
            (Some(Role::Assistant), Some(m)) => format!("assistant ({})", field(m)),
            (Some(r), _) => r.as_str().to_owned(),
            (None, _) => "title".to_owned(),
        };
        text.push_str(&format!(
            "{}  {}  {}  {}{}\n    {}\n",
            day_of(h.at),
            field(&h.title),
            who,
            field(&h.chat_id.0),
            h.message_id
                .as_ref()
                .map(|m| format!(" {}", field(&m.0)))
                .unwrap_or_default(),
            field(&snippet)
        ));
    }
    if r.capped {
        text.push_str(&format!(
            "(More than {} matches: the newest are shown first.)\n",
            r.ranked_at_most
        ));
    } else if !r.by_relevance {
        text.push_str("(A phrase within one chat: the newest are shown first.)\n");
    }
    out(&text)
}
