//! The queue: messages typed while a chat answers, sent one by one as its turns end, kept in
//! the database until then ("Send now" steers the running turn to an end and sends at once).

use serde::{Deserialize, Serialize};

/// A message waiting in a chat's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueuedMessage {
    pub id: String,
    /// The text, as it will be sent.
    pub text: String,
    /// The provider and model chosen when it was queued (`None`: the chat's when it is sent).
    pub provider: Option<String>,
    pub model: Option<String>,
    /// When it was queued (unix ms).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: i64,
}

/// The most messages one chat's queue holds.
pub const QUEUE_MAX: usize = 20;

/// A chat's queue and, when it waits instead of going as answers end, why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueState {
    /// The messages waiting, in the order they go.
    pub queued: Vec<QueuedMessage>,
    /// Why they wait (the answer before was stopped or failed, or a send was refused).
    pub held: Option<String>,
}
