//! The events a turn streams ([`Event`], [`EventMsg`]): what the window and the CLI render
//! as a turn happens, and replay after a reload.

use crate::*;
use serde::{Deserialize, Serialize};

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
        /// Side by side: every answer of the comparison this turn is one column of, in column
        /// order (this turn's among them); empty for an ordinary turn.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        side_by_side: Vec<MessageId>,
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
    /// A running call's progress, as its tool reports it (an MCP server's progress
    /// notifications): shown on the running card, never stored.
    ToolProgress {
        /// The call.
        call_id: String,
        /// How far it is (grows with each report).
        progress: f64,
        /// The whole, when known.
        total: Option<f64>,
        /// What it is doing, in its own words.
        message: Option<String>,
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
    /// The chat's queue changed (a message queued, edited, removed or sent), or it waits and
    /// says why (`held`: the turn before was stopped or failed, or a queued send was refused).
    /// Not part of a turn.
    QueueChanged {
        /// The messages still waiting, in the order they go.
        queued: Vec<QueuedMessage>,
        /// Why they wait instead of going when the answer ends, when they do.
        held: Option<String>,
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
