//! Tools: the built-in tools.

use super::prelude::*;

/// The built-in tools, and `web_search` while a search service is set.
#[tauri::command]
#[specta::specta]
pub async fn list_tools(state: State<'_, AppState>) -> Res<Vec<ToolInfo>> {
    let mut tools = state.core.tools().list_tools();
    tools.extend(state.core.websearch().tool_info().await);
    Ok(tools)
}
