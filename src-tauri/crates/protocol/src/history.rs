//! History: messages and their parts. A conversation is a tree of messages; a message is an
//! ordered list of typed [`Part`]s.

use crate::*;
use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The person using Parley.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The name stored in the database and shown in plain-text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// Parses the stored name back.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// Where a tool call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ToolCallStatus {
    /// The model is still streaming the call's arguments.
    PendingInput,
    /// Arguments are complete; the user has been asked to approve the call.
    AwaitingApproval,
    /// The tool is executing.
    Running,
    /// The tool finished and produced a result.
    Completed,
    /// The tool (or its arguments) failed; the result says why.
    Failed,
    /// The user declined to run it.
    Denied,
    /// The turn was stopped before the call finished.
    Cancelled,
}

impl ToolCallStatus {
    /// True once no further transition can happen.
    pub fn is_terminal(self) -> bool {
        match self {
            ToolCallStatus::PendingInput
            | ToolCallStatus::AwaitingApproval
            | ToolCallStatus::Running => false,
            ToolCallStatus::Completed
            | ToolCallStatus::Failed
            | ToolCallStatus::Denied
            | ToolCallStatus::Cancelled => true,
        }
    }
}

/// One typed piece of a message. The UI dispatches on the part type and the tool status,
/// never on tool names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Visible text (markdown for assistant messages).
    Text {
        /// The text itself.
        text: String,
    },
    /// The model's reasoning, shown collapsed.
    Reasoning {
        /// Reasoning text as streamed (may be a summary).
        text: String,
        /// Opaque provider signature that must be replayed verbatim, when the provider sends one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A tool call requested by the model.
    ToolCall {
        /// The provider's call id (generated when the wire has none).
        call_id: String,
        /// The tool's name as the model wrote it.
        name: String,
        /// The raw argument text exactly as streamed (JSON when complete).
        arguments: String,
        /// Where the call is in its life.
        status: ToolCallStatus,
    },
    /// The result of a tool call, sent back to the model.
    ToolResult {
        /// The call this answers.
        call_id: String,
        /// What the tool returned (or why it failed).
        output: String,
        /// True when `output` describes a failure.
        is_error: bool,
    },
    /// An image attached to the conversation. Its bytes are stored once, addressed by their
    /// SHA-256, and travel inline (`data`) only in export files and in requests to providers.
    Image {
        /// MIME type of the stored bytes: `image/png`, `image/jpeg`, `image/webp` or `image/gif`.
        mime: String,
        /// SHA-256 (lowercase hex) of the stored bytes: where the attachment lives.
        #[serde(default)]
        sha256: String,
        /// The file's name as shown to the user (empty for a pasted image).
        #[serde(default)]
        name: String,
        /// Width in pixels.
        #[serde(default)]
        width: u32,
        /// Height in pixels.
        #[serde(default)]
        height: u32,
        /// Size of the stored bytes.
        #[serde(default)]
        #[cfg_attr(feature = "specta", specta(type = u32))]
        size: u64,
        /// Base64 of the bytes, only where they travel: export files and provider requests.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
    },
    /// A file attached to the conversation.
    File {
        /// The file's name as shown to the user.
        name: String,
        /// MIME type.
        mime: String,
        /// The file's text content (binary files are not inlined).
        text: String,
    },
}

/// A message: one node of the conversation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The chat it belongs to.
    #[serde(rename = "session_id")]
    pub chat_id: ChatId,
    /// The message it answers or follows; `None` for the first message of a chat.
    pub parent_id: Option<MessageId>,
    /// Who wrote it.
    pub role: Role,
    /// Its content, in order.
    pub parts: Vec<Part>,
    /// The turn that produced it (assistant messages) or started with it (user messages).
    pub turn_id: Option<TurnId>,
    /// The provider that produced it (assistant messages).
    pub provider: Option<String>,
    /// The model that produced it (assistant messages).
    pub model: Option<String>,
    /// When it was created.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: UnixMs,
}

impl Message {
    /// All text parts joined, for plain-text display.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            if let Part::Text { text } = part {
                out.push_str(text);
            }
        }
        out
    }
}
