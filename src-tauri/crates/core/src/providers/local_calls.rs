//! Tool calls that arrive whole (Gemini and Ollama stream no argument deltas), and the call ids
//! Parley makes up for a server that sends none — never sent back to it.

use super::StreamEvent;
use crate::error::ProviderError;
use serde_json::Value;

/// Prefix of call ids Parley made up because the server sent none (never sent back).
pub const LOCAL_ID_PREFIX: &str = "parley_call_";

/// The server's call id, or one Parley makes up when it sent none (or an empty one).
pub(super) fn call_id(sent: Option<String>) -> String {
    sent.filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{LOCAL_ID_PREFIX}{}", crate::new_id()))
}

/// A call id the server gave (not one Parley made up), to send back.
pub(super) fn server_id(id: &str) -> Option<&str> {
    (!id.starts_with(LOCAL_ID_PREFIX)).then_some(id)
}

/// A whole call: its start and its end at once.
pub(super) fn whole_call(
    index: u32,
    id: String,
    name: String,
    arguments: String,
    parsed: Result<Value, String>,
    out: &mut Vec<Result<StreamEvent, ProviderError>>,
) {
    out.push(Ok(StreamEvent::ToolCallStarted {
        index,
        id: id.clone(),
        name: name.clone(),
    }));
    out.push(Ok(StreamEvent::ToolCallFinished {
        index,
        id,
        name,
        arguments,
        parsed,
    }));
}
