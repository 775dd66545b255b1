//! HTTP failures in plain words: the provider's error body in any common shape, Retry-After in
//! every variant, and the classification into [`ProviderError`] (never echoing the key).

use crate::error::{redact, ProviderError, ProviderErrorKind};
use reqwest::header::HeaderMap;
use std::time::Duration;

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

/// How providers say that a model does not take images (in their error message, lower case):
/// OpenAI, OpenAI-compatible servers (vLLM, DeepSeek's "unknown variant `image_url`"),
/// OpenRouter (a 404) and Ollama (a 500 for a model without a vision encoder).
const NO_IMAGES: &[&str] = &[
    "does not support image",
    "doesn't support image",
    "not support image input",
    "image input is not supported",
    "image input not supported",
    "images are not supported",
    "image_url is only supported",
    "does not support vision",
    "not a multimodal model",
    "missing data required for image input",
    "support image input",
    "unknown variant `image_url`",
];

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
    let no_images = NO_IMAGES.iter().any(|n| lower_msg.contains(n));
    let kind = match status {
        429 if google_delay.is_some() => ProviderErrorKind::RateLimited,
        401 | 403 => ProviderErrorKind::Unauthorized,
        400..=599 if no_images => ProviderErrorKind::ImagesNotTaken,
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
    fn a_model_that_does_not_take_images_is_said_so_plainly() {
        let h = HeaderMap::new();
        let says = [
            (
                400,
                r#"{"error":{"message":"Invalid content type. image_url is only supported by certain models.","type":"invalid_request_error"}}"#,
            ),
            (
                404,
                r#"{"error":{"message":"No endpoints found that support image input","code":404}}"#,
            ),
            (
                500,
                r#"{"error":"this model is missing data required for image input"}"#,
            ),
            (
                400,
                r#"{"error":{"message":"Failed to deserialize the JSON body into the target type: messages[0]: unknown variant `image_url`, expected `text`"}}"#,
            ),
            (
                400,
                r#"{"object":"error","message":"llama-3 is not a multimodal model","code":400}"#,
            ),
            (
                400,
                r#"{"error":{"message":"This model does not support image input."}}"#,
            ),
            (
                422,
                r#"{"detail":"Images are not supported by this model"}"#,
            ),
        ];
        for (status, body) in says {
            let e = classify_http(status, &h, body, None);
            assert_eq!(e.kind, ProviderErrorKind::ImagesNotTaken, "{body}");
            assert!(!e.is_retryable() && !e.user_can_retry(), "{body}");
            let said = e.user_message();
            assert!(
                said.starts_with(&format!(
                    "The model does not take images (HTTP {status}). Remove the images"
                )),
                "{said}"
            );
            assert!(said.contains("Provider said: "), "{said}");
        }
        // Other image troubles and unrelated errors keep their kinds.
        let other = [
            (
                400,
                r#"{"error":{"message":"image exceeds 5 MB maximum: 7340032 bytes > 5242880 bytes"}}"#,
                ProviderErrorKind::BadRequest,
            ),
            (
                400,
                r#"{"error":{"message":"Could not process image"}}"#,
                ProviderErrorKind::BadRequest,
            ),
            (
                404,
                r#"{"error":{"message":"The model `x` does not exist"}}"#,
                ProviderErrorKind::ModelNotFound,
            ),
            (
                401,
                r#"{"error":{"message":"does not support image input without a key"}}"#,
                ProviderErrorKind::Unauthorized,
            ),
        ];
        for (status, body, kind) in other {
            assert_eq!(classify_http(status, &h, body, None).kind, kind, "{body}");
        }
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
