//! The answer being written: the assistant message kept in memory, and the journal ops that
//! store it. Every change goes through a method here, which updates the message, queues the
//! op and emits the event — so what the window sees, what the database holds and what the next
//! request replays cannot drift apart. Text and reasoning deltas extend the open part and are
//! coalesced into one op per part between flushes; everything else is an item boundary.
//!
//! Events are coalesced too: at most one delta event (or tool-call argument update) per frame
//! ([`FRAME`]). The first output after a quiet frame goes out at once; what follows within the
//! frame waits in `unsent` and goes out together when the frame is over (the loop keeps a timer
//! for it), so a slow stream has no added latency and a fast one costs one event per frame
//! instead of one per token. Any other event sends what waits first, so the order never changes.

use super::{BegunTurn, JournalOp};
use crate::hub::Emitter;
use parley_protocol::{ChatId, EventMsg, Message, MessageId, Part, Role, ToolCallStatus};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The longest a streamed delta waits before it is sent to subscribers.
pub const FRAME: Duration = Duration::from_millis(16);

/// Output shown to no one yet.
enum Unsent {
    /// Text or reasoning appended to part `index`.
    Delta {
        reasoning: bool,
        index: usize,
        text: String,
    },
    /// Argument text appended to the tool call in part `index`.
    Arguments { index: usize, text: String },
}

/// The assistant message being written, and the journal ops not yet stored.
pub(super) struct Draft {
    message_id: MessageId,
    parts: Vec<Part>,
    pending: Vec<JournalOp>,
    /// The part that text/reasoning deltas currently extend.
    open: Option<usize>,
    /// Provider tool-call index -> part index, for calls still streaming.
    calls: HashMap<u32, usize>,
    /// Streamed output not yet emitted.
    unsent: Option<Unsent>,
    /// When streamed output was last emitted.
    last_sent: Option<Instant>,
}

impl Draft {
    pub(super) fn new(message_id: MessageId) -> Self {
        Draft {
            message_id,
            parts: Vec::new(),
            pending: Vec::new(),
            open: None,
            calls: HashMap::new(),
            unsent: None,
            last_sent: None,
        }
    }

    /// When the waiting output must go out (a frame after the last emission); `None` when
    /// nothing waits.
    pub(super) fn unsent_due_at(&self) -> Option<Instant> {
        self.unsent.as_ref()?;
        Some(self.last_sent.map_or_else(Instant::now, |t| t + FRAME))
    }

    /// Whether the waiting output may go out now.
    pub(super) fn unsent_due(&self) -> bool {
        self.unsent.is_some() && self.last_sent.is_none_or(|t| t.elapsed() >= FRAME)
    }

    /// Emits the waiting output as one event.
    pub(super) fn send_unsent(&mut self, em: &Emitter) {
        let Some(unsent) = self.unsent.take() else {
            return;
        };
        self.last_sent = Some(Instant::now());
        let message_id = self.message_id.clone();
        em.emit(match unsent {
            Unsent::Delta {
                reasoning: true,
                index,
                text,
            } => EventMsg::ReasoningDelta {
                message_id,
                index: index as u32,
                delta: text,
            },
            Unsent::Delta { index, text, .. } => EventMsg::TextDelta {
                message_id,
                index: index as u32,
                delta: text,
            },
            Unsent::Arguments { index, text } => EventMsg::ArgumentsDelta {
                message_id,
                index: index as u32,
                delta: text,
            },
        });
    }

    fn push_part(&mut self, part: Part, em: &Emitter) -> usize {
        self.send_unsent(em);
        let index = self.parts.len();
        self.pending.push(JournalOp::InsertPart {
            message_id: self.message_id.clone(),
            index: index as u32,
            part: part.clone(),
        });
        em.emit(EventMsg::ItemStarted {
            message_id: self.message_id.clone(),
            index: index as u32,
            part: part.clone(),
        });
        self.parts.push(part);
        index
    }

    /// Closes the open text/reasoning part. Returns true when an item boundary was crossed.
    pub(super) fn close_open(&mut self, em: &Emitter) -> bool {
        match self.open.take() {
            Some(i) => {
                self.complete(i, em);
                true
            }
            None => false,
        }
    }

    pub(super) fn append(&mut self, reasoning: bool, delta: String, em: &Emitter) -> bool {
        let same_kind = self.open.is_some_and(|i| {
            matches!(
                (&self.parts[i], reasoning),
                (Part::Reasoning { .. }, true) | (Part::Text { .. }, false)
            )
        });
        let mut boundary = false;
        let index = match self.open {
            Some(i) if same_kind => i,
            _ => {
                boundary = self.close_open(em);
                let part = if reasoning {
                    Part::Reasoning {
                        text: String::new(),
                        signature: None,
                    }
                } else {
                    Part::Text {
                        text: String::new(),
                    }
                };
                let i = self.push_part(part, em);
                self.open = Some(i);
                i
            }
        };
        if let Part::Text { text } | Part::Reasoning { text, .. } = &mut self.parts[index] {
            text.push_str(&delta);
        }
        self.journal_append(index, &delta);
        match &mut self.unsent {
            Some(Unsent::Delta { index: i, text, .. }) if *i == index => text.push_str(&delta),
            _ => {
                self.send_unsent(em);
                self.unsent = Some(Unsent::Delta {
                    reasoning,
                    index,
                    text: delta,
                });
            }
        }
        boundary
    }

    /// Sets a tool call's status (an item boundary: journaled at once by the caller).
    pub(super) fn set_status(&mut self, index: usize, status: ToolCallStatus, em: &Emitter) {
        if let Part::ToolCall {
            call_id,
            name,
            arguments,
            ..
        } = self.parts[index].clone()
        {
            let part = Part::ToolCall {
                call_id,
                name,
                arguments,
                status,
            };
            self.replace(index, part, status.is_terminal(), em);
        }
    }

    /// The message as written so far, for the next request of the loop.
    pub(super) fn as_message(
        &self,
        begun: &BegunTurn,
        chat_id: &ChatId,
        provider: &str,
        model: &str,
    ) -> Message {
        Message {
            id: self.message_id.clone(),
            chat_id: chat_id.clone(),
            parent_id: Some(begun.user_message.id.clone()),
            role: Role::Assistant,
            parts: self.parts.clone(),
            turn_id: Some(begun.turn_id.clone()),
            provider: Some(provider.to_owned()),
            model: Some(model.to_owned()),
            created_at: 0,
        }
    }

    fn replace(&mut self, index: usize, part: Part, completed: bool, em: &Emitter) {
        self.send_unsent(em);
        self.parts[index] = part.clone();
        self.pending.push(JournalOp::ReplacePart {
            message_id: self.message_id.clone(),
            index: index as u32,
            part: part.clone(),
        });
        let message_id = self.message_id.clone();
        let index = index as u32;
        em.emit(if completed {
            EventMsg::ItemCompleted {
                message_id,
                index,
                part,
            }
        } else {
            EventMsg::ItemUpdated {
                message_id,
                index,
                part,
            }
        });
    }

    pub(super) fn add_result(
        &mut self,
        call_id: String,
        output: String,
        is_error: bool,
        em: &Emitter,
    ) {
        let i = self.push_part(
            Part::ToolResult {
                call_id,
                output,
                is_error,
            },
            em,
        );
        self.complete(i, em);
    }

    /// The images a tool returned (stored), right after its result, where every wire format
    /// looks for them (`providers::tool_images`).
    pub(super) fn add_images(&mut self, images: Vec<Part>, em: &Emitter) {
        for image in images {
            let i = self.push_part(image, em);
            self.complete(i, em);
        }
    }

    /// Whether the answer so far holds an image (a tool's): a request then needs its bytes.
    pub(super) fn has_images(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Image { .. }))
    }

    /// Ends every tool call still in flight with `status`, each with exactly one result.
    pub(super) fn settle_calls(&mut self, status: ToolCallStatus, why: &str, em: &Emitter) {
        let mut open: Vec<usize> = self.calls.drain().map(|(_, i)| i).collect();
        open.sort_unstable();
        for i in open {
            if let Part::ToolCall {
                call_id,
                name,
                arguments,
                status: s,
            } = self.parts[i].clone()
            {
                if s.is_terminal() {
                    continue;
                }
                let part = Part::ToolCall {
                    call_id: call_id.clone(),
                    name,
                    arguments,
                    status,
                };
                self.replace(i, part, true, em);
                self.add_result(call_id, why.to_owned(), true, em);
            }
        }
    }

    /// Whether anything was written yet.
    pub(super) fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The ops not yet stored (the caller stores them).
    pub(super) fn take_pending(&mut self) -> Vec<JournalOp> {
        std::mem::take(&mut self.pending)
    }

    /// A reasoning signature: seals the open reasoning block, or — signed reasoning with no
    /// visible text (redacted thinking, an encrypted reasoning item, a Gemini thought
    /// signature) — becomes a block of its own. Returns true when an item boundary was crossed.
    pub(super) fn sign_reasoning(&mut self, sig: String, em: &Emitter) -> bool {
        let open = self
            .open
            .filter(|i| matches!(self.parts[*i], Part::Reasoning { .. }));
        match open {
            Some(i) => {
                if let Part::Reasoning { text, .. } = self.parts[i].clone() {
                    let part = Part::Reasoning {
                        text,
                        signature: Some(sig),
                    };
                    self.replace(i, part, false, em);
                }
                // A signature seals its reasoning block: the next reasoning is a new block
                // with its own signature (replayed separately).
                self.close_open(em)
            }
            None => {
                self.close_open(em);
                let i = self.push_part(
                    Part::Reasoning {
                        text: String::new(),
                        signature: Some(sig),
                    },
                    em,
                );
                self.complete(i, em);
                true
            }
        }
    }

    /// A tool call begins streaming (provider index `index`).
    pub(super) fn start_call(&mut self, index: u32, call_id: String, name: String, em: &Emitter) {
        self.close_open(em);
        let i = self.push_part(
            Part::ToolCall {
                call_id,
                name,
                arguments: String::new(),
                status: ToolCallStatus::PendingInput,
            },
            em,
        );
        self.calls.insert(index, i);
    }

    /// Journals text appended to part `index` (text, reasoning or a call's arguments),
    /// coalescing consecutive appends to the same part into one op.
    fn journal_append(&mut self, index: usize, delta: &str) {
        match self.pending.last_mut() {
            Some(JournalOp::AppendText {
                index: last, text, ..
            }) if *last as usize == index => text.push_str(delta),
            Some(JournalOp::InsertPart {
                index: last,
                part:
                    Part::Text { text }
                    | Part::Reasoning { text, .. }
                    | Part::ToolCall {
                        arguments: text, ..
                    },
                ..
            }) if *last as usize == index => text.push_str(delta),
            _ => self.pending.push(JournalOp::AppendText {
                message_id: self.message_id.clone(),
                index: index as u32,
                text: delta.to_owned(),
            }),
        }
    }

    /// More argument text for a streaming call.
    pub(super) fn append_arguments(&mut self, index: u32, delta: String, em: &Emitter) {
        let Some(&i) = self.calls.get(&index) else {
            return;
        };
        if let Part::ToolCall { arguments, .. } = &mut self.parts[i] {
            arguments.push_str(&delta);
        }
        // Coalesced, like text: one op and one event per stretch of pieces.
        self.journal_append(i, &delta);
        match &mut self.unsent {
            Some(Unsent::Arguments { index, text }) if *index == i => text.push_str(&delta),
            _ => {
                self.send_unsent(em);
                self.unsent = Some(Unsent::Arguments {
                    index: i,
                    text: delta,
                });
            }
        }
    }

    /// A call's arguments are complete: the call as finally parsed is what is shown, approved
    /// and run. Returns the call's part index.
    pub(super) fn finish_call(
        &mut self,
        index: u32,
        call_id: String,
        name: String,
        arguments: String,
        em: &Emitter,
    ) -> usize {
        self.close_open(em);
        let i = match self.calls.remove(&index) {
            Some(i) => i,
            None => self.push_part(
                Part::ToolCall {
                    call_id: call_id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                    status: ToolCallStatus::PendingInput,
                },
                em,
            ),
        };
        let part = Part::ToolCall {
            call_id,
            name,
            arguments,
            status: ToolCallStatus::PendingInput,
        };
        self.replace(i, part, false, em);
        i
    }

    /// Emits the part's final value.
    fn complete(&mut self, i: usize, em: &Emitter) {
        self.send_unsent(em);
        em.emit(EventMsg::ItemCompleted {
            message_id: self.message_id.clone(),
            index: i as u32,
            part: self.parts[i].clone(),
        });
    }
}
