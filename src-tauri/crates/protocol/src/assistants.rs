//! Assistants: presets of system prompt, default model, tools and workspace.

use serde::{Deserialize, Serialize};

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
