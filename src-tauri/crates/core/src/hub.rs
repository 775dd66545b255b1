//! Where turn events go. Every event gets the next `seq` of its chat and is delivered to
//! every subscriber that wants it. The events of each running turn are also kept until the turn
//! ends, so a subscriber that arrives late (a reloaded webview, a second window) first receives
//! the running turn from its `TurnStarted` and then the live events, with nothing lost or
//! doubled: replay and registration happen under the same lock as emission.

use parley_protocol::{ChatId, Event, EventMsg};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;

struct Subscriber {
    session: Option<ChatId>,
    /// Takes only the events that end turns (the queue's drain), not every delta.
    ends_only: bool,
    tx: mpsc::UnboundedSender<Event>,
}

#[derive(Default)]
struct State {
    seqs: HashMap<ChatId, u64>,
    running: HashMap<ChatId, Vec<Event>>,
    /// How many turns of each chat are running (more than one side by side).
    open: HashMap<ChatId, usize>,
    subscribers: Vec<Subscriber>,
}

/// The event hub of one [`crate::Core`].
#[derive(Default)]
pub(crate) struct Hub {
    state: Mutex<State>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Numbers and delivers one event.
    pub(crate) fn emit(&self, chat_id: &ChatId, msg: EventMsg) {
        let mut st = self.lock();
        let st = &mut *st;
        // Per-token hot path: no id clones once the chat is known.
        let seq = match st.seqs.get_mut(chat_id) {
            Some(seq) => {
                *seq += 1;
                *seq
            }
            None => {
                st.seqs.insert(chat_id.clone(), 1);
                1
            }
        };
        let event = Event {
            chat_id: chat_id.clone(),
            seq,
            msg,
        };
        let starts = matches!(event.msg, EventMsg::TurnStarted { .. });
        let ends = event.msg.is_turn_end();
        // Events about the chat rather than a turn, and a call's passing progress, are not part
        // of a running turn's replay.
        let of_chat = matches!(
            event.msg,
            EventMsg::TitleChanged { .. }
                | EventMsg::QueueChanged { .. }
                | EventMsg::ToolProgress { .. }
        );
        // Side by side, several turns of a chat run at once: the log starts with the first of
        // them and ends with the last (the others' ends stay in it for the replay).
        // The first start of a comparison counts all its columns (one may end before another
        // has started); a column's later start adds nothing.
        let open = st.open.get(chat_id).copied().unwrap_or(0);
        if of_chat {
            // Delivered below, never logged.
        } else if ends && open <= 1 {
            st.open.remove(chat_id);
            st.running.remove(chat_id);
        } else {
            if starts && open == 0 {
                let columns = match &event.msg {
                    EventMsg::TurnStarted { side_by_side, .. } => side_by_side.len().max(1),
                    _ => 1,
                };
                st.open.insert(chat_id.clone(), columns);
            } else if ends {
                st.open.insert(chat_id.clone(), open - 1);
            }
            if !st.running.contains_key(chat_id) {
                st.running.insert(chat_id.clone(), Vec::new());
            }
            if let Some(log) = st.running.get_mut(chat_id) {
                if starts && open == 0 {
                    log.clear();
                }
                // Deltas of one item merge into its last logged event when nothing of that
                // message came between (another column's may): a late subscriber rebuilds the
                // same text, and the log stays as small as the number of items.
                if !merge_delta(last_of_message(log, &event), &event) {
                    log.push(event.clone());
                }
            }
        }
        // Deliver, moving the event into the last interested subscriber instead of cloning.
        st.subscribers.retain(|s| !s.tx.is_closed());
        let wants = |s: &Subscriber| {
            s.session.as_ref().is_none_or(|want| want == chat_id) && (ends || !s.ends_only)
        };
        let Some(last) = st.subscribers.iter().rposition(wants) else {
            return;
        };
        for s in st.subscribers[..last].iter().filter(|s| wants(s)) {
            let _ = s.tx.send(event.clone());
        }
        let _ = st.subscribers[last].tx.send(event);
    }

    /// Events of chat `session` (or of every chat), starting with the replay of running turns.
    pub(crate) fn subscribe(&self, session: Option<ChatId>) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        let mut replay: Vec<&Event> = st
            .running
            .iter()
            .filter(|(sid, _)| session.as_ref().is_none_or(|want| want == *sid))
            .flat_map(|(_, log)| log.iter())
            .collect();
        replay.sort_by(|a, b| (&a.chat_id, a.seq).cmp(&(&b.chat_id, b.seq)));
        for ev in replay {
            let _ = tx.send(ev.clone());
        }
        st.subscribers.push(Subscriber {
            session,
            ends_only: false,
            tx,
        });
        rx
    }

    /// The events that end turns, of every chat, from now on (no replay: nothing has ended).
    pub(crate) fn subscribe_ends(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().subscribers.push(Subscriber {
            session: None,
            ends_only: true,
            tx,
        });
        rx
    }

    /// The events of the chat's running turn so far, from its `TurnStarted` (consecutive
    /// deltas merged); empty when no turn runs. This log is the one replay buffer: a window
    /// that opens a chat applies it on top of the stored history.
    pub(crate) fn running_events(&self, chat_id: &ChatId) -> Vec<Event> {
        self.lock()
            .running
            .get(chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets a deleted chat's numbering.
    pub(crate) fn forget(&self, chat_id: &ChatId) {
        let mut st = self.lock();
        st.seqs.remove(chat_id);
        st.running.remove(chat_id);
        st.open.remove(chat_id);
    }
}

/// The last logged event about the message `next` is a delta of (any event of the log when
/// `next` is not a delta).
fn last_of_message<'a>(log: &'a mut [Event], next: &Event) -> Option<&'a mut Event> {
    let Some(id) = delta_message(&next.msg) else {
        return log.last_mut();
    };
    log.iter_mut()
        .rev()
        .find(|e| message_of(&e.msg) == Some(id))
}

/// The message a text or reasoning delta adds to.
fn delta_message(msg: &EventMsg) -> Option<&parley_protocol::MessageId> {
    match msg {
        EventMsg::TextDelta { message_id, .. } | EventMsg::ReasoningDelta { message_id, .. } => {
            Some(message_id)
        }
        _ => None,
    }
}

/// The answer an event is about, when it names one.
fn message_of(msg: &EventMsg) -> Option<&parley_protocol::MessageId> {
    match msg {
        EventMsg::TurnStarted {
            assistant_message_id,
            ..
        } => Some(assistant_message_id),
        EventMsg::ItemStarted { message_id, .. }
        | EventMsg::TextDelta { message_id, .. }
        | EventMsg::ReasoningDelta { message_id, .. }
        | EventMsg::ArgumentsDelta { message_id, .. }
        | EventMsg::ItemUpdated { message_id, .. }
        | EventMsg::ItemCompleted { message_id, .. } => Some(message_id),
        _ => None,
    }
}

/// Appends `next` to `last` when both are deltas of the same kind for the same item.
pub(super) fn merge_delta(last: Option<&mut Event>, next: &Event) -> bool {
    let Some(last) = last else { return false };
    let merged = match (&mut last.msg, &next.msg) {
        (
            EventMsg::TextDelta {
                message_id: m1,
                index: i1,
                delta: d1,
            },
            EventMsg::TextDelta {
                message_id: m2,
                index: i2,
                delta: d2,
            },
        )
        | (
            EventMsg::ReasoningDelta {
                message_id: m1,
                index: i1,
                delta: d1,
            },
            EventMsg::ReasoningDelta {
                message_id: m2,
                index: i2,
                delta: d2,
            },
        ) if m1 == m2 && i1 == i2 => {
            d1.push_str(d2);
            true
        }
        _ => false,
    };
    if merged {
        last.seq = next.seq;
    }
    merged
}

/// Sends a turn's events through the core's hub.
#[derive(Clone)]
pub(crate) struct Emitter {
    chat_id: ChatId,
    hub: std::sync::Arc<Hub>,
}

impl Emitter {
    pub(crate) fn new(chat_id: ChatId, hub: std::sync::Arc<Hub>) -> Self {
        Emitter { chat_id, hub }
    }

    /// The chat this emitter speaks for.
    pub(crate) fn chat_id(&self) -> &ChatId {
        &self.chat_id
    }

    pub(crate) fn emit(&self, msg: EventMsg) {
        self.hub.emit(&self.chat_id, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_protocol::TurnId;

    fn started() -> EventMsg {
        EventMsg::TurnStopped {
            turn_id: TurnId("x".into()),
        }
    }

    #[test]
    fn late_subscribers_get_the_running_turn_then_live_events() {
        let hub = Hub::default();
        let s = ChatId("s".into());
        let delta = |d: &str| EventMsg::TextDelta {
            message_id: "m".into(),
            index: 0,
            delta: d.into(),
        };
        hub.emit(&s, delta("a"));
        hub.emit(&s, delta("b"));
        let mut late = hub.subscribe(None);
        hub.emit(&s, delta("c"));
        // The two logged deltas arrive merged (carrying the later seq), then the live one.
        let got: Vec<(u64, String)> = std::iter::from_fn(|| late.try_recv().ok())
            .map(|e| match e.msg {
                EventMsg::TextDelta { delta, .. } => (e.seq, delta),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, vec![(2, "ab".to_owned()), (3, "c".to_owned())]);
        // After the turn ends nothing is replayed.
        hub.emit(&s, started());
        let mut after = hub.subscribe(Some(s.clone()));
        assert!(after.try_recv().is_err());
        // A subscriber for another chat sees nothing of this one.
        let mut other = hub.subscribe(Some(ChatId("o".into())));
        hub.emit(&s, delta("d"));
        assert!(other.try_recv().is_err());
        assert_eq!(after.try_recv().unwrap().seq, 5);
    }

    #[test]
    fn a_comparison_is_replayed_until_its_last_column_ends() {
        let hub = Hub::default();
        let s = ChatId("s".into());
        let start = |turn: &str, answer: &str| EventMsg::TurnStarted {
            turn_id: TurnId(turn.into()),
            user_message: parley_protocol::Message {
                id: "u".into(),
                chat_id: s.clone(),
                parent_id: None,
                role: parley_protocol::Role::User,
                parts: Vec::new(),
                turn_id: None,
                provider: None,
                model: None,
                created_at: 0,
            },
            assistant_message_id: answer.into(),
            provider: "p".into(),
            model: "m".into(),
            side_by_side: vec!["a".into(), "b".into()],
        };
        let delta = |m: &str, d: &str| EventMsg::TextDelta {
            message_id: m.into(),
            index: 0,
            delta: d.into(),
        };
        let end = |turn: &str| EventMsg::TurnStopped {
            turn_id: TurnId(turn.into()),
        };
        // The first column ends before the second has started: the log stays.
        hub.emit(&s, start("ta", "a"));
        hub.emit(&s, end("ta"));
        hub.emit(&s, start("tb", "b"));
        // Interleaved deltas still merge per answer.
        for (m, d) in [("b", "1"), ("b", "2")] {
            hub.emit(&s, delta(m, d));
        }
        let replay: Vec<EventMsg> = {
            let mut rx = hub.subscribe(Some(s.clone()));
            std::iter::from_fn(|| rx.try_recv().ok())
                .map(|e| e.msg)
                .collect()
        };
        assert_eq!(replay.len(), 4, "{replay:#?}");
        assert!(matches!(&replay[3], EventMsg::TextDelta { delta, .. } if delta == "12"));
        hub.emit(&s, end("tb"));
        assert!(
            hub.running_events(&s).is_empty(),
            "the last column's end ends the log"
        );
    }
}
