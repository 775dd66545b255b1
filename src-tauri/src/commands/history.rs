//! History: a chat's messages, a page at a time.

use super::prelude::*;

/// A page of a chat's messages, newest last, ending before `before` (or at the newest).
#[tauri::command]
#[specta::specta]
pub async fn get_history(
    state: State<'_, AppState>,
    session_id: SessionId,
    before: Option<MessageId>,
    limit: u32,
) -> Res<SessionHistory> {
    state
        .core
        .history()
        .get_history(&session_id, before, limit)
        .await
        .map_err(err)
}
