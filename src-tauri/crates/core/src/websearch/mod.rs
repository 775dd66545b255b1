//! Web search (`web_search`): the backend the user chose — a SearXNG server (no key), Brave
//! Search or Tavily (a key in the keychain, bound to the address it was saved for) — and the
//! search itself: one request through the ledger, an answer of at most [`MAX_ANSWER_BYTES`]
//! read as untrusted text (`backends`). Off until a backend is set; the tool (`tool.rs`) asks
//! before each search unless granted, like any tool that reaches outside.

mod backends;
mod store;
#[cfg(test)]
mod tests;
mod tool;

pub use backends::for_model;
pub use tool::WebSearch;

use crate::error::CoreError;
use crate::secrets::{Secret, SecretStore};
use crate::shared::Shared;
use futures::StreamExt;
use parley_protocol::{
    OutboundPurpose, SearchBackend, SearchBackendKind, SearchBackendSetup, WebHit,
    SEARCH_MAX_QUERY_CHARS, SEARCH_MAX_RESULTS,
};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The most bytes of an answer read.
pub const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;
/// The longest a search may take, answer included (shorter when the response timeout is).
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(20);
/// The keychain account of the backend's key.
const ACCOUNT: &str = "websearch";

/// The backend as searches use it.
#[derive(Clone)]
struct Backend {
    kind: SearchBackendKind,
    url: url::Url,
    key: Option<Secret>,
}

/// Sets the backend and searches with it.
#[derive(Clone)]
pub struct WebSearchService {
    shared: Arc<Shared>,
}

impl WebSearchService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        WebSearchService { shared }
    }

    /// The backend, `None` while web search is off.
    pub async fn backend(&self) -> Result<Option<SearchBackend>, CoreError> {
        let Some((kind, url, bound)) = self.shared.store.search_backend().await? else {
            return Ok(None);
        };
        let kind = SearchBackendKind::parse(&kind).unwrap_or(SearchBackendKind::Searxng);
        let has_key = bound.is_some();
        let warning = match url::Url::parse(&url) {
            Ok(u) => warning(kind, &u, has_key),
            Err(e) => Some(format!(
                "The saved address cannot be used ({e}); set it again."
            )),
        };
        Ok(Some(SearchBackend {
            kind,
            url,
            has_key,
            warning,
        }))
    }

    /// Whether a backend is set (the tool is offered only then).
    pub async fn is_on(&self) -> bool {
        matches!(self.shared.store.search_backend().await, Ok(Some(_)))
    }

    /// What tool lists show for `web_search`, while a backend is set.
    pub async fn tool_info(&self) -> Option<parley_protocol::ToolInfo> {
        if !self.is_on().await {
            return None;
        }
        let mut r = crate::tools::tool::Registry::new();
        r.add(WebSearch::new(self.clone()));
        r.infos().into_iter().next()
    }

    /// Sets the backend. A key is saved in the keychain bound to the address; a new address
    /// (another scheme, host or port) or another service leaves the old key behind (deleted)
    /// unless a new one is given. A key never goes over plain http to another machine.
    pub async fn set_backend(&self, setup: SearchBackendSetup) -> Result<SearchBackend, CoreError> {
        let url = address(setup.kind, setup.url.as_deref())?;
        let new_key = setup
            .key
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty());
        let bound = crate::net::key_host(&url);
        let old = self.shared.store.search_backend().await?;
        let keep = old.as_ref().is_some_and(|(kind, _, old_bound)| {
            kind == setup.kind.as_str() && old_bound.as_deref() == Some(bound.as_str())
        });
        let has_key = new_key.is_some() || (keep && setup.kind.needs_key());
        if setup.kind.needs_key() && !has_key {
            return Err(CoreError::InvalidInput(format!(
                "{} needs an API key: paste the key from your account there.",
                setup.kind.label()
            )));
        }
        if has_key && !crate::net::https_or_loopback(&url) {
            return Err(CoreError::InvalidInput(format!(
                "A key is sent only over https (or to this computer); {} is plain http. Use its https address.",
                url.host_str().unwrap_or_default()
            )));
        }
        if let Some(k) = &new_key {
            let secret = Secret::new(k.clone());
            crate::secrets::remember(k);
            self.keychain(move |s| s.set(ACCOUNT, &secret)).await?;
        } else if !has_key && old.as_ref().is_some_and(|(_, _, b)| b.is_some()) {
            // The keychain is touched only when a key was saved (SearXNG works without one).
            self.keychain(|s| s.delete(ACCOUNT)).await?;
        }
        let key_host = has_key.then_some(bound);
        let row = (setup.kind.as_str().to_owned(), url.to_string(), key_host);
        self.shared.store.put_search_backend(row).await?;
        self.backend()
            .await?
            .ok_or_else(|| CoreError::Internal("the backend was not saved".into()))
    }

    /// Turns web search off and deletes the key.
    pub async fn remove_backend(&self) -> Result<(), CoreError> {
        let saved = self.shared.store.search_backend().await?;
        if saved.is_some_and(|(_, _, bound)| bound.is_some()) {
            self.keychain(|s| s.delete(ACCOUNT)).await?;
        }
        self.shared.store.delete_search_backend().await?;
        Ok(())
    }

    /// "Test": one search, recorded in the ledger as a test.
    pub async fn test_backend(&self, query: &str) -> Result<Vec<WebHit>, CoreError> {
        let never = CancellationToken::new();
        let search = self.search(query, 3, &never);
        let cause = "search backend test".to_owned();
        crate::ledger::within_exact(
            &self.shared.ledger,
            OutboundPurpose::WebSearch,
            cause,
            search,
        )
        .await
        .map(|(_, hits)| hits)
        .map_err(CoreError::InvalidInput)
    }

    /// Searches: the service that answered and at most `count` hits (and
    /// [`SEARCH_MAX_RESULTS`]), or a sentence saying what went wrong. Raced with `cancel` (the
    /// turn's Stop).
    pub async fn search(
        &self,
        query: &str,
        count: usize,
        cancel: &CancellationToken,
    ) -> Result<(SearchBackendKind, Vec<WebHit>), String> {
        let query = query.trim();
        if query.is_empty() {
            return Err("The search query is empty.".into());
        }
        if query.chars().count() > SEARCH_MAX_QUERY_CHARS {
            return Err(format!(
                "The search query is longer than {SEARCH_MAX_QUERY_CHARS} characters; search for something shorter."
            ));
        }
        let backend = self.current().await?;
        let count = count.clamp(1, SEARCH_MAX_RESULTS);
        // The whole search, answer included, within the response timeout (at most 20 s).
        let limit = self.shared.http.response_timeout.min(SEARCH_TIMEOUT);
        tokio::select! {
            () = cancel.cancelled() => Err("Cancelled by user.".into()),
            r = tokio::time::timeout(limit, ask(&backend, query, count)) => match r {
                Ok(r) => r.map(|hits| (backend.kind, hits)),
                Err(_) => Err(format!(
                    "{} did not answer within {} seconds.",
                    backend.kind.label(),
                    limit.as_secs_f32()
                )),
            },
        }
    }

    /// The backend with its key, or why there is none.
    async fn current(&self) -> Result<Backend, String> {
        let row = self.shared.store.search_backend().await;
        let Ok(Some((kind, url, bound))) = row else {
            return Err(
                "Web search is off: choose a search service in Settings → Web search.".into(),
            );
        };
        let kind = SearchBackendKind::parse(&kind)
            .ok_or("The saved search service is unknown; choose it again in Settings.")?;
        let url = url::Url::parse(&url)
            .map_err(|e| format!("The search address cannot be used ({e})."))?;
        let key = match &bound {
            // The key goes only to the address it was saved for.
            Some(b) if *b == crate::net::key_host(&url) => self
                .keychain(|s| s.get(ACCOUNT))
                .await
                .map_err(|e| e.to_string())?,
            _ => None,
        };
        if kind.needs_key() && key.is_none() {
            return Err(format!(
                "{} has no API key saved: add it in Settings → Web search.",
                kind.label()
            ));
        }
        Ok(Backend { kind, url, key })
    }

    async fn keychain<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<R, crate::secrets::SecretError> + Send + 'static,
    ) -> Result<R, CoreError> {
        let secrets = self.shared.secrets.clone();
        // Keychain calls block (D-Bus): off the async workers.
        tokio::task::spawn_blocking(move || f(&*secrets))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .map_err(CoreError::from)
    }
}

/// The address searches go to: the user's (SearXNG's `/search` added to a bare server
/// address), else the service's own.
fn address(kind: SearchBackendKind, raw: Option<&str>) -> Result<url::Url, CoreError> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty());
    let raw = match (raw, kind.default_url()) {
        (Some(r), _) => r,
        (None, Some(d)) => d,
        (None, None) => {
            return Err(CoreError::InvalidInput(
                "Give the address of your SearXNG server (for example http://localhost:8888)."
                    .into(),
            ))
        }
    };
    let mut url = url::Url::parse(raw)
        .map_err(|e| CoreError::InvalidInput(format!("{raw:?} is not a valid address: {e}.")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CoreError::InvalidInput(format!(
            "{raw:?} is not an http(s) address."
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CoreError::InvalidInput(
            "Do not put credentials in the address; save the key instead (it goes to the keychain).".into(),
        ));
    }
    if kind == SearchBackendKind::Searxng && !url.path().trim_end_matches('/').ends_with("/search")
    {
        let path = format!("{}/search", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// What the user should know about a backend before searching with it.
fn warning(kind: SearchBackendKind, url: &url::Url, has_key: bool) -> Option<String> {
    if kind.needs_key() && !has_key {
        return Some(format!("{} needs an API key.", kind.label()));
    }
    (!crate::net::https_or_loopback(url)).then(|| {
        format!(
            "Searches go over plain http to {}: anyone on the network between can read them.",
            url.host_str().unwrap_or_default()
        )
    })
}

/// One search: the request (no redirect followed: a key never moves to another address), the
/// answer's status and type checked, its body read up to [`MAX_ANSWER_BYTES`] and parsed.
async fn ask(backend: &Backend, query: &str, count: usize) -> Result<Vec<WebHit>, String> {
    let label = backend.kind.label();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent("Parley (web_search)")
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
fn refused(backend: &Backend, status: reqwest::StatusCode) -> String {
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
