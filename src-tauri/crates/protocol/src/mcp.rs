//! MCP servers: how Parley reaches each one and what the user configured for it. The values of
//! its environment variables and headers are never here: they live in the OS keychain, and
//! only their names are listed.

use serde::{Deserialize, Serialize};

/// How Parley reaches an MCP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum McpTransport {
    /// A local program Parley starts, speaking MCP on its stdin and stdout.
    Stdio {
        /// The program (a name looked up on PATH, or a path).
        command: String,
        /// Its arguments, as given (no shell).
        args: Vec<String>,
    },
    /// A server at an address: streamable HTTP (or the older SSE transport where a server
    /// only has that).
    Http {
        /// The endpoint, http:// or https://, without credentials.
        url: String,
    },
}

/// A configured MCP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpServer {
    /// Stable id.
    pub id: String,
    /// Unique, short: letters, digits, `-` and `_` (it prefixes the server's tool names).
    pub name: String,
    pub transport: McpTransport,
    /// Whether its tools are offered at all.
    pub enabled: bool,
    /// Environment variables set for a local server; their values are in the keychain.
    pub env_names: Vec<String>,
    /// Headers sent to a remote server; their values are in the keychain.
    pub header_names: Vec<String>,
    /// When it was added (ms).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub created_at: i64,
    /// The protocol revision it spoke when last reached ("2026-07-28": stateless; earlier
    /// ones: the initialize handshake); none before it was.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The tools the user marked read-only.
    #[serde(default)]
    pub read_only: Vec<McpReadOnly>,
    /// Signed in with OAuth (a remote server): its tokens are in the keychain, bound to its
    /// address.
    #[serde(default)]
    pub signed_in: bool,
}

/// A name and a value (an environment variable, a header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

/// A server to add or replace (by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpServerInput {
    pub name: String,
    pub transport: McpTransport,
    /// Environment variables for a local server (values go to the keychain).
    pub env: Vec<NamedValue>,
    /// Headers for a remote server (values go to the keychain).
    pub headers: Vec<NamedValue>,
    pub enabled: bool,
}

/// An entry of an imported configuration file that was not added, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpSkipped {
    /// The entry's name in the file (shown without hidden characters).
    pub name: String,
    pub reason: String,
}

/// What importing an `mcpServers` file did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpImportReport {
    /// Servers added, by name.
    pub added: Vec<String>,
    /// Entries left out, each with its reason.
    pub skipped: Vec<McpSkipped>,
    /// Fields Parley does not use, per entry (`name: field, field`), reported, not kept.
    pub ignored_fields: Vec<String>,
}

/// What a server says about a tool's effects. Hints only: they can make Parley ask more, never
/// less (a tool the user has not marked read-only asks, whatever the server claims).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpToolHints {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// A tool as a server lists it (untrusted text: shown with hidden characters marked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpToolInfo {
    /// The server's name for it.
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    /// Its input schema, as JSON text.
    pub input_schema: String,
    /// Its output schema, as JSON text, when it has one.
    pub output_schema: Option<String>,
    pub hints: McpToolHints,
}

/// What connecting to a server found: the protocol spoken, who answered, its tools, and the
/// last lines of its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpTestReport {
    pub server: String,
    /// The protocol revision agreed, e.g. "2025-11-25" or "2026-07-28".
    pub protocol_version: String,
    /// "stateless" (2026-07-28: discovery, no session) or "handshake" (initialize).
    pub era: String,
    /// The server's own name and version, when it gives them.
    pub server_info: Option<String>,
    /// What the server says about how to use it (untrusted; shown, never obeyed).
    pub instructions: Option<String>,
    /// Its tools, each against its pin.
    pub tools: Vec<McpToolState>,
    /// The last lines of the server's log (stderr, and Parley's notes).
    pub log: Vec<String>,
}

/// Where a tool stands against its pinned definition (the rug-pull defence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum McpPin {
    /// Seen when the server's tools were first listed: its definition is pinned now.
    New,
    /// The definition is the one pinned.
    Pinned,
    /// A tool the server added after its tools were first pinned: blocked until the user has
    /// seen it and accepted it (`hash`: its definition's, to name in the acceptance), as a
    /// server could otherwise slip new instructions in under a new name.
    Added { hash: String },
    /// The definition changed since it was pinned: the tool is blocked until the change is
    /// accepted (`hash`: the new definition's, to name in the acceptance).
    Changed {
        hash: String,
        /// The definition as pinned, to show beside the new one.
        was: Box<McpToolInfo>,
    },
}

/// A tool as listed, with where it stands against its pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpToolState {
    pub tool: McpToolInfo,
    pub pin: McpPin,
    /// The hash of the definition as listed now (to name it: `TOOL:HASH`).
    #[serde(default)]
    pub hash: String,
    /// True when the user marked this very definition read-only: its calls are treated as
    /// reading only (what a server's own hint can never do).
    #[serde(default)]
    pub read_only: bool,
}

/// A tool the user marked read-only, bound to the definition they saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpReadOnly {
    pub tool: String,
    /// The hash of its definition when it was marked: a changed tool is not read-only.
    pub hash: String,
}

/// A prompt a server offers (a `/` command in the message box).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpPrompt {
    /// The server's name.
    pub server: String,
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub arguments: Vec<McpPromptArg>,
}

/// An argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpPromptArg {
    pub name: String,
    pub description: String,
    pub required: bool,
}

/// A prompt's text for the message box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpPromptText {
    pub text: String,
    /// It holds invisible or direction-changing characters (the window warns).
    pub hidden: bool,
}

/// A resource a server offers (attachable to a message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct McpResource {
    /// The server's name.
    pub server: String,
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub mime: Option<String>,
}
