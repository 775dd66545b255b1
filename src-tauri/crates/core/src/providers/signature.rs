//! Opaque reasoning signatures, kept in `Part::Reasoning { signature }` and replayed verbatim.
//!
//! Each provider's blob is tagged so that a conversation that switches providers never sends
//! one provider's signature to another (which would be rejected with a 400):
//!
//! | stored as | what it is | replayed as |
//! |---|---|---|
//! | `SIG` (no prefix) | Anthropic `thinking.signature` | `{"type":"thinking","thinking":TEXT,"signature":SIG}` |
//! | `redacted_thinking:DATA` | Anthropic `redacted_thinking.data` | `{"type":"redacted_thinking","data":DATA}` |
//! | `gemini:SIG` | Gemini `thoughtSignature` | on the part that follows the reasoning part |
//! | `openai-responses:JSON` | a Responses `reasoning` item (`id`, `encrypted_content`, `summary`) | the item, in `input` |
//!
//! Anthropic signatures are base64, which never contains `:`, so the untagged form is unambiguous.

use serde_json::Value;

const REDACTED: &str = "redacted_thinking:";
const GEMINI: &str = "gemini:";
const RESPONSES: &str = "openai-responses:";

/// A stored signature, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Signature<'a> {
    /// An Anthropic thinking block's signature.
    AnthropicThinking(&'a str),
    /// An Anthropic redacted thinking block's data.
    AnthropicRedacted(&'a str),
    /// A Gemini thought signature.
    Gemini(&'a str),
    /// An OpenAI Responses reasoning item (the whole item as JSON).
    OpenAiReasoning(Value),
    /// Something this build does not know (never replayed).
    Unknown,
}

/// Decodes a stored signature.
pub fn parse(stored: &str) -> Signature<'_> {
    if let Some(d) = stored.strip_prefix(REDACTED) {
        Signature::AnthropicRedacted(d)
    } else if let Some(s) = stored.strip_prefix(GEMINI) {
        Signature::Gemini(s)
    } else if let Some(j) = stored.strip_prefix(RESPONSES) {
        match serde_json::from_str::<Value>(j) {
            Ok(v) if v.is_object() => Signature::OpenAiReasoning(v),
            _ => Signature::Unknown,
        }
    } else if stored.is_empty() || stored.contains(':') {
        Signature::Unknown
    } else {
        Signature::AnthropicThinking(stored)
    }
}

/// Stores an Anthropic redacted thinking block.
pub fn anthropic_redacted(data: &str) -> String {
    format!("{REDACTED}{data}")
}

/// Stores a Gemini thought signature.
pub fn gemini(sig: &str) -> String {
    format!("{GEMINI}{sig}")
}

/// Stores an OpenAI Responses reasoning item.
pub fn openai_reasoning(item: &Value) -> String {
    format!("{RESPONSES}{item}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_round_trips_and_foreign_text_is_unknown() {
        assert_eq!(
            parse("EqEECkY+/="),
            Signature::AnthropicThinking("EqEECkY+/=")
        );
        assert_eq!(
            parse(&anthropic_redacted("abc")),
            Signature::AnthropicRedacted("abc")
        );
        assert_eq!(parse(&gemini("Ep+/=")), Signature::Gemini("Ep+/="));
        let item = json!({"type": "reasoning", "id": "rs_1", "encrypted_content": "gA=="});
        assert_eq!(
            parse(&openai_reasoning(&item)),
            Signature::OpenAiReasoning(item)
        );
        assert_eq!(parse("openai-responses:not json"), Signature::Unknown);
        assert_eq!(parse("future:thing"), Signature::Unknown);
        assert_eq!(parse(""), Signature::Unknown);
    }
}
