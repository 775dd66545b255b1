//! Chats and turns: a chat's summary, settings and history page, the options of a send, a
//! turn's status and usage. The events a turn streams are in `events.rs`.

use crate::*;
use serde::{Deserialize, Serialize};

/// Where a turn is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TurnStatus {
    /// The user's message is stored; the request has not been answered yet.
    Pending,
    /// The provider is streaming the answer.
    Streaming,
    /// The model finished its answer.
    Completed,
    /// The user stopped the turn; partial output is kept.
    Stopped,
    /// The turn ended with an error; partial output is kept.
    Failed,
    /// The app exited while the turn ran; partial output is kept.
    Interrupted,
}

impl TurnStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnStatus::Pending => "pending",
            TurnStatus::Streaming => "streaming",
            TurnStatus::Completed => "completed",
            TurnStatus::Stopped => "stopped",
            TurnStatus::Failed => "failed",
            TurnStatus::Interrupted => "interrupted",
        }
    }

    /// Parses the stored name back.
    pub fn parse(s: &str) -> Option<TurnStatus> {
        match s {
            "pending" => Some(TurnStatus::Pending),
            "streaming" => Some(TurnStatus::Streaming),
            "completed" => Some(TurnStatus::Completed),
            "stopped" => Some(TurnStatus::Stopped),
            "failed" => Some(TurnStatus::Failed),
            "interrupted" => Some(TurnStatus::Interrupted),
            _ => None,
        }
    }

    /// True while the turn can still produce output.
    pub fn is_active(self) -> bool {
        match self {
            TurnStatus::Pending | TurnStatus::Streaming => true,
            TurnStatus::Completed
            | TurnStatus::Stopped
            | TurnStatus::Failed
            | TurnStatus::Interrupted => false,
        }
    }
}

/// Why the model stopped producing output, normalised across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The output limit was reached; the answer is cut short.
    MaxTokens,
    /// The model wants tools to run.
    ToolUse,
    /// The provider filtered the output.
    ContentFilter,
    /// A stop sequence was hit.
    StopSequence,
    /// Parley ended the turn after the most rounds of tool calls allowed in one turn.
    ToolRoundLimit,
    /// The user sent a new message with "Send now": the turn ended at the next boundary
    /// (text generation stopped with what arrived kept, or after the running tool round).
    Steered,
    /// The provider gave a reason Parley does not know (the raw value is kept with the turn).
    Other,
}

/// Token counts for a turn, normalised across providers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Usage {
    /// Tokens read by the model.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub input_tokens: u64,
    /// Tokens written by the model (including reasoning where the provider counts it there).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub output_tokens: u64,
    /// Tokens spent on reasoning, when the provider reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub reasoning_tokens: Option<u64>,
    /// Input tokens served from the provider's cache, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub cached_input_tokens: Option<u64>,
}

/// A chat as listed in the sidebar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatSummary {
    /// The chat's id.
    pub id: ChatId,
    /// Its title.
    pub title: String,
    /// When it was created.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: UnixMs,
    /// When it last changed (new message, rename).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub updated_at: UnixMs,
    /// How many messages it holds.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub message_count: u64,
    /// The provider last used in it.
    pub provider: Option<String>,
    /// The model last used in it.
    pub model: Option<String>,
    /// Its generation settings (system prompt, temperature, ...).
    #[serde(default)]
    pub params: ChatParams,
    /// Counts every change to the chat (a message sent, edited, regenerated, a branch
    /// switched, a rewind, a rename). A change made on an older revision is refused.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub revision: u64,
    /// Listed first.
    #[serde(default)]
    pub pinned: bool,
    /// Left out of the list unless archived chats are asked for.
    #[serde(default)]
    pub archived: bool,
    /// The chat and message it was branched from ("Branch into a new chat").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkOrigin>,
}

/// Which chats a list shows: the archived ones or the others, all or one assistant's. Chats
/// without messages are left out; pinned chats come first, then the others in `sort`'s order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatFilter {
    /// The archive instead of the chats in use.
    #[serde(default)]
    pub archived: bool,
    /// Only chats set up from this assistant (its id).
    #[serde(default)]
    pub assistant: Option<String>,
    /// The order.
    #[serde(default)]
    pub sort: ChatSort,
}

/// The order of a chat list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ChatSort {
    /// The most recently active first.
    #[default]
    Updated,
    /// The newest first.
    Created,
    /// By title, A to Z (without regard to case).
    Title,
}

/// How many chats of the list are in each group it can be filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatCounts {
    /// Chats in use (not archived, with messages).
    pub active: u32,
    /// Archived chats with messages.
    pub archived: u32,
    /// Chats in use per assistant id, most chats first.
    pub per_assistant: Vec<(String, u32)>,
}

/// Where a chat was branched from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ForkOrigin {
    /// The chat it was copied from (it may have been deleted since).
    #[serde(rename = "session_id")]
    pub chat_id: ChatId,
    /// The last message copied.
    pub message_id: MessageId,
}

/// The versions at one point of a conversation: the messages that share a parent (edits of a
/// question, regenerated answers), oldest first, and which of them is on the selected path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Versions {
    /// The message on the selected path.
    pub selected: MessageId,
    /// All of them, oldest first (the switcher's `‹ 2/3 ›` is the position of `selected`).
    pub ids: Vec<MessageId>,
}

/// One message in a chat's whole tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TreeNode {
    /// The message.
    pub id: MessageId,
    /// The message it follows (none for the first).
    pub parent_id: Option<MessageId>,
    /// Who wrote it.
    pub role: Role,
    /// The start of its text (one line).
    pub preview: String,
    /// When it was written.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: UnixMs,
    /// The model that wrote it (answers).
    pub model: Option<String>,
    /// On the selected path.
    pub selected: bool,
}

/// A chat's whole tree: every message of every branch, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatTree {
    /// The chat.
    pub session: ChatSummary,
    /// The end of the selected path.
    pub head: Option<MessageId>,
    /// Every message.
    pub nodes: Vec<TreeNode>,
}

/// A turn: one user message and the assistant's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TurnInfo {
    /// The turn's id.
    pub id: TurnId,
    /// The chat it belongs to.
    #[serde(rename = "session_id")]
    pub chat_id: ChatId,
    /// The user's message that started it.
    pub user_message_id: MessageId,
    /// The assistant's answer.
    pub assistant_message_id: Option<MessageId>,
    /// Where it is in its life.
    pub status: TurnStatus,
    /// The provider asked.
    pub provider: Option<String>,
    /// The model asked.
    pub model: Option<String>,
    /// When it started.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub started_at: UnixMs,
    /// When it ended.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub ended_at: Option<UnixMs>,
    /// Token counts, when the provider reported them.
    pub usage: Option<Usage>,
    /// Why the model stopped, when it finished.
    pub stop_reason: Option<StopReason>,
    /// What went wrong, for failed turns.
    pub error: Option<ErrorInfo>,
    /// When the chat was longer than the model's context window: the first message the model
    /// was sent (older ones were left out of the request, never deleted).
    #[serde(default)]
    pub context_from: Option<MessageId>,
}

/// A chat with (a page of) its messages and their turns, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatHistory {
    /// The chat.
    pub session: ChatSummary,
    /// Messages along the current branch, oldest first.
    pub messages: Vec<Message>,
    /// The turns of those messages, oldest first.
    pub turns: Vec<TurnInfo>,
    /// True when older messages exist before the first one returned.
    #[serde(default)]
    pub has_more: bool,
    /// On the newest page: the events of the chat's running turn so far, from its
    /// `TurnStarted` (empty when none runs). A client applies them on top of the messages.
    #[serde(default)]
    pub running: Vec<Event>,
    /// Parts whose text was cut to its start for this page (a window shows long texts
    /// collapsed; it fetches the whole part when the reader asks for it).
    #[serde(default)]
    pub clipped: Vec<ClippedPart>,
    /// For each message of the page that has other versions (siblings), all of them.
    #[serde(default)]
    pub versions: Vec<Versions>,
    /// Messages that follow the end of the selected path: the chat was rewound and these
    /// begin the later turns it kept (newest first; only on the newest page).
    #[serde(default)]
    pub later: Vec<MessageId>,
}

/// A part sent with only the start of its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ClippedPart {
    /// The message.
    pub message_id: MessageId,
    /// The part's position in it.
    pub index: u32,
    /// The whole text's length in characters.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub chars: u64,
}

/// How hard a reasoning model should think. Each provider maps it to its own knob
/// (`reasoning_effort`, Anthropic's thinking budget, Gemini's thinking budget, Ollama's `think`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    /// Ask the model not to reason (where the provider allows it).
    Off,
    /// Brief reasoning.
    Low,
    /// Moderate reasoning.
    Medium,
    /// Thorough reasoning.
    High,
}

/// A chat's generation settings. `None` everywhere means "the provider's default".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatParams {
    /// The system prompt.
    #[serde(default)]
    pub system: Option<String>,
    /// Sampling temperature (0 to 2).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling (0 to 1).
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Output token cap (1 to 1,000,000).
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Reasoning effort / thinking budget, where the model supports it.
    #[serde(default)]
    pub reasoning: Option<ReasoningEffort>,
    /// The folder the chat's tools work in, chosen by the user in a native folder dialog
    /// (or `--workspace` in the CLI). No workspace: no tools. Only Parley sets it; a value
    /// sent with `set_chat_params` is ignored.
    #[serde(default)]
    pub workspace: Option<String>,
    /// The built-in tools enabled in this chat (`None`: all of them, once a workspace is
    /// chosen).
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// The assistant this chat was set up from, if any.
    #[serde(default)]
    pub assistant: Option<String>,
    /// A system prompt that came with an imported chat: shown, but not sent until the user
    /// turns it on for this chat (`use_imported_system`). Only an import sets it; a value sent
    /// with `set_chat_params` is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_system: Option<String>,
}

/// Options for one send, overriding the chat's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SendOptions {
    /// Which configured provider to ask.
    #[serde(default)]
    pub provider: Option<String>,
    /// Which model to ask.
    #[serde(default)]
    pub model: Option<String>,
    /// A system prompt for this chat.
    #[serde(default)]
    pub system: Option<String>,
    /// Ask before read-only tool calls too (the CLI without a terminal to ask on).
    #[serde(default)]
    pub confirm_read_only: bool,
    /// Apply no grants: a call a grant would let run unasked is asked about instead (the CLI
    /// without a terminal and without `--approve granted`, where asking means denying).
    #[serde(default)]
    pub ignore_grants: bool,
    /// The chat's revision the client saw; a send, edit or regenerate on an older one is
    /// refused with a conflict (`None`: not checked).
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub revision: Option<u64>,
    /// Files attached to the new message ([`Part::Image`] and [`Part::File`] from attaching),
    /// in order, after its text. The core checks them again: an image must be stored (its
    /// details are read from the store), any other part is refused.
    #[serde(default)]
    pub attachments: Vec<Part>,
}

/// The most models one message is answered by side by side.
pub const COMPARE_MAX: usize = 4;

/// One model of a side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelChoice {
    /// The provider (`None`: the chat's, else the first configured).
    pub provider: Option<String>,
    /// The model (`None`: the chat's, when the provider is the chat's, else the provider's
    /// default).
    pub model: Option<String>,
}
