//! The `parley-artifact:` scheme: a preview's page, at `parley-artifact://localhost/<token>`
//! (Windows: `http://parley-artifact.localhost/<token>`), shown by the window in a frame
//! sandboxed to scripts alone (no same-origin: an origin of its own, no storage, no reach into
//! the page that frames it). The page is the core's (`artifacts::page`), served under the core's
//! policy (`artifacts::CSP`: no network at all, itself sandboxed) with nothing cached.
//!
//! A token is 128 random bits, made by `open_artifact` for one page and served once: a second
//! load of the same address, whoever asks, is 404 — so the address is of no use to anyone who
//! reads it later (the preview itself can read its own address). At most [`KEPT`] pages wait
//! to be loaded; older ones are dropped. Tauri's bridge to the app's commands is given to the
//! main frame only and asks for a key this frame never sees; the main window's navigation rules
//! keep a frame from going anywhere but this scheme.

use parley_protocol::ArtifactKind;
use std::collections::VecDeque;
use std::sync::Mutex;
use tauri::http::{Request, Response};

/// The scheme's name.
pub const SCHEME: &str = "parley-artifact";

/// How many pages may wait to be loaded.
pub const KEPT: usize = 16;

/// Pages made for previews, by token, waiting to be loaded once.
#[derive(Default)]
pub struct Artifacts(Mutex<VecDeque<(String, String)>>);

impl Artifacts {
    /// Keeps a page for one load; its address.
    pub fn add(&self, page: String) -> Option<String> {
        let token = crate::card::random_hex(16)?;
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while kept.len() >= KEPT {
            kept.pop_front();
        }
        kept.push_back((token.clone(), page));
        Some(address(&token))
    }

    /// Whether `token`'s page still waits to be loaded.
    fn has(&self, token: &str) -> bool {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.iter().any(|(t, _)| t == token)
    }

    /// The page of `token`, given once.
    fn take(&self, token: &str) -> Option<String> {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = kept.iter().position(|(t, _)| t == token)?;
        kept.remove(at).map(|(_, page)| page)
    }
}

/// A token's address on this platform.
fn address(token: &str) -> String {
    if cfg!(windows) {
        format!("http://{SCHEME}.localhost/{token}")
    } else {
        format!("{SCHEME}://localhost/{token}")
    }
}

/// What a request asks for: a preview's page (`/<token>`), or the frame around it
/// (`/frame/<token>`, the preview window's own page).
#[derive(Debug, PartialEq, Eq)]
enum Asked<'a> {
    Page(&'a str),
    Frame(&'a str),
    /// The empty page a preview window is made on (artifact_window.rs).
    Blank,
}

/// The request's target: a GET of `/<32 lowercase hex digits>` or `/frame/<the same>` on this
/// scheme's host, nothing else.
fn asked(request: &Request<Vec<u8>>) -> Option<Asked<'_>> {
    if request.method() != tauri::http::Method::GET {
        return None;
    }
    let uri = request.uri();
    match uri.host() {
        Some("localhost" | "parley-artifact.localhost") => {}
        _ => return None,
    }
    if uri.query().is_some() {
        return None;
    }
    let path = uri.path().strip_prefix('/')?;
    if path == "blank" {
        return Some(Asked::Blank);
    }
    let (frame, token) = match path.strip_prefix("frame/") {
        Some(t) => (true, t),
        None => (false, path),
    };
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if token.len() != 32 || !token.bytes().all(hex) {
        return None;
    }
    Some(if frame {
        Asked::Frame(token)
    } else {
        Asked::Page(token)
    })
}

/// The preview window's page: nothing but the sandboxed frame of the preview, filling it. No
/// script of its own; it may frame only this scheme.
fn frame_page(token: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Preview</title><style>html,body{{margin:0;height:100%;overflow:hidden;background:#fff}}iframe{{border:0;width:100%;height:100%;display:block}}</style></head><body><iframe src=\"/{token}\" sandbox=\"allow-scripts\" referrerpolicy=\"no-referrer\" allow=\"\" title=\"Preview\"></iframe></body></html>"
    )
}

/// The policy of the frame page: its own styles, frames of this scheme, nothing else.
const FRAME_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-src parley-artifact: http://parley-artifact.localhost; form-action 'none'; base-uri 'none'";

/// The response to a request, from the pages kept.
fn serve(kept: &Artifacts, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    match asked(request) {
        Some(Asked::Page(t)) => respond(kept.take(t), parley_core::artifacts::CSP),
        Some(Asked::Frame(t)) if kept.has(t) => respond(Some(frame_page(t)), FRAME_CSP),
        Some(Asked::Blank) => respond(Some(String::new()), parley_core::artifacts::CSP),
        _ => respond(None, parley_core::artifacts::CSP),
    }
}

/// The response: a page under `csp`, or 404.
fn respond(page: Option<String>, csp: &str) -> Response<Vec<u8>> {
    let builder = Response::builder()
        .header("Content-Security-Policy", csp)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-store");
    let built = match page {
        Some(page) => builder
            .status(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(page.into_bytes()),
        None => builder
            .status(404)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(b"This preview is gone: open it again from its block.".to_vec()),
    };
    built.unwrap_or_else(|_| Response::new(Vec::new()))
}

/// The scheme's handler (503 before the app's state exists).
pub fn handle(
    ctx: tauri::UriSchemeContext<'_, tauri::Wry>,
    request: Request<Vec<u8>>,
    responder: tauri::UriSchemeResponder,
) {
    use tauri::Manager;
    let response = match ctx.app_handle().try_state::<Artifacts>() {
        Some(kept) => serve(&kept, &request),
        None => respond(None, parley_core::artifacts::CSP),
    };
    responder.respond(response);
}

/// The address of the empty page a preview window is made on.
pub fn blank_address() -> Option<url::Url> {
    url::Url::parse(&address("blank")).ok()
}

/// The address of the preview window's page for the preview at `address`.
pub fn frame_address(address: &str) -> Option<url::Url> {
    let (base, token) = address.rsplit_once('/')?;
    url::Url::parse(&format!("{base}/frame/{token}")).ok()
}

/// Makes the page a preview of `kind` shows and keeps it for one load; its address.
pub fn open(kept: &Artifacts, kind: ArtifactKind, source: &str) -> Result<String, String> {
    let page = parley_core::artifacts::page(kind, source).map_err(|e| e.to_info().message)?;
    kept.add(page)
        .ok_or_else(|| "The system gave no randomness for the preview's address.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<Vec<u8>> {
        Request::builder().uri(uri).body(Vec::new()).unwrap()
    }

    #[test]
    fn a_page_is_served_once_under_the_policy_and_nothing_else_is() {
        let kept = Artifacts::default();
        let url = open(&kept, ArtifactKind::Svg, "<svg/>").unwrap();
        let token = url.rsplit('/').next().unwrap().to_owned();
        let req = get(&format!("parley-artifact://localhost/{token}"));
        let frame = serve(
            &kept,
            &get(&format!("parley-artifact://localhost/frame/{token}")),
        );
        assert_eq!(frame.status(), 200);
        let page = String::from_utf8_lossy(frame.body()).into_owned();
        assert!(
            page.contains(&format!("src=\"/{token}\" sandbox=\"allow-scripts\"")),
            "{page}"
        );
        assert!(!page.contains("<script"));
        let first = serve(&kept, &req);
        assert_eq!(first.status(), 200);
        let csp = first.headers()["Content-Security-Policy"].to_str().unwrap();
        assert!(csp.contains("sandbox allow-scripts") && csp.contains("connect-src 'none'"));
        assert!(String::from_utf8_lossy(first.body()).contains("<svg/>"));
        let again = serve(&kept, &req);
        assert_eq!(again.status(), 404, "served once");
        let frame = serve(
            &kept,
            &get(&format!("parley-artifact://localhost/frame/{token}")),
        );
        assert_eq!(frame.status(), 404, "its frame is gone with it");
        for bad in [
            format!("parley-artifact://localhost/{}", token.to_uppercase()),
            format!("parley-artifact://evil/{token}"),
            format!("parley-artifact://localhost/{token}?x"),
            format!("parley-artifact://localhost/../{token}"),
            "parley-artifact://localhost/".to_owned(),
            format!("parley-artifact://localhost/frame/frame/{token}"),
            format!("parley-artifact://localhost/x/{token}"),
        ] {
            assert!(asked(&get(&bad)).is_none(), "{bad}");
        }
        let post = Request::builder()
            .method("POST")
            .uri(format!("parley-artifact://localhost/{token}"))
            .body(Vec::new())
            .unwrap();
        assert!(asked(&post).is_none());
    }

    #[test]
    fn only_the_newest_pages_wait() {
        let kept = Artifacts::default();
        let urls: Vec<String> = (0..KEPT + 2)
            .map(|i| kept.add(format!("p{i}")).unwrap())
            .collect();
        let token = |u: &String| u.rsplit('/').next().unwrap().to_owned();
        assert!(kept.take(&token(&urls[0])).is_none());
        assert_eq!(
            kept.take(&token(&urls[KEPT + 1])).as_deref(),
            Some(&*format!("p{}", KEPT + 1))
        );
    }
}
