//! Settings → Privacy: the outbound ledger.

use super::prelude::*;
use parley_protocol::OutboundEntry;

/// The network requests Parley made since `since` (unix ms), newest first, at most `limit`.
#[tauri::command]
#[specta::specta]
pub async fn list_outbound(
    state: State<'_, AppState>,
    since: Option<f64>,
    limit: u32,
) -> Res<Vec<OutboundEntry>> {
    state
        .core
        .ledger()
        .list(since.map(|s| s as i64), limit.min(5_000))
        .await
        .map_err(err)
}
