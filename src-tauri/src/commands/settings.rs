//! Settings: the user's settings.

use super::prelude::*;

/// The user's settings.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> Res<Settings> {
    state.core.settings().get_settings().await.map_err(err)
}

/// Saves the user's settings.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> Res<()> {
    state
        .core
        .settings()
        .save_settings(settings)
        .await
        .map_err(err)
}
