//! Tools: the built-in tools.

use super::prelude::*;

/// The built-in tools.
#[tauri::command]
#[specta::specta]
pub async fn list_tools(state: State<'_, AppState>) -> Res<Vec<ToolInfo>> {
    Ok(state.core.tools().list_tools())
}
