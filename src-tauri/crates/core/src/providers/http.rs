//! The HTTP half every provider shares: one `reqwest::Client`, retries before the first byte
//! (429 honours Retry-After, capped; 5xx/overload back off with jitter), classification of
//! HTTP errors into [`ProviderError`], and the SSE driver that enforces the idle timeout and
//! ends promptly on cancellation.

use super::sse::{SseEvent, SseParser};
use super::{EventStream, HttpSettings, StreamEvent};
use crate::error::{redact, ProviderError, ProviderErrorKind};
use futures::StreamExt;
pub use reqwest::header::HeaderMap;
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

/// Bytes in, events out: the framing (SSE or NDJSON) plus its mapper.
trait Framed: Send + 'static {
    /// Feeds bytes; returns true when at least one real event (not a keep-alive) was framed.
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool;
    fn end(&mut self, out: &mut Vec<Result<StreamEvent, ProviderError>>);
}

struct SseFramed<M> {
    parser: SseParser,
    events: Vec<SseEvent>,
    mapper: M,
}

impl<M: SseMapper> Framed for SseFramed<M> {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Result<StreamEvent, ProviderError>>) -> bool {
        self.parser.push(bytes, &mut self.events);
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

struct LinesFramed<M> {
    buf: Vec<u8>,
    mapper: M,
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
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=pos).collect();
            any |= self.line(&raw, out);
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

/// Sends the request (retrying before the first byte) and streams its SSE body through `mapper`.
pub fn drive_sse<M: SseMapper>(
    build: Box<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    mapper: M,
    settings: HttpSettings,
    cancel: CancellationToken,
    key: Option<String>,
) -> EventStream {
    let framed = SseFramed {
        parser: SseParser::new(),
        events: Vec::new(),
        mapper,
    };
    drive(build, framed, settings, cancel, key)
}

/// Sends the request (retrying before the first byte) and streams its NDJSON body through `mapper`.
pub fn drive_lines<M: LineMapper>(
    build: Box<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    mapper: M,
    settings: HttpSettings,
    cancel: CancellationToken,
    key: Option<String>,
) -> EventStream {
    drive(
        build,
        LinesFramed {
            buf: Vec::new(),
            mapper,
        },
        settings,
        cancel,
        key,
    )
}

fn drive<F: Framed>(
    build: Box<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    mut framed: F,
    settings: HttpSettings,
    cancel: CancellationToken,
    key: Option<String>,
) -> EventStream {
    let (tx, mut rx) = mpsc::channel::<Result<StreamEvent, ProviderError>>(256);
    tokio::spawn(async move {
        let response = match open(&*build, &settings, &cancel, &tx, key.as_deref()).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
            None => return,
        };
        let mut body = response.bytes_stream();
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
                        .send(Err(ProviderError::new(
                            ProviderErrorKind::IdleTimeout,
                            format!(
                                "no data for {} s",
                                settings.idle_timeout.as_secs_f64().round()
                            ),
                        )))
                        .await;
                    return;
                }
                Ok(None) => framed.end(&mut out),
                Ok(Some(Err(e))) => {
                    let _ = tx
                        .send(Err(ProviderError::new(
                            ProviderErrorKind::StreamInterrupted,
                            error_chain(&e),
                        )))
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
            for item in out.drain(..) {
                let last = matches!(item, Err(_) | Ok(StreamEvent::Finished { .. }));
                if tx.send(item).await.is_err() || last {
                    return;
                }
            }
            if body_ended {
                return;
            }
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Sends the request, retrying retryable failures before the first byte. `None` = cancelled.
pub async fn open(
    build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    settings: &HttpSettings,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Result<StreamEvent, ProviderError>>,
    key: Option<&str>,
) -> Option<Result<reqwest::Response, ProviderError>> {
    let max = settings.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return None,
            r = tokio::time::timeout(settings.response_timeout, build().send()) => r,
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
        tracing::info!(attempt, ?delay, "retrying provider request: {error}");
        let _ = tx
            .send(Ok(StreamEvent::Retrying {
                attempt,
                delay,
                reason: error,
            }))
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

async fn read_capped(resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
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

/// Sends a model-list request and reads `{"data": [...]}` / `{"models": [...]}` (ids from `id`,
/// `name` or `model`), sorted by id. Errors are classified like any other request.
pub async fn fetch_model_list(
    rb: reqwest::RequestBuilder,
    settings: &HttpSettings,
    key: Option<&str>,
) -> Result<Vec<parley_protocol::ModelInfo>, ProviderError> {
    let resp = rb
        .timeout(settings.response_timeout)
        .send()
        .await
        .map_err(|e| connect_error(&e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .text()
        .await
        .map_err(|e| ProviderError::new(ProviderErrorKind::StreamInterrupted, error_chain(&e)))?;
    if !(200..300).contains(&status) {
        return Err(classify_http(status, &headers, &body, key));
    }
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|_| {
        ProviderError::new(
            ProviderErrorKind::Protocol,
            "the model list is not JSON; check the base URL",
        )
    })?;
    Ok(parse_model_list(&v))
}

/// Reads a model list in any of the shapes providers use — OpenAI and compatibles
/// (`data[].id`, OpenRouter's `context_length` / `supported_parameters` / `architecture`,
/// vLLM's `max_model_len`, llama.cpp's `meta.n_ctx_train`, LM Studio's `max_context_length` /
/// `type` / `capabilities`), Anthropic (`display_name`, `max_input_tokens`), Gemini
/// (`models[].name` = `models/ID`, token limits, `supportedGenerationMethods`, `thinking`) and
/// Ollama (`models[].name`) — sorted by id, without duplicates.
pub fn parse_model_list(v: &serde_json::Value) -> Vec<parley_protocol::ModelInfo> {
    use serde_json::Value;
    let list = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let num = |m: &Value, keys: &[&str]| -> Option<u32> {
        keys.iter().find_map(|k| {
            let mut cur = m;
            for seg in k.split('.') {
                cur = cur.get(seg)?;
            }
            cur.as_u64().map(|n| n.min(u32::MAX as u64) as u32)
        })
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut models: Vec<parley_protocol::ModelInfo> = list
        .iter()
        .filter_map(|m| {
            let raw_id = m
                .get("id")
                .or_else(|| m.get("model"))
                .or_else(|| m.get("name"))
                .and_then(Value::as_str)?;
            let methods = strings(m.get("supportedGenerationMethods"));
            if !methods.is_empty() && !methods.iter().any(|x| x.contains("generatecontent")) {
                return None; // a Gemini embedding model, say
            }
            let id = raw_id.strip_prefix("models/").unwrap_or(raw_id).to_owned();
            let params = strings(m.get("supported_parameters"));
            let caps = strings(m.get("capabilities"));
            let inputs = strings(
                m.get("architecture")
                    .and_then(|a| a.get("input_modalities")),
            );
            let has =
                |list: &[String], words: &[&str]| list.iter().any(|x| words.contains(&x.as_str()));
            let tools = if !params.is_empty() {
                Some(has(&params, &["tools"]))
            } else if !caps.is_empty() {
                Some(has(&caps, &["tools", "tool_use", "function_calling"]))
            } else {
                None
            };
            let vision = if !inputs.is_empty() {
                Some(has(&inputs, &["image"]))
            } else if m.get("type").and_then(Value::as_str) == Some("vlm") {
                Some(true)
            } else if !caps.is_empty() {
                Some(has(&caps, &["vision"]))
            } else {
                None
            };
            let reasoning = m
                .get("thinking")
                .and_then(Value::as_bool)
                .or_else(|| {
                    (!params.is_empty()).then(|| has(&params, &["reasoning", "include_reasoning"]))
                })
                .or_else(|| (!caps.is_empty()).then(|| has(&caps, &["thinking", "reasoning"])));
            let display_name = m
                .get("display_name")
                .or_else(|| m.get("displayName"))
                .or_else(|| m.get("name").filter(|_| m.get("id").is_some()))
                .and_then(Value::as_str)
                .filter(|n| *n != id)
                .map(str::to_owned);
            Some(parley_protocol::ModelInfo {
                owned_by: m.get("owned_by").and_then(Value::as_str).map(str::to_owned),
                display_name,
                context_window: num(
                    m,
                    &[
                        "context_length",
                        "context_window",
                        "max_context_length",
                        "max_model_len",
                        "inputTokenLimit",
                        "max_input_tokens",
                        "meta.n_ctx_train",
                        "top_provider.context_length",
                    ],
                ),
                max_output_tokens: num(
                    m,
                    &[
                        "outputTokenLimit",
                        "max_output_tokens",
                        "max_tokens",
                        "top_provider.max_completion_tokens",
                    ],
                ),
                tools,
                vision,
                reasoning,
                id,
            })
        })
        .collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models.dedup_by(|a, b| a.id == b.id);
    models
}

/// The provider's error fields, from any of the common JSON error shapes.
#[derive(Debug, Default, PartialEq)]
pub struct ErrorBody {
    /// The human message.
    pub message: Option<String>,
    /// `code` (string or number, as text).
    pub code: Option<String>,
    /// `type` / `status`.
    pub kind: Option<String>,
}

/// Reads `{"error": {...}}`, `{"error": "..."}`, `[{"error": ...}]` or `{"message": ...}`.
pub fn parse_error_body(body: &str) -> ErrorBody {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) else {
        return ErrorBody::default();
    };
    if let Some(first) = v.as_array().and_then(|a| a.first()).cloned() {
        v = first;
    }
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let err = v.get("error").unwrap_or(&v);
    if let Some(s) = err.as_str() {
        return ErrorBody {
            message: Some(s.to_owned()),
            ..Default::default()
        };
    }
    ErrorBody {
        message: text(err.get("message")).or_else(|| text(err.get("detail"))),
        code: text(err.get("code")),
        kind: text(err.get("type")).or_else(|| text(err.get("status"))),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_millis(ms as u64));
        }
    }
    let v = get("retry-after")?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_millis((secs * 1000.0) as u64));
        }
        return None;
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Classifies a non-2xx response.
pub fn classify_http(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    key: Option<&str>,
) -> ProviderError {
    let parsed = parse_error_body(body);
    let lower_msg = parsed.message.as_deref().unwrap_or("").to_ascii_lowercase();
    let code = parsed.code.as_deref().unwrap_or("").to_ascii_lowercase();
    let kind_field = parsed.kind.as_deref().unwrap_or("").to_ascii_lowercase();
    let any = |needles: &[&str]| {
        needles
            .iter()
            .any(|n| lower_msg.contains(n) || code.contains(n) || kind_field.contains(n))
    };
    // Google says exactly when to come back (`RetryInfo.retryDelay`); a per-minute quota that
    // names a delay is a rate limit, not an exhausted account.
    let google_delay = google_retry_delay(body);
    let kind = match status {
        429 if google_delay.is_some() => ProviderErrorKind::RateLimited,
        401 | 403 => ProviderErrorKind::Unauthorized,
        402 => ProviderErrorKind::QuotaExceeded,
        404 if any(&["model"]) => ProviderErrorKind::ModelNotFound,
        404 => ProviderErrorKind::EndpointNotFound,
        408 => ProviderErrorKind::Server,
        413 => ProviderErrorKind::ContextTooLong,
        429 if any(&[
            "insufficient_quota",
            "billing",
            "credit",
            "exceeded your current quota",
        ]) =>
        {
            ProviderErrorKind::QuotaExceeded
        }
        429 => ProviderErrorKind::RateLimited,
        400..=499
            if any(&[
                "context_length",
                "context length",
                "maximum context",
                "context window",
                "too many tokens",
                "prompt is too long",
                "exceeds the context",
            ]) =>
        {
            ProviderErrorKind::ContextTooLong
        }
        400..=499 if any(&["model_not_found", "model not found", "does not exist"]) => {
            ProviderErrorKind::ModelNotFound
        }
        400..=499 => ProviderErrorKind::BadRequest,
        503 | 529 => ProviderErrorKind::Overloaded,
        _ if any(&["overloaded"]) => ProviderErrorKind::Overloaded,
        500..=599 => ProviderErrorKind::Server,
        _ => ProviderErrorKind::Protocol,
    };
    let detail = match parsed.message {
        Some(m) => Some(redact(&m, key)),
        None if body.trim_start().starts_with('<') => {
            Some("(the server sent an HTML error page)".to_owned())
        }
        None if !body.trim().is_empty() => {
            let snippet: String = body.trim().chars().take(300).collect();
            Some(redact(&snippet, key))
        }
        None => None,
    };
    ProviderError {
        kind,
        status: Some(status),
        detail,
        provider_code: parsed.code,
        retry_after: retry_after(headers).or(google_delay),
    }
}

/// `error.details[].retryDelay` ("34.4s") of a Google API error body.
fn google_retry_delay(body: &str) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let details = v.get("error")?.get("details")?.as_array()?;
    details.iter().find_map(|d| {
        let secs: f64 = d
            .get("retryDelay")?
            .as_str()?
            .strip_suffix('s')?
            .parse()
            .ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_millis((secs * 1000.0) as u64))
    })
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
    use reqwest::header::HeaderValue;

    #[test]
    fn model_lists_of_every_shape_keep_what_the_provider_says() {
        let gemini = serde_json::json!({"models": [
            {"name": "models/gemini-2.5-pro", "displayName": "Gemini 2.5 Pro", "inputTokenLimit": 1048576,
             "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "countTokens"], "thinking": true},
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}
        ]});
        let g = parse_model_list(&gemini);
        assert_eq!(g.len(), 1, "embedding models are not chat models");
        assert_eq!(g[0].id, "gemini-2.5-pro");
        assert_eq!(g[0].display_name.as_deref(), Some("Gemini 2.5 Pro"));
        assert_eq!(
            (g[0].context_window, g[0].max_output_tokens),
            (Some(1048576), Some(65536))
        );
        assert_eq!(g[0].reasoning, Some(true));

        let anthropic = serde_json::json!({"data": [{"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "type": "model"}]});
        let a = parse_model_list(&anthropic);
        assert_eq!(a[0].display_name.as_deref(), Some("Claude Sonnet 4.5"));
        assert_eq!(
            (a[0].tools, a[0].vision),
            (None, None),
            "not said, not guessed"
        );

        let lmstudio = serde_json::json!({"data": [{"id": "qwen2-vl", "type": "vlm", "max_context_length": 32768, "capabilities": ["tool_use"]}]});
        let l = parse_model_list(&lmstudio);
        assert_eq!(
            (l[0].vision, l[0].tools, l[0].context_window),
            (Some(true), Some(true), Some(32768))
        );

        let ollama = serde_json::json!({"models": [{"name": "qwen3:0.6b", "model": "qwen3:0.6b"}, {"name": "llama3.2:1b", "model": "llama3.2:1b"}]});
        let o: Vec<String> = parse_model_list(&ollama)
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(o, ["llama3.2:1b", "qwen3:0.6b"]);

        let vllm = serde_json::json!({"data": [{"id": "m", "max_model_len": 4096}, {"id": "m"}]});
        let v = parse_model_list(&vllm);
        assert_eq!(v.len(), 1, "duplicates removed");
        assert_eq!(v[0].context_window, Some(4096));
    }

    #[test]
    fn parses_common_error_shapes() {
        let b = parse_error_body(r#"{"error":{"message":"m","type":"t","code":"c"}}"#);
        assert_eq!(b.message.as_deref(), Some("m"));
        assert_eq!(b.code.as_deref(), Some("c"));
        let b = parse_error_body(r#"{"error":{"message":"m","code":429}}"#);
        assert_eq!(b.code.as_deref(), Some("429"));
        let b = parse_error_body(r#"{"error":"model 'x' not found"}"#);
        assert_eq!(b.message.as_deref(), Some("model 'x' not found"));
        let b = parse_error_body(
            r#"[{"error":{"code":429,"message":"q","status":"RESOURCE_EXHAUSTED"}}]"#,
        );
        assert_eq!(b.kind.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(parse_error_body("<html>"), ErrorBody::default());
    }

    #[test]
    fn classifies_statuses() {
        let h = HeaderMap::new();
        let k = |s, b| classify_http(s, &h, b, None).kind;
        assert_eq!(k(401, "{}"), ProviderErrorKind::Unauthorized);
        assert_eq!(
            k(
                404,
                r#"{"error":{"message":"The model `x` does not exist"}}"#
            ),
            ProviderErrorKind::ModelNotFound
        );
        assert_eq!(k(404, "Not Found"), ProviderErrorKind::EndpointNotFound);
        assert_eq!(
            k(
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens"}}"#
            ),
            ProviderErrorKind::ContextTooLong
        );
        assert_eq!(
            k(
                429,
                r#"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#
            ),
            ProviderErrorKind::QuotaExceeded
        );
        assert_eq!(k(429, "{}"), ProviderErrorKind::RateLimited);
        assert_eq!(k(529, "{}"), ProviderErrorKind::Overloaded);
        assert_eq!(
            k(502, "<html>bad gateway</html>"),
            ProviderErrorKind::Server
        );
        let e = classify_http(502, &h, "<html>bad gateway</html>", None);
        assert_eq!(
            e.detail.as_deref(),
            Some("(the server sent an HTML error page)")
        );
    }

    #[test]
    fn reads_retry_after_variants() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("174.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(174)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn never_echoes_the_key() {
        let h = HeaderMap::new();
        let e = classify_http(
            401,
            &h,
            r#"{"error":{"message":"Incorrect API key provided: sk-live-1234567890abcdef."}}"#,
            Some("sk-live-1234567890abcdef"),
        );
        assert!(
            !e.user_message().contains("1234567890"),
            "{}",
            e.user_message()
        );
    }
}
