//! Prompts: saved texts with `{{variables}}`, reached with `/` in the composer, `parley prompts`
//! and Settings → Prompts.

use serde::{Deserialize, Serialize};

/// A saved prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Prompt {
    pub id: String,
    /// Its name, unique (without regard to case): what `/` filters by.
    pub name: String,
    /// The text, its `{{variables}}` filled in before it is used.
    pub body: String,
    /// The body's variables, in order of first use, each once.
    pub variables: Vec<String>,
    /// When it was last saved (unix ms).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub updated_at: i64,
}

/// A prompt to save: a new one, or (with `id`) a change to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PromptDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub body: String,
}

/// What an import added and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PromptImport {
    pub added: u32,
    /// Prompts whose name is taken here with another text (kept as they are here).
    pub skipped: Vec<String>,
    /// Entries that are not prompts Parley keeps, each with why.
    pub refused: Vec<String>,
}
