//! Settings → Data: a backup now, and a restore (merge) from a file the person picks in the
//! native dialog. The webview never names a path.

use super::prelude::*;
use parley_core::history::{Existing, ExportChoice, ExportFormat, ImportControl};
use parley_protocol::{ExportReport, ImportProgress, ImportReport, RestoreReport};

/// Writes a copy of the database into the backups folder; returns where.
#[tauri::command]
#[specta::specta]
pub async fn back_up_now(state: State<'_, AppState>) -> Res<String> {
    let at = state.core.backups().backup(None).await.map_err(err)?;
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
    let file = pick_file(
        &app,
        "PARLEY_E2E_PICK_FILE",
        "Restore chats from a Parley backup",
        Some(state.core.data_status().backups.into()),
        ("Parley database", "db"),
    )
    .await;
    let Some(file) = file else {
        return Ok(None);
    };
    let report = state
        .core
        .backups()
        .restore(&file, false)
        .await
        .map_err(err)?;
    Ok(Some(RestoreReport {
        file: file.display().to_string(),
        report,
    }))
}

/// Asks where to save (native dialog) and writes chats there, readable by the user only: one
/// chat (`chat_id`) or every chat, in Parley's format (`branch`: only the selected branch)
/// or as Markdown. Every chat: a chat that cannot be read is left out and named in the report
/// (`left_out`), the others are written. `None` when the person cancelled. E2E tests set
/// `PARLEY_E2E_SAVE_FILE` instead of the dialog.
#[tauri::command]
#[specta::specta]
pub async fn export_chats(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    chat_id: Option<ChatId>,
    markdown: bool,
    branch: bool,
) -> Res<Option<ExportReport>> {
    let choice = ExportChoice {
        chats: chat_id.map(|id| vec![id]),
        branch,
        format: if markdown {
            ExportFormat::Markdown
        } else {
            ExportFormat::Json
        },
    };
    let name = choice.file_name();
    let path = match crate::e2e::chosen_path("PARLEY_E2E_SAVE_FILE") {
        Some(p) => Some(p),
        None => {
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let ext = choice.format.extension();
            app.dialog()
                .file()
                .set_title("Export chats")
                .set_file_name(name)
                .add_filter(
                    if markdown {
                        "Markdown"
                    } else {
                        "Parley export"
                    },
                    &[ext],
                )
                .save_file(move |picked| {
                    let _ = tx.send(picked);
                });
            rx.await.ok().flatten().and_then(|p| p.into_path().ok())
        }
    };
    let Some(path) = path else {
        return Ok(None);
    };
    let left_out = state
        .core
        .history()
        .export_to_file(&choice, &path, Existing::Replace)
        .await
        .map_err(err)?;
    Ok(Some(ExportReport {
        file: path.display().to_string(),
        left_out,
    }))
}

/// Asks for a Parley export (native dialog) and says what importing it would add, without
/// merging anything; `confirm_import` then imports that file. The file's reading is reported on
/// `progress` (at most about ten times a second) and stops at `cancel_import`. `None` when
/// cancelled in the dialog. E2E tests set `PARLEY_E2E_PICK_IMPORT`.
#[tauri::command]
#[specta::specta]
pub async fn preview_import(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    progress: Channel<ImportProgress>,
) -> Res<Option<ImportReport>> {
    let file = pick_file(
        &app,
        "PARLEY_E2E_PICK_IMPORT",
        "Import chats (Parley, ChatGPT or Claude export)",
        None,
        ("Chat export", "json"),
    )
    .await;
    let Some(file) = file else {
        return Ok(None);
    };
    let report = run_import(&state, &file, true, progress).await?;
    *state
        .pending_import
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(file);
    Ok(Some(report))
}

/// Imports the file of the last preview: what is missing is added, in one transaction. Its
/// progress goes to `progress`; `cancel_import` stops it before the merge.
#[tauri::command]
#[specta::specta]
pub async fn confirm_import(
    state: State<'_, AppState>,
    progress: Channel<ImportProgress>,
) -> Res<ImportReport> {
    let file = state
        .pending_import
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| {
            ErrorInfo::new(
                ErrorCode::InvalidInput,
                "Pick the file to import first.",
                false,
            )
        })?;
    run_import(&state, &file, false, progress).await
}

/// Stops the running import or preview (the window's Cancel button): nothing is merged.
#[tauri::command]
#[specta::specta]
pub fn cancel_import(state: State<'_, AppState>) {
    if let Some(control) = state
        .importing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        control.cancel();
    }
}

/// Imports (or previews) `file`, registered as the running import so that it can be cancelled.
async fn run_import(
    state: &AppState,
    file: &std::path::Path,
    dry_run: bool,
    progress: Channel<ImportProgress>,
) -> Res<ImportReport> {
    let control = ImportControl::new().on_progress(move |p| {
        let _ = progress.send(p);
    });
    let previous = state
        .importing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .replace(control.clone());
    if let Some(previous) = previous {
        previous.cancel();
    }
    let report = state
        .core
        .history()
        .import_with(file, dry_run, &control)
        .await;
    state
        .importing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take_if(|c| c.same_as(&control));
    report.map_err(err)
}

/// A file the person picks in the native open dialog (`None` when cancelled), or the path in
/// the environment variable `e2e` (end-to-end tests, in builds with the `e2e` feature only:
/// WebDriver cannot reach native dialogs).
pub(crate) async fn pick_file(
    app: &tauri::AppHandle,
    e2e: &str,
    title: &str,
    directory: Option<std::path::PathBuf>,
    (filter, ext): (&str, &str),
) -> Option<std::path::PathBuf> {
    if let Some(p) = crate::e2e::chosen_path(e2e) {
        return Some(p);
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter(filter, &[ext]);
    if let Some(dir) = directory {
        dialog = dialog.set_directory(dir);
    }
    dialog.pick_file(move |picked| {
        let _ = tx.send(picked);
    });
    rx.await.ok().flatten().and_then(|p| p.into_path().ok())
}

/// Asks where to save `text` (the system's save dialog over the main window; the path in
/// `PARLEY_E2E_SAVE_FILE` in end-to-end builds) and writes it there, readable by the user only
/// (0600 on Unix) and whole or not at all (a new file renamed over the one chosen). `None` when
/// cancelled.
pub(crate) async fn save_file(
    app: &tauri::AppHandle,
    title: &str,
    name: &str,
    filter: Option<(&str, &str)>,
    text: &str,
) -> crate::Res<Option<String>> {
    let path = match crate::e2e::chosen_path("PARLEY_E2E_SAVE_FILE") {
        Some(p) => Some(p),
        None => {
            use tauri::Manager;
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let mut dialog = app.dialog().file().set_title(title).set_file_name(name);
            if let Some((label, ext)) = filter {
                dialog = dialog.add_filter(label, &[ext]);
            }
            if let Some(main) = app.get_webview_window("main") {
                dialog = dialog.set_parent(&main);
            }
            dialog.save_file(move |picked| {
                let _ = tx.send(picked);
            });
            rx.await.ok().flatten().and_then(|p| p.into_path().ok())
        }
    };
    let Some(path) = path else { return Ok(None) };
    write_private(&path, text).map_err(|e| {
        parley_protocol::ErrorInfo::new(
            parley_protocol::ErrorCode::Internal,
            format!("{} could not be written: {e}", path.display()),
            true,
        )
    })?;
    Ok(Some(path.display().to_string()))
}

/// `text` into `path` through a private new file beside it, renamed over it.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.parley-{}", parley_core::new_id()));
    let written = parley_core::create_private(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
