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
        let Some(strong) = inner.upgrade() else {
            return;
        };
        // Side by side, only the last column's end counts (the chat answers until then), and
        // the comparison completed when any of its columns did.
        if strong.chats.is_answering(&ev.chat_id) {
            continue;
        }
        let held = match strong.chats.side_by_side_outcome(&ev.chat_id) {
            Some(true) => None,
            Some(false) => Some(
                "Queued messages wait: no answer side by side completed. Send one now, or edit or remove it.",
            ),
            None => match turn_end(&ev.msg) {
                Some(held) => held,
                None => continue,
            },
        };
        drop(strong);
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

/// What a turn's end means for the queue: go on (`Some(None)`), hold with a reason, or
/// nothing (`None`: not an end, or steered — "Send now" sends its own message).
fn turn_end(msg: &EventMsg) -> Option<Option<&'static str>> {
    Some(match msg {
            EventMsg::TurnCompleted { stop_reason, .. } => {
            if *stop_reason == Some(StopReason::Steered) {
                return None;
            }
            None
        }
        EventMsg::TurnStopped { .. } => Some(
            "Queued messages wait: the answer was stopped. Send one now, or edit or remove it.",
        ),
        EventMsg::TurnFailed { .. } => Some(
            "Queued messages wait: the answer failed. Send one now when the provider is back, or edit or remove it.",
        ),
        _ => return None,
    })
}
