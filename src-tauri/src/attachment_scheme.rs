//! The `attachment:` scheme: the window shows stored images at
//! `attachment://localhost/<sha256>` (Windows: `http://attachment.localhost/<sha256>`) and
//! their thumbnails at `…?thumb`. Rust serves them: the stored bytes with the stored type,
//! never sniffed (`nosniff`), in a sandbox with nothing else allowed (an SVG or HTML made to
//! look like an image could not run even if it were stored, which ingest never lets happen),
//! cached for good (an address names its content). Anything but a stored image's address —
//! 64 lowercase hex digits, nothing before or after — is 404.

use parley_core::Core;
use tauri::http::{Request, Response};

/// The scheme's name.
pub const SCHEME: &str = "attachment";

/// What a request asks for: an image's address and whether its thumbnail.
fn asked(request: &Request<Vec<u8>>) -> Option<(String, bool)> {
    if request.method() != tauri::http::Method::GET {
        return None;
    }
    let uri = request.uri();
    match uri.host() {
        Some("localhost" | "attachment.localhost") => {}
        _ => return None,
    }
    let sha = uri.path().strip_prefix('/')?;
    if !parley_core::attachments::is_sha256(sha) {
        return None;
    }
    let thumb = match uri.query() {
        None => false,
        Some("thumb") => true,
        Some(_) => return None,
    };
    Some((sha.to_owned(), thumb))
}

/// The response for `found` (bytes and type), or 404.
fn respond(found: Option<(Vec<u8>, String)>) -> Response<Vec<u8>> {
    let builder = Response::builder()
        .header("X-Content-Type-Options", "nosniff")
        .header("Content-Security-Policy", "sandbox; default-src 'none'")
        .header("Cross-Origin-Resource-Policy", "same-site");
    let built = match found {
        Some((bytes, mime)) => builder
            .status(200)
            .header("Content-Type", mime)
            .header("Cache-Control", "public, max-age=31536000, immutable")
            .body(bytes),
        None => builder
            .status(404)
            .header("Content-Type", "text/plain; charset=utf-8")
            .header("Cache-Control", "no-store")
            .body(b"No such attachment.".to_vec()),
    };
    built.unwrap_or_else(|_| Response::new(Vec::new()))
}

/// The scheme's handler: answers off the main thread (503 before the app's state exists).
pub fn handle(
    ctx: tauri::UriSchemeContext<'_, tauri::Wry>,
    request: Request<Vec<u8>>,
    responder: tauri::UriSchemeResponder,
) {
    use tauri::Manager;
    let app = ctx.app_handle().clone();
    tauri::async_runtime::spawn(async move {
        let response = match app.try_state::<crate::AppState>() {
            Some(state) => serve(&state.core, &request).await,
            None => Response::builder()
                .status(503)
                .body(Vec::new())
                .unwrap_or_default(),
        };
        responder.respond(response);
    });
}

/// Serves one request of the scheme from the core's stored images.
pub async fn serve(core: &Core, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let Some((sha, thumb)) = asked(request) else {
        return respond(None);
    };
    let a = core.attachments();
    let found = if thumb {
        a.thumbnail(&sha)
            .await
            .map(|t| t.map(|png| (png, "image/png".to_owned())))
    } else {
        a.bytes(&sha).await
    };
    respond(found.unwrap_or_else(|e| {
        tracing::warn!("attachment {sha} could not be read: {e}");
        None
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<Vec<u8>> {
        Request::builder().uri(uri).body(Vec::new()).unwrap()
    }

    #[test]
    fn only_an_address_is_asked_for() {
        let sha = "0123456789abcdef".repeat(4);
        let cases = [
            (
                format!("attachment://localhost/{sha}"),
                Some((sha.clone(), false)),
            ),
            (
                format!("attachment://localhost/{sha}?thumb"),
                Some((sha.clone(), true)),
            ),
            (
                format!("http://attachment.localhost/{sha}"),
                Some((sha.clone(), false)),
            ),
            (
                format!("http://attachment.localhost/{sha}?thumb"),
                Some((sha.clone(), true)),
            ),
            (format!("attachment://localhost/{sha}?thumb=1"), None),
            (format!("attachment://localhost/{sha}?x"), None),
            (
                format!("attachment://localhost/{}", sha.to_uppercase()),
                None,
            ),
            (format!("attachment://localhost/{sha}/"), None),
            (format!("attachment://localhost/a/{sha}"), None),
            (format!("attachment://localhost/{}", &sha[1..]), None),
            (format!("attachment://localhost/{sha}0"), None),
            (format!("attachment://evil.com/{sha}"), None),
            (format!("attachment://localhost/%2e%2e/{sha}"), None),
            ("attachment://localhost/".to_owned(), None),
            ("attachment://localhost/../parley.db".to_owned(), None),
        ];
        for (uri, want) in cases {
            assert_eq!(asked(&get(&uri)), want, "{uri}");
        }
        let post = Request::builder()
            .method("POST")
            .uri(format!("attachment://localhost/{sha}"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(asked(&post), None);
    }

    #[test]
    fn responses_are_inert_and_cached_when_found() {
        let ok = respond(Some((b"\x89PNG".to_vec(), "image/png".into())));
        let h = |r: &Response<Vec<u8>>, k: &str| {
            r.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(ok.status(), 200);
        assert_eq!(h(&ok, "Content-Type").as_deref(), Some("image/png"));
        assert_eq!(h(&ok, "X-Content-Type-Options").as_deref(), Some("nosniff"));
        assert_eq!(
            h(&ok, "Content-Security-Policy").as_deref(),
            Some("sandbox; default-src 'none'")
        );
        assert!(h(&ok, "Cache-Control").unwrap().contains("immutable"));
        let missing = respond(None);
        assert_eq!(missing.status(), 404);
        assert_eq!(
            h(&missing, "X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(h(&missing, "Cache-Control").as_deref(), Some("no-store"));
    }
}
