//! Full-text search over every chat: what to look for, and what was found.

use crate::*;
use serde::{Deserialize, Serialize};

/// A search. `text` is taken literally word by word (operators such as `OR` or `NEAR` are
/// words like any other); on purpose, `"two words"` looks for a phrase, a trailing `*` for a
/// prefix (`conf*`) and a leading `-` leaves out messages with a word (`-draft`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchQuery {
    /// What to look for.
    pub text: String,
    /// Only this chat.
    #[serde(default)]
    pub chat: Option<ChatId>,
    /// Only messages of this role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Only answers of this model.
    #[serde(default)]
    pub model: Option<String>,
    /// Only answers of this provider (its name).
    #[serde(default)]
    pub provider: Option<String>,
    /// Only chats set up from this assistant (its id).
    #[serde(default)]
    pub assistant: Option<String>,
    /// Only messages written at or after this time (ms).
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub since: Option<UnixMs>,
    /// Only messages written before this time (ms).
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub until: Option<UnixMs>,
    /// Only messages that called a tool.
    #[serde(default)]
    pub has_tool_calls: bool,
    /// At most this many results (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Where in a message the words were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// The chat's title.
    Title,
    /// The text of a message.
    Text,
    /// The model's reasoning.
    Reasoning,
    /// A tool call's name or arguments.
    ToolCall,
    /// What a tool returned.
    ToolResult,
    /// An attached file's text.
    File,
}

/// A piece of a snippet: the words that matched are `hit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SnippetPiece {
    /// Plain text (never markup).
    pub text: String,
    /// True for a matching word.
    pub hit: bool,
}

/// One message (or title) that matched, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchHit {
    /// The chat.
    #[serde(rename = "session_id")]
    pub chat_id: ChatId,
    /// Its title.
    pub title: String,
    /// The message (none when the title matched).
    pub message_id: Option<MessageId>,
    /// Who wrote it.
    pub role: Option<Role>,
    /// The model that wrote it, for an answer.
    pub model: Option<String>,
    /// The provider that answered.
    pub provider: Option<String>,
    /// When it was written (the chat's last activity for a title).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub at: UnixMs,
    /// Where the words were found.
    pub field: SearchField,
    /// The words around the match.
    pub snippet: Vec<SnippetPiece>,
    /// Whether the message is on the chat's selected path (opening it otherwise selects its
    /// branch).
    pub on_selected_path: bool,
    /// The chat is archived.
    pub archived: bool,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchResults {
    /// The results, best first.
    pub hits: Vec<SearchHit>,
    /// True when more places matched than are ranked by relevance: the most recent
    /// `ranked_at_most` matches are shown, newest first.
    pub capped: bool,
    /// Whether the results are ordered by relevance (bm25); else newest first (when capped,
    /// for a phrase within one chat, whose ranking would weigh it against every chat, when
    /// the words are too common to rank quickly, and when the search stopped at its time).
    pub by_relevance: bool,
    /// Up to how many matches are ranked by relevance ([`SEARCH_RANKED_AT_MOST`], fewer for a
    /// phrase, whose matches cost more to find).
    pub ranked_at_most: u32,
    /// How long the search took (ms).
    pub took_ms: u32,
}

/// Up to how many matches a search ranks by relevance; beyond, the newest come first.
pub const SEARCH_RANKED_AT_MOST: u32 = 2000;
/// The same for a search with a phrase.
pub const SEARCH_PHRASE_RANKED_AT_MOST: u32 = 500;
