//! Errors as every client sees them: a code, a sentence with the next step, and whether a
//! retry may help.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error category. The UI picks its next-step button from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is wrong (empty message, bad URL, bad name); fix it and retry.
    InvalidInput,
    /// The named chat, message or provider does not exist.
    NotFound,
    /// The chat already has a turn running.
    Busy,
    /// The chat changed since the client last saw it (another window, or `parley`); nothing
    /// was changed. The client reloads the chat and the user tries again.
    Conflict,
    /// The provider rejected the API key (401/403).
    Unauthorized,
    /// The provider does not know the model.
    ModelNotFound,
    /// The conversation is longer than the model's context window.
    ContextTooLong,
    /// The provider rejected the request (400) for another reason.
    BadRequest,
    /// Too many requests; retry later.
    RateLimited,
    /// The account's quota or credit is used up; retrying will not help.
    QuotaExceeded,
    /// The provider is overloaded or failed (5xx).
    ProviderUnavailable,
    /// The provider could not be reached (DNS, refused connection, TLS).
    Network,
    /// The provider stopped sending data.
    Timeout,
    /// The provider's stream broke off or carried an error.
    StreamInterrupted,
    /// The provider sent something Parley could not understand.
    Protocol,
    /// The local database failed.
    Storage,
    /// The OS keychain is unavailable or refused access.
    Keychain,
    /// A bug in Parley.
    Internal,
}

/// An error as the user sees it: a category, a sentence with a next step, and whether
/// retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct ErrorInfo {
    /// The category.
    pub code: ErrorCode,
    /// A clear sentence for the user, saying what to do next.
    pub message: String,
    /// True when trying the same thing again may succeed.
    pub retryable: bool,
}

impl ErrorInfo {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>, retryable: bool) -> Self {
        ErrorInfo {
            code,
            message: message.into(),
            retryable,
        }
    }
}
