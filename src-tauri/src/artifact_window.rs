//! The preview's own window: an answer's HTML, SVG or diagram runs in a native window of its
//! own — a web view of its own, so a preview that loops forever or eats memory takes down only
//! its own web process, never the chat — laid exactly over the body of the window's preview
//! panel (the panel reports where its body is; the window follows the main window's moves),
//! undecorated, owned by the main window. Its page is the frame page of the preview scheme
//! (artifact_scheme.rs), which holds the preview in a frame sandboxed to scripts. No capability
//! names this window: nothing in it can call a command. Closing the panel destroys the window,
//! and with it whatever the preview was running.

use std::sync::Mutex;
use tauri::{Manager, Runtime};

/// The window's label (no capability names it).
pub const LABEL: &str = "artifact-preview";

/// Where the panel's body is, in the main window's page (CSS pixels from its top left).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, specta::Type)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The panel body's place, as last reported.
#[derive(Default)]
pub struct Placement(Mutex<Option<Rect>>);

impl Placement {
    fn set(&self, r: Option<Rect>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = r;
    }
    fn get(&self) -> Option<Rect> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A rectangle a window may take: finite, at least a pixel, at most a large screen.
fn sane(r: &Rect) -> bool {
    let ok = |v: f64, lo: f64| v.is_finite() && (lo..=20_000.0).contains(&v);
    ok(r.x, -20_000.0) && ok(r.y, -20_000.0) && ok(r.width, 1.0) && ok(r.height, 1.0)
}

/// Where `r` of the main window's page is on the screen (logical pixels).
fn on_screen<R: Runtime>(app: &tauri::AppHandle<R>, r: &Rect) -> Option<(f64, f64)> {
    let main = app.get_webview_window("main")?;
    let scale = main.scale_factor().ok()?;
    let at = main.inner_position().ok()?.to_logical::<f64>(scale);
    Some((at.x + r.x, at.y + r.y))
}

/// Only the preview scheme may load in the window.
fn preview_origin(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        (crate::artifact_scheme::SCHEME, Some("localhost")) => true,
        ("http", Some("parley-artifact.localhost")) => cfg!(windows),
        _ => false,
    }
}

/// Shows the preview at `address` over the panel's body at `r` (a window shown before goes).
pub fn show<R: Runtime>(app: &tauri::AppHandle<R>, address: &str, r: Rect) -> Result<(), String> {
    close(app);
    if !sane(&r) {
        return Err("The preview panel reported an impossible size.".into());
    }
    let url = crate::artifact_scheme::frame_address(address)
        .ok_or_else(|| "The preview's address could not be made.".to_owned())?;
    let main = app
        .get_webview_window("main")
        .ok_or_else(|| "The main window is gone.".to_owned())?;
    let (x, y) = on_screen(app, &r).ok_or_else(|| "The main window has no place.".to_owned())?;
    let builder =
        tauri::WebviewWindowBuilder::new(app, LABEL, tauri::WebviewUrl::CustomProtocol(url))
            .title("Parley: preview")
            .decorations(false)
            .resizable(false)
            .skip_taskbar(true)
            .focused(false)
            .inner_size(r.width, r.height)
            .position(x, y)
            .on_navigation(|u| {
                let ok = preview_origin(u);
                if !ok {
                    tracing::warn!("blocked navigation of the preview to {}", u.scheme());
                }
                ok
            })
            .parent(&main)
            .map_err(|e| e.to_string())?;
    builder.build().map_err(|e| e.to_string())?;
    if let Some(p) = app.try_state::<Placement>() {
        p.set(Some(r));
    }
    Ok(())
}

/// Lays the window over the panel's body at `r` (it moved or changed size).
pub fn place<R: Runtime>(app: &tauri::AppHandle<R>, r: Rect) {
    if !sane(&r) {
        return;
    }
    if let Some(p) = app.try_state::<Placement>() {
        p.set(Some(r));
    }
    follow(app);
}

/// Puts the window where the panel's body is (after the main window moved).
pub fn follow<R: Runtime>(app: &tauri::AppHandle<R>) {
    let Some(w) = app.get_webview_window(LABEL) else {
        return;
    };
    let Some(r) = app.try_state::<Placement>().and_then(|p| p.get()) else {
        return;
    };
    if let Some((x, y)) = on_screen(app, &r) {
        let _ = w.set_position(tauri::LogicalPosition::new(x, y));
        let _ = w.set_size(tauri::LogicalSize::new(r.width, r.height));
    }
}

/// Closes the window (and ends what the preview runs).
pub fn close<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(p) = app.try_state::<Placement>() {
        p.set(None);
    }
    if let Some(w) = app.get_webview_window(LABEL) {
        let _ = w.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_preview_scheme_loads_and_only_sane_places_are_taken() {
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
        let r = |x: f64, w: f64| Rect {
            x,
            y: 0.0,
            width: w,
            height: 100.0,
        };
        assert!(sane(&r(10.0, 300.0)));
        for bad in [
            r(f64::NAN, 300.0),
            r(0.0, 0.0),
            r(0.0, f64::INFINITY),
            r(0.0, 1e9),
        ] {
            assert!(!sane(&bad), "{bad:?}");
        }
    }
}
