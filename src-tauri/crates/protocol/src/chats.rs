//! Chats and turns: a chat's summary, settings and history page, the options of a send, a
//! turn's status and usage, and the events a turn streams ([`Event`], [`EventMsg`]).

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
/// without messages are left out; pinned chats come first, then the most recently active.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatFilter {
    /// The archive instead of the chats in use.
    #[serde(default)]
    pub archived: bool,
    /// Only chats set up from this assistant (its id).
    #[serde(default)]
    pub assistant: Option<String>,
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
}

/// One event of a chat's stream. `seq` grows with every event of a chat, so a client
/// that re-syncs can ignore events it has already applied. Live events are numbered one by one;
/// a replay of a running turn (after a reload) delivers consecutive deltas of one item merged,
/// carrying the latest `seq`, so numbers may skip there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    /// The chat the event belongs to.
    #[serde(rename = "session_id")]
    pub chat_id: ChatId,
    /// Position in the chat's event stream.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub seq: u64,
    /// What happened.
    pub msg: EventMsg,
}

/// What happened in a turn. Items are the parts of the assistant message, addressed by
/// `message_id` and `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventMsg {
    /// A turn began: the user's message is stored and the request is going out.
    TurnStarted {
        /// The turn.
        turn_id: TurnId,
        /// The stored user message.
        user_message: Message,
        /// The (empty) assistant message the output will fill.
        assistant_message_id: MessageId,
        /// The provider asked.
        provider: String,
        /// The model asked.
        model: String,
    },
    /// A new part of the assistant message began.
    ItemStarted {
        /// The assistant message.
        message_id: MessageId,
        /// The part's position in the message.
        index: u32,
        /// The part as it starts (text usually empty).
        part: Part,
    },
    /// More visible text for a text part.
    TextDelta {
        /// The assistant message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The new text.
        delta: String,
    },
    /// More reasoning text for a reasoning part.
    ReasoningDelta {
        /// The assistant message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The new text.
        delta: String,
    },
    /// More argument text for a tool call still streaming (appended to its `arguments`; only
    /// the new text travels, so a long argument costs its length once, not once per piece).
    ArgumentsDelta {
        /// The assistant message.
        message_id: MessageId,
        /// The call's part position.
        index: u32,
        /// The new text.
        delta: String,
    },
    /// A part changed in a way deltas do not express (a call's final arguments, status).
    ItemUpdated {
        /// The assistant message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The part as it is now.
        part: Part,
    },
    /// A part is complete and stored.
    ItemCompleted {
        /// The assistant message.
        message_id: MessageId,
        /// The part's position.
        index: u32,
        /// The final part.
        part: Part,
    },
    /// A tool call waits for the user's decision.
    ApprovalRequested {
        /// The call.
        call_id: String,
        /// The tool.
        name: String,
        /// The exact arguments that would run.
        arguments: String,
        /// The risk of this exact call.
        risk: ToolRisk,
        /// Why it asks, in a sentence.
        reason: String,
        /// False when only "allow once" or "deny" may be chosen (commands that always ask,
        /// every [`ToolRisk::RunsCode`] call).
        can_grant: bool,
        /// True when only a person may allow it, at this prompt: a write to a protected path
        /// (`.git`, `.env*`, CI workflows, Parley's data…), or a file with more than one name
        /// (a hard link) read or written. `--approve all` never covers it.
        #[serde(default)]
        in_person: bool,
    },
    /// The model asks the user a question (`ask_user`); the answer becomes the call's result.
    QuestionAsked {
        /// The call.
        call_id: String,
        /// The question.
        question: String,
    },
    /// The chat is longer than the model's context window: the request starts at
    /// `first_message_id` (the older messages stay in the chat, unsent). Sent before the
    /// request, and again when a "context too long" refusal makes Parley retry with less.
    ContextTrimmed {
        /// The turn.
        turn_id: TurnId,
        /// The first message the model sees.
        first_message_id: MessageId,
        /// How many earlier messages were left out.
        left_out: u32,
    },
    /// The request failed before any output and will be tried again.
    StreamRetry {
        /// Which try comes next (2 = first retry).
        attempt: u32,
        /// How long Parley waits before it.
        #[cfg_attr(feature = "specta", specta(type = u32))]
        delay_ms: u64,
        /// Why.
        reason: ErrorInfo,
    },
    /// The model finished its answer.
    TurnCompleted {
        /// The turn.
        turn_id: TurnId,
        /// Token counts, when reported.
        usage: Option<Usage>,
        /// Why the model stopped.
        stop_reason: Option<StopReason>,
    },
    /// The user stopped the turn; partial output is stored.
    TurnStopped {
        /// The turn.
        turn_id: TurnId,
    },
    /// The turn failed; partial output is stored.
    TurnFailed {
        /// The turn.
        turn_id: TurnId,
        /// What went wrong, with the next step.
        error: ErrorInfo,
    },
    /// The chat was given a generated title (after its first answer, or on request). Not part
    /// of a turn: it may come after the turn's end.
    TitleChanged {
        /// The new title.
        title: String,
        /// The chat's revision after the change.
        #[cfg_attr(feature = "specta", specta(type = u32))]
        revision: u64,
    },
}

/// The wire names (`type`) of the events that end a turn; exported into the UI bindings so the
/// window asks the same question as [`EventMsg::is_turn_end`].
pub const TURN_END_EVENTS: [&str; 3] = ["turn_completed", "turn_stopped", "turn_failed"];

impl EventMsg {
    /// True for the event that ends a turn (`TurnCompleted`, `TurnStopped`, `TurnFailed`):
    /// nothing of that turn follows it. Every layer asks this, never its own list.
    pub fn is_turn_end(&self) -> bool {
        matches!(
            self,
            EventMsg::TurnCompleted { .. }
                | EventMsg::TurnStopped { .. }
                | EventMsg::TurnFailed { .. }
        )
    }
}
