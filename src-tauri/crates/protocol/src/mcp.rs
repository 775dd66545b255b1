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
