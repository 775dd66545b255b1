//! Settings → Data: a backup now, and a restore (merge) from a file the person picks in the
//! native dialog. The webview never names a path.

use super::prelude::*;
use parley_protocol::RestoreReport;

/// Writes a copy of the database into the backups folder; returns where.
#[tauri::command]
#[specta::specta]
pub async fn back_up_now(state: State<'_, AppState>) -> Res<String> {
    let at = state.core.backup(None).await.map_err(err)?;
    Ok(at.display().to_string())
}

/// Asks for a backup file (the native dialog opens in the backups folder) and adds its chats
/// and messages that are missing here. `None` when the person cancelled. E2E tests set
/// `PARLEY_E2E_PICK_FILE` instead of clicking a dialog WebDriver cannot reach.
#[tauri::command]
#[specta::specta]
pub async fn restore_backup(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Res<Option<RestoreReport>> {
    let file = match std::env::var_os("PARLEY_E2E_PICK_FILE") {
        Some(p) => Some(std::path::PathBuf::from(p)),
        None => {
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title("Restore chats from a Parley backup")
                .set_directory(state.core.data_status().backups)
                .add_filter("Parley database", &["db"])
                .pick_file(move |picked| {
                    let _ = tx.send(picked);
                });
            rx.await.ok().flatten().and_then(|p| p.into_path().ok())
        }
    };
    let Some(file) = file else {
        return Ok(None);
    };
    let added = state.core.restore(&file).await.map_err(err)?;
    Ok(Some(RestoreReport {
        file: file.display().to_string(),
        chats: added.chats as u32,
        messages: added.messages as u32,
    }))
}
