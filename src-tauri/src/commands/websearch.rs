//! Settings → Web search: the service the `web_search` tool uses (off until one is set).

use super::prelude::*;
use parley_protocol::{SearchBackend, SearchBackendSetup, WebHit};

/// The search service, `None` while web search is off.
#[tauri::command]
#[specta::specta]
pub async fn get_search_backend(state: State<'_, AppState>) -> Res<Option<SearchBackend>> {
    state.core.websearch().backend().await.map_err(err)
}

/// Sets the search service (a key goes to the keychain, bound to the address).
#[tauri::command]
#[specta::specta]
pub async fn set_search_backend(
    state: State<'_, AppState>,
    setup: SearchBackendSetup,
) -> Res<SearchBackend> {
    state.core.websearch().set_backend(setup).await.map_err(err)
}

/// Turns web search off and deletes its key.
#[tauri::command]
#[specta::specta]
pub async fn remove_search_backend(state: State<'_, AppState>) -> Res<()> {
    state.core.websearch().remove_backend().await.map_err(err)
}

/// "Test": searches once with the saved service.
#[tauri::command]
#[specta::specta]
pub async fn test_search_backend(state: State<'_, AppState>, query: String) -> Res<Vec<WebHit>> {
    state
        .core
        .websearch()
        .test_backend(&query)
        .await
        .map_err(err)
}
