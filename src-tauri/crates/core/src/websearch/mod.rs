//! Web search (`web_search`): the backend the user chose — a SearXNG server (no key), Brave
//! Search or Tavily (a key in the keychain, bound to the address it was saved for) — and the
//! search itself: one request through the ledger, an answer of at most [`MAX_ANSWER_BYTES`]
//! read as untrusted text (`backends`). Off until a backend is set; the tool (`tool.rs`) asks
//! before each search unless granted, like any tool that reaches outside.

mod backends;
mod request;
mod setup;
mod store;
#[cfg(test)]
mod tests;
mod tool;

pub use backends::for_model;
pub use setup::WebSearchChange;
pub use tool::WebSearch;

use crate::error::CoreError;
use crate::secrets::Secret;
use crate::shared::Shared;
use parley_protocol::{
    OutboundPurpose, SearchBackend, SearchBackendKind, WebHit, SEARCH_MAX_QUERY_CHARS,
    SEARCH_MAX_RESULTS,
};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The most bytes of an answer read.
pub const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;
/// The longest a search may take, answer included (shorter when the response timeout is).
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(20);

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
            r = tokio::time::timeout(limit, request::ask(&backend, query, count)) => match r {
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
            Some(b) if *b == crate::net::key_host(&url) => {
                let acct = setup::account(b);
                self.keychain(move |s| s.get(&acct))
                    .await
                    .map_err(|e| e.to_info().message)?
            }
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
