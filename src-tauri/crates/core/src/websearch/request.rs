//! One search on the wire: the request (no redirect followed: a key never moves to another
//! address; no proxy for a server on this computer), the answer's status and type checked,
//! its body read up to [`MAX_ANSWER_BYTES`] and parsed (`backends`).

use super::{backends, Backend, MAX_ANSWER_BYTES};
use crate::secrets::Secret;
use futures::StreamExt;
use parley_protocol::{OutboundPurpose, SearchBackendKind, WebHit};
use std::time::Duration;

/// One search: the request (no redirect followed: a key never moves to another address), the
/// answer's status and type checked, its body read up to [`MAX_ANSWER_BYTES`] and parsed.
pub(super) async fn ask(
    backend: &Backend,
    query: &str,
    count: usize,
) -> Result<Vec<WebHit>, String> {
    let label = backend.kind.label();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent("Parley (web_search)");
    if crate::net::is_loopback(&backend.url) {
        // A key may go over plain http to this computer: never through a proxy.
        builder = builder.no_proxy();
    }
    let client = builder
        .build()
        .map_err(|e| format!("The HTTP client could not start: {e}."))?;
    let key = backend.key.as_ref().map(Secret::expose);
    let request = backends::request(&client, backend.kind, &backend.url, key, (query, count));
    let resp = crate::ledger::send(request, Some(OutboundPurpose::WebSearch), None)
        .await
        .map_err(|e| {
            format!(
                "{label} could not be reached at {}: {}.",
                host(&backend.url),
                plain_error(e)
            )
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(refused(backend, status));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.contains("json") {
        return Err(format!(
            "{label} answered with {} instead of search results: check the address{}.",
            if content_type.contains("html") {
                "a web page"
            } else {
                "something else"
            },
            if backend.kind == SearchBackendKind::Searxng {
                " (and that the server allows the json format)"
            } else {
                ""
            }
        ));
    }
    let body = capped(resp, label).await?;
    backends::parse(backend.kind, &body, count)
}

/// Why a status is not an answer.
pub(super) fn refused(backend: &Backend, status: reqwest::StatusCode) -> String {
    let label = backend.kind.label();
    match (backend.kind, status.as_u16()) {
        (SearchBackendKind::Searxng, 403) => format!(
            "{label} refused to answer in JSON (403): add json to search.formats in the server's settings.yml."
        ),
        (_, 401 | 403) => format!("{label} refused the API key ({status}): check it in Settings → Web search."),
        (_, 429) => format!("{label} says too many searches (429): wait a little, or check the plan's limits."),
        (_, s) if (300..400).contains(&s) => format!(
            "{label} answered with a redirect ({status}); redirects are not followed. Set the address it points to."
        ),
        _ => format!("{label} answered with an error ({status})."),
    }
}

/// The body, refused when it is over [`MAX_ANSWER_BYTES`].
async fn capped(resp: reqwest::Response, label: &str) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut stream = crate::ledger::body(resp);
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| format!("{label}'s answer broke off: {}.", plain_error(e)))?;
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "{label}'s answer is larger than {} MB; it was not read.",
                MAX_ANSWER_BYTES / (1024 * 1024)
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn host(url: &url::Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// An HTTP error without the request's address (which would carry the query).
fn plain_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        "it did not answer in time".into()
    } else if e.is_connect() {
        "the connection was refused or could not be made".into()
    } else {
        e.to_string()
    }
}
