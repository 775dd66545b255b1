//! Settings → Web search: the service the `web_search` tool uses (off until one is set). Setting
//! it and turning it off are only *proposed* here: the change card (card/change.rs), on its own
//! origin, shows the service, its address and where the key goes, and only its Confirm applies
//! it — script in the page cannot point searches (or a key) elsewhere. "Test" searches a fixed
//! query.

use super::prelude::*;
use parley_core::websearch::WebSearchChange;
use parley_protocol::{ChangeTicket, SearchBackend, SearchBackendSetup, WebHit};

/// The query "Test" searches for.
const TEST_QUERY: &str = "Parley desktop LLM client";

async fn propose(
    app: &tauri::AppHandle,
    state: &AppState,
    change: WebSearchChange,
) -> Res<ChangeTicket> {
    let preview = state.core.websearch().preview(&change).await.map_err(err)?;
    super::propose_in_card(app, change, preview).await
}

/// The search service, `None` while web search is off.
#[tauri::command]
#[specta::specta]
pub async fn get_search_backend(state: State<'_, AppState>) -> Res<Option<SearchBackend>> {
    state.core.websearch().backend().await.map_err(err)
}

/// Proposes the search service (a key goes to the keychain, bound to the address); confirmed
/// in the card.
#[tauri::command]
#[specta::specta]
pub async fn set_search_backend(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    setup: SearchBackendSetup,
) -> Res<ChangeTicket> {
    propose(&app, &state, WebSearchChange::Set(setup)).await
}

/// Proposes turning web search off and deleting its key; confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn remove_search_backend(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
) -> Res<ChangeTicket> {
    propose(&app, &state, WebSearchChange::Remove).await
}

/// "Test": searches a fixed query with the saved service.
#[tauri::command]
#[specta::specta]
pub async fn test_search_backend(state: State<'_, AppState>) -> Res<Vec<WebHit>> {
    state
        .core
        .websearch()
        .test_backend(TEST_QUERY)
        .await
        .map_err(err)
}
