//! The window's commands, one file per topic (the same topics as the core's services). Each
//! command is a few lines onto one service method of the same name; a command's permission
//! is `permissions/<command>.toml`.

pub mod app;
pub mod approvals;
pub mod assistants;
pub mod attachments;
pub mod attachments_pick;
pub mod chats;
pub mod data;
pub mod history;
pub mod mcp;
pub mod providers;
pub mod search;
pub mod settings;
pub mod tools;
pub mod usage;

/// What every command file uses.
mod prelude {
    pub(crate) use crate::{err, AppState, Res};
    pub(crate) use parley_core::secrets::Secret;
    pub(crate) use parley_protocol::{
        Assistant, ChatHistory, ChatId, ChatParams, ChatSummary, ConnectionDraft, ConnectionReport,
        ErrorCode, ErrorInfo, Event, Grant, LocalServer, MessageId, ModelList, ProviderDraft,
        ProviderEdit, ProviderInfo, ProviderPreset, SendOptions, Settings, ToolInfo, TurnId,
    };
    pub(crate) use tauri::ipc::Channel;
    pub(crate) use tauri::State;
}
