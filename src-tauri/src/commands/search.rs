//! Search (the palette): every chat or one, ranked, with snippets.

use super::prelude::*;
use parley_protocol::{SearchQuery, SearchResults};

/// Searches every chat (or one): ranked results with snippets.
#[tauri::command]
#[specta::specta]
pub async fn search(state: State<'_, AppState>, query: SearchQuery) -> Res<SearchResults> {
    state.core.search().search(query).await.map_err(err)
}
