//! The window's commands, one file per topic (the same topics as the core's services). Each
//! command is a few lines onto one service method of the same name; a command's permission
//! is `permissions/<command>.toml`.

pub mod about;
pub mod app;
pub mod approvals;
pub mod artifacts;
pub mod assistants;
pub mod attachments;
pub mod attachments_pick;
pub mod chats;
pub mod data;
pub mod history;
pub mod ledger;
pub mod mcp;
pub mod models;
pub mod prompts;
pub mod providers;
pub mod queue;
pub mod search;
pub mod settings;
pub mod tools;
pub mod updates;
pub mod usage;
pub mod websearch;

/// Opens the change card for a checked change (`preview`: what it will do) and gives the
/// page only its ticket; the change is made when the person confirms it in the card
/// (card/change.rs), which script in the page cannot reach.
pub(crate) async fn propose_in_card(
    app: &tauri::AppHandle,
    change: impl Into<crate::card::Change>,
    preview: parley_core::providers::ChangePreview,
) -> crate::Res<parley_protocol::ChangeTicket> {
    crate::card::propose_change(app, change, preview)
        .await
        .ok_or_else(|| {
            parley_protocol::ErrorInfo::new(
                parley_protocol::ErrorCode::Internal,
                "The system gave no randomness for the confirmation card.",
                true,
            )
        })
}

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
