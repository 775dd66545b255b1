//! Context windows: how many tokens a model takes (the window table, its sources) and what the
//! next request of a chat will take of it (the composer's gauge, `parley ask --json`).

use crate::*;
use serde::{Deserialize, Serialize};

/// A model's context window and output limit: a row of the window table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelWindow {
    /// The model (as the provider names it). Matches models of that name from any provider,
    /// and dated or tagged releases of it (`gpt-4o-2024-08-06`, `llama3.1:8b`).
    pub model: String,
    /// Input plus output tokens the model takes in one request.
    pub context_window: u32,
    /// The largest answer in tokens, when known.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Where the figure came from: `"default"` (shipped with Parley) or `"user"`.
    pub source: String,
    /// The day the figure was true (YYYY-MM-DD).
    pub as_of: String,
}

/// Where a model's context window figure came from, in the order one is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum WindowSource {
    /// The user's own figure (Settings → Context windows).
    Settings,
    /// The provider's model list.
    Provider,
    /// The table shipped with Parley.
    Table,
    /// Nothing knew the model: a conservative default.
    Default,
}

/// What the next request of a chat will take of the model's context window, estimated by the
/// same arithmetic that fits requests to the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContextEstimate {
    /// The provider that would answer.
    pub provider: String,
    /// The model that would answer.
    pub model: String,
    /// The model's context window in tokens.
    pub window: u32,
    /// Where that figure came from.
    pub source: WindowSource,
    /// Tokens kept free for the answer.
    pub answer_room: u32,
    /// Tokens the request's messages may take: the window less the answer's room, the system
    /// prompt, the tools' definitions and a tenth in reserve.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub budget: u64,
    /// Tokens the next request will use: system prompt, tools, the messages sent and the
    /// draft. Built on the provider's reported usage of the last answer when `reported_base`.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub tokens: u64,
    /// Of which the draft (its text and attachments).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub draft_tokens: u64,
    /// Of which the system prompt and the tools' definitions.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub fixed_tokens: u64,
    /// The whole selected branch with the draft, were nothing left out (an estimate).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub chat_tokens: u64,
    /// The provider's reported tokens of the last answer (its request and the answer), when
    /// `tokens` is built on them.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub reported_base: Option<u64>,
    /// Nothing is left out and the draft is within the budget.
    pub fits: bool,
    /// The oldest messages of the branch left out of the request (0: sent whole).
    pub left_out: u32,
    /// Of those, the ones left out only because of the draft's size.
    pub left_out_by_draft: u32,
    /// The first message sent when some are left out: where the transcript's marker will be.
    pub first_kept: Option<MessageId>,
    /// Messages left out of the last answer's request (0: it saw the whole chat).
    pub last_left_out: u32,
    /// The draft alone is over the budget: the model will likely refuse it or cut it.
    pub draft_too_long: bool,
}
