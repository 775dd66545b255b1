//! The user's settings.

use crate::ImportReport;
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
    /// How many daily backups of the database to keep (0 to 365; 0 turns them off).
    #[serde(default = "default_daily_backups")]
    pub daily_backups: u32,
    /// Name chats with a short generated title after their first answer.
    #[serde(default = "default_true")]
    pub auto_titles: bool,
    /// The provider whose model writes titles (`None`: the chat's own model).
    #[serde(default)]
    pub title_provider: Option<String>,
    /// The model that writes titles (with `title_provider`).
    #[serde(default)]
    pub title_model: Option<String>,
    /// Whether MCP servers may ask the chat's model to answer something (sampling); each
    /// request still asks the person first. Off: every request is declined.
    #[serde(default)]
    pub mcp_sampling: bool,
    /// Whether the log file records details, the text of messages included (for a bug
    /// report; off unless the user turns it on).
    #[serde(default)]
    pub log_details: bool,
    /// Whether Parley checks for a newer version by itself (at start, then daily). Off until
    /// the user turns it on: a check is a request to the release server. "Check now" in About
    /// works either way, when the user asks.
    #[serde(default)]
    pub check_updates: bool,
    /// The order of the chat list in the window (`parley chats list --sort` for the CLI).
    #[serde(default)]
    pub chat_sort: crate::ChatSort,
}

fn default_true() -> bool {
    true
}

fn default_daily_backups() -> u32 {
    7
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
            daily_backups: default_daily_backups(),
            auto_titles: true,
            title_provider: None,
            title_model: None,
            mcp_sampling: false,
            log_details: false,
            check_updates: false,
            chat_sort: crate::ChatSort::Updated,
        }
    }
}

/// The state of Parley's data, shown at start when something needs the person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DataStatus {
    /// The database file could not be read (or failed its check) and was moved here — never
    /// deleted, never overwritten; Parley started with a new, empty database.
    pub moved_aside: Option<String>,
    /// Why it was moved aside, as SQLite put it.
    pub reason: Option<String>,
    /// Where the database is.
    pub database: String,
    /// The folder backups are written to (snapshots before each migration).
    pub backups: String,
    /// Answers a previous run left unfinished, marked interrupted at this start.
    pub interrupted_at_start: u32,
}

/// What restoring from a backup added (nothing present is changed or removed; a backup is a
/// file like any other: its chats come in inert, as an import's do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RestoreReport {
    /// The backup file the person picked.
    pub file: String,
    /// What was added and what was set aside.
    pub report: ImportReport,
}

/// Where chats were exported, and what an export of every chat left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportReport {
    /// The file written.
    pub file: String,
    /// Chats that could not be read (rows Parley never writes, from a crafted restore or
    /// import), each named: every other chat was exported.
    pub left_out: Vec<LeftOutChat>,
}

/// A chat an export left out because it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LeftOutChat {
    /// Its id.
    pub id: crate::ChatId,
    /// Its title as stored.
    pub title: String,
    /// Why it could not be read.
    pub why: String,
}

/// Settings → About: what is running and where its files are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct About {
    /// Parley's version (Cargo's).
    pub version: String,
    /// The operating system and processor (`linux x86_64`).
    pub platform: String,
    /// The data folder (the database, attachments, backups).
    pub data_dir: String,
    /// The folder of the log file, when one is written.
    pub log_dir: Option<String>,
    /// Whether the log records details, message text included.
    pub log_details: bool,
}

/// A folder of Parley's that About opens in the file manager (only these: the window never
/// names a path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AppFolder {
    Data,
    Logs,
}
