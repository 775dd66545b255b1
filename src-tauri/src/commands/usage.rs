//! The usage ledger (Settings → Usage, a chat's cost) and the price table.

use super::prelude::*;
use parley_protocol::{ChatUsage, Price, UsageReport};

/// Usage totals since `since` (ms), per day, model, provider and chat; imported answers
/// apart unless `include_imported`.
#[tauri::command]
#[specta::specta]
pub async fn usage_report(
    state: State<'_, AppState>,
    since: Option<f64>,
    include_imported: bool,
) -> Res<UsageReport> {
    state
        .core
        .usage()
        .report(since.map(|s| s as i64), include_imported)
        .await
        .map_err(err)
}

/// One chat's usage: all its answers and those on its selected branch.
#[tauri::command]
#[specta::specta]
pub async fn chat_usage(state: State<'_, AppState>, chat_id: ChatId) -> Res<ChatUsage> {
    state.core.usage().chat_usage(&chat_id).await.map_err(err)
}

/// The price table in use.
#[tauri::command]
#[specta::specta]
pub async fn get_prices(state: State<'_, AppState>) -> Res<Vec<Price>> {
    state.core.usage().prices().await.map_err(err)
}

/// Saves the price table; returns it as now in use.
#[tauri::command]
#[specta::specta]
pub async fn save_prices(state: State<'_, AppState>, prices: Vec<Price>) -> Res<Vec<Price>> {
    state.core.usage().save_prices(prices).await.map_err(err)
}
