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

/// The token a request asks for: a GET of `/<32 lowercase hex digits>` on this scheme's host.
fn asked(request: &Request<Vec<u8>>) -> Option<&str> {
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
    let token = uri.path().strip_prefix('/')?;
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    (token.len() == 32 && token.bytes().all(hex)).then_some(token)
}

/// The response: the page under the preview policy, or 404.
fn respond(page: Option<String>) -> Response<Vec<u8>> {
    let builder = Response::builder()
        .header("Content-Security-Policy", parley_core::artifacts::CSP)
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
    let page = match ctx.app_handle().try_state::<Artifacts>() {
        Some(kept) => asked(&request).and_then(|t| kept.take(t)),
        None => None,
    };
    responder.respond(respond(page));
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
        let first = respond(asked(&req).and_then(|t| kept.take(t)));
        assert_eq!(first.status(), 200);
        let csp = first.headers()["Content-Security-Policy"].to_str().unwrap();
        assert!(csp.contains("sandbox allow-scripts") && csp.contains("connect-src 'none'"));
        assert!(String::from_utf8_lossy(first.body()).contains("<svg/>"));
        let again = respond(asked(&req).and_then(|t| kept.take(t)));
        assert_eq!(again.status(), 404, "served once");
        for bad in [
            format!("parley-artifact://localhost/{}", token.to_uppercase()),
            format!("parley-artifact://evil/{token}"),
            format!("parley-artifact://localhost/{token}?x"),
            format!("parley-artifact://localhost/../{token}"),
            "parley-artifact://localhost/".to_owned(),
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
