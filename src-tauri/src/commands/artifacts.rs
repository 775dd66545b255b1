//! Previews of the HTML, SVG and Mermaid blocks of answers: the page is made by the core and
//! served once on the preview scheme (artifact_scheme.rs), for a frame sandboxed to scripts;
//! saving goes through the system's save dialog (the page never names a path).

use super::prelude::*;
use crate::artifact_scheme::Artifacts;
use parley_protocol::ArtifactKind;

fn invalid(message: String) -> ErrorInfo {
    ErrorInfo::new(ErrorCode::InvalidInput, message, false)
}

/// The address of a preview of `source` (HTML, or SVG: a Mermaid diagram comes drawn, as SVG),
/// good for one load.
#[tauri::command]
#[specta::specta]
pub async fn open_artifact(
    kept: State<'_, Artifacts>,
    kind: ArtifactKind,
    source: String,
) -> Res<String> {
    crate::artifact_scheme::open(&kept, kind, &source).map_err(invalid)
}

/// Writes `source` to a file the person picks (named `artifact-NUMBER.EXT` at first); its
/// path, or `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_artifact(
    app: tauri::AppHandle,
    kind: ArtifactKind,
    source: String,
    number: u32,
) -> Res<Option<String>> {
    parley_core::artifacts::check_size(&source).map_err(err)?;
    let name = parley_core::artifacts::file_name(kind, number);
    let path = match crate::e2e::chosen_path("PARLEY_E2E_SAVE_FILE") {
        Some(p) => Some(p),
        None => {
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title("Save the preview's source")
                .set_file_name(&name)
                .save_file(move |picked| {
                    let _ = tx.send(picked);
                });
            rx.await.ok().flatten().and_then(|p| p.into_path().ok())
        }
    };
    let Some(path) = path else { return Ok(None) };
    std::fs::write(&path, source).map_err(|e| {
        ErrorInfo::new(
            ErrorCode::Internal,
            format!("{} could not be written: {e}", path.display()),
            true,
        )
    })?;
    Ok(Some(path.display().to_string()))
}
