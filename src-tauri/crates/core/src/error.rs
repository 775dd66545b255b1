//! One error enum per layer, each with a mapping to the protocol's [`ErrorInfo`]: a category,
//! a sentence that tells the user what to do next, and whether trying again can help.

use parley_protocol::{ErrorCode, ErrorInfo};
use std::time::Duration;

/// A failure of the local database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Parley; it is left untouched.
    #[error("the database at {path} was written by a newer version of Parley (schema {found}, this build knows {supported}); update Parley — the file was left untouched")]
    TooNew {
        /// Where the database is.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A filesystem operation around the database failed.
    #[error("could not access {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database thread has stopped.
    #[error("the database is closed")]
    Closed,
    /// A write failed because the disk (or quota) is full.
    #[error("the disk holding {path} is full")]
    DiskFull {
        /// The data folder.
        path: String,
    },
    /// A write failed because the data folder cannot be written.
    #[error("{path} is read-only")]
    ReadOnly {
        /// The data folder.
        path: String,
    },
    /// The chat already has a running turn, perhaps in another Parley process (the app and
    /// the CLI share the database); decided inside the write transaction that would begin one.
    #[error("the chat already has a running turn")]
    TurnRunning {
        /// The instances that own the running turns.
        owners: Vec<String>,
    },
    /// Only a user message can be edited or answered again.
    #[error("only a message you wrote can be edited or answered again")]
    NotAUserMessage,
    /// No chat has this id.
    #[error("no chat {0}")]
    NoSuchChat(String),
    /// A file given to a restore or an import is not a Parley database of a shape this Parley
    /// reads; nothing of it was added.
    #[error("{0}")]
    BadFile(String),
    /// A search that would hold the reader too long: stopped, and why, as a sentence.
    #[error("{0}")]
    SearchTooCostly(String),
    /// The message is not in this chat (or does not exist).
    #[error("message {message} is not in this chat")]
    NoSuchMessage {
        /// The id given.
        message: String,
    },
    /// The client's revision of the chat is behind: it changed meanwhile (another window, or
    /// `parley`). Nothing was changed.
    #[error("{}", conflict_message(changes))]
    Conflict {
        /// What changed since the client's revision, oldest first (as far as remembered).
        changes: Vec<String>,
    },
}

/// The conflict sentence: what changed, and what to do.
fn conflict_message(changes: &[String]) -> String {
    let what = match changes {
        [] => "it was changed elsewhere".to_owned(),
        [one] => one.clone(),
        many => {
            let mut seen: Vec<&str> = Vec::new();
            for c in many {
                if !seen.contains(&c.as_str()) {
                    seen.push(c);
                }
            }
            seen.join("; ")
        }
    };
    format!("This chat changed since you last saw it ({what}), in another window or in `parley`. Nothing was changed; look at the chat as it is now and try again.")
}

impl StoreError {
    /// The disk (or the user's quota) has no room for the write.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::DiskFull
            }
            StoreError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }

    /// The data folder or the database file cannot be written.
    pub fn is_read_only(&self) -> bool {
        match self {
            StoreError::ReadOnly { .. } => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ReadOnly
            }
            StoreError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
            ),
            _ => false,
        }
    }

    /// SQLite found a damaged page while reading or writing (after the start's check passed).
    pub fn is_damaged(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        )
    }

    /// What the user is told: a sentence that says what happened and what to do.
    pub fn user_message(&self) -> String {
        if self.is_disk_full() {
            return "The disk is full: Parley could not save to its database. Nothing saved earlier is lost; free some space and try again.".into();
        }
        if self.is_read_only() {
            return "Parley's data folder is read-only: it could not save to its database. Nothing saved earlier is lost; make the folder writable and try again.".into();
        }
        if self.is_damaged() {
            return format!("Part of Parley's database is damaged ({self}). Nothing was changed or deleted. Restart Parley: it keeps the damaged file aside and offers to restore your chats from a backup.");
        }
        format!("Parley could not use its database: {self}.")
    }
}

/// What kind of provider failure this is; decides retries and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// 401/403: the key is missing, wrong or lacks permission.
    Unauthorized,
    /// 404 naming the model.
    ModelNotFound,
    /// 404 for the endpoint itself: usually a wrong base URL.
    EndpointNotFound,
    /// The conversation exceeds the model's context window.
    ContextTooLong,
    /// The model does not take images (a request carrying some was refused).
    ImagesNotTaken,
    /// Any other 4xx the provider rejected.
    BadRequest,
    /// 429 that can be retried after a while.
    RateLimited,
    /// 429 (or 402) because the quota or credit is exhausted.
    QuotaExceeded,
    /// 503/529 or an `overloaded` error.
    Overloaded,
    /// Other 5xx.
    Server,
    /// The connection could not be made (DNS, refused, TLS, connect timeout).
    Connect,
    /// No stream event arrived within the idle timeout.
    IdleTimeout,
    /// The connection broke mid-stream, or the stream ended before the model finished.
    StreamInterrupted,
    /// The provider sent an error inside a successful (200) stream.
    StreamError,
    /// The provider sent something that is not the expected wire format.
    Protocol,
    /// An established connection closed before the provider answered (typically a pooled
    /// keep-alive connection the server had just dropped); safe to send again.
    ConnectionLost,
    /// The server redirected to another host; Parley refused so the key stays where it was
    /// saved for.
    Redirected,
    /// The built-in engine could not serve the model (not installed, the model does not fit or
    /// cannot be loaded, it crashed); the detail is the whole sentence.
    Engine,
}

/// A provider failure, classified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.user_message())]
pub struct ProviderError {
    /// The category.
    pub kind: ProviderErrorKind,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// The provider's own message (keys redacted), when it sent one.
    pub detail: Option<String>,
    /// The provider's error code, when it sent one (`rate_limit_exceeded`, `400`, ...).
    pub provider_code: Option<String>,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// An error of `kind` with the provider's message.
    pub fn new(kind: ProviderErrorKind, detail: impl Into<String>) -> Self {
        ProviderError {
            kind,
            status: None,
            detail: Some(redact(&detail.into(), None)),
            provider_code: None,
            retry_after: None,
        }
    }

    /// True when Parley should retry automatically (only ever before the first streamed byte).
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ProviderErrorKind::RateLimited
            | ProviderErrorKind::Overloaded
            | ProviderErrorKind::Server
            | ProviderErrorKind::ConnectionLost => true,
            ProviderErrorKind::Unauthorized
            | ProviderErrorKind::ModelNotFound
            | ProviderErrorKind::EndpointNotFound
            | ProviderErrorKind::ContextTooLong
            | ProviderErrorKind::ImagesNotTaken
            | ProviderErrorKind::BadRequest
            | ProviderErrorKind::QuotaExceeded
            | ProviderErrorKind::Connect
            | ProviderErrorKind::IdleTimeout
            | ProviderErrorKind::StreamInterrupted
            | ProviderErrorKind::StreamError
            | ProviderErrorKind::Protocol
            | ProviderErrorKind::Redirected
            | ProviderErrorKind::Engine => false,
        }
    }

    /// How long to wait before automatic retry `attempt` (1 = the first retry): the provider's
    /// Retry-After when given (capped), else exponential backoff with jitter.
    pub fn retry_delay(&self, attempt: u32, cap: Duration) -> Duration {
        if let Some(after) = self.retry_after {
            return after.min(cap);
        }
        let base_ms = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
        let jitter = fastrand::u64(0..=base_ms / 2);
        Duration::from_millis(base_ms + jitter).min(cap)
    }

    fn code(&self) -> ErrorCode {
        match self.kind {
            ProviderErrorKind::Unauthorized => ErrorCode::Unauthorized,
            ProviderErrorKind::ModelNotFound => ErrorCode::ModelNotFound,
            ProviderErrorKind::EndpointNotFound => ErrorCode::NotFound,
            ProviderErrorKind::ContextTooLong => ErrorCode::ContextTooLong,
            ProviderErrorKind::BadRequest | ProviderErrorKind::ImagesNotTaken => {
                ErrorCode::BadRequest
            }
            ProviderErrorKind::RateLimited => ErrorCode::RateLimited,
            ProviderErrorKind::QuotaExceeded => ErrorCode::QuotaExceeded,
            ProviderErrorKind::Overloaded | ProviderErrorKind::Server => {
                ErrorCode::ProviderUnavailable
            }
            ProviderErrorKind::Connect | ProviderErrorKind::ConnectionLost => ErrorCode::Network,
            ProviderErrorKind::IdleTimeout => ErrorCode::Timeout,
            ProviderErrorKind::StreamInterrupted | ProviderErrorKind::StreamError => {
                ErrorCode::StreamInterrupted
            }
            ProviderErrorKind::Protocol | ProviderErrorKind::Redirected => ErrorCode::Protocol,
            ProviderErrorKind::Engine => ErrorCode::ProviderUnavailable,
        }
    }

    /// True when the user pressing Retry may help.
    pub fn user_can_retry(&self) -> bool {
        match self.kind {
            ProviderErrorKind::Unauthorized
            | ProviderErrorKind::ModelNotFound
            | ProviderErrorKind::EndpointNotFound
            | ProviderErrorKind::ContextTooLong
            | ProviderErrorKind::ImagesNotTaken
            | ProviderErrorKind::BadRequest
            | ProviderErrorKind::QuotaExceeded
            | ProviderErrorKind::Protocol
            | ProviderErrorKind::Redirected => false,
            ProviderErrorKind::RateLimited
            | ProviderErrorKind::Overloaded
            | ProviderErrorKind::Server
            | ProviderErrorKind::Connect
            | ProviderErrorKind::ConnectionLost
            | ProviderErrorKind::IdleTimeout
            | ProviderErrorKind::StreamInterrupted
            | ProviderErrorKind::StreamError
            | ProviderErrorKind::Engine => true,
        }
    }

    /// A sentence for the user: what happened, the provider's words, and the next step.
    pub fn user_message(&self) -> String {
        if self.kind == ProviderErrorKind::Engine {
            // The detail is the engine's whole sentence.
            return self
                .detail
                .clone()
                .unwrap_or_else(|| "The built-in engine could not serve the model.".into());
        }
        let status = self
            .status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        let head = match self.kind {
            ProviderErrorKind::Unauthorized => {
                format!("The provider rejected the API key{status}. Check the key in the provider's settings.")
            }
            ProviderErrorKind::ModelNotFound => {
                format!("The provider does not know this model{status}. Pick another model.")
            }
            ProviderErrorKind::EndpointNotFound => format!(
                "The provider's address answered \"not found\"{status}. Check the base URL (OpenAI-compatible servers usually end in /v1)."
            ),
            ProviderErrorKind::ContextTooLong => format!(
                "The conversation is too long for this model's context window{status}. Start a new chat or pick a model with a larger context."
            ),
            ProviderErrorKind::ImagesNotTaken => format!(
                "The model does not take images{status}. Remove the images from the message, or pick a model that takes images."
            ),
            ProviderErrorKind::BadRequest => {
                format!("The provider rejected the request{status}.")
            }
            ProviderErrorKind::RateLimited => match self.retry_after {
                Some(d) => format!(
                    "The provider is rate-limiting requests{status}; it asked to wait {:.1} s. Retry in a moment.",
                    d.as_secs_f64()
                ),
                None => format!("The provider is rate-limiting requests{status}. Retry in a moment."),
            },
            ProviderErrorKind::QuotaExceeded => format!(
                "The provider says the account's quota or credit is used up{status}. Check your plan and billing with the provider."
            ),
            ProviderErrorKind::Overloaded => {
                format!("The provider is overloaded{status}. Retry in a moment.")
            }
            ProviderErrorKind::Server => {
                format!("The provider had an internal error{status}. Retry in a moment.")
            }
            ProviderErrorKind::Connect => {
                "Could not connect to the provider. Check that the server is running and the base URL is right, then retry.".to_owned()
            }
            ProviderErrorKind::ConnectionLost => {
                "The connection to the provider closed before it answered. Retry in a moment.".to_owned()
            }
            ProviderErrorKind::IdleTimeout => {
                "The provider stopped sending data, so Parley gave up waiting. Retry, or raise the idle timeout.".to_owned()
            }
            ProviderErrorKind::StreamInterrupted => {
                "The connection to the provider broke before the answer was complete; the partial answer is kept. Retry to ask again.".to_owned()
            }
            ProviderErrorKind::StreamError => {
                "The provider reported an error in the middle of the answer; the partial answer is kept. Retry to ask again.".to_owned()
            }
            ProviderErrorKind::Protocol => format!(
                "The provider answered in a format Parley does not understand{status}. Check the base URL and the provider kind."
            ),
            ProviderErrorKind::Engine => String::new(),
            ProviderErrorKind::Redirected => "The provider's address redirected to another host, so Parley stopped: your API key is only sent to the host it was saved for. Check the base URL.".to_owned(),
        };
        match &self.detail {
            Some(d) if !d.is_empty() => format!("{head} Provider said: {d}"),
            _ => head,
        }
    }

    /// The error as the UI and CLI show it.
    pub fn to_info(&self) -> ErrorInfo {
        ErrorInfo::new(
            self.code(),
            redact(&self.user_message(), None),
            self.user_can_retry(),
        )
    }
}

/// Any failure of a core operation.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request is invalid; nothing was changed.
    #[error("{0}")]
    InvalidInput(String),
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The chat already has a running turn.
    #[error("This chat is still answering. Stop the current reply or wait for it to finish before sending another message.")]
    Busy,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The OS keychain failed.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// A provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The error for a chat id that names no chat.
pub(crate) fn no_chat(id: &parley_protocol::ChatId) -> CoreError {
    CoreError::NotFound(format!("No chat with id {id} exists."))
}

impl CoreError {
    /// The error as the UI and CLI show it.
    pub fn to_info(&self) -> ErrorInfo {
        match self {
            CoreError::InvalidInput(m) => ErrorInfo::new(ErrorCode::InvalidInput, m.clone(), false),
            CoreError::NotFound(m) => ErrorInfo::new(ErrorCode::NotFound, m.clone(), false),
            CoreError::Busy => ErrorInfo::new(ErrorCode::Busy, self.to_string(), true),
            CoreError::Store(StoreError::TurnRunning { .. }) => CoreError::Busy.to_info(),
            CoreError::Store(e @ StoreError::Conflict { .. }) => {
                ErrorInfo::new(ErrorCode::Conflict, e.to_string(), false)
            }
            CoreError::Store(e @ StoreError::NotAUserMessage) => ErrorInfo::new(
                ErrorCode::InvalidInput,
                format!(
                    "{}{}.",
                    e.to_string()[..1].to_uppercase(),
                    &e.to_string()[1..]
                ),
                false,
            ),
            CoreError::Store(StoreError::BadFile(m)) => {
                ErrorInfo::new(ErrorCode::InvalidInput, m.clone(), false)
            }
            CoreError::Store(StoreError::NoSuchChat(_)) => ErrorInfo::new(
                ErrorCode::NotFound,
                "This chat does not exist (any more).",
                false,
            ),
            CoreError::Store(e @ StoreError::NoSuchMessage { .. }) => {
                ErrorInfo::new(ErrorCode::NotFound, format!("The {e}."), false)
            }
            CoreError::Store(e) => ErrorInfo::new(ErrorCode::Storage, e.user_message(), false),
            CoreError::Secret(e) => ErrorInfo::new(ErrorCode::Keychain, e.to_string(), false),
            CoreError::Provider(e) => e.to_info(),
            CoreError::Internal(m) => ErrorInfo::new(
                ErrorCode::Internal,
                format!("Something went wrong inside Parley ({m}). Please report this."),
                false,
            ),
        }
    }
}

/// Removes every saved key (exactly, see [`crate::secrets::redact_known`]) and anything that
/// looks like an API key from text before it is shown, stored, sent or logged.
pub fn redact(text: &str, key: Option<&str>) -> String {
    let text = crate::secrets::redact_known(text);
    let mut out = match key {
        Some(k) if k.len() >= 4 => text.replace(k, "[redacted]"),
        _ => text.into_owned(),
    };
    // Common key shapes, including partially masked echoes like "sk-abc1***xyz9".
    let mut result = String::with_capacity(out.len());
    for (i, word) in out.split(' ').enumerate() {
        if i > 0 {
            result.push(' ');
        }
        let trimmed = word.trim_matches(|c: char| matches!(c, '.' | ',' | '"' | '\'' | ':'));
        let looks_like_key = (trimmed.starts_with("sk-") && trimmed.len() > 8)
            || (trimmed.starts_with("AIza") && trimmed.len() > 20)
            || (trimmed.starts_with("xai-") && trimmed.len() > 8)
            || (trimmed.starts_with("gsk_") && trimmed.len() > 8);
        if looks_like_key {
            result.push_str(&word.replace(trimmed, "[redacted]"));
        } else {
            result.push_str(word);
        }
    }
    out = result;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_and_masked_echoes() {
        let s = redact(
            "Incorrect API key provided: sk-abc1***********xyz9. You can find your key",
            None,
        );
        assert!(!s.contains("sk-abc1"), "{s}");
        assert!(s.contains("[redacted]."), "{s}");
        let s = redact("bad key hunter2hunter2 here", Some("hunter2hunter2"));
        assert_eq!(s, "bad key [redacted] here");
    }

    #[test]
    fn retry_delay_honours_retry_after_with_cap() {
        let mut e = ProviderError::new(ProviderErrorKind::RateLimited, "x");
        e.retry_after = Some(Duration::from_secs(600));
        assert_eq!(
            e.retry_delay(1, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        e.retry_after = None;
        let d = e.retry_delay(2, Duration::from_secs(30));
        assert!(d >= Duration::from_millis(1000) && d <= Duration::from_millis(1500));
    }

    #[test]
    fn classification_decides_retries() {
        assert!(ProviderError::new(ProviderErrorKind::Overloaded, "").is_retryable());
        assert!(!ProviderError::new(ProviderErrorKind::QuotaExceeded, "").is_retryable());
        assert!(!ProviderError::new(ProviderErrorKind::Unauthorized, "").is_retryable());
        let info = ProviderError::new(ProviderErrorKind::Unauthorized, "nope").to_info();
        assert_eq!(info.code, ErrorCode::Unauthorized);
        assert!(info.message.contains("API key"));
    }
}
