//! `parley search` and `parley usage`: find any word ever said or run, and what the answers
//! cost.

use crate::term::{self, field, out};
use crate::{invalid, Failure};
use clap::Args;
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::{ChatId, Role, SearchQuery, UsageTotals};

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

#[derive(Args)]
pub struct UsageArgs {
    /// Only answers from this day on (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// Count the usage that imported or restored chats came with in the totals and costs
    /// (by default it is shown apart).
    #[arg(long)]
    include_imported: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Midnight UTC of a YYYY-MM-DD day, in ms.
fn parse_day(s: &str) -> Result<i64, Failure> {
    parley_core::history::rfc3339_ms(&format!("{s}T00:00:00Z"))
        .filter(|ms| day_of(*ms) == s)
        .ok_or_else(|| invalid(format!("{s:?} is not a day; write it as YYYY-MM-DD.")))
}

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

fn tokens(n: u64) -> String {
    match n {
        n if n >= 10_000_000 => format!("{:.0}M", n as f64 / 1e6),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0}k", n as f64 / 1e3),
        n if n >= 1_000 => format!("{:.1}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn line(label: &str, t: &UsageTotals) -> String {
    let mut notes = Vec::new();
    if t.not_reported > 0 {
        notes.push(format!("{} not reported", t.not_reported));
    }
    if t.unpriced > 0 {
        notes.push(format!("{} without a price", t.unpriced));
    }
    format!(
        "{:<32} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10}{}\n",
        field(label).chars().take(32).collect::<String>(),
        t.answers,
        tokens(t.input_tokens),
        tokens(t.cached_input_tokens),
        tokens(t.output_tokens),
        tokens(t.reasoning_tokens),
        format!("${:.4}", t.cost),
        if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        }
    )
}

pub async fn usage(core: &Core, args: UsageArgs) -> Result<(), Failure> {
    let since = args.since.as_deref().map(parse_day).transpose()?;
    let r = core.usage().report(since, args.include_imported).await?;
    if args.json {
        return term::json(&r);
    }
    let head = format!(
        "{:<32} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
        "", "answers", "input", "cached", "output", "reasoning", "cost"
    );
    let mut text = format!(
        "Usage{} — tokens as the providers reported them; costs are estimates from the price table.\n\n",
        args.since.map(|s| format!(" since {s}")).unwrap_or_default()
    );
    text.push_str(&head);
    text.push_str(&line("Total", &r.total));
    if r.imported.answers > 0 {
        let how = if r.includes_imported {
            "included above"
        } else {
            "not included above; --include-imported counts it"
        };
        text.push_str(&line("Imported", &r.imported));
        text.push_str(&format!(
            "  (what imported or restored chats reported: {how})\n"
        ));
    }
    for (title, rows) in [
        ("By day (UTC)", &r.by_day),
        ("By model", &r.by_model),
        ("By provider", &r.by_provider),
        ("By chat", &r.by_chat),
    ] {
        if rows.is_empty() {
            continue;
        }
        text.push_str(&format!("\n{title}\n"));
        for row in rows.iter() {
            text.push_str(&line(&row.label, &row.totals));
        }
    }
    out(&text)
}
