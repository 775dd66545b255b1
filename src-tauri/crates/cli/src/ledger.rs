//! `parley ledger`: every network request Parley made — when, to which host, why, what caused
//! it, the bytes each way and how it ended (never a body or a key).

use crate::search::parse_day;
use crate::term::{self, field, out};
use crate::{invalid, Failure};
use clap::Args;
use parley_core::usage::prices::day_of;
use parley_core::Core;
use parley_protocol::OutboundEntry;

#[derive(Args)]
pub struct LedgerArgs {
    /// Only requests since: a day (YYYY-MM-DD, UTC) or a time ago (`30m`, `2h`, `7d`).
    #[arg(long)]
    since: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 200)]
    limit: u32,
    /// Print the requests as JSON.
    #[arg(long)]
    json: bool,
}

/// `--since`: a day, or a duration back from now.
fn since(s: &str, now: i64) -> Result<i64, Failure> {
    let bad = || {
        invalid(format!(
            "{s:?} is neither a day (YYYY-MM-DD) nor a time ago (30m, 2h, 7d)."
        ))
    };
    let cut = s.char_indices().last().map_or(0, |(i, _)| i);
    let (n, unit) = s.split_at(cut);
    let ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return parse_day(s).map_err(|_| bad()),
    };
    let n: i64 = n.parse().ok().filter(|n| *n >= 0).ok_or_else(bad)?;
    Ok(now.saturating_sub(n.saturating_mul(ms)))
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

fn line(e: &OutboundEntry) -> String {
    let secs = e.at.rem_euclid(86_400_000) / 1000;
    let when = format!(
        "{} {:02}:{:02}:{:02}",
        day_of(e.at),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    let how = match (&e.status, &e.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(why)) => why.clone(),
        (None, None) => "—".into(),
    };
    format!(
        "{}  {:<6} {:<28} {:<22} ↑{:>9} ↓{:>9}  {:<16} {}\n",
        when,
        e.method,
        field(&e.host),
        e.purpose.label(),
        bytes(e.bytes_up),
        bytes(e.bytes_down),
        field(&how),
        field(&e.cause),
    )
}

/// `parley ledger`: the newest requests first.
pub async fn ledger(core: &Core, args: LedgerArgs) -> Result<(), Failure> {
    let since = args
        .since
        .as_deref()
        .map(|s| since(s, parley_core::now_ms()))
        .transpose()?;
    let entries = core.ledger().list(since, args.limit).await?;
    if args.json {
        return term::json(&entries);
    }
    if entries.is_empty() {
        return out("No network requests recorded.\n");
    }
    let mut text = String::new();
    for e in &entries {
        text.push_str(&line(e));
    }
    out(&text)
}
