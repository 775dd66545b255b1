//! The HTTP half every provider shares: one `reqwest::Client`, retries before the first byte
//! (429 honours Retry-After, capped; 5xx/overload back off with jitter), classification of
//! HTTP errors into [`ProviderError`], and the SSE driver that enforces the idle timeout and
//! ends promptly on cancellation.

use super::sse::{SseEvent, SseParser};
use super::{EventStream, HttpSettings, StreamEvent};
use crate::error::{ProviderError, ProviderErrorKind};
use futures::StreamExt;
pub use reqwest::header::HeaderMap;

mod errors;
mod models;

pub use errors::{classify_http, parse_error_body, ErrorBody};
pub use models::{fetch_model_list, parse_model_list};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Largest error body Parley reads.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// What a refused cross-host redirect says (also how it is recognised).
pub const REDIRECT_REFUSED: &str = "the server redirected to another host";

/// Builds the HTTP client providers share. No cookies. Redirects are followed only within the
/// same host and port (at most 5): keys travel in headers reqwest does not strip (`x-api-key`,
/// `x-goog-api-key`), so a redirect elsewhere is refused outright and the key never leaves
/// the host it was saved for.
pub fn client(settings: &HttpSettings) -> Result<reqwest::Client, ProviderError> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        let same_host = first.host_str() == attempt.url().host_str()
            && first.port_or_known_default() == attempt.url().port_or_known_default();
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_host {
            attempt.follow()
        } else {
            let to = attempt.url().host_str().unwrap_or("?").to_owned();
            attempt.error(format!("{REDIRECT_REFUSED} ({to})"))
        }
    });
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .redirect(policy)
        .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::new(ProviderErrorKind::Connect, error_chain(&e)))
}

/// The client of requests to the built-in engine on this computer (`models`, the built-in
/// provider): never through a proxy (one named by HTTP_PROXY would see the engine's key and
/// every prompt, and could not reach this computer's loopback anyway), no redirects.
pub fn loopback_client(settings: &HttpSettings) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .no_proxy()
        // Plain HTTP on loopback: no certificate is ever checked, so none is loaded.
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::new(ProviderErrorKind::Connect, error_chain(&e)))
}

/// The client of model downloads (`models::download`): the same settings, no redirect followed
/// by itself (the download follows only those it may: within the hub, or to https), and no
/// overall timeout (a model file takes as long as it takes; a stalled body is the download's
/// to notice).
pub fn download_client(settings: &HttpSettings) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.idle_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::new(ProviderErrorKind::Connect, error_chain(&e)))
}

/// A mapper from SSE events to normalised stream events.
pub trait SseMapper: Send + 'static {
    /// Maps one SSE event.
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Result<StreamEvent, ProviderError>>);
    /// Called when the body ends cleanly; emits `Finished` or an error for a cut-short stream.
    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>);
}

/// A mapper from newline-delimited JSON lines (Ollama) to normalised stream events.
pub trait LineMapper: Send + 'static {
    /// Maps one non-empty line.
    fn on_line(&mut self, line: &str, out: &mut Vec<Result<StreamEvent, ProviderError>>);
    /// Called when the body ends cleanly.
    fn on_end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>);
}

/// Bytes in, events out: the framing (SSE or NDJSON) plus its mapper. A wire format names
/// its own ([`SseFramed`] or [`LinesFramed`] around its mapper) and [`drive`] runs it.
pub trait Framed: Send + 'static {
    /// Feeds bytes; returns true when at least one real event (not a keep-alive) was framed.
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool;
    fn end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>);
}

/// Server-sent events through an [`SseMapper`].
pub struct SseFramed<M> {
    parser: SseParser,
    events: Vec<SseEvent>,
    mapper: M,
}

impl<M: Default> Default for SseFramed<M> {
    fn default() -> Self {
        SseFramed {
            parser: SseParser::new(),
            events: Vec::new(),
            mapper: M::default(),
        }
    }
}

impl<M: SseMapper> Framed for SseFramed<M> {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool {
        self.parser.push(bytes, &mut self.events);
        if self.parser.too_long() {
            out.push(Err(line_too_long()));
            return true;
        }
        let any = !self.events.is_empty();
        for ev in self.events.drain(..) {
            self.mapper.on_event(&ev, out);
        }
        any
    }
    fn end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        self.mapper.on_end(out)
    }
}

fn line_too_long() -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::StreamError,
        format!(
            "the server sent a line longer than {} MiB; the stream was stopped",
            super::sse::MAX_LINE_BYTES / (1024 * 1024)
        ),
    )
}

/// Newline-delimited JSON through a [`LineMapper`]. Each byte is looked at once; a line over
/// [`super::sse::MAX_LINE_BYTES`] stops the stream with an error.
pub struct LinesFramed<M> {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no line break.
    scanned: usize,
    mapper: M,
}

impl<M: Default> Default for LinesFramed<M> {
    fn default() -> Self {
        LinesFramed {
            buf: Vec::new(),
            scanned: 0,
            mapper: M::default(),
        }
    }
}

impl<M: LineMapper> LinesFramed<M> {
    fn line(&mut self, raw: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool {
        let text = String::from_utf8_lossy(raw);
        let line = text.trim();
        if line.is_empty() {
            return false;
        }
        self.mapper.on_line(line, out);
        true
    }
}

impl<M: LineMapper> Framed for LinesFramed<M> {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool {
        self.buf.extend_from_slice(bytes);
        let mut any = false;
        let mut start = 0;
        let buf = std::mem::take(&mut self.buf);
        for (i, b) in buf.iter().enumerate().skip(self.scanned) {
            if *b == b'\n' {
                any |= self.line(&buf[start..i], out);
                start = i + 1;
            }
        }
        self.buf = buf;
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > super::sse::MAX_LINE_BYTES {
            self.buf = Vec::new();
            self.scanned = 0;
            out.push(Err(line_too_long()));
            return true;
        }
        any
    }
    fn end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>) {
        // NDJSON may end without a final newline.
        let rest = std::mem::take(&mut self.buf);
        self.line(&rest, out);
        self.mapper.on_end(out)
    }
}

/// What the driver hands the stream at once: the events framed from one read of the body.
pub type Batch = Vec<Result<StreamEvent, ProviderError>>;

/// Sends the request (retrying before the first byte) and streams its body through `framed`,
/// enforcing the idle timeout and ending promptly on cancellation. Events cross to the reader
/// a read at a time (one channel message per chunk of the body, not per token).
pub fn drive<F: Framed>(
    build: Box<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    mut framed: F,
    settings: HttpSettings,
    cancel: CancellationToken,
    key: Option<String>,
) -> EventStream {
    let (tx, mut rx) = mpsc::channel::<Batch>(16);
    let scope = crate::ledger::current();
    tokio::spawn(crate::ledger::resume(scope, async move {
        let response = match open(&*build, &settings, &cancel, &tx, key.as_deref()).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                let _ = tx.send(vec![Err(e)]).await;
                return;
            }
            None => return,
        };
        let mut body = crate::ledger::body(response);
        let mut out = Vec::new();
        let mut deadline = Instant::now() + settings.idle_timeout;
        loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                next = tokio::time::timeout_at(deadline, body.next()) => next,
            };
            let body_ended = matches!(next, Ok(None));
            match next {
                Err(_) => {
                    let _ = tx
                        .send(vec![Err(ProviderError::new(
                            ProviderErrorKind::IdleTimeout,
                            format!(
                                "no data for {} s",
                                settings.idle_timeout.as_secs_f64().round()
                            ),
                        ))])
                        .await;
                    return;
                }
                Ok(None) => framed.end(&mut out),
                Ok(Some(Err(e))) => {
                    let _ = tx
                        .send(vec![Err(ProviderError::new(
                            ProviderErrorKind::StreamInterrupted,
                            error_chain(&e),
                        ))])
                        .await;
                    return;
                }
                Ok(Some(Ok(bytes))) => {
                    if framed.push(&bytes, &mut out) {
                        // Only real events reset the idle clock; keep-alive comments do not.
                        deadline = Instant::now() + settings.idle_timeout;
                    }
                }
            }
            if !out.is_empty() {
                // Nothing after an error or the end is passed on.
                let last = out
                    .iter()
                    .position(|item| matches!(item, Err(_) | Ok(StreamEvent::Finished { .. })));
                if let Some(p) = last {
                    out.truncate(p + 1);
                }
                if tx.send(std::mem::take(&mut out)).await.is_err() || last.is_some() {
                    return;
                }
            }
            if body_ended {
                return;
            }
        }
    }));
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .flat_map(futures::stream::iter)
        .boxed()
}

/// Sends the request, retrying retryable failures before the first byte. `None` = cancelled.
pub async fn open(
    build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    settings: &HttpSettings,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Batch>,
    key: Option<&str>,
) -> Option<Result<reqwest::Response, ProviderError>> {
    let max = settings.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return None,
            r = tokio::time::timeout(settings.response_timeout, crate::ledger::send(build(), None, None)) => r,
        };
        let error = match sent {
            Err(_) => ProviderError::new(
                ProviderErrorKind::Connect,
                format!(
                    "no response within {} s",
                    settings.response_timeout.as_secs()
                ),
            ),
            Ok(Err(e)) => connect_error(&e),
            Ok(Ok(resp)) if resp.status().is_success() => {
                match check_stream_content(resp, key).await {
                    Ok(resp) => return Some(Ok(resp)),
                    Err(e) => e,
                }
            }
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let body = read_capped(resp).await;
                classify_http(status, &headers, &body, key)
            }
        };
        if !error.is_retryable() || attempt >= max {
            return Some(Err(error));
        }
        let delay = error.retry_delay(attempt, settings.max_retry_delay);
        attempt += 1;
        // (The provider's sentence may quote the message: in the log with details only.)
        tracing::info!(attempt, ?delay, kind = ?error.kind, status = ?error.status, "retrying a provider request");
        tracing::debug!(target: crate::logs::CONTENT, "the provider said: {error}");
        let _ = tx
            .send(vec![Ok(StreamEvent::Retrying {
                attempt,
                delay,
                reason: error,
            })])
            .await;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// A 200 that is not a stream (an HTML login page, a JSON error) is an error, not a reply.
async fn check_stream_content(
    resp: reqwest::Response,
    key: Option<&str>,
) -> Result<reqwest::Response, ProviderError> {
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.contains("text/html") {
        let mut e = ProviderError::new(
            ProviderErrorKind::Protocol,
            "the server sent a web page instead of a stream",
        );
        e.status = Some(resp.status().as_u16());
        return Err(e);
    }
    if ctype.contains("application/json") {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_capped(resp).await;
        let mut e = classify_http(status, &headers, &body, key);
        if e.kind == ProviderErrorKind::Protocol || e.detail.is_none() {
            e.kind = ProviderErrorKind::Protocol;
            e.detail = Some("the server sent JSON instead of a stream".into());
        } else {
            e.kind = ProviderErrorKind::StreamError;
        }
        return Err(e);
    }
    Ok(resp)
}

/// The largest model list Parley reads (OpenRouter's, the largest known, is about 1 MiB).
pub const MAX_MODEL_LIST_BYTES: usize = 16 * 1024 * 1024;

/// The largest answer a local server found at start may give (discovery reads only this).
pub const MAX_DISCOVERY_BYTES: usize = 1024 * 1024;

/// Reads a whole body of at most `cap` bytes; a larger one is refused (what was read is
/// dropped), never held.
pub async fn read_limited(
    resp: reqwest::Response,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large(what, cap));
    }
    let mut body = Vec::new();
    let mut stream = crate::ledger::body(resp);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ProviderError::new(ProviderErrorKind::StreamInterrupted, error_chain(&e))
        })?;
        if body.len() + chunk.len() > cap {
            return Err(too_large(what, cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(what: &str, cap: usize) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Protocol,
        format!(
            "{what} is larger than {} MiB, so it was not read; check the base URL",
            cap / (1024 * 1024)
        ),
    )
}

async fn read_capped(resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    let mut stream = crate::ledger::body(resp);
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_ERROR_BODY {
                body.truncate(MAX_ERROR_BODY);
                break;
            }
        }
    });
    let _ = read.await;
    String::from_utf8_lossy(&body).into_owned()
}

/// A failed send: a refused redirect, or no connection.
fn connect_error(e: &reqwest::Error) -> ProviderError {
    let kind = if e.is_redirect() {
        ProviderErrorKind::Redirected
    } else if e.is_connect() || e.is_builder() || e.is_timeout() {
        // No connection at all (refused, DNS, TLS): say so at once.
        ProviderErrorKind::Connect
    } else {
        // The request went out on an established connection that closed before any answer.
        ProviderErrorKind::ConnectionLost
    };
    ProviderError::new(kind, error_chain(e))
}

/// A reqwest error with its causes ("error sending request: connection refused").
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(usize);

    impl LineMapper for Count {
        fn on_line(&mut self, _line: &str, _out: &mut Vec<Result<StreamEvent, ProviderError>>) {
            self.0 += 1;
        }
        fn on_end(&mut self, _out: &mut Vec<Result<StreamEvent, ProviderError>>) {}
    }

    fn feed(total: usize, chunk: usize) -> std::time::Duration {
        let mut f = LinesFramed::<Count>::default();
        let mut out = Vec::new();
        let piece = vec![b'z'; chunk];
        let t = std::time::Instant::now();
        for _ in 0..total / chunk {
            f.push(&piece, &mut out);
        }
        f.push(b"\n{}\n{}\n", &mut out);
        assert_eq!(f.mapper.0, 3);
        t.elapsed()
    }

    #[test]
    fn ndjson_lines_are_framed_in_linear_time_and_capped() {
        let (a, b) = (feed(256 * 1024, 16), feed(1024 * 1024, 16));
        assert!(
            b < a * 10 + std::time::Duration::from_millis(60),
            "256 KiB took {a:?}, 1 MiB took {b:?}"
        );
        // Many lines in one chunk are all framed.
        let mut f = LinesFramed::<Count>::default();
        let mut out = Vec::new();
        f.push("{}\n".repeat(100_000).as_bytes(), &mut out);
        assert_eq!(f.mapper.0, 100_000);
        // An endless line stops the stream with a sentence.
        let mib = vec![b'q'; 1024 * 1024];
        let mut f = LinesFramed::<Count>::default();
        for _ in 0..=super::super::sse::MAX_LINE_BYTES / mib.len() {
            f.push(&mib, &mut out);
        }
        let Some(Err(e)) = out.last() else {
            panic!("no error")
        };
        assert!(e.to_info().message.contains("longer than 32 MiB"), "{e}");
    }
}
