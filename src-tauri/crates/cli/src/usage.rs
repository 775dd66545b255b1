//! `parley usage`: what the answers cost, per day, model, provider and chat.

use crate::search::parse_day;
use crate::term::{self, field, out};
use crate::Failure;
use clap::Args;
use parley_core::Core;
use parley_protocol::UsageTotals;

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

/// `parley usage`: the totals, then by day, model, provider and chat.
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
