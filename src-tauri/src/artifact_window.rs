//! The preview's own window: an answer's HTML, SVG or diagram runs in a native window of its
//! own — a web view of its own, so a preview that loops forever or eats memory takes down only
//! its own web process, never the chat — laid exactly over the body of the window's preview
//! panel (the panel reports where its body is, kept inside the main window; the window follows
//! the main window's moves), undecorated, owned by the main window. Where windows cannot be
//! placed (Wayland) it is an ordinary window of its own instead.
//!
//! Its page is the frame page of the preview scheme (artifact_scheme.rs), which holds the
//! preview in a frame sandboxed to scripts. The window is made on a blank page; Tauri's message
//! channel (`window.webkit.messageHandlers.ipc`, which WebKit offers every frame) is taken out
//! of it before the preview is loaded, so nothing in it can even send a command — and no
//! capability names these windows either. An approval or change card never shares the screen
//! with a preview: a card closes it, and no preview opens while a card is up. Closing the panel
//! destroys the window, and with it whatever the preview was running.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use tauri::{Manager, Runtime};

/// The windows' label prefix (no capability names them); each showing has a label of its own.
pub const PREFIX: &str = "artifact-preview-";

/// Where the panel's body is, in the main window's page (CSS pixels from its top left).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, specta::Type)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The preview's window and the panel body's place, as last reported; one change at a time.
#[derive(Default)]
pub struct Placement {
    state: Mutex<(Option<String>, Option<Rect>)>,
    /// Shows and closes run one at a time (a window is made and gone whole).
    pub(crate) gate: tokio::sync::Mutex<()>,
    next: AtomicU64,
}

impl Placement {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Option<String>, Option<Rect>)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `r` kept inside the main window's page of `width` × `height`; `None` when nothing is left.
fn inside(r: &Rect, width: f64, height: f64) -> Option<Rect> {
    let finite = [r.x, r.y, r.width, r.height].iter().all(|v| v.is_finite());
    if !finite {
        return None;
    }
    let (x, y) = (r.x.clamp(0.0, width), r.y.clamp(0.0, height));
    let w = (r.x + r.width).min(width) - x;
    let h = (r.y + r.height).min(height) - y;
    (w >= 1.0 && h >= 1.0).then_some(Rect {
        x,
        y,
        width: w,
        height: h,
    })
}

/// Where `r` of the main window's page is on the screen (logical pixels), kept inside it.
fn on_screen<R: Runtime>(app: &tauri::AppHandle<R>, r: &Rect) -> Option<(f64, f64, Rect)> {
    let main = app.get_webview_window("main")?;
    let scale = main.scale_factor().ok()?;
    let at = main.inner_position().ok()?.to_logical::<f64>(scale);
    let size = main.inner_size().ok()?.to_logical::<f64>(scale);
    let r = inside(r, size.width, size.height)?;
    Some((at.x + r.x, at.y + r.y, r))
}

/// Only the preview scheme may load in the window.
fn preview_origin(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        (crate::artifact_scheme::SCHEME, Some("localhost")) => true,
        ("http", Some("parley-artifact.localhost")) => cfg!(windows),
        _ => false,
    }
}

/// Whether windows can be placed here (not on Wayland, where the compositor places them).
fn placeable() -> bool {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
    let x11 = std::env::var("GDK_BACKEND").is_ok_and(|b| b.starts_with("x11"));
    !cfg!(target_os = "linux") || !wayland || x11
}

/// Whether an approval or change card is up (no preview is shown over or beside one).
fn card_up<R: Runtime>(app: &tauri::AppHandle<R>) -> bool {
    app.try_state::<crate::card::Windows>()
        .is_some_and(|w| !w.cards_where(|_| true).is_empty())
}

/// Shows the preview at `address` over the panel's body at `r` (a window shown before goes).
pub fn show<R: Runtime>(app: &tauri::AppHandle<R>, address: &str, r: Rect) -> Result<(), String> {
    close(app);
    if card_up(app) {
        return Err("an approval or confirmation is waiting: answer it first.".into());
    }
    let frame = crate::artifact_scheme::frame_address(address)
        .ok_or_else(|| "its address could not be made.".to_owned())?;
    let blank = crate::artifact_scheme::blank_address()
        .ok_or_else(|| "its address could not be made.".to_owned())?;
    let main = app
        .get_webview_window("main")
        .ok_or_else(|| "the main window is gone.".to_owned())?;
    let (x, y, r) = on_screen(app, &r).ok_or_else(|| "the panel has no room.".to_owned())?;
    let placement = app
        .try_state::<Placement>()
        .ok_or_else(|| "Parley is still starting.".to_owned())?;
    let label = format!("{PREFIX}{}", placement.next.fetch_add(1, Ordering::SeqCst));
    let logged = AtomicBool::new(false);
    let mut builder =
        tauri::WebviewWindowBuilder::new(app, &label, tauri::WebviewUrl::CustomProtocol(blank))
            .title("Parley: preview")
            .skip_taskbar(placeable())
            .focused(false)
            .inner_size(r.width, r.height)
            .on_navigation(move |u| {
                let ok = preview_origin(u);
                // (Once per window: a preview navigating in a loop does not fill the log.)
                if !ok && !logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!("blocked navigation of a preview to {}:", u.scheme());
                }
                ok
            })
            .parent(&main)
            .map_err(|e| e.to_string())?;
    if placeable() {
        builder = builder.decorations(false).position(x, y);
    }
    let window = builder.build().map_err(|e| e.to_string())?;
    *placement.lock() = (Some(label), Some(r));
    load_without_channel(&window, frame)
}

/// Takes Tauri's message channel out of the window's web view, then loads the preview (in that
/// order, on the main thread). Elsewhere than Linux the channel stays (the invoke key and the
/// absence of any capability still refuse every command) and the preview loads at once.
fn load_without_channel<R: Runtime>(
    window: &tauri::WebviewWindow<R>,
    frame: url::Url,
) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let url = frame.to_string();
        window
            .with_webview(move |wv| {
                use webkit2gtk::{UserContentManagerExt, WebViewExt};
                let view = wv.inner();
                if let Some(manager) = view.user_content_manager() {
                    manager.unregister_script_message_handler("ipc");
                    view.load_uri(&url);
                } else {
                    tracing::warn!("a preview's web view has no content manager: not loaded");
                }
            })
            .map_err(|e| e.to_string())
    }
    #[cfg(not(target_os = "linux"))]
    {
        window.navigate(frame).map_err(|e| e.to_string())
    }
}

/// Lays the window over the panel's body at `r` (it moved or changed size).
pub fn place<R: Runtime>(app: &tauri::AppHandle<R>, r: Rect) {
    if let Some(p) = app.try_state::<Placement>() {
        p.lock().1 = Some(r);
    }
    follow(app);
}

/// Puts the window where the panel's body is (after the main window moved).
pub fn follow<R: Runtime>(app: &tauri::AppHandle<R>) {
    let Some(p) = app.try_state::<Placement>() else {
        return;
    };
    let (Some(label), Some(r)) = p.lock().clone() else {
        return;
    };
    let (Some(w), Some((x, y, r))) = (app.get_webview_window(&label), on_screen(app, &r)) else {
        return;
    };
    if placeable() {
        let _ = w.set_position(tauri::LogicalPosition::new(x, y));
        let _ = w.set_size(tauri::LogicalSize::new(r.width, r.height));
    }
}

/// Closes the preview's windows (and ends what they run).
pub fn close<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(p) = app.try_state::<Placement>() {
        *p.lock() = (None, None);
    }
    for (label, w) in app.webview_windows() {
        if label.starts_with(PREFIX) {
            let _ = w.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_preview_scheme_loads_and_the_window_stays_inside_the_main_one() {
        let ok = |u: &str| preview_origin(&url::Url::parse(u).unwrap());
        assert!(ok(
            "parley-artifact://localhost/frame/0123456789abcdef0123456789abcdef"
        ));
        for bad in [
            "https://example.com/",
            "tauri://localhost/index.html",
            "parley-approve://localhost/card",
            "parley-artifact://evil/x",
            "data:text/html,hi",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        let r = |x: f64, y: f64, w: f64, h: f64| Rect {
            x,
            y,
            width: w,
            height: h,
        };
        assert_eq!(
            inside(&r(10.0, 0.0, 300.0, 100.0), 800.0, 600.0),
            Some(r(10.0, 0.0, 300.0, 100.0))
        );
        // Cut to the main window: a page cannot lay a preview over anything else.
        assert_eq!(
            inside(&r(-50.0, 500.0, 2000.0, 5000.0), 800.0, 600.0),
            Some(r(0.0, 500.0, 800.0, 100.0))
        );
        for bad in [
            r(f64::NAN, 0.0, 300.0, 100.0),
            r(0.0, 0.0, 0.0, 10.0),
            r(900.0, 0.0, 10.0, 10.0),
            r(0.0, 0.0, f64::INFINITY, 1.0),
        ] {
            assert_eq!(inside(&bad, 800.0, 600.0), None, "{bad:?}");
        }
    }
}
