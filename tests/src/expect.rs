//! The one comparison of a mapped provider stream with its fixture's `.expect.json`, shared by
//! every wire format's suite. What the providers' fixtures name differently is said once per
//! provider in an [`ExpectShape`]; what only one provider has (signatures, kept reasoning items,
//! raw usage) its suite checks on the returned [`Gathered`].

use crate::{gather, Gathered};
use parley_core::providers::StreamEvent;
use parley_core::{ProviderError, ProviderErrorKind};
use serde_json::Value;

/// How one provider's `.expect.json` names what [`check_stream`] reads.
#[derive(Debug, Clone, Copy)]
pub struct ExpectShape {
    /// The key of the reasoning text (`reasoning`; Responses: `reasoning_summary`).
    pub reasoning: &'static str,
    /// The key in `usage` of the reasoning token count, where it is compared.
    pub reasoning_tokens: Option<&'static str>,
    /// The key in `error` of the provider's code (`code`; Anthropic: `type`), where it is
    /// compared.
    pub error_code: Option<&'static str>,
    /// The prefix of the ids Parley makes up for calls the wire sends without one, where the
    /// wire may (a `null` id in the expectation).
    pub local_ids: Option<&'static str>,
}

/// Compares mapped `items` with `expect` (the `expect` object of a fixture named `name`): the
/// text, the reasoning, each finished tool call (id, name, parsed arguments — or unusable where
/// the expectation says `null` — and the raw arguments where given), then either the finish
/// reason and usage or the error (code, message; for a stream cut short, only that) with no
/// finish. Returns what was gathered.
pub fn check_stream(
    name: &str,
    items: &[Result<StreamEvent, ProviderError>],
    expect: &Value,
    shape: ExpectShape,
) -> Gathered {
    let g = gather(items);
    let text = |key: &str| expect[key].as_str().unwrap_or("").to_owned();
    assert_eq!(g.text, text("text"), "{name}: text");
    assert_eq!(g.reasoning, text(shape.reasoning), "{name}: reasoning");
    check_calls(name, &g, expect, shape);
    match expect.get("error").filter(|e| !e.is_null()) {
        None => {
            assert!(g.error.is_none(), "{name}: unexpected error {:?}", g.error);
            assert_eq!(
                g.finish.as_deref(),
                expect["finish_reason"].as_str(),
                "{name}: finish reason"
            );
            let u = &expect["usage"];
            let reasoning = shape.reasoning_tokens.and_then(|k| u[k].as_u64());
            let got = g
                .usage
                .map(|(i, o, r)| (i, o, r.filter(|_| shape.reasoning_tokens.is_some())));
            assert_eq!(
                got,
                Some((
                    u["input_tokens"].as_u64().expect("input_tokens"),
                    u["output_tokens"].as_u64().expect("output_tokens"),
                    reasoning
                )),
                "{name}: usage"
            );
        }
        Some(want) => {
            let (kind, code, message) = g
                .error
                .clone()
                .unwrap_or_else(|| panic!("{name}: expected an error"));
            if want["kind"] == "stream_interrupted" {
                // Cut short: Parley's own error, not one the provider sent.
                assert_eq!(kind, ProviderErrorKind::StreamInterrupted, "{name}");
            } else {
                if let Some(key) = shape.error_code {
                    assert_eq!(code.as_deref(), want[key].as_str(), "{name}: error code");
                }
                assert_eq!(
                    message.as_deref(),
                    want["message"].as_str(),
                    "{name}: error"
                );
            }
            assert!(
                g.finish.is_none(),
                "{name}: an error stream does not finish"
            );
        }
    }
    g
}

fn check_calls(name: &str, g: &Gathered, expect: &Value, shape: ExpectShape) {
    let want = expect["tool_calls"].as_array().cloned().unwrap_or_default();
    assert_eq!(g.calls.len(), want.len(), "{name}: tool calls");
    for ((id, call, raw, parsed), w) in g.calls.iter().zip(&want) {
        match (w["id"].as_str(), shape.local_ids) {
            (Some(wid), _) => assert_eq!(id, wid, "{name}: call id"),
            // No id on the wire: Parley makes a local one that it never sends back as an id.
            (None, Some(prefix)) => assert!(id.starts_with(prefix), "{name}: {id}"),
            (None, None) => panic!("{name}: this wire always has call ids"),
        }
        assert_eq!(call, w["name"].as_str().expect("name"), "{name}: call name");
        match &w["arguments"] {
            Value::Null => assert!(parsed.is_err(), "{name}: a cut-off call is never valid"),
            args => assert_eq!(parsed.as_ref().ok(), Some(args), "{name}: arguments"),
        }
        if let Some(r) = w["arguments_raw"].as_str() {
            assert_eq!(raw, r, "{name}: raw arguments");
        }
    }
}
