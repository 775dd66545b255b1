//! Previews of the HTML, SVG and Mermaid blocks of answers: the page is made by the core and
//! served once on the preview scheme (artifact_scheme.rs), shown in a window of its own laid
//! over the panel's body (artifact_window.rs), in a frame sandboxed to scripts; saving goes
//! through the system's save dialog (the page never names a path).

use super::prelude::*;
use crate::artifact_scheme::Artifacts;
use crate::artifact_window::{self, Placement, Rect};
use parley_protocol::ArtifactKind;

fn invalid(message: String) -> ErrorInfo {
    ErrorInfo::new(ErrorCode::InvalidInput, message, false)
}

/// Shows a preview of `source` (HTML, or SVG: a Mermaid diagram comes drawn, as SVG) over the
/// panel's body at `rect`; a preview shown before closes.
#[tauri::command]
#[specta::specta]
pub async fn show_artifact(
    app: tauri::AppHandle,
    kept: State<'_, Artifacts>,
    placement: State<'_, Placement>,
    kind: ArtifactKind,
    source: String,
    rect: Rect,
) -> Res<()> {
    let address = crate::artifact_scheme::open(&kept, kind, &source).map_err(invalid)?;
    let _one = placement.gate.lock().await;
    artifact_window::show(&app, &address, rect).map_err(|e| {
        ErrorInfo::new(
            ErrorCode::Internal,
            format!("The preview could not be shown: {e}"),
            true,
        )
    })
}

/// The panel's body moved or changed size: the preview follows.
#[tauri::command]
#[specta::specta]
pub async fn place_artifact(app: tauri::AppHandle, rect: Rect) -> Res<()> {
    artifact_window::place(&app, rect);
    Ok(())
}

/// Closes the preview, ending whatever it runs.
#[tauri::command]
#[specta::specta]
pub async fn close_artifact(app: tauri::AppHandle, placement: State<'_, Placement>) -> Res<()> {
    let _one = placement.gate.lock().await;
    artifact_window::close(&app);
    Ok(())
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
    super::data::save_file(&app, "Save the preview's source", &name, None, &source).await
}
