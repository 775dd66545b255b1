//! The outbound ledger: every network request Parley makes is recorded here — when, to which
//! host, why, what caused it, the bytes each way, how it ended; never a body, a header or a
//! key — and shown in Settings → Privacy and by `parley ledger`. Bounded: the newest
//! `KEEP` requests are kept.
//!
//! Requests leave through [`send`], the one place they go out from: it records each. What
//! caused a request is known where the work starts (a turn, a title, a connection test, a
//! download, an MCP server's connection), which runs it [`within`] a scope naming the purpose,
//! the cause and this data folder's ledger; the request itself may be made far below (a
//! provider's wire format, a tool). A request made outside any scope is recorded in the
//! process's first ledger (the desktop app and the CLI open one data folder) under the purpose
//! its site names.

mod follow;
mod store;

pub(crate) use follow::{get_following, Followed};
pub use follow::{may_follow, origin};

use crate::error::CoreError;
use crate::store::Store;
use parley_protocol::{OutboundEntry, OutboundPurpose};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

/// How many requests are kept (the oldest go first).
pub const KEEP: i64 = 20_000;

/// Where one data folder's requests are recorded.
#[derive(Clone)]
pub(crate) struct Ledger {
    store: Store,
}

/// The process's first ledger: for a request made outside any scope, while it is the only
/// one (the desktop app and the CLI open one data folder; a process with several cannot tell
/// whose such a request is, and says so in its log instead).
static FIRST: OnceLock<Ledger> = OnceLock::new();
static OPENED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Ledger {
    pub(crate) fn new(store: Store) -> Ledger {
        let ledger = Ledger { store };
        let _ = FIRST.set(ledger.clone());
        OPENED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ledger
    }

    /// The ledger of a request made outside any scope.
    fn unscoped(url: &url::Url) -> Option<Ledger> {
        if OPENED.load(std::sync::atomic::Ordering::SeqCst) == 1 {
            return FIRST.get().cloned();
        }
        tracing::warn!(
            "a request to {} was made outside any ledger scope",
            url.host_str().unwrap_or("?")
        );
        None
    }

    /// Writes an entry (on the database's writer, without waiting: a request's end never waits
    /// for the disk, and the writer keeps the order of everything after it).
    /// Writes a request as it leaves (on the database's writer, without waiting: a request
    /// never waits for the disk, and the writer keeps the order of everything after it), so
    /// that one in flight — or cut by a crash — is listed too.
    fn record_start(&self, token: i64, entry: &OutboundEntry) {
        self.store.submit_outbound(token, entry.clone(), KEEP);
    }

    /// Writes how a request ended.
    fn record_end(&self, token: i64, entry: OutboundEntry) {
        self.store.submit_outbound_end(token, entry);
    }
}

/// What a request is for, and where it is recorded.
#[derive(Clone)]
pub(crate) struct Scope {
    ledger: Ledger,
    purpose: OutboundPurpose,
    cause: String,
    /// The scope's purpose wins over what the site says (a connection test's model list).
    exact: bool,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// `f`, its requests recorded in `ledger` as `purpose`, caused by `cause`.
pub(crate) fn within<F: Future>(
    ledger: &Ledger,
    purpose: OutboundPurpose,
    cause: impl Into<String>,
    f: F,
) -> impl Future<Output = F::Output> {
    scoped(ledger, purpose, cause.into(), false, f)
}

/// [`within`], the scope's purpose winning over what the sites say.
pub(crate) fn within_exact<F: Future>(
    ledger: &Ledger,
    purpose: OutboundPurpose,
    cause: impl Into<String>,
    f: F,
) -> impl Future<Output = F::Output> {
    scoped(ledger, purpose, cause.into(), true, f)
}

/// `f()` run in a scope (for work that captures the scope as it starts: a provider's stream).
pub(crate) fn within_sync<R>(
    ledger: &Ledger,
    purpose: OutboundPurpose,
    cause: &str,
    f: impl FnOnce() -> R,
) -> R {
    let scope = Scope {
        ledger: ledger.clone(),
        purpose,
        cause: cause.to_owned(),
        exact: true,
    };
    SCOPE.sync_scope(scope, f)
}

fn scoped<F: Future>(
    ledger: &Ledger,
    purpose: OutboundPurpose,
    cause: String,
    exact: bool,
    f: F,
) -> impl Future<Output = F::Output> {
    let scope = Scope {
        ledger: ledger.clone(),
        purpose,
        cause,
        exact,
    };
    SCOPE.scope(scope, f)
}

/// The current scope, for work handed to another task (which does not inherit it).
pub(crate) fn current() -> Option<Scope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// Runs `f` in `scope` (from [`current`]) if there was one.
pub(crate) async fn resume<F: Future>(scope: Option<Scope>, f: F) -> F::Output {
    match scope {
        Some(s) => SCOPE.scope(s, f).await,
        None => f.await,
    }
}

/// A response's running count of the bytes read; the entry is recorded when the last handle
/// to it goes (the response dropped, or its body read to the end).
#[derive(Clone)]
pub(crate) struct Tally(Arc<Open>);

struct Open {
    ledger: Ledger,
    /// The row's key (random: rows are written without waiting for their id).
    token: i64,
    entry: Mutex<OutboundEntry>,
    read: std::sync::atomic::AtomicU64,
}

impl Tally {
    /// Counts `n` bytes of the body as read.
    pub(crate) fn add(&self, n: usize) {
        self.0
            .read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// The tally of `resp` (every response [`send`] returns has one).
    pub(crate) fn of(resp: &reqwest::Response) -> Option<Tally> {
        resp.extensions().get::<Tally>().cloned()
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut entry = self
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let read = self.read.load(std::sync::atomic::Ordering::Relaxed);
        if read > 0 {
            entry.bytes_down = read;
        }
        self.ledger.record_end(self.token, entry);
    }
}

/// The response's body as a stream, each chunk counted into its ledger entry (which is
/// recorded when the stream is done or dropped). Use it instead of `bytes_stream`.
pub(crate) fn body(
    resp: reqwest::Response,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + Unpin {
    use futures::StreamExt;
    let tally = Tally::of(&resp);
    resp.bytes_stream().inspect(move |chunk| {
        if let (Some(t), Ok(c)) = (&tally, chunk) {
            t.add(c.len());
        }
    })
}

/// Starts the entry of a request about to leave; `None` when no ledger is open in this
/// process. `purpose` and `cause` name what the site knows; the scope's (see [`within`]) are
/// used where it knows less.
pub(crate) fn begin(
    method: &str,
    url: &url::Url,
    bytes_up: u64,
    purpose: Option<OutboundPurpose>,
    cause: Option<&str>,
) -> Option<Tally> {
    begin_in(current(), method, url, bytes_up, purpose, cause)
}

/// [`begin`] in `scope` (kept by a client whose requests leave from another task).
pub(crate) fn begin_in(
    scope: Option<Scope>,
    method: &str,
    url: &url::Url,
    bytes_up: u64,
    purpose: Option<OutboundPurpose>,
    cause: Option<&str>,
) -> Option<Tally> {
    let ledger = match &scope {
        Some(s) => s.ledger.clone(),
        None => Ledger::unscoped(url)?,
    };
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let purpose = match &scope {
        Some(s) if s.exact => Some(s.purpose),
        _ => purpose.or(scope.as_ref().map(|s| s.purpose)),
    };
    let cause = cause.map(str::to_owned).or(scope.map(|s| s.cause));
    let entry = OutboundEntry {
        at: crate::util::now_ms(),
        host,
        method: method.to_owned(),
        purpose: purpose.unwrap_or(OutboundPurpose::Other),
        cause: cause.unwrap_or_default(),
        bytes_up,
        bytes_down: 0,
        status: None,
        error: None,
    };
    let token = (fastrand::u64(..) >> 1) as i64;
    ledger.record_start(token, &entry);
    Some(Tally(Arc::new(Open {
        ledger,
        token,
        entry: Mutex::new(entry),
        read: 0.into(),
    })))
}

impl Tally {
    /// A response came: its status, and the length it declared.
    pub(crate) fn responded(&self, status: u16, declared: Option<u64>) {
        let mut e = self
            .0
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        e.status = Some(status);
        e.bytes_down = declared.unwrap_or(0);
    }

    /// No response came.
    pub(crate) fn failed(&self, why: &str) {
        let mut e = self
            .0
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        e.error = Some(why.to_owned());
    }
}

/// Sends `request` on `client` and completes `tally` with how it ended; the response carries
/// the tally for its body's count. (One text for both reqwest versions: their types differ.)
macro_rules! executed {
    ($client:expr, $request:expr, $tally:expr) => {{
        let sent = $client.execute($request).await;
        let Some(tally) = $tally else {
            return sent;
        };
        match &sent {
            Ok(r) => tally.responded(r.status().as_u16(), r.content_length()),
            Err(e) => tally.failed(&error_kind(e.is_timeout(), e.is_connect(), e.is_redirect())),
        }
        sent.map(|mut r| {
            r.extensions_mut().insert(tally);
            r
        })
    }};
}

/// Sends `request`, recording it: the one place requests leave from (MCP's own HTTP client,
/// a newer reqwest, goes through [`send_mcp`], and rmcp's through `mcp::client`'s recorder).
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    purpose: Option<OutboundPurpose>,
    cause: Option<&str>,
) -> Result<reqwest::Response, reqwest::Error> {
    let (client, request) = request.build_split();
    let request = request?;
    let up = request
        .body()
        .and_then(|b| b.as_bytes())
        .map_or(0, |b| b.len() as u64);
    let tally = begin(request.method().as_str(), request.url(), up, purpose, cause);
    executed!(client, request, tally)
}

/// [`send`] for MCP's HTTP client (reqwest 0.13).
pub(crate) async fn send_mcp(
    request: reqwest_mcp::RequestBuilder,
    cause: Option<&str>,
) -> Result<reqwest_mcp::Response, reqwest_mcp::Error> {
    let (client, request) = request.build_split();
    let request = request?;
    let up = request
        .body()
        .and_then(|b| b.as_bytes())
        .map_or(0, |b| b.len() as u64);
    let url = url::Url::parse(request.url().as_str()).ok();
    let tally = url.and_then(|u| {
        begin(
            request.method().as_str(),
            &u,
            up,
            Some(OutboundPurpose::Mcp),
            cause,
        )
    });
    executed!(client, request, tally)
}

/// [`body`] for MCP's HTTP client.
pub(crate) fn body_mcp(
    resp: reqwest_mcp::Response,
) -> impl futures::Stream<Item = reqwest_mcp::Result<bytes::Bytes>> + Send + Unpin {
    use futures::StreamExt;
    let tally = resp.extensions().get::<Tally>().cloned();
    resp.bytes_stream().inspect(move |chunk| {
        if let (Some(t), Ok(c)) = (&tally, chunk) {
            t.add(c.len());
        }
    })
}

fn error_kind(timeout: bool, connect: bool, redirect: bool) -> String {
    match (timeout, connect, redirect) {
        (true, _, _) => "timed out",
        (_, true, _) => "could not connect",
        (_, _, true) => "redirect refused",
        _ => "failed",
    }
    .into()
}

/// The ledger, as Settings → Privacy and `parley ledger` read it.
#[derive(Clone)]
pub struct LedgerService {
    ledger: Ledger,
}

impl LedgerService {
    pub(crate) fn new(ledger: Ledger) -> LedgerService {
        LedgerService { ledger }
    }

    /// The requests since `since` (unix ms; all kept when `None`), newest first, at most
    /// `limit`.
    pub async fn list(
        &self,
        since: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboundEntry>, CoreError> {
        // Everything recorded before this call is written first (the writer keeps order).
        self.ledger.store.writer.call(|_| Ok(())).await?;
        Ok(self.ledger.store.outbound(since, limit).await?)
    }
}

impl LedgerService {
    /// `f`, its requests recorded here as a chat's, caused by `cause` (`Core::in_ledger_scope`).
    pub(crate) fn scope<F: Future>(&self, cause: &str, f: F) -> impl Future<Output = F::Output> {
        within(&self.ledger, OutboundPurpose::Chat, cause.to_owned(), f)
    }
}
