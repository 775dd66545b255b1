//! Events for a window, at most one delivery per frame. A window that is handed every event
//! separately spends its time on calls instead of drawing; here the first event after a quiet
//! spell goes out at once, and what arrives within the next frame goes out together, with
//! consecutive deltas of one item merged into one (the merged event carries the later `seq`).

use crate::hub::merge_delta;
use parley_protocol::Event;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Batches of a subscription's events, at most one batch per `frame`.
pub struct EventBatches {
    rx: mpsc::UnboundedReceiver<Event>,
    frame: Duration,
    last: Option<Instant>,
}

impl EventBatches {
    /// Batches `rx` (from [`super::ChatService::attach_events`]) per `frame`.
    pub fn new(rx: mpsc::UnboundedReceiver<Event>, frame: Duration) -> Self {
        EventBatches {
            rx,
            frame,
            last: None,
        }
    }

    /// The next batch (never empty); `None` once the subscription has ended and is drained.
    pub async fn next(&mut self) -> Option<Vec<Event>> {
        let first = self.rx.recv().await?;
        let mut batch = vec![first];
        let now = Instant::now();
        let due = self.last.map_or(now, |l| (l + self.frame).max(now));
        loop {
            let ev = tokio::select! {
                biased;
                ev = self.rx.recv() => ev,
                _ = tokio::time::sleep_until(due) => None,
            };
            let Some(ev) = ev else { break };
            if !merge_delta(batch.last_mut(), &ev) {
                batch.push(ev);
            }
        }
        // Whatever else is already queued rides along.
        while let Ok(ev) = self.rx.try_recv() {
            if !merge_delta(batch.last_mut(), &ev) {
                batch.push(ev);
            }
        }
        self.last = Some(Instant::now());
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_protocol::{ChatId, EventMsg, TurnId};

    fn ev(seq: u64, msg: EventMsg) -> Event {
        Event {
            chat_id: ChatId("s".into()),
            seq,
            msg,
        }
    }
    fn delta(seq: u64, index: u32, d: &str) -> Event {
        ev(
            seq,
            EventMsg::TextDelta {
                message_id: "m".into(),
                index,
                delta: d.into(),
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_becomes_one_batch_with_deltas_merged_in_order() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut b = EventBatches::new(rx, Duration::from_millis(16));
        for (i, d) in ["a", "b", "c"].iter().enumerate() {
            tx.send(delta(i as u64 + 1, 0, d)).unwrap();
        }
        tx.send(delta(4, 1, "x")).unwrap();
        tx.send(ev(
            5,
            EventMsg::TurnStopped {
                turn_id: TurnId("t".into()),
            },
        ))
        .unwrap();
        tx.send(delta(6, 1, "y")).unwrap();
        let got = b.next().await.unwrap();
        let shape: Vec<(u64, String)> = got
            .iter()
            .map(|e| match &e.msg {
                EventMsg::TextDelta { index, delta, .. } => (e.seq, format!("{index}:{delta}")),
                other => (e.seq, format!("{other:?}").chars().take(11).collect()),
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (3, "0:abc".to_owned()),
                (4, "1:x".to_owned()),
                (5, "TurnStopped".to_owned()),
                (6, "1:y".to_owned()),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_one_batch_per_frame_and_the_first_after_quiet_at_once() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut b = EventBatches::new(rx, Duration::from_millis(16));
        let start = Instant::now();
        // A delta every 2 ms for 100 ms.
        let feeder = tokio::spawn(async move {
            for i in 0..50u64 {
                tx.send(delta(i + 1, 0, "t")).unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            // Hold the subscription open a while: closing it delivers what waits at once.
            tokio::time::sleep(Duration::from_millis(50)).await;
        });
        let mut deliveries = Vec::new();
        let mut text = String::new();
        while let Some(batch) = b.next().await {
            deliveries.push(start.elapsed());
            for e in batch {
                if let EventMsg::TextDelta { delta, .. } = e.msg {
                    text.push_str(&delta);
                }
            }
        }
        feeder.await.unwrap();
        assert_eq!(text.len(), 50, "nothing lost or doubled");
        assert_eq!(
            deliveries[0],
            Duration::ZERO,
            "the first event is not held back"
        );
        for w in deliveries.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(16), "{deliveries:?}");
        }
        assert!(
            deliveries.len() <= 8,
            "{} deliveries for 100 ms",
            deliveries.len()
        );
    }
}
