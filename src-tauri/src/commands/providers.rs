//! Providers: configuration, keys (into the keychain, never back out), connection checks, model lists, presets, local servers.

use super::prelude::*;
use crate::card::Changes;
use parley_core::providers::ProviderChange;
use parley_protocol::{ChangeOutcome, ChangeTicket, ModelWindow};

/// Configured providers; only whether a key exists, never the key.
#[tauri::command]
#[specta::specta]
pub async fn list_providers(state: State<'_, AppState>) -> Res<Vec<ProviderInfo>> {
    state.core.providers().list_providers().await.map_err(err)
}

/// Proposes a change to the providers: checks it, keeps it and opens its card in a window of
/// its own. The page only gets the change's id; the change is made when the person confirms it
/// in the card (card/change.rs), which script in the page cannot reach.
async fn propose(
    app: &tauri::AppHandle,
    state: &AppState,
    change: ProviderChange,
) -> Res<ChangeTicket> {
    let preview = state.core.providers().preview(&change).await.map_err(err)?;
    super::propose_in_card(app, change, preview).await
}

/// Waits until the person answered the card of the change `id` and says how it ended.
#[tauri::command]
#[specta::specta]
pub async fn wait_change(changes: State<'_, Changes>, id: String) -> Res<ChangeOutcome> {
    Ok(changes.wait(&id).await)
}

/// Proposes adding a provider (its key goes to the OS keychain once confirmed in the card).
#[tauri::command]
#[specta::specta]
pub async fn add_provider(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    draft: ProviderDraft,
) -> Res<ChangeTicket> {
    propose(&app, &state, ProviderChange::Add(draft)).await
}

/// Proposes changing a provider and, with `key`, saving a new key (a new host drops the old
/// key); confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn update_provider(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    edit: ProviderEdit,
    key: Option<String>,
) -> Res<ChangeTicket> {
    let key = key.filter(|k| !k.trim().is_empty()).map(Secret::new);
    propose(&app, &state, ProviderChange::Update { edit, key }).await
}

/// Proposes removing a provider and its key; confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn remove_provider(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
) -> Res<ChangeTicket> {
    propose(&app, &state, ProviderChange::Remove(name)).await
}

/// Proposes deleting a provider's key from the keychain; confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn clear_provider_key(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
) -> Res<ChangeTicket> {
    propose(&app, &state, ProviderChange::ClearKey(name)).await
}

/// Checks that a provider (saved or still in the form) answers.
#[tauri::command]
#[specta::specta]
pub async fn check_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Res<ConnectionReport> {
    state
        .core
        .providers()
        .check_connection(draft)
        .await
        .map_err(err)
}

/// A provider's model list: cached, or fetched from the provider when `refresh` is set or
/// nothing is cached yet.
#[tauri::command]
#[specta::specta]
pub async fn list_models(
    state: State<'_, AppState>,
    name: String,
    refresh: bool,
) -> Res<ModelList> {
    state
        .core
        .providers()
        .list_models(&name, refresh)
        .await
        .map_err(err)
}

/// Ready-made provider configurations.
#[tauri::command]
#[specta::specta]
pub async fn provider_presets(state: State<'_, AppState>) -> Res<Vec<ProviderPreset>> {
    Ok(state.core.providers().provider_presets())
}

/// Model servers running on this machine (loopback only).
#[tauri::command]
#[specta::specta]
pub async fn discover_local(state: State<'_, AppState>) -> Res<Vec<LocalServer>> {
    state.core.providers().discover_local().await.map_err(err)
}

/// The context window table in use: the user's figures and the shipped ones.
#[tauri::command]
#[specta::specta]
pub async fn get_context_windows(state: State<'_, AppState>) -> Res<Vec<ModelWindow>> {
    state.core.providers().context_windows().await.map_err(err)
}

/// Saves the context window table; returns it as now in use.
#[tauri::command]
#[specta::specta]
pub async fn save_context_windows(
    state: State<'_, AppState>,
    windows: Vec<ModelWindow>,
) -> Res<Vec<ModelWindow>> {
    state
        .core
        .providers()
        .save_context_windows(windows)
        .await
        .map_err(err)
}
