//! History: a chat's messages, a page at a time.

use super::prelude::*;

/// A page of a chat's messages, newest last, ending before `before` (or at the newest).
#[tauri::command]
#[specta::specta]
pub async fn get_history(
    state: State<'_, AppState>,
    chat_id: ChatId,
    before: Option<MessageId>,
    limit: u32,
) -> Res<ChatHistory> {
    state
        .core
        .history()
        .get_history(&chat_id, before, limit)
        .await
        .map_err(err)
}

/// One part of a message, whole (a page sends long texts clipped; see `ChatHistory.clipped`).
#[tauri::command]
#[specta::specta]
pub async fn get_part(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    index: u32,
) -> Res<parley_protocol::Part> {
    state
        .core
        .history()
        .get_part(&chat_id, &message_id, index)
        .await
        .map_err(err)
}
