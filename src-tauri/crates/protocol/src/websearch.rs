//! Web search: the backend the user chose for the `web_search` tool (off until one is set),
//! and what a search returns. Results are untrusted text from a third party.

use serde::{Deserialize, Serialize};

/// The tool's name, as chats' tool lists and approvals name it.
pub const WEB_SEARCH_TOOL: &str = "web_search";
/// The most results one search returns.
pub const SEARCH_MAX_RESULTS: usize = 10;
/// The longest query sent.
pub const SEARCH_MAX_QUERY_CHARS: usize = 400;

/// Which search service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SearchBackendKind {
    /// A SearXNG server the user runs (or trusts): the private choice; no key.
    Searxng,
    /// Brave Search's API (a key).
    Brave,
    /// Tavily's API (a key).
    Tavily,
}

impl SearchBackendKind {
    /// The words shown for it.
    pub fn label(self) -> &'static str {
        match self {
            SearchBackendKind::Searxng => "SearXNG",
            SearchBackendKind::Brave => "Brave Search",
            SearchBackendKind::Tavily => "Tavily",
        }
    }

    /// The service's own address (SearXNG has none: it is the user's).
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            SearchBackendKind::Searxng => None,
            SearchBackendKind::Brave => Some("https://api.search.brave.com/res/v1/web/search"),
            SearchBackendKind::Tavily => Some("https://api.tavily.com/search"),
        }
    }

    /// Whether it needs an API key.
    pub fn needs_key(self) -> bool {
        !matches!(self, SearchBackendKind::Searxng)
    }

    /// Its name on the command line and in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchBackendKind::Searxng => "searxng",
            SearchBackendKind::Brave => "brave",
            SearchBackendKind::Tavily => "tavily",
        }
    }

    /// The kind named `s` (`searxng`, `brave`, `tavily`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "searxng" => Some(SearchBackendKind::Searxng),
            "brave" => Some(SearchBackendKind::Brave),
            "tavily" => Some(SearchBackendKind::Tavily),
            _ => None,
        }
    }
}

/// The backend as saved (its key only in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchBackend {
    pub kind: SearchBackendKind,
    /// Where searches go.
    pub url: String,
    /// Whether a key is saved for this address.
    pub has_key: bool,
    /// Why searching with it would be unsafe or cannot work yet (plain http to another
    /// machine with a key; a key missing).
    pub warning: Option<String>,
}

/// What the user sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchBackendSetup {
    pub kind: SearchBackendKind,
    /// The address (required for SearXNG; the service's own when empty for the others).
    pub url: Option<String>,
    /// A new key (kept in the keychain, bound to the address); `None` keeps the saved one
    /// while the address stays the same.
    pub key: Option<String>,
}

/// One result: what the service said, as plain text (markup removed, hidden characters
/// marked) and an http(s) address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WebHit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}
