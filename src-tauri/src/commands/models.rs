//! Local models and the built-in engine from the window (Settings → Models). A model file is
//! added only as the person picks it in the native dialog, or from the models Parley found
//! where Ollama and LM Studio keep them: the page never names a path of its own choosing.

use super::prelude::*;
use parley_protocol::{
    CatalogueModel, DownloadInfo, EngineStatus, LocalModel, LocalModels, ModelSettings,
};

/// The installed models, the ones found on this computer, and the memory.
#[tauri::command]
#[specta::specta]
pub async fn list_local_models(state: State<'_, AppState>) -> Res<LocalModels> {
    state.core.models().list().await.map_err(err)
}

/// Shows the native open dialog for a GGUF file and adds the one picked (`None` when
/// cancelled). E2E tests set `PARLEY_E2E_PICK_MODEL` instead (builds with the `e2e` feature).
#[tauri::command]
#[specta::specta]
pub async fn pick_local_model(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
) -> Res<Option<LocalModel>> {
    let picked = match crate::e2e::chosen_path("PARLEY_E2E_PICK_MODEL") {
        Some(p) => Some(p),
        None => {
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title("Add a model file")
                .add_filter("GGUF model", &["gguf"])
                .pick_file(move |p| {
                    let _ = tx.send(p);
                });
            rx.await.ok().flatten().and_then(|p| p.into_path().ok())
        }
    };
    let Some(path) = picked else { return Ok(None) };
    let path = path.display().to_string();
    state
        .core
        .models()
        .add(&path, None)
        .await
        .map(Some)
        .map_err(err)
}

/// Adds a model Parley found where Ollama or LM Studio keeps it (named by its path as listed).
#[tauri::command]
#[specta::specta]
pub async fn add_found_model(state: State<'_, AppState>, path: String) -> Res<LocalModel> {
    let models = state.core.models();
    let found = models.list().await.map_err(err)?.found;
    if !found.iter().any(|f| f.path == path) {
        return Err(err(parley_core::CoreError::InvalidInput(
            "That model is not among the ones found on this computer.".into(),
        )));
    }
    models.add(&path, None).await.map_err(err)
}

/// Removes a model (a downloaded file is deleted; the user's own stays).
#[tauri::command]
#[specta::specta]
pub async fn remove_local_model(state: State<'_, AppState>, name: String) -> Res<LocalModel> {
    state.core.models().remove(&name).await.map_err(err)
}

/// How the engine runs a model.
#[tauri::command]
#[specta::specta]
pub async fn set_local_model_settings(
    state: State<'_, AppState>,
    name: String,
    settings: ModelSettings,
) -> Res<LocalModel> {
    state
        .core
        .models()
        .set_settings(&name, settings)
        .await
        .map_err(err)
}

/// What the engine is doing.
#[tauri::command]
#[specta::specta]
pub async fn engine_status(state: State<'_, AppState>) -> Res<EngineStatus> {
    Ok(state.core.models().status())
}

/// The engine's log.
#[tauri::command]
#[specta::specta]
pub async fn engine_log(state: State<'_, AppState>) -> Res<Vec<String>> {
    Ok(state.core.models().log())
}

/// The idle time after which the model is unloaded (0: never).
#[tauri::command]
#[specta::specta]
pub async fn set_engine_idle(state: State<'_, AppState>, seconds: u32) -> Res<EngineStatus> {
    state.core.models().set_idle(seconds).await.map_err(err)
}

/// Stops the engine now (its memory freed; the next message starts it again).
#[tauri::command]
#[specta::specta]
pub async fn stop_engine(state: State<'_, AppState>) -> Res<EngineStatus> {
    state.core.models().stop_engine().await;
    Ok(state.core.models().status())
}

/// Starts downloading a model from the hub (`owner/repo:file.gguf`); `model_downloads` follows.
#[tauri::command]
#[specta::specta]
pub async fn start_model_download(
    state: State<'_, AppState>,
    reference: String,
) -> Res<DownloadInfo> {
    state
        .core
        .models()
        .start_download(&reference)
        .await
        .map_err(err)
}

/// Pauses a download (what arrived is kept).
#[tauri::command]
#[specta::specta]
pub async fn pause_model_download(state: State<'_, AppState>, id: String) -> Res<bool> {
    Ok(state.core.models().pause_download(&id))
}

/// Cancels a download and deletes what arrived.
#[tauri::command]
#[specta::specta]
pub async fn cancel_model_download(state: State<'_, AppState>, id: String) -> Res<bool> {
    Ok(state.core.models().cancel_download(&id))
}

/// The downloads under way, and those paused.
#[tauri::command]
#[specta::specta]
pub async fn model_downloads(state: State<'_, AppState>) -> Res<Vec<DownloadInfo>> {
    Ok(state.core.models().downloads())
}

/// The hub's address. (It is changed with `parley models hub URL`, not from the page: an
/// address the page could set would decide where model files come from.)
#[tauri::command]
#[specta::specta]
pub async fn model_hub(state: State<'_, AppState>) -> Res<String> {
    state.core.models().hub().await.map_err(err)
}

/// Small instruction models to download, marked by what fits this computer.
#[tauri::command]
#[specta::specta]
pub async fn model_catalogue(state: State<'_, AppState>) -> Res<Vec<CatalogueModel>> {
    Ok(state.core.models().catalogue())
}
