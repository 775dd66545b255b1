//! Approvals: answering a question, saved grants. (A pending approval is decided in its card,
//! `src-tauri/src/card`, which script in the main window cannot reach.)

use super::prelude::*;

/// Answers a question the model asked (`None`: skip it).
#[tauri::command]
#[specta::specta]
pub async fn answer_question(
    state: State<'_, AppState>,
    chat_id: ChatId,
    call_id: String,
    answer: Option<String>,
) -> Res<()> {
    state
        .core
        .approvals()
        .answer_question(&chat_id, &call_id, answer)
        .map_err(err)
}

/// Every saved "always allow" grant.
#[tauri::command]
#[specta::specta]
pub async fn list_grants(state: State<'_, AppState>) -> Res<Vec<Grant>> {
    state.core.approvals().list_grants().await.map_err(err)
}

/// Revokes a saved grant.
#[tauri::command]
#[specta::specta]
pub async fn revoke_grant(state: State<'_, AppState>, id: u32) -> Res<()> {
    state
        .core
        .approvals()
        .revoke_grant(i64::from(id))
        .await
        .map_err(err)
}
