//! One turn: stream from the provider, keep the assistant message in memory, and journal it —
//! batched at least every 250 ms and at every item boundary, never per token. The end of the
//! turn (status, usage, error) is written in the same transaction as the last output, and only
//! then announced, so a client that sees `TurnCompleted` can trust the database.

use super::hub::Hub;
use super::CoreError;
use crate::error::ProviderErrorKind;
use crate::providers::{ChatRequest, ModelProvider, StreamEvent};
use crate::store::{BegunTurn, JournalOp, Store, TurnEnd};
use futures::StreamExt;
use parley_protocol::{
    ErrorCode, ErrorInfo, EventMsg, MessageId, Part, SessionId, StopReason, ToolCallStatus,
    TurnStatus, Usage,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The longest time streamed output stays only in memory.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Sends a turn's events through the core's hub.
pub(crate) struct Emitter {
    session_id: SessionId,
    hub: Arc<Hub>,
}

impl Emitter {
    pub(crate) fn new(session_id: SessionId, hub: Arc<Hub>) -> Self {
        Emitter { session_id, hub }
    }

    pub(crate) fn emit(&self, msg: EventMsg) {
        self.hub.emit(&self.session_id, msg);
    }
}

pub(crate) struct TurnCtx {
    pub store: Store,
    pub emitter: Emitter,
    pub begun: BegunTurn,
    pub provider_name: String,
    pub model: String,
    pub provider: Result<Arc<dyn ModelProvider>, CoreError>,
    pub request: Result<ChatRequest, CoreError>,
    pub cancel: CancellationToken,
}

/// The assistant message being written, and the journal ops not yet stored.
struct Draft {
    message_id: MessageId,
    parts: Vec<Part>,
    pending: Vec<JournalOp>,
    /// The part that text/reasoning deltas currently extend.
    open: Option<usize>,
    /// Provider tool-call index -> part index.
    calls: HashMap<u32, usize>,
}

impl Draft {
    fn new(message_id: MessageId) -> Self {
        Draft {
            message_id,
            parts: Vec::new(),
            pending: Vec::new(),
            open: None,
            calls: HashMap::new(),
        }
    }

    fn push_part(&mut self, part: Part, em: &Emitter) -> usize {
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
    fn close_open(&mut self, em: &Emitter) -> bool {
        match self.open.take() {
            Some(i) => {
                em.emit(EventMsg::ItemCompleted {
                    message_id: self.message_id.clone(),
                    index: i as u32,
                    part: self.parts[i].clone(),
                });
                true
            }
            None => false,
        }
    }

    fn append(&mut self, reasoning: bool, delta: String, em: &Emitter) -> bool {
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
        // Coalesce consecutive appends to the same part into one op.
        match self.pending.last_mut() {
            Some(JournalOp::AppendText {
                index: last, text, ..
            }) if *last as usize == index => text.push_str(&delta),
            Some(JournalOp::InsertPart {
                index: last,
                part: Part::Text { text } | Part::Reasoning { text, .. },
                ..
            }) if *last as usize == index => text.push_str(&delta),
            _ => self.pending.push(JournalOp::AppendText {
                message_id: self.message_id.clone(),
                index: index as u32,
                text: delta.clone(),
            }),
        }
        let message_id = self.message_id.clone();
        em.emit(if reasoning {
            EventMsg::ReasoningDelta {
                message_id,
                index: index as u32,
                delta,
            }
        } else {
            EventMsg::TextDelta {
                message_id,
                index: index as u32,
                delta,
            }
        });
        boundary
    }

    fn replace(&mut self, index: usize, part: Part, completed: bool, em: &Emitter) {
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

    fn add_result(&mut self, call_id: String, output: String, em: &Emitter) {
        let i = self.push_part(
            Part::ToolResult {
                call_id,
                output,
                is_error: true,
            },
            em,
        );
        em.emit(EventMsg::ItemCompleted {
            message_id: self.message_id.clone(),
            index: i as u32,
            part: self.parts[i].clone(),
        });
    }

    /// Ends every tool call still in flight with `status`, each with exactly one result.
    fn settle_calls(&mut self, status: ToolCallStatus, why: &str, em: &Emitter) {
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
                self.add_result(call_id, why.to_owned(), em);
            }
        }
    }
}

enum Outcome {
    Completed,
    Stopped,
    Failed(ErrorInfo),
}

/// Runs the turn and returns its final event, which the caller emits once the session's turn
/// slot is free again — so a client reacting to the end can send at once.
pub(crate) async fn run(ctx: TurnCtx) -> (Emitter, EventMsg) {
    let TurnCtx {
        store,
        emitter: em,
        begun,
        provider_name,
        model,
        provider,
        request,
        cancel,
    } = ctx;
    em.emit(EventMsg::TurnStarted {
        turn_id: begun.turn_id.clone(),
        user_message: begun.user_message.clone(),
        assistant_message_id: begun.assistant_message_id.clone(),
        provider: provider_name,
        model,
    });
    let mut draft = Draft::new(begun.assistant_message_id.clone());
    let mut usage: Option<Usage> = None;
    let mut stop_reason: Option<StopReason> = None;
    let mut raw_reason: Option<String> = None;

    let outcome = match (provider, request) {
        (Err(e), _) | (_, Err(e)) => Outcome::Failed(e.to_info()),
        (Ok(provider), Ok(request)) => {
            let mut stream = provider.stream(request, cancel.clone());
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut streaming = false;
            loop {
                let event = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break Outcome::Stopped,
                    _ = tick.tick() => {
                        if let Err(e) = store.journal(std::mem::take(&mut draft.pending)).await {
                            break Outcome::Failed(CoreError::from(e).to_info());
                        }
                        continue;
                    }
                    ev = stream.next() => ev,
                };
                let event = match event {
                    None => {
                        break Outcome::Failed(
                            crate::ProviderError::new(
                                ProviderErrorKind::StreamInterrupted,
                                "the stream ended before the model finished",
                            )
                            .to_info(),
                        )
                    }
                    Some(Err(e)) => break Outcome::Failed(e.to_info()),
                    Some(Ok(ev)) => ev,
                };
                if !streaming && !matches!(event, StreamEvent::Retrying { .. }) {
                    streaming = true;
                    if let Err(e) = store.set_turn_streaming(&begun.turn_id).await {
                        break Outcome::Failed(CoreError::from(e).to_info());
                    }
                }
                let boundary = match event {
                    StreamEvent::Retrying {
                        attempt,
                        delay,
                        reason,
                    } => {
                        em.emit(EventMsg::StreamRetry {
                            attempt,
                            delay_ms: delay.as_millis() as u64,
                            reason: reason.to_info(),
                        });
                        false
                    }
                    StreamEvent::TextDelta(d) => draft.append(false, d, &em),
                    StreamEvent::ReasoningDelta(d) => draft.append(true, d, &em),
                    StreamEvent::ReasoningSignature(sig) => {
                        let open = draft
                            .open
                            .filter(|i| matches!(draft.parts[*i], Part::Reasoning { .. }));
                        match open {
                            Some(i) => {
                                if let Part::Reasoning { text, .. } = draft.parts[i].clone() {
                                    let part = Part::Reasoning {
                                        text,
                                        signature: Some(sig),
                                    };
                                    draft.replace(i, part, false, &em);
                                }
                                // A signature seals its reasoning block: the next reasoning is
                                // a new block with its own signature (replayed separately).
                                draft.close_open(&em)
                            }
                            None => {
                                // Signed reasoning with no visible text (redacted thinking, an
                                // encrypted reasoning item, a Gemini thought signature).
                                draft.close_open(&em);
                                let i = draft.push_part(
                                    Part::Reasoning {
                                        text: String::new(),
                                        signature: Some(sig),
                                    },
                                    &em,
                                );
                                em.emit(EventMsg::ItemCompleted {
                                    message_id: draft.message_id.clone(),
                                    index: i as u32,
                                    part: draft.parts[i].clone(),
                                });
                                true
                            }
                        }
                    }
                    StreamEvent::ToolCallStarted { index, id, name } => {
                        draft.close_open(&em);
                        let i = draft.push_part(
                            Part::ToolCall {
                                call_id: id,
                                name,
                                arguments: String::new(),
                                status: ToolCallStatus::PendingInput,
                            },
                            &em,
                        );
                        draft.calls.insert(index, i);
                        true
                    }
                    StreamEvent::ToolCallArgsDelta { index, delta } => {
                        if let Some(&i) = draft.calls.get(&index) {
                            draft.pending.push(JournalOp::AppendText {
                                message_id: draft.message_id.clone(),
                                index: i as u32,
                                text: delta.clone(),
                            });
                            if let Part::ToolCall { arguments, .. } = &mut draft.parts[i] {
                                arguments.push_str(&delta);
                            }
                            em.emit(EventMsg::ItemUpdated {
                                message_id: draft.message_id.clone(),
                                index: i as u32,
                                part: draft.parts[i].clone(),
                            });
                        }
                        false
                    }
                    StreamEvent::ToolCallFinished {
                        index,
                        id,
                        name,
                        arguments,
                        parsed,
                    } => {
                        draft.close_open(&em);
                        let i = match draft.calls.remove(&index) {
                            Some(i) => i,
                            None => draft.push_part(
                                Part::ToolCall {
                                    call_id: id.clone(),
                                    name: name.clone(),
                                    arguments: String::new(),
                                    status: ToolCallStatus::PendingInput,
                                },
                                &em,
                            ),
                        };
                        // Tools run in a later milestone; until then every call is answered
                        // with an error result and never executed. A malformed call says why.
                        let why = match parsed {
                            Ok(_) => format!("The tool \"{name}\" is not available in this chat, so it was not run."),
                            Err(why) => format!("The call to \"{name}\" was not run: {why}."),
                        };
                        let part = Part::ToolCall {
                            call_id: id.clone(),
                            name,
                            arguments,
                            status: ToolCallStatus::Failed,
                        };
                        draft.replace(i, part, true, &em);
                        draft.add_result(id, why, &em);
                        true
                    }
                    StreamEvent::Usage { usage: u, .. } => {
                        usage = Some(u);
                        false
                    }
                    StreamEvent::Finished {
                        stop_reason: s,
                        raw_reason: r,
                    } => {
                        stop_reason = Some(s);
                        raw_reason = r;
                        break Outcome::Completed;
                    }
                };
                if boundary {
                    if let Err(e) = store.journal(std::mem::take(&mut draft.pending)).await {
                        break Outcome::Failed(CoreError::from(e).to_info());
                    }
                }
            }
        }
    };

    draft.close_open(&em);
    let (status, error) = match &outcome {
        Outcome::Completed => (TurnStatus::Completed, None),
        Outcome::Stopped => {
            draft.settle_calls(ToolCallStatus::Cancelled, "Cancelled by user.", &em);
            (TurnStatus::Stopped, None)
        }
        Outcome::Failed(e) => {
            draft.settle_calls(
                ToolCallStatus::Failed,
                "The answer broke off before this call was complete (its arguments may be cut off), so it was not run.",
                &em,
            );
            (TurnStatus::Failed, Some(e.clone()))
        }
    };
    let end = TurnEnd {
        status,
        usage: usage.clone(),
        stop_reason,
        finish_reason_raw: raw_reason,
        error: error.clone(),
    };
    let stored = store
        .finish_turn(&begun.turn_id, std::mem::take(&mut draft.pending), end)
        .await;
    let turn_id = begun.turn_id;
    let last = match (stored, outcome) {
        (Err(e), _) => {
            tracing::error!("could not record the end of turn {turn_id}: {e}");
            EventMsg::TurnFailed {
                turn_id,
                error: ErrorInfo::new(
                    ErrorCode::Storage,
                    format!("Parley could not save the end of this answer: {e}."),
                    false,
                ),
            }
        }
        (Ok(()), Outcome::Completed) => EventMsg::TurnCompleted {
            turn_id,
            usage,
            stop_reason,
        },
        (Ok(()), Outcome::Stopped) => EventMsg::TurnStopped { turn_id },
        (Ok(()), Outcome::Failed(error)) => EventMsg::TurnFailed { turn_id, error },
    };
    (em, last)
}
