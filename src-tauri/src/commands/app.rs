//! The app itself: the native folder dialog, opening links, the first-paint signal.

use super::prelude::*;

/// Shows the native folder dialog. The webview never names a path: the workspace is a
/// security boundary, so only a folder the user picked here can become one. E2E tests set
/// `PARLEY_E2E_PICK_FOLDER` (read from the app's own environment, in builds with the `e2e`
/// feature only: `crate::e2e`) instead of clicking a native dialog WebDriver cannot reach.
pub(crate) async fn pick_folder(app: &tauri::AppHandle, title: &str) -> Option<std::path::PathBuf> {
    if let Some(p) = crate::e2e::chosen_path("PARLEY_E2E_PICK_FOLDER") {
        return Some(p);
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .pick_folder(move |picked| {
            let _ = tx.send(picked);
        });
    rx.await.ok().flatten().and_then(|p| p.into_path().ok())
}

/// Opens a link from a message in the system browser: http(s) and mailto only.
#[tauri::command]
#[specta::specta]
pub async fn open_link(app: tauri::AppHandle, url: String) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let parsed = url::Url::parse(&url).map_err(|_| {
        ErrorInfo::new(
            ErrorCode::InvalidInput,
            "That link is not a valid address.",
            false,
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
        return Err(ErrorInfo::new(
            ErrorCode::InvalidInput,
            format!(
                "Parley opens only web and e-mail links, not {}: links.",
                parsed.scheme()
            ),
            false,
        ));
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|e| {
            ErrorInfo::new(
                ErrorCode::Internal,
                format!("Could not open the link: {e}"),
                true,
            )
        })
}

/// The UI calls this once the chat list is first painted. Only the benchmark listens: with
/// `PARLEY_READY_FILE` set, the moment is written there (unix ms).
#[tauri::command]
#[specta::specta]
pub async fn app_ready() -> Res<()> {
    tracing::info!("window painted");
    if let Some(path) = std::env::var_os("PARLEY_READY_FILE") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let _ = std::fs::write(path, now.to_string());
    }
    Ok(())
}

/// The state of Parley's data at this start: a database moved aside because it could not be
/// read (the window shows a banner with its location), where backups go, interrupted answers.
#[tauri::command]
#[specta::specta]
pub async fn data_status(state: State<'_, AppState>) -> Res<parley_protocol::DataStatus> {
    Ok(state.core.data_status())
}
