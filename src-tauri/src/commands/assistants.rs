//! Assistants: presets of prompt, tools and workspace.

use super::prelude::*;

/// Every assistant (the default first).
#[tauri::command]
#[specta::specta]
pub async fn list_assistants(state: State<'_, AppState>) -> Res<Vec<Assistant>> {
    state.core.assistants().list_assistants().await.map_err(err)
}

/// Saves an assistant (its workspace is only changed by `choose_assistant_workspace`).
#[tauri::command]
#[specta::specta]
pub async fn save_assistant(state: State<'_, AppState>, assistant: Assistant) -> Res<Assistant> {
    state
        .core
        .assistants()
        .save_assistant(assistant)
        .await
        .map_err(err)
}

/// Deletes an assistant.
#[tauri::command]
#[specta::specta]
pub async fn delete_assistant(state: State<'_, AppState>, id: String) -> Res<()> {
    state
        .core
        .assistants()
        .delete_assistant(&id)
        .await
        .map_err(err)
}

/// Sets a chat up from an assistant (system prompt, tools, workspace).
#[tauri::command]
#[specta::specta]
pub async fn apply_assistant(
    state: State<'_, AppState>,
    chat_id: ChatId,
    assistant_id: String,
) -> Res<ChatSummary> {
    state
        .core
        .assistants()
        .apply_assistant(&chat_id, &assistant_id)
        .await
        .map_err(err)
}

/// Lets the user choose an assistant's workspace folder in a native dialog, or clears it.
#[tauri::command]
#[specta::specta]
pub async fn choose_assistant_workspace(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    assistant_id: String,
    clear: bool,
) -> Res<Option<Assistant>> {
    let dir = if clear {
        None
    } else {
        match super::app::pick_folder(&app, "Choose the folder this assistant's tools may work in")
            .await
        {
            None => return Ok(None),
            Some(d) => Some(d),
        }
    };
    state
        .core
        .assistants()
        .set_assistant_workspace(&assistant_id, dir.as_deref())
        .await
        .map(Some)
        .map_err(err)
}
