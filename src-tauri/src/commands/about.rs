//! Settings → About: the version and folders, "Open" for Parley's own folders, "Copy
//! diagnostics", and the third-party notices the bundle ships.

use super::prelude::*;
use parley_protocol::{About, AppFolder};

/// The version, the platform and the folders.
#[tauri::command]
#[specta::specta]
pub async fn about_info(state: State<'_, AppState>) -> Res<About> {
    Ok(state.core.about().await)
}

/// Opens one of Parley's folders in the file manager. The window names which, never a path:
/// the opener is used from here, for these folders only (no opener permission is granted to
/// the page).
#[tauri::command]
#[specta::specta]
pub async fn open_folder(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    folder: AppFolder,
) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let about = state.core.about().await;
    let path = match folder {
        AppFolder::Data => Some(about.data_dir),
        AppFolder::Logs => about.log_dir,
    }
    .ok_or_else(|| {
        ErrorInfo::new(
            ErrorCode::NotFound,
            "Parley writes no log file in this run.",
            false,
        )
    })?;
    app.opener().open_path(&path, None::<&str>).map_err(|e| {
        ErrorInfo::new(
            ErrorCode::Internal,
            format!("Could not open {path}: {e}"),
            true,
        )
    })
}

/// The text "Copy diagnostics" puts on the clipboard: versions, platform, kinds and counts;
/// never keys, addresses or message text (`Core::diagnostics`).
#[tauri::command]
#[specta::specta]
pub async fn diagnostics(state: State<'_, AppState>) -> Res<String> {
    let shell = format!("desktop, Tauri {}", tauri::VERSION);
    Ok(state.core.diagnostics(&shell).await)
}

/// The notices of the software Parley includes: the file a bundle installs beside the app
/// (its resources), or, in a build from the repository, the one `cargo xtask licenses` wrote.
#[tauri::command]
#[specta::specta]
pub async fn third_party_notices(app: tauri::AppHandle) -> Res<String> {
    use tauri::Manager;
    const FILE: &str = "THIRD-PARTY-NOTICES.txt";
    let installed = app.path().resource_dir().ok().map(|d| d.join(FILE));
    let built = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|d| d.parent()).map(|t| t.join(FILE)));
    for path in installed.into_iter().chain(built) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text);
        }
    }
    Err(ErrorInfo::new(
        ErrorCode::NotFound,
        "The third-party notices come with Parley's installers; this build has none (`cargo xtask licenses` writes them).",
        false,
    ))
}
