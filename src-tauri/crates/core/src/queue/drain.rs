//! The app's drain: a turn of this process that completes (not steered: "Send now" sends its
//! own message) sends the chat's next queued message; one that was stopped or failed holds the
//! queue, saying why.

use super::{Inner, QueueService};
use parley_protocol::{Event, EventMsg, StopReason};
use std::sync::Weak;
use tokio::sync::mpsc::UnboundedReceiver;

/// Follows every chat's events until the core is gone.
pub(super) async fn drain(inner: Weak<Inner>, mut events: UnboundedReceiver<Event>) {
    while let Some(ev) = events.recv().await {
        let held = match &ev.msg {
            EventMsg::TurnCompleted { stop_reason, .. } => {
                if *stop_reason == Some(StopReason::Steered) {
                    continue;
                }
                None
            }
            EventMsg::TurnStopped { .. } => Some(
                "Queued messages wait: the answer was stopped. Send one now, or edit or remove it.",
            ),
            EventMsg::TurnFailed { .. } => Some(
                "Queued messages wait: the answer failed. Send one now when the provider is back, or edit or remove it.",
            ),
            _ => continue,
        };
        let Some(inner) = inner.upgrade() else { return };
        let queue = QueueService { inner };
        let chat = ev.chat_id.clone();
        match held {
            None => {
                tokio::spawn(async move { queue.send_next(&chat).await });
            }
            Some(why) => {
                queue.hold(&chat, Some(why.to_owned()));
                if let Err(e) = queue.changed(&chat).await {
                    tracing::warn!("chat {chat}'s queue could not be read: {e}");
                }
            }
        }
    }
}
