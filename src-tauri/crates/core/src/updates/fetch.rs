//! The two requests of an update: the manifest and the package. Redirects are followed by
//! hand (`ledger::get_following`: GitHub's "latest" address answers with one to its download
//! host): within the first address's origin, or to https; never to plain http elsewhere. No
//! credential is ever sent.

use crate::ledger::origin;

/// `scheme://host[:port]` of `u`.
pub(super) fn origin_of(u: &url::Url) -> String {
    origin(u)
}
use futures::StreamExt;
use parley_protocol::OutboundPurpose;
use tokio_util::sync::CancellationToken;

/// Whether Parley fetches from `url`: https, or http to this computer only (a test server, a
/// local mirror). A sentence otherwise.
pub fn may_fetch(url: &url::Url) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an update address with a user name or password in it is not fetched".into());
    }
    if crate::net::https_or_loopback(url) {
        return Ok(());
    }
    Err(format!(
        "updates are fetched over https only (or from this computer), not from {}",
        origin(url)
    ))
}

/// GETs `url`, following the redirects it may; an error status is a sentence naming `what`.
async fn get(
    client: &reqwest::Client,
    url: url::Url,
    accept: &str,
    what: &str,
) -> Result<reqwest::Response, String> {
    use crate::ledger::Followed;
    let accept = [(reqwest::header::ACCEPT, accept.to_owned())];
    // (The scope, set by the service, names the purpose exactly: a check or a download.)
    let purpose = OutboundPurpose::UpdateCheck;
    let resp = match crate::ledger::get_following(client, &url, url.clone(), &accept, purpose).await
    {
        Followed::Answered(r) => r,
        Followed::Unreachable { at, error } => {
            let why = crate::providers::http::error_chain(&error);
            return Err(format!(
                "the update server at {} could not be reached: {why}",
                origin(&at)
            ));
        }
        Followed::NoLocation => {
            return Err(format!(
                "the update server redirected the {what} without saying where"
            ))
        }
        Followed::Refused { to } => {
            return Err(format!(
                "the update server redirected the {what} to {}, which is not https: not followed",
                origin(&to)
            ))
        }
        Followed::TooMany => {
            return Err(format!(
                "the update server redirected the {what} too many times"
            ))
        }
    };
    match resp.status().as_u16() {
        200..=299 => Ok(resp),
        404 => Err(format!(
            "the update server has no {what} at {}",
            resp.url().path()
        )),
        429 => Err("the update server asks to slow down (HTTP 429); try again later".into()),
        s => Err(format!(
            "the update server answered HTTP {s} for the {what}"
        )),
    }
}

/// The manifest: a JSON object of at most [`super::MANIFEST_MAX`] bytes; `None` on 204.
pub(super) async fn manifest(
    client: &reqwest::Client,
    url: url::Url,
) -> Result<Option<serde_json::Value>, String> {
    let resp = get(client, url, "application/json", "release description").await?;
    if resp.status() == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    let too_big = || {
        format!(
            "the update server's release description is over {} KB: not read",
            super::MANIFEST_MAX / 1024
        )
    };
    if resp
        .content_length()
        .is_some_and(|n| n > super::MANIFEST_MAX as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    let mut stream = crate::ledger::body(resp);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("the release description was cut off: {e}"))?;
        if body.len() + chunk.len() > super::MANIFEST_MAX {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if v.is_object() => Ok(Some(v)),
        _ => Err("the update server's release description is not the JSON Parley reads".into()),
    }
}

/// The package: at most [`super::PACKAGE_MAX`] bytes, with progress; stopped by `cancel`.
pub(super) async fn package(
    client: &reqwest::Client,
    url: url::Url,
    mut progress: impl FnMut(u64, Option<u64>) + Send,
    cancel: CancellationToken,
) -> Result<Vec<u8>, String> {
    let resp = tokio::select! {
        r = get(client, url, "application/octet-stream", "package") => r?,
        () = cancel.cancelled() => return Err(CANCELLED.into()),
    };
    let total = resp.content_length();
    let too_big = || {
        format!(
            "the update package is over {} MB: not downloaded",
            super::PACKAGE_MAX / (1024 * 1024)
        )
    };
    if total.is_some_and(|n| n > super::PACKAGE_MAX) {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(total.unwrap_or(0).min(super::PACKAGE_MAX) as usize);
    let mut stream = crate::ledger::body(resp);
    loop {
        let chunk = tokio::select! {
            c = stream.next() => c,
            () = cancel.cancelled() => return Err(CANCELLED.into()),
        };
        let Some(chunk) = chunk else { break };
        let chunk = chunk.map_err(|e| format!("the download was cut off: {e}"))?;
        if (body.len() + chunk.len()) as u64 > super::PACKAGE_MAX {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
        progress(body.len() as u64, total);
    }
    if total.is_some_and(|n| n != body.len() as u64) {
        return Err("the download was cut off before its end".into());
    }
    Ok(body)
}

/// The error of a cancelled download.
pub const CANCELLED: &str = "the download was cancelled";
