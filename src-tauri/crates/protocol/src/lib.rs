//! The contract. Requests in ([`Op`]), events out ([`Event`]), and the data both carry:
//! sessions, messages made of typed [`Part`]s, turns and their statuses, and [`ErrorInfo`].
//!
//! Types only: no I/O, no async runtime. Everything serialises with serde as
//! `{"type": "snake_case_variant", ...}`; ids are strings on the wire and times are unix ms.

mod ids;

pub use ids::{MessageId, SessionId, TurnId};
use serde::{Deserialize, Serialize};

/// Milliseconds since the unix epoch.
pub type UnixMs = i64;

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
    /// An image attached to or produced in the conversation.
    Image {
        /// MIME type such as `image/png`.
        mime: String,
        /// Base64 of the image bytes.
        data: String,
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

impl Part {
    /// The stored kind name of this part.
    pub fn kind(&self) -> PartKind {
        match self {
            Part::Text { .. } => PartKind::Text,
            Part::Reasoning { .. } => PartKind::Reasoning,
            Part::ToolCall { .. } => PartKind::ToolCall,
            Part::ToolResult { .. } => PartKind::ToolResult,
            Part::Image { .. } => PartKind::Image,
            Part::File { .. } => PartKind::File,
        }
    }
}

/// The kind of a [`Part`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// [`Part::Text`].
    Text,
    /// [`Part::Reasoning`].
    Reasoning,
    /// [`Part::ToolCall`].
    ToolCall,
    /// [`Part::ToolResult`].
    ToolResult,
    /// [`Part::Image`].
    Image,
    /// [`Part::File`].
    File,
}

/// A message: one node of the conversation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// The message it answers or follows; `None` for the first message of a session.
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

/// A stable, machine-readable error category. The UI picks its next-step button from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is wrong (empty message, bad URL, bad name); fix it and retry.
    InvalidInput,
    /// The named session, message or provider does not exist.
    NotFound,
    /// The session already has a turn running.
    Busy,
    /// The provider rejected the API key (401/403).
    Unauthorized,
    /// The provider does not know the model.
    ModelNotFound,
    /// The conversation is longer than the model's context window.
    ContextTooLong,
    /// The provider rejected the request (400) for another reason.
    BadRequest,
    /// Too many requests; retry later.
    RateLimited,
    /// The account's quota or credit is used up; retrying will not help.
    QuotaExceeded,
    /// The provider is overloaded or failed (5xx).
    ProviderUnavailable,
    /// The provider could not be reached (DNS, refused connection, TLS).
    Network,
    /// The provider stopped sending data.
    Timeout,
    /// The provider's stream broke off or carried an error.
    StreamInterrupted,
    /// The provider sent something Parley could not understand.
    Protocol,
    /// The local database failed.
    Storage,
    /// The OS keychain is unavailable or refused access.
    Keychain,
    /// A bug in Parley.
    Internal,
}

/// An error as the user sees it: a category, a sentence with a next step, and whether
/// retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct ErrorInfo {
    /// The category.
    pub code: ErrorCode,
    /// A clear sentence for the user, saying what to do next.
    pub message: String,
    /// True when trying the same thing again may succeed.
    pub retryable: bool,
}

impl ErrorInfo {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>, retryable: bool) -> Self {
        ErrorInfo {
            code,
            message: message.into(),
            retryable,
        }
    }
}

/// A session as listed in the sidebar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionSummary {
    /// The session's id.
    pub id: SessionId,
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
    pub params: SessionParams,
}

/// A turn: one user message and the assistant's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TurnInfo {
    /// The turn's id.
    pub id: TurnId,
    /// The session it belongs to.
    pub session_id: SessionId,
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
}

/// A session with (a page of) its messages and their turns, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionHistory {
    /// The session.
    pub session: SessionSummary,
    /// Messages along the current branch, oldest first.
    pub messages: Vec<Message>,
    /// The turns of those messages, oldest first.
    pub turns: Vec<TurnInfo>,
    /// True when older messages exist before the first one returned.
    #[serde(default)]
    pub has_more: bool,
}

/// How the window looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the system's light/dark setting.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// User settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    /// Seconds without a stream event before an answer is given up (10 to 3600).
    pub idle_timeout_secs: u32,
    /// The window's theme.
    pub theme: Theme,
    /// Seconds an approval request waits before it counts as denied (10 to 86,400).
    #[serde(default = "default_approval_timeout")]
    pub approval_timeout_secs: u32,
    /// The most model responses with tool calls in one turn (1 to 200).
    #[serde(default = "default_max_tool_rounds")]
    pub max_tool_rounds: u32,
}

fn default_approval_timeout() -> u32 {
    600
}

fn default_max_tool_rounds() -> u32 {
    25
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_timeout_secs: 120,
            theme: Theme::System,
            approval_timeout_secs: default_approval_timeout(),
            max_tool_rounds: default_max_tool_rounds(),
        }
    }
}

/// The result of a connection check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionReport {
    /// True when the provider answered with its model list.
    pub ok: bool,
    /// A sentence for the user: what worked, or what is wrong and what to do.
    pub message: String,
    /// The models found (empty on failure).
    pub models: Vec<ModelInfo>,
}

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI's own API (Chat Completions).
    Openai,
    /// Any server speaking OpenAI Chat Completions (llama.cpp, LM Studio, vLLM, OpenRouter, ...).
    OpenaiCompatible,
    /// The OpenAI Responses API (OpenAI itself, llama.cpp's `/v1/responses`): reasoning
    /// summaries, encrypted reasoning replayed statelessly.
    OpenaiResponses,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Ollama's native API.
    Ollama,
}

impl ProviderKind {
    /// The name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::OpenaiCompatible => "openai-compatible",
            ProviderKind::OpenaiResponses => "openai-responses",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
        }
    }

    /// Parses the name back.
    pub fn parse(s: &str) -> Option<ProviderKind> {
        match s {
            "openai" => Some(ProviderKind::Openai),
            "openai-compatible" => Some(ProviderKind::OpenaiCompatible),
            "openai-responses" => Some(ProviderKind::OpenaiResponses),
            "anthropic" => Some(ProviderKind::Anthropic),
            "gemini" => Some(ProviderKind::Gemini),
            "ollama" => Some(ProviderKind::Ollama),
            _ => None,
        }
    }

    /// Every kind, in the order the settings form lists them.
    pub const ALL: [ProviderKind; 6] = [
        ProviderKind::Openai,
        ProviderKind::OpenaiResponses,
        ProviderKind::OpenaiCompatible,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::Ollama,
    ];
}

/// A configured provider as the UI sees it. The key itself never appears here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderInfo {
    /// The user's name for it (unique).
    pub name: String,
    /// The wire format.
    pub kind: ProviderKind,
    /// Where requests go, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The model used when none is picked.
    pub default_model: Option<String>,
    /// True when a key for this provider is saved in the OS keychain.
    pub has_key: bool,
}

/// A model a provider offers, with the capabilities the provider reports (`None` = the
/// provider does not say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelInfo {
    /// The id to send in requests.
    pub id: String,
    /// Who owns it, when the provider says.
    #[serde(default)]
    pub owned_by: Option<String>,
    /// A friendlier name, when the provider gives one.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Input context window in tokens.
    #[serde(default)]
    pub context_window: Option<u32>,
    /// Largest output in tokens.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Whether the model can call tools.
    #[serde(default)]
    pub tools: Option<bool>,
    /// Whether the model accepts images.
    #[serde(default)]
    pub vision: Option<bool>,
    /// Whether the model reasons (thinking / reasoning effort).
    #[serde(default)]
    pub reasoning: Option<bool>,
}

impl ModelInfo {
    /// A model known only by its id.
    pub fn named(id: impl Into<String>) -> Self {
        ModelInfo {
            id: id.into(),
            ..ModelInfo::default()
        }
    }
}

/// A provider's model list as cached by Parley.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelList {
    /// The provider.
    pub provider: String,
    /// Its models, sorted by id.
    pub models: Vec<ModelInfo>,
    /// When the list was fetched from the provider; `None` when it never was.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub fetched_at: Option<UnixMs>,
    /// Why the last refresh failed, if it did (the cached list is still returned).
    pub error: Option<ErrorInfo>,
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

/// A session's generation settings. `None` everywhere means "the provider's default".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionParams {
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
    /// The folder the session's tools work in, chosen by the user in a native folder dialog
    /// (or `--workspace` in the CLI). No workspace: no tools. Only Parley sets it; a value
    /// sent with [`Op::SetSessionParams`] is ignored.
    #[serde(default)]
    pub workspace: Option<String>,
    /// The built-in tools enabled in this session (`None`: all of them, once a workspace is
    /// chosen).
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// The assistant this session was set up from, if any.
    #[serde(default)]
    pub assistant: Option<String>,
}

/// How much a tool call can change or reach. Ordered: a later variant is a higher bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ToolRisk {
    /// Reads inside the workspace only.
    ReadOnly,
    /// Changes files inside the workspace.
    Mutating,
    /// Reaches the network.
    Network,
    /// Can delete or overwrite things, or run arbitrary commands.
    Destructive,
}

/// The user's answer to an approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run this call, this once.
    AllowOnce,
    /// Run it, and the identical call (same tool, same arguments) for the rest of the session.
    AllowSession,
    /// Run it, and the identical call from now on (saved; listed and revocable in settings).
    AllowAlways,
    /// Do not run it. The note, if any, is passed to the model.
    Deny {
        /// The user's note for the model.
        note: Option<String>,
    },
}

/// A saved "always allow" grant: one tool with its exact arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Grant {
    /// Its id (for revoking).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub id: i64,
    /// The tool.
    pub tool: String,
    /// The exact arguments, canonical JSON (keys sorted).
    pub arguments: String,
    /// When it was granted.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: UnixMs,
}

/// A built-in tool, as settings list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ToolInfo {
    /// The name the model calls it by.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its lowest risk (a given call may be riskier).
    pub risk: ToolRisk,
}

/// A named preset for new chats: system prompt, default model, enabled tools, workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Assistant {
    /// Stable id (empty when saving a new one).
    pub id: String,
    /// What the user sees.
    pub name: String,
    /// The system prompt.
    pub system: Option<String>,
    /// The provider of the default model.
    pub provider: Option<String>,
    /// The default model.
    pub model: Option<String>,
    /// Enabled built-in tools (empty: none).
    pub tools: Vec<String>,
    /// The workspace folder (chosen in a native folder dialog).
    pub workspace: Option<String>,
}

/// A ready-made provider configuration: a base URL and sensible defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderPreset {
    /// Stable id, e.g. `openrouter`.
    pub id: String,
    /// What the user sees, e.g. `OpenRouter`.
    pub label: String,
    /// The wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// A sensible default model (the user can pick another once the list is fetched).
    pub default_model: Option<String>,
    /// True when the service needs an API key.
    pub needs_key: bool,
    /// True for servers that run on this machine.
    pub local: bool,
}

/// A model server found running on this machine (loopback only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LocalServer {
    /// Which preset it matches, e.g. `ollama`, `lmstudio`.
    pub preset: String,
    /// What the user sees.
    pub label: String,
    /// The wire format to talk to it.
    pub kind: ProviderKind,
    /// Its base URL (always `http://127.0.0.1:PORT...`).
    pub base_url: String,
    /// The models it serves.
    pub models: Vec<ModelInfo>,
    /// The configured provider already pointing at it, if any.
    pub configured_as: Option<String>,
}

/// Options for one send, overriding the session's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SendOptions {
    /// Which configured provider to ask.
    #[serde(default)]
    pub provider: Option<String>,
    /// Which model to ask.
    #[serde(default)]
    pub model: Option<String>,
    /// A system prompt for this session.
    #[serde(default)]
    pub system: Option<String>,
    /// Ask before read-only tool calls too (the CLI without a terminal to ask on).
    #[serde(default)]
    pub confirm_read_only: bool,
}

/// A provider to add, as the settings form sends it. The key is written to the OS keychain
/// and never sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderDraft {
    /// Unique name.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
    /// API key to save, if any.
    pub api_key: Option<String>,
}

/// New settings for an existing provider (its name stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderEdit {
    /// Which provider.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL; moving to another host deletes the saved key.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
}

/// What to check before (or after) saving a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionDraft {
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// A key typed into the form, used for this check only.
    pub api_key: Option<String>,
    /// A saved provider whose stored key may be used when none was typed.
    pub saved_provider: Option<String>,
}

/// A request into the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// Create an empty session.
    CreateSession {
        /// Its title; a default is derived from the first message when absent.
        title: Option<String>,
    },
    /// Send a user message and start a turn.
    SendMessage {
        /// The session to send in.
        session_id: SessionId,
        /// The message text.
        text: String,
        /// Provider, model and system prompt.
        #[serde(default)]
        options: SendOptions,
    },
    /// Stop the session's running turn, keeping its partial output.
    StopTurn {
        /// The session whose turn to stop.
        session_id: SessionId,
    },
    /// Rename a session.
    RenameSession {
        /// The session.
        session_id: SessionId,
        /// The new title.
        title: String,
    },
    /// Delete a session and everything in it (a running turn is stopped first).
    DeleteSession {
        /// The session.
        session_id: SessionId,
    },
    /// Change a session's generation settings (used from its next turn on).
    SetSessionParams {
        /// The session.
        session_id: SessionId,
        /// The new settings.
        params: SessionParams,
    },
    /// Answer a pending approval request (the only thing a client can do about a tool call).
    DecideApproval {
        /// The session.
        session_id: SessionId,
        /// The call waiting for a decision.
        call_id: String,
        /// The decision.
        decision: ApprovalDecision,
    },
    /// Answer a question the model asked with `ask_user`.
    AnswerQuestion {
        /// The session.
        session_id: SessionId,
        /// The `ask_user` call.
        call_id: String,
        /// The answer; `None` when the user declines to answer.
        answer: Option<String>,
    },
}

/// One event of a session's stream. `seq` grows with every event of a session, so a client
/// that re-syncs can ignore events it has already applied. Live events are numbered one by one;
/// a replay of a running turn (after a reload) delivers consecutive deltas of one item merged,
/// carrying the latest `seq`, so numbers may skip there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    /// The session the event belongs to.
    pub session_id: SessionId,
    /// Position in the session's event stream.
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
    /// A part changed in a way deltas do not express (tool arguments, status).
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
        /// False when only "allow once" or "deny" may be chosen (commands that always ask).
        can_grant: bool,
    },
    /// The model asks the user a question (`ask_user`); the answer becomes the call's result.
    QuestionAsked {
        /// The call.
        call_id: String,
        /// The question.
        question: String,
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
}

#[cfg(test)]
mod tests;
