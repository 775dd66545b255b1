//! The step every event mapper starts with, written once: one SSE `data` payload or NDJSON line
//! in, the wire format's typed event out — or, when the payload cannot be read, a protocol error
//! that ends the stream.

use super::StreamEvent;
use crate::error::{ProviderError, ProviderErrorKind};
use serde::de::{DeserializeOwned, IgnoredAny};

/// What a mapper does with valid JSON of a shape its types do not describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unknown {
    /// Ignore it (a later addition to the API): the stream goes on.
    Ignore,
    /// Refuse it like a payload that is not JSON at all.
    Refuse,
}

/// Decodes `payload` (already trimmed) as `T`. Returns `None` when there is nothing to map: the
/// payload is of an unknown shape and `unknown` says to ignore it, or it could not be read — then
/// a protocol error naming the `noun` ("chunk", "event", "line") and the payload's start is pushed
/// to `out` and `stopped` is set, so the mapper maps nothing more.
pub(super) fn decode<T: DeserializeOwned>(
    payload: &str,
    noun: &str,
    unknown: Unknown,
    stopped: &mut bool,
    out: &mut Vec<Result<StreamEvent, ProviderError>>,
) -> Option<T> {
    match serde_json::from_str::<T>(payload) {
        Ok(event) => Some(event),
        Err(_)
            if unknown == Unknown::Ignore
                && serde_json::from_str::<IgnoredAny>(payload).is_ok() =>
        {
            None
        }
        Err(e) => {
            let snippet: String = payload.chars().take(120).collect();
            out.push(Err(ProviderError::new(
                ProviderErrorKind::Protocol,
                format!("unreadable stream {noun} ({e}): {snippet}"),
            )));
            *stopped = true;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Ev {
        n: u32,
    }

    /// (payload, how unknown shapes are taken, decoded, a protocol error pushed).
    #[test]
    fn decodes_ignores_or_refuses() {
        let cases: &[(&str, Unknown, Option<u32>, bool)] = &[
            ("{\"n\":1}", Unknown::Refuse, Some(1), false),
            (
                "{\"n\":1,\"extra\":[true]}",
                Unknown::Ignore,
                Some(1),
                false,
            ),
            ("{\"n\":\"one\"}", Unknown::Ignore, None, false),
            ("{\"n\":\"one\"}", Unknown::Refuse, None, true),
            ("[1,2]", Unknown::Ignore, None, false),
            ("null", Unknown::Ignore, None, false),
            ("{not json", Unknown::Ignore, None, true),
            ("{\"n\":1", Unknown::Ignore, None, true),
            ("", Unknown::Ignore, None, true),
            ("{\"n\":1} trailing", Unknown::Ignore, None, true),
        ];
        for (payload, unknown, want, want_error) in cases {
            let (mut stopped, mut out) = (false, Vec::new());
            let got = decode::<Ev>(payload, "chunk", *unknown, &mut stopped, &mut out);
            assert_eq!(got.map(|e| e.n), *want, "{payload}");
            assert_eq!(stopped, *want_error, "{payload}");
            assert_eq!(out.len(), usize::from(*want_error), "{payload}");
            if let Some(Err(e)) = out.first() {
                assert_eq!(e.kind, ProviderErrorKind::Protocol, "{payload}");
                let detail = e.detail.as_deref().unwrap_or("");
                assert!(detail.starts_with("unreadable stream chunk ("), "{detail}");
            }
        }
    }

    #[test]
    fn the_error_quotes_only_the_start_of_a_long_payload() {
        let payload = format!("{{{}", "x".repeat(10_000));
        let (mut stopped, mut out) = (false, Vec::new());
        assert!(decode::<Ev>(&payload, "line", Unknown::Ignore, &mut stopped, &mut out).is_none());
        let detail = match &out[0] {
            Err(e) => e.detail.clone().unwrap_or_default(),
            Ok(ev) => panic!("{ev:?}"),
        };
        assert!(detail.starts_with("unreadable stream line ("), "{detail}");
        assert!(detail.len() < 400, "{}", detail.len());
    }
}
