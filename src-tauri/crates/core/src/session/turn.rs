//! One turn — the agent loop: stream a response from the provider; as each tool call's
//! arguments complete, prepare it (unknown tool or bad arguments: an error result, never an
//! execution), ask for approval when the policy says so, and run it — read-only calls side by
//! side, the others one at a time in call order ([`crate::tools::runtime`]); then send the
//! results back, in call order, and repeat until the model answers without calls or the round
//! cap is reached. Every call ends with exactly one result, whatever happens (stop, failure).
//!
//! The assistant message is kept in memory and journaled — batched at least every 250 ms and
//! at every item boundary (each tool status change is one), never per token. The end of the
//! turn is written in the same transaction as the last output, and only then announced, so a
//! client that sees `TurnCompleted` can trust the database.

use super::hub::Hub;
use super::CoreError;
use crate::approvals::{Approvals, CallFacts, Decision, Outcome as Waited};
use crate::error::ProviderErrorKind;
use crate::providers::{ChatRequest, ModelProvider, StreamEvent};
use crate::store::{BegunTurn, JournalOp, Store, TurnEnd};
use crate::tools::runtime::Scheduler;
use crate::tools::tool::{Prepared, Registry, Risk, ToolContext, ToolError};
use futures::StreamExt;
use parley_protocol::{
    ErrorCode, ErrorInfo, EventMsg, Message, MessageId, Part, Role, SessionId, StopReason,
    ToolCallStatus, TurnStatus, Usage,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The longest time streamed output stays only in memory.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Sends a turn's events through the core's hub.
#[derive(Clone)]
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
    /// The request, with the history before this turn's answer as its messages.
    pub request: Result<ChatRequest, CoreError>,
    pub cancel: CancellationToken,
    /// The tools this turn may run; `None` when the session has none (no workspace).
    pub tools: Option<TurnTools>,
    /// The most model responses with tool calls in this turn.
    pub max_rounds: u32,
}

/// What a turn needs to run tools.
pub(crate) struct TurnTools {
    pub registry: Registry,
    /// The workspace and the protected folders (cancel and call id are set per call).
    pub ctx: ToolContext,
    pub approvals: Arc<Approvals>,
    /// How long an approval request or a question waits.
    pub timeout: Duration,
    /// Ask before read-only calls too.
    pub confirm_read_only: bool,
}

/// The assistant message being written, and the journal ops not yet stored.
struct Draft {
    message_id: MessageId,
    parts: Vec<Part>,
    pending: Vec<JournalOp>,
    /// The part that text/reasoning deltas currently extend.
    open: Option<usize>,
    /// Provider tool-call index -> part index, for calls still streaming.
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

    /// Sets a tool call's status (an item boundary: journaled at once by the caller).
    fn set_status(&mut self, index: usize, status: ToolCallStatus, em: &Emitter) {
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
    fn as_message(
        &self,
        begun: &BegunTurn,
        session_id: &SessionId,
        provider: &str,
        model: &str,
    ) -> Message {
        Message {
            id: self.message_id.clone(),
            session_id: session_id.clone(),
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

    fn add_result(&mut self, call_id: String, output: String, is_error: bool, em: &Emitter) {
        let i = self.push_part(
            Part::ToolResult {
                call_id,
                output,
                is_error,
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
                self.add_result(call_id, why.to_owned(), true, em);
            }
        }
    }
}

enum Outcome {
    Completed,
    Stopped,
    Failed(ErrorInfo),
}

/// How one call ended.
struct CallEnd {
    status: ToolCallStatus,
    output: String,
    is_error: bool,
    /// A broken invariant: the turn fails after every call has its result.
    fatal: Option<String>,
}

impl CallEnd {
    fn failed(output: String) -> Self {
        CallEnd {
            status: ToolCallStatus::Failed,
            output,
            is_error: true,
            fatal: None,
        }
    }

    fn cancelled() -> Self {
        CallEnd {
            status: ToolCallStatus::Cancelled,
            output: "Cancelled by user.".into(),
            is_error: true,
            fatal: None,
        }
    }
}

/// What a call task tells the turn loop while it works.
enum Update {
    Status(usize, ToolCallStatus),
    Emit(Box<EventMsg>),
}

/// A call of the current response.
struct Dispatched {
    index: usize,
    call_id: String,
    end: CallTask,
}

enum CallTask {
    Done(CallEnd),
    Task(tokio::task::JoinHandle<CallEnd>),
}

/// Everything a call task needs.
struct CallJob {
    index: usize,
    session: String,
    call_id: String,
    name: String,
    arguments: String,
    prepared: Prepared,
    ctx: ToolContext,
    approvals: Arc<Approvals>,
    store: Store,
    timeout: Duration,
    confirm_read_only: bool,
    ticket: crate::tools::runtime::Ticket,
    updates: tokio::sync::mpsc::UnboundedSender<Update>,
}

/// Approval (when needed), then the call's turn in the schedule, then the run — each step
/// racing the stop button.
async fn process_call(job: CallJob) -> CallEnd {
    let CallJob {
        index,
        session,
        call_id,
        name,
        arguments,
        prepared,
        mut ctx,
        approvals,
        store,
        timeout,
        confirm_read_only,
        mut ticket,
        updates,
    } = job;
    let cancel = ctx.cancel.clone();
    let facts = CallFacts {
        tool: &name,
        arguments: &arguments,
        risk: prepared.risk,
        always_ask: prepared.always_ask.clone(),
        flagged: confirm_read_only && prepared.risk == Risk::ReadOnly,
    };
    if let Some(reason) = approvals.check(&session, &facts) {
        let key = Approvals::key(&session, &call_id);
        // Registered before the request goes out, so no answer can arrive unheard.
        let pending = approvals.gate.register(&key);
        let can_grant = prepared.always_ask.is_none();
        let _ = updates.send(Update::Status(index, ToolCallStatus::AwaitingApproval));
        let _ = updates.send(Update::Emit(Box::new(EventMsg::ApprovalRequested {
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
            risk: prepared.risk,
            reason,
            can_grant,
        })));
        let waited = pending.wait(timeout, &cancel).await;
        approvals.gate.forget(&key);
        match waited {
            Waited::Decided(Decision::AllowOnce) => {}
            Waited::Decided(Decision::AllowSession) => {
                if can_grant {
                    approvals.grant_session(&session, &name, &arguments);
                }
            }
            Waited::Decided(Decision::AllowAlways) => {
                if can_grant {
                    if let Some(canonical) = crate::approvals::canonical_arguments(&arguments) {
                        match store.add_grant(&name, &canonical).await {
                            Ok(_) => approvals.grant_always(&name, &canonical),
                            Err(e) => tracing::warn!("could not save the grant: {e}"),
                        }
                    }
                }
            }
            Waited::Decided(Decision::Deny { note }) => {
                let mut output = "The user denied this call; it was not run.".to_owned();
                if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
                    output.push_str(&format!(" The user's note: {}", n.trim()));
                }
                return CallEnd {
                    status: ToolCallStatus::Denied,
                    output,
                    is_error: true,
                    fatal: None,
                };
            }
            Waited::TimedOut => {
                return CallEnd {
                    status: ToolCallStatus::Denied,
                    output: format!(
                        "Nobody answered the approval request within {} s, so the call was not run (treated as denied).",
                        timeout.as_secs()
                    ),
                    is_error: true,
                    fatal: None,
                }
            }
            Waited::Aborted => return CallEnd::cancelled(),
        }
    }
    // Wait for the calls before this one that it must not overlap.
    tokio::select! {
        biased;
        _ = cancel.cancelled() => return CallEnd::cancelled(),
        _ = ticket.ready() => {}
    }
    let _ = updates.send(Update::Status(index, ToolCallStatus::Running));
    ctx.call_id = call_id;
    let result = tokio::select! {
        biased;
        // Dropping the run future kills what it started (a shell's whole process group).
        _ = cancel.cancelled() => return CallEnd::cancelled(),
        r = prepared.run(ctx) => r,
    };
    drop(ticket);
    match result {
        Ok(output) => CallEnd {
            status: ToolCallStatus::Completed,
            output,
            is_error: false,
            fatal: None,
        },
        Err(ToolError::RespondToModel(why)) => CallEnd::failed(why),
        Err(ToolError::Fatal(why)) => CallEnd {
            fatal: Some(why.clone()),
            ..CallEnd::failed(format!("The tool failed: {why}"))
        },
    }
}

/// Asks `ask_user` questions through the turn's events and the questions gate.
struct TurnAsker {
    session: String,
    approvals: Arc<Approvals>,
    emitter: Emitter,
    timeout: Duration,
    cancel: CancellationToken,
}

impl crate::tools::tool::Asker for TurnAsker {
    fn ask(
        &self,
        call_id: &str,
        question: &str,
    ) -> futures::future::BoxFuture<'static, Option<String>> {
        let key = Approvals::key(&self.session, call_id);
        let pending = self.approvals.questions.register(&key);
        self.emitter.emit(EventMsg::QuestionAsked {
            call_id: call_id.to_owned(),
            question: question.to_owned(),
        });
        let (approvals, timeout, cancel) =
            (self.approvals.clone(), self.timeout, self.cancel.clone());
        Box::pin(async move {
            let r = pending.wait(timeout, &cancel).await;
            approvals.questions.forget(&key);
            match r {
                Waited::Decided(a) => a,
                Waited::TimedOut | Waited::Aborted => None,
            }
        })
    }
}

fn add_usage(total: &mut Option<Usage>, u: Usage) {
    match total {
        None => *total = Some(u),
        Some(t) => {
            t.input_tokens += u.input_tokens;
            t.output_tokens += u.output_tokens;
            t.reasoning_tokens = match (t.reasoning_tokens, u.reasoning_tokens) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            };
            t.cached_input_tokens = match (t.cached_input_tokens, u.cached_input_tokens) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            };
        }
    }
}

/// The loop's state for one turn.
struct Loop {
    store: Store,
    em: Emitter,
    draft: Draft,
    usage: Option<Usage>,
    stop_reason: Option<StopReason>,
    raw_reason: Option<String>,
    session: String,
    tools: Option<TurnTools>,
    scheduler: Scheduler,
    /// Calls of the current response, in call order.
    dispatched: Vec<Dispatched>,
    updates_tx: tokio::sync::mpsc::UnboundedSender<Update>,
    updates: tokio::sync::mpsc::UnboundedReceiver<Update>,
    /// Cancels this response's calls (the stop button, or the response failing).
    calls_cancel: CancellationToken,
    /// A call's arguments were unusable in this response.
    bad_arguments: bool,
}

impl Loop {
    async fn flush(&mut self) -> Result<(), ErrorInfo> {
        self.store
            .journal(std::mem::take(&mut self.draft.pending))
            .await
            .map_err(|e| CoreError::from(e).to_info())
    }

    async fn apply(&mut self, u: Update) -> Result<(), ErrorInfo> {
        match u {
            Update::Status(i, status) => {
                self.draft.set_status(i, status, &self.em);
                self.flush().await
            }
            Update::Emit(msg) => {
                self.em.emit(*msg);
                Ok(())
            }
        }
    }

    /// A call's arguments are complete: decide what happens to it.
    fn dispatch(
        &mut self,
        i: usize,
        call_id: String,
        name: String,
        arguments: String,
        parsed: Result<serde_json::Value, String>,
    ) {
        let done = |end| Dispatched {
            index: i,
            call_id: call_id.clone(),
            end: CallTask::Done(end),
        };
        if let Err(why) = parsed {
            self.bad_arguments = true;
            let d = done(CallEnd::failed(format!(
                "The call to \"{name}\" was not run: {why}."
            )));
            self.dispatched.push(d);
            return;
        }
        let Some(tools) = &self.tools else {
            let d = done(CallEnd::failed(format!(
                "The tool \"{name}\" is not available in this chat, so it was not run."
            )));
            self.dispatched.push(d);
            return;
        };
        let mut ctx = tools.ctx.clone();
        ctx.cancel = self.calls_cancel.clone();
        let prepared = match tools.registry.prepare(&name, &arguments, &ctx) {
            Ok(p) => p,
            Err(why) => {
                let d = done(CallEnd::failed(why));
                self.dispatched.push(d);
                return;
            }
        };
        let ticket = self.scheduler.ticket(prepared.risk != Risk::ReadOnly);
        let job = CallJob {
            index: i,
            session: self.session.clone(),
            call_id: call_id.clone(),
            name,
            arguments,
            prepared,
            ctx,
            approvals: tools.approvals.clone(),
            store: self.store.clone(),
            timeout: tools.timeout,
            confirm_read_only: tools.confirm_read_only,
            ticket,
            updates: self.updates_tx.clone(),
        };
        self.dispatched.push(Dispatched {
            index: i,
            call_id,
            end: CallTask::Task(tokio::spawn(process_call(job))),
        });
    }

    /// Streams one response. Calls are dispatched as their arguments complete.
    async fn stream_response(
        &mut self,
        provider: &Arc<dyn ModelProvider>,
        request: ChatRequest,
        cancel: &CancellationToken,
        turn_id: &parley_protocol::TurnId,
        streaming: &mut bool,
    ) -> Outcome {
        let mut stream = provider.stream(request, cancel.clone());
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let event = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Outcome::Stopped,
                Some(u) = self.updates.recv() => {
                    if let Err(e) = self.apply(u).await {
                        return Outcome::Failed(e);
                    }
                    continue;
                }
                _ = tick.tick() => {
                    if let Err(e) = self.flush().await {
                        return Outcome::Failed(e);
                    }
                    continue;
                }
                ev = stream.next() => ev,
            };
            let event = match event {
                None => {
                    return Outcome::Failed(
                        crate::ProviderError::new(
                            ProviderErrorKind::StreamInterrupted,
                            "the stream ended before the model finished",
                        )
                        .to_info(),
                    )
                }
                Some(Err(e)) => return Outcome::Failed(e.to_info()),
                Some(Ok(ev)) => ev,
            };
            if !*streaming && !matches!(event, StreamEvent::Retrying { .. }) {
                *streaming = true;
                if let Err(e) = self.store.set_turn_streaming(turn_id).await {
                    return Outcome::Failed(CoreError::from(e).to_info());
                }
            }
            let em = &self.em;
            let draft = &mut self.draft;
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
                StreamEvent::TextDelta(d) => draft.append(false, d, em),
                StreamEvent::ReasoningDelta(d) => draft.append(true, d, em),
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
                                draft.replace(i, part, false, em);
                            }
                            // A signature seals its reasoning block: the next reasoning is
                            // a new block with its own signature (replayed separately).
                            draft.close_open(em)
                        }
                        None => {
                            // Signed reasoning with no visible text (redacted thinking, an
                            // encrypted reasoning item, a Gemini thought signature).
                            draft.close_open(em);
                            let i = draft.push_part(
                                Part::Reasoning {
                                    text: String::new(),
                                    signature: Some(sig),
                                },
                                em,
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
                    draft.close_open(em);
                    let i = draft.push_part(
                        Part::ToolCall {
                            call_id: id,
                            name,
                            arguments: String::new(),
                            status: ToolCallStatus::PendingInput,
                        },
                        em,
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
                    draft.close_open(em);
                    let i = match draft.calls.remove(&index) {
                        Some(i) => i,
                        None => draft.push_part(
                            Part::ToolCall {
                                call_id: id.clone(),
                                name: name.clone(),
                                arguments: String::new(),
                                status: ToolCallStatus::PendingInput,
                            },
                            em,
                        ),
                    };
                    // The arguments as finally parsed are what is shown, approved and run.
                    let part = Part::ToolCall {
                        call_id: id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                        status: ToolCallStatus::PendingInput,
                    };
                    draft.replace(i, part, false, em);
                    if let Err(e) = self.flush().await {
                        return Outcome::Failed(e);
                    }
                    self.dispatch(i, id, name, arguments, parsed);
                    false
                }
                StreamEvent::Usage { usage: u, .. } => {
                    add_usage(&mut self.usage, u);
                    false
                }
                StreamEvent::Finished {
                    stop_reason: s,
                    raw_reason: r,
                } => {
                    self.stop_reason = Some(s);
                    self.raw_reason = r;
                    return Outcome::Completed;
                }
            };
            if boundary {
                if let Err(e) = self.flush().await {
                    return Outcome::Failed(e);
                }
            }
        }
    }

    /// Waits for every call of the response (applying their updates as they come), then adds
    /// their results in call order. Returns a fatal tool error, if one happened.
    async fn settle_dispatched(
        &mut self,
        why_cancelled: &str,
    ) -> Result<Option<String>, ErrorInfo> {
        let calls = std::mem::take(&mut self.dispatched);
        let mut ends = Vec::with_capacity(calls.len());
        for c in calls {
            let end = match c.end {
                CallTask::Done(end) => end,
                CallTask::Task(mut handle) => loop {
                    tokio::select! {
                        biased;
                        Some(u) = self.updates.recv() => self.apply(u).await?,
                        r = &mut handle => break r.unwrap_or_else(|e| CallEnd::failed(format!("The tool stopped unexpectedly: {e}"))),
                    }
                },
            };
            ends.push((c.index, c.call_id, end));
        }
        while let Ok(u) = self.updates.try_recv() {
            self.apply(u).await?;
        }
        let mut fatal = None;
        for (index, call_id, mut end) in ends {
            if end.status == ToolCallStatus::Cancelled {
                end.output = why_cancelled.to_owned();
            }
            self.draft.set_status(index, end.status, &self.em);
            self.draft
                .add_result(call_id, end.output, end.is_error, &self.em);
            if fatal.is_none() {
                fatal = end.fatal;
            }
        }
        self.flush().await?;
        Ok(fatal)
    }
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
        tools,
        max_rounds,
    } = ctx;
    em.emit(EventMsg::TurnStarted {
        turn_id: begun.turn_id.clone(),
        user_message: begun.user_message.clone(),
        assistant_message_id: begun.assistant_message_id.clone(),
        provider: provider_name.clone(),
        model: model.clone(),
    });
    let session_id = em.session_id.clone();
    let tools = tools.map(|mut t| {
        t.ctx.asker = Some(Arc::new(TurnAsker {
            session: session_id.0.clone(),
            approvals: t.approvals.clone(),
            emitter: em.clone(),
            timeout: t.timeout,
            cancel: cancel.clone(),
        }));
        t
    });
    let (updates_tx, updates) = tokio::sync::mpsc::unbounded_channel();
    let mut lp = Loop {
        store: store.clone(),
        em: em.clone(),
        draft: Draft::new(begun.assistant_message_id.clone()),
        usage: None,
        stop_reason: None,
        raw_reason: None,
        session: session_id.0.clone(),
        tools,
        scheduler: Scheduler::new(),
        dispatched: Vec::new(),
        updates_tx,
        updates,
        calls_cancel: cancel.child_token(),
        bad_arguments: false,
    };

    let outcome = match (provider, request) {
        (Err(e), _) | (_, Err(e)) => Outcome::Failed(e.to_info()),
        (Ok(provider), Ok(template)) => {
            let history = template.messages.clone();
            let offered = lp
                .tools
                .as_ref()
                .map(|t| t.registry.specs())
                .unwrap_or_default();
            let mut streaming = false;
            let mut round = 0u32;
            loop {
                round += 1;
                let mut request = template.clone();
                let mut messages = history.clone();
                if !lp.draft.parts.is_empty() {
                    messages.push(
                        lp.draft
                            .as_message(&begun, &session_id, &provider_name, &model),
                    );
                }
                request.messages = crate::providers::split_rounds(messages);
                if !offered.is_empty() {
                    request.tools = offered.clone();
                }
                lp.calls_cancel = cancel.child_token();
                lp.bad_arguments = false;
                let response = lp
                    .stream_response(&provider, request, &cancel, &begun.turn_id, &mut streaming)
                    .await;
                lp.draft.close_open(&em);
                let had_calls = !lp.dispatched.is_empty();
                let why_cancelled = if matches!(response, Outcome::Failed(_)) {
                    lp.calls_cancel.cancel();
                    "Not run: the answer failed before the call could run."
                } else {
                    "Cancelled by user."
                };
                let settled = lp.settle_dispatched(why_cancelled).await;
                let fatal = match settled {
                    Ok(f) => f,
                    Err(e) => break Outcome::Failed(e),
                };
                match response {
                    Outcome::Completed => {}
                    other => break other,
                }
                if cancel.is_cancelled() {
                    break Outcome::Stopped;
                }
                if let Some(why) = fatal {
                    break Outcome::Failed(ErrorInfo::new(
                        ErrorCode::Internal,
                        format!("A tool failed in a way Parley cannot recover from: {why}. The turn was ended; the results so far are kept."),
                        false,
                    ));
                }
                if lp.bad_arguments && lp.stop_reason == Some(StopReason::MaxTokens) {
                    break Outcome::Failed(ErrorInfo::new(
                        ErrorCode::StreamInterrupted,
                        "The model ran out of output tokens in the middle of a tool call, so the call was not run. Raise \"max output tokens\" in the chat settings, then retry.",
                        true,
                    ));
                }
                // Without tools there is nothing to send back: the error results end the turn.
                if !had_calls || lp.tools.is_none() {
                    break Outcome::Completed;
                }
                if round >= max_rounds {
                    lp.stop_reason = Some(StopReason::ToolRoundLimit);
                    break Outcome::Completed;
                }
            }
        }
    };

    let Loop {
        mut draft,
        usage,
        stop_reason,
        raw_reason,
        ..
    } = lp;
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
