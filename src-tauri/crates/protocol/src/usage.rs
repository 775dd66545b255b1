//! The usage ledger: the tokens each answer's provider reported, added up, and what they cost
//! by a local price table.

use crate::*;
use serde::{Deserialize, Serialize};

/// What a model costs, in US dollars per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Price {
    /// The model (as the provider names it). Matches models of that name from any provider.
    pub model: String,
    /// Per 1M input tokens.
    pub input: f64,
    /// Per 1M output tokens.
    pub output: f64,
    /// Per 1M input tokens read from the provider's cache (the input price when absent).
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Per 1M reasoning tokens (the output price when absent).
    #[serde(default)]
    pub reasoning: Option<f64>,
    /// Where the figure came from: `"default"` (shipped, an estimate) or `"user"`.
    pub source: String,
    /// The day the figure was true (YYYY-MM-DD).
    pub as_of: String,
}

/// Tokens and cost added up over some answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsageTotals {
    /// Answers counted.
    pub answers: u32,
    /// Answers whose provider reported no usage (their tokens are unknown, not zero).
    pub not_reported: u32,
    /// Input tokens.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub input_tokens: u64,
    /// Output tokens.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub output_tokens: u64,
    /// Input tokens read from the cache (as reported).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub cached_input_tokens: u64,
    /// Reasoning tokens (as reported).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub reasoning_tokens: u64,
    /// Estimated cost in US dollars of the answers whose model has a price.
    pub cost: f64,
    /// Answers with reported usage but no price for their model (not in `cost`).
    pub unpriced: u32,
}

/// A labelled row of totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsageRow {
    /// The day (YYYY-MM-DD, UTC), the model, the provider, or the chat's id.
    pub key: String,
    /// What to show: the chat's title for a chat, else `key`.
    pub label: String,
    /// The totals.
    pub totals: UsageTotals,
}

/// The usage report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsageReport {
    /// From this time (ms), when asked.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub since: Option<UnixMs>,
    /// Everything.
    pub total: UsageTotals,
    /// Per day (UTC), oldest first.
    pub by_day: Vec<UsageRow>,
    /// Per model, most costly (then most tokens) first.
    pub by_model: Vec<UsageRow>,
    /// Per provider.
    pub by_provider: Vec<UsageRow>,
    /// Per chat, most costly first (at most 100).
    pub by_chat: Vec<UsageRow>,
    /// Answers that came with imported or restored chats (the usage their file reported).
    /// Kept apart: counted in the totals above only when `includes_imported`.
    pub imported: UsageTotals,
    /// Whether imported answers are counted in the totals and rows above.
    pub includes_imported: bool,
}

/// One chat's usage: all its answers, and those on its selected branch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatUsage {
    /// Every answer in the chat, every branch.
    pub chat: UsageTotals,
    /// The answers on the selected path.
    pub branch: UsageTotals,
    /// Answers that came with the chat from a file (import or restore): their reported usage,
    /// not counted above.
    pub imported: UsageTotals,
}
