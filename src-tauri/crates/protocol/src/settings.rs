//! The user's settings.

use serde::{Deserialize, Serialize};

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
