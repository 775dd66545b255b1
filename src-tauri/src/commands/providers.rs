//! Providers: configuration, keys (into the keychain, never back out), connection checks, model lists, presets, local servers.

use super::prelude::*;

/// Configured providers; only whether a key exists, never the key.
#[tauri::command]
#[specta::specta]
pub async fn list_providers(state: State<'_, AppState>) -> Res<Vec<ProviderInfo>> {
    state.core.providers().list_providers().await.map_err(err)
}

/// Adds a provider; its key goes to the OS keychain.
#[tauri::command]
#[specta::specta]
pub async fn add_provider(state: State<'_, AppState>, draft: ProviderDraft) -> Res<ProviderInfo> {
    state
        .core
        .providers()
        .add_provider(draft)
        .await
        .map_err(err)
}

/// Changes a provider; a new host drops its key.
#[tauri::command]
#[specta::specta]
pub async fn update_provider(state: State<'_, AppState>, edit: ProviderEdit) -> Res<ProviderInfo> {
    state
        .core
        .providers()
        .update_provider(edit)
        .await
        .map_err(err)
}

/// Removes a provider and its key.
#[tauri::command]
#[specta::specta]
pub async fn remove_provider(state: State<'_, AppState>, name: String) -> Res<()> {
    state
        .core
        .providers()
        .remove_provider(&name)
        .await
        .map_err(err)
}

/// Saves a provider's key in the keychain.
#[tauri::command]
#[specta::specta]
pub async fn set_provider_key(
    state: State<'_, AppState>,
    name: String,
    key: String,
) -> Res<ProviderInfo> {
    state
        .core
        .providers()
        .set_provider_key(&name, Secret::new(key))
        .await
        .map_err(err)
}

/// Deletes a provider's key from the keychain.
#[tauri::command]
#[specta::specta]
pub async fn clear_provider_key(state: State<'_, AppState>, name: String) -> Res<ProviderInfo> {
    state
        .core
        .providers()
        .clear_provider_key(&name)
        .await
        .map_err(err)
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
