//! The outbound ledger: every network request Parley makes, recorded on this computer (when,
//! where, why, what caused it, how much went each way, how it ended), never its body or key.

use serde::{Deserialize, Serialize};

/// Why Parley made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OutboundPurpose {
    /// A provider's answer in a chat.
    Chat,
    /// A chat's short title, written by a model.
    Title,
    /// A provider's list of models.
    ModelList,
    /// "Test connection" for a provider.
    ConnectionTest,
    /// Looking for model servers on this computer (Ollama, LM Studio, …).
    Discovery,
    /// The `fetch_url` tool.
    FetchUrl,
    /// The `web_search` tool, or testing the search backend.
    WebSearch,
    /// An MCP server over HTTP.
    Mcp,
    /// Signing in to an MCP server.
    McpSignIn,
    /// Downloading a model (or reading the hub's description of it).
    ModelDownload,
    /// Checking for a Parley update.
    UpdateCheck,
    /// Downloading a Parley update the user asked for.
    UpdateDownload,
    /// A request whose reason was not named (a gap: tell us).
    Other,
}

impl OutboundPurpose {
    /// The words shown for it.
    pub fn label(self) -> &'static str {
        match self {
            OutboundPurpose::Chat => "chat answer",
            OutboundPurpose::Title => "chat title",
            OutboundPurpose::ModelList => "model list",
            OutboundPurpose::ConnectionTest => "connection test",
            OutboundPurpose::Discovery => "local server discovery",
            OutboundPurpose::FetchUrl => "fetch_url tool",
            OutboundPurpose::WebSearch => "web search",
            OutboundPurpose::Mcp => "MCP server",
            OutboundPurpose::McpSignIn => "MCP sign-in",
            OutboundPurpose::ModelDownload => "model download",
            OutboundPurpose::UpdateCheck => "update check",
            OutboundPurpose::UpdateDownload => "update download",
            OutboundPurpose::Other => "other",
        }
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OutboundEntry {
    /// When it was sent (unix ms).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub at: i64,
    /// The host it went to, with the port when not the scheme's own (`api.openai.com`,
    /// `127.0.0.1:11434`).
    pub host: String,
    /// `GET`, `POST`, …
    pub method: String,
    pub purpose: OutboundPurpose,
    /// What caused it: a chat (`chat <id>`), a provider, an MCP server, a model, a setting.
    pub cause: String,
    /// Bytes of the request's body.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes_up: u64,
    /// Bytes of the response's body that were read (or that it declared, when none were).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes_down: u64,
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    /// Why no response came (`timed out`, `could not connect`), when none did.
    pub error: Option<String>,
}
