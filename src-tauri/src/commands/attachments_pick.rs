//! How files reach the composer: the native multi-file dialog and files dropped on the window.
//! Both give paths the person chose; attaching them (reading, converting, storing) is
//! `attach_file` (commands/attachments.rs), which the window calls once per path.

use super::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::Manager;

/// Shows the native open dialog for any number of files; the paths picked (none when
/// cancelled). E2E tests set `PARLEY_E2E_PICK_ATTACHMENTS` (paths joined like `PATH`, from
/// `--e2e-pick-attachments`, in builds with the `e2e` feature only: `crate::e2e`) instead of
/// clicking a native dialog WebDriver cannot reach.
#[tauri::command]
#[specta::specta]
pub async fn pick_attachments(app: tauri::AppHandle) -> Res<Vec<String>> {
    if let Some(paths) = crate::e2e::chosen_paths("PARLEY_E2E_PICK_ATTACHMENTS") {
        return Ok(shown(paths));
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Attach files")
        .pick_files(move |picked| {
            let _ = tx.send(picked);
        });
    let picked = rx.await.ok().flatten().unwrap_or_default();
    Ok(shown(
        picked
            .into_iter()
            .filter_map(|p| p.into_path().ok())
            .collect(),
    ))
}

/// Paths as the window gets them. A path that is not valid Unicode cannot travel as a string:
/// it is passed lossily and `attach_file` then says it cannot find the file, by its name.
fn shown(paths: Vec<PathBuf>) -> Vec<String> {
    paths
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// What dragging files onto the window tells the composer.
#[derive(Clone, Debug, PartialEq, serde::Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DropEvent {
    /// Files are being dragged over the window: it shows where they would go.
    Over,
    /// The drag left the window or was cancelled.
    Leave,
    /// Files were dropped on the window: their paths, to attach.
    Drop {
        /// The dropped files' paths.
        paths: Vec<String>,
    },
}

/// The main window's channel for [`DropEvent`]s, replaced when the window reloads.
#[derive(Default)]
pub struct Drops(Mutex<Option<Channel<DropEvent>>>);

/// The window asks to hear about files dragged onto it (once per page load).
#[tauri::command]
#[specta::specta]
pub async fn watch_drops(drops: State<'_, Drops>, on_drop: Channel<DropEvent>) -> Res<()> {
    *drops.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(on_drop);
    Ok(())
}

/// The drop event a native drag-and-drop event of the window becomes (`None`: nothing to say).
fn drop_event(event: &tauri::DragDropEvent) -> Option<DropEvent> {
    match event {
        tauri::DragDropEvent::Enter { paths, .. } if paths.is_empty() => None,
        tauri::DragDropEvent::Enter { .. } | tauri::DragDropEvent::Over { .. } => {
            Some(DropEvent::Over)
        }
        tauri::DragDropEvent::Drop { paths, .. } if paths.is_empty() => Some(DropEvent::Leave),
        tauri::DragDropEvent::Drop { paths, .. } => Some(DropEvent::Drop {
            paths: shown(paths.clone()),
        }),
        tauri::DragDropEvent::Leave => Some(DropEvent::Leave),
        _ => None,
    }
}

/// Forwards the main window's drag-and-drop events to its channel. Only files dragged from
/// outside carry paths; text or links dragged within the page are the page's own business.
pub(crate) fn watch(app: &tauri::AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let handle = app.clone();
    window.on_window_event(move |event| {
        let tauri::WindowEvent::DragDrop(native) = event else {
            return;
        };
        let Some(out) = drop_event(native) else {
            return;
        };
        let drops = handle.state::<Drops>();
        let channel = drops.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(channel) = channel {
            if let Err(e) = channel.send(out) {
                tracing::warn!("could not tell the window about dropped files: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::{DragDropEvent as Native, PhysicalPosition};

    #[test]
    fn native_drag_events_become_what_the_composer_needs() {
        let at = PhysicalPosition::new(10.0, 20.0);
        let files = vec![
            PathBuf::from("/home/a/shot.png"),
            PathBuf::from("/tmp/b c.pdf"),
        ];
        let cases: Vec<(Native, Option<DropEvent>)> = vec![
            (
                Native::Enter {
                    paths: files.clone(),
                    position: at,
                },
                Some(DropEvent::Over),
            ),
            // A drag of text from inside the page carries no files: nothing to show.
            (
                Native::Enter {
                    paths: vec![],
                    position: at,
                },
                None,
            ),
            (Native::Over { position: at }, Some(DropEvent::Over)),
            (
                Native::Drop {
                    paths: files.clone(),
                    position: at,
                },
                Some(DropEvent::Drop {
                    paths: vec!["/home/a/shot.png".into(), "/tmp/b c.pdf".into()],
                }),
            ),
            (
                Native::Drop {
                    paths: vec![],
                    position: at,
                },
                Some(DropEvent::Leave),
            ),
            (Native::Leave, Some(DropEvent::Leave)),
        ];
        for (native, want) in cases {
            assert_eq!(drop_event(&native), want, "{native:?}");
        }
    }

    #[test]
    fn paths_travel_as_strings_and_empty_ones_are_dropped() {
        assert_eq!(
            shown(vec![
                PathBuf::new(),
                PathBuf::from("/x/\u{202e}gnp.exe"),
                PathBuf::from("C:\\Users\\a\\b.txt"),
            ]),
            vec![
                "/x/\u{202e}gnp.exe".to_owned(),
                "C:\\Users\\a\\b.txt".to_owned()
            ]
        );
    }
}
