//! One turn — the agent loop: stream a response from the provider; as each tool call's
//! arguments complete, prepare it (unknown tool or bad arguments: an error result, never an
//! execution), ask for approval when the policy says so, and run it — read-only calls side by
//! side, the others one at a time in call order ([`crate::tools::runtime`]); then send the
//! results back, in call order, and repeat until the model answers without calls or the round
//! cap is reached. Every call ends with exactly one result, whatever happens (stop, failure).
//!
//! The loop talks to the answer being written only through [`Draft`]'s methods (the journal,
//! `draft.rs`) and runs each call through [`call`]'s lifecycle (`call.rs`); its rounds are in
//! `turn_rounds.rs`, a response's stream events in `turn_stream.rs`. The answer is
//! journaled — batched at least every 150 ms and at every item boundary (each tool status
//! change is one), never per token. The end of the turn is written in the same transaction as
//! the last output, and only then announced, so a client that sees `TurnCompleted` can trust
//! the database.

use super::call::{self, CallEnd, CallJob, CallTask, Dispatched, TurnAsker, TurnTools, Update};
use super::context;
use super::draft::Draft;
use super::{BegunTurn, TurnEnd};
use crate::error::CoreError;
use crate::hub::Emitter;
use crate::providers::{ChatRequest, ModelProvider, StreamEvent};
use crate::store::Store;
use crate::tools::runtime::Scheduler;
use crate::tools::tool::Risk;
use futures::StreamExt;
use parley_protocol::{
    ErrorCode, ErrorInfo, EventMsg, StopReason, ToolCallStatus, TurnId, TurnStatus, Usage,
};
use rounds::Rounds;
use std::sync::Arc;
use std::time::Duration;
use stream::{received, Step};
use tokio_util::sync::CancellationToken;

#[path = "turn_images.rs"]
mod images;
#[path = "turn_rounds.rs"]
mod rounds;
#[path = "turn_stream.rs"]
mod stream;

/// The longest time streamed output stays only in memory: 150 ms, so that with the commit
/// itself (an fsync, which a busy disk can hold up for tens of milliseconds) what a crash can
/// lose stays within 250 ms (tests/suite/kill.rs).
pub const FLUSH_EVERY: Duration = Duration::from_millis(150);

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
    /// "Send now": end at the next boundary (see `stream_response` and `turn_rounds.rs`).
    pub steer: CancellationToken,
    /// The tools this turn may run; `None` when the chat has none (no workspace).
    pub tools: Option<TurnTools>,
    /// The most model responses with tool calls in this turn.
    pub max_rounds: u32,
    /// The model's context window (the user's figure, the provider's list, the shipped table
    /// or the default: `providers::windows`).
    pub window: crate::providers::windows::Window,
    /// Puts the images' bytes into the request, as this wire format's provider takes them.
    pub images: (
        crate::attachments::AttachmentService,
        parley_protocol::ProviderKind,
    ),
}

enum Outcome {
    Completed,
    Stopped,
    Failed(ErrorInfo),
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
    /// A tool call began in this response: "Send now" waits for the round to end.
    calls_started: bool,
    /// "Send now" was pressed.
    steer: CancellationToken,
    /// Where the images tools return are stored, and how their bytes go into a request.
    images: (
        crate::attachments::AttachmentService,
        parley_protocol::ProviderKind,
    ),
}

impl Loop {
    async fn flush(&mut self) -> Result<(), ErrorInfo> {
        self.store
            .journal(self.draft.take_pending())
            .await
            .map_err(|e| CoreError::from(e).to_info())
    }

    async fn apply(&mut self, u: Update) -> Result<(), ErrorInfo> {
        let Update::Status(i, status) = u;
        self.draft.set_status(i, status, &self.em);
        self.flush().await
    }

    /// A call's arguments are complete: decide what happens to it. Approval requests are
    /// made here, synchronously and so in call order. Returns true when one was made (an item
    /// boundary the caller stores at once).
    fn dispatch(
        &mut self,
        i: usize,
        call_id: String,
        name: String,
        arguments: String,
        parsed: Result<serde_json::Value, String>,
    ) -> bool {
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
            return false;
        }
        let Some(tools) = &self.tools else {
            let d = done(CallEnd::failed(format!(
                "The tool \"{name}\" is not available in this chat, so it was not run."
            )));
            self.dispatched.push(d);
            return false;
        };
        let mut ctx = tools.ctx.clone();
        ctx.cancel = self.calls_cancel.clone();
        let prepared = match tools.registry.prepare(&name, &arguments, &ctx) {
            Ok(p) => p,
            Err(why) => {
                let d = done(CallEnd::failed(why));
                self.dispatched.push(d);
                return false;
            }
        };
        let asked = call::ask(tools, &self.session, &call_id, &name, &arguments, &prepared);
        let asked = asked.map(|(asked, request)| {
            self.draft
                .set_status(i, ToolCallStatus::AwaitingApproval, &self.em);
            self.em.emit(request);
            asked
        });
        let was_asked = asked.is_some();
        let ticket = self.scheduler.ticket(prepared.risk != Risk::ReadOnly);
        let job = CallJob {
            index: i,
            session: self.session.clone(),
            call_id: call_id.clone(),
            name,
            arguments,
            prepared,
            ctx,
            asked,
            ticket,
            updates: self.updates_tx.clone(),
        };
        self.dispatched.push(Dispatched {
            index: i,
            call_id,
            // (In the turn's ledger scope: a tool's requests are recorded as the chat's.)
            end: CallTask::Task(tokio::spawn(crate::ledger::resume(
                crate::ledger::current(),
                call::process_call(job),
            ))),
        });
        was_asked
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
        let mut ids = call::CallIds::default();
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Fires when output held back within a frame must go out (re-armed after each send).
        let flush_frame = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(flush_frame);
        let mut armed: Option<std::time::Instant> = None;
        loop {
            let due = self.draft.unsent_due_at();
            if let Some(at) = due.filter(|at| armed != Some(*at)) {
                flush_frame
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(at));
                armed = Some(at);
            }
            let event = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Outcome::Stopped,
                // "Send now" while only text streams: it ends here, what arrived kept.
                () = self.steer.cancelled(), if !self.calls_started => {
                    self.stop_reason = Some(parley_protocol::StopReason::Steered);
                    self.raw_reason = None;
                    return Outcome::Completed;
                }
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
                _ = &mut flush_frame, if due.is_some() => {
                    self.draft.send_unsent(&self.em);
                    continue;
                }
                ev = stream.next() => ev,
            };
            let event = match received(event) {
                Ok(ev) => ev,
                Err(outcome) => return outcome,
            };
            if !*streaming && !matches!(event, StreamEvent::Retrying { .. }) {
                *streaming = true;
                if let Err(e) = self.store.set_turn_streaming(turn_id).await {
                    return Outcome::Failed(CoreError::from(e).to_info());
                }
            }
            let boundary = match self.on_provider_event(event, &mut ids).await {
                Step::Go(boundary) => boundary,
                Step::End(outcome) => return outcome,
            };
            if boundary {
                if let Err(e) = self.flush().await {
                    return Outcome::Failed(e);
                }
            }
            // The first output after a quiet frame goes out at once; the rest waits for the
            // frame to end (the timer above).
            if self.draft.unsent_due() {
                self.draft.send_unsent(&self.em);
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
            let images = std::mem::take(&mut end.images);
            let images = self.keep_images(images, &mut end.output).await;
            self.draft
                .add_result(call_id, end.output, end.is_error, &self.em);
            self.draft.add_images(images, &self.em);
            if fatal.is_none() {
                fatal = end.fatal;
            }
        }
        self.flush().await?;
        Ok(fatal)
    }
}

/// Records and announces where the request now starts.
async fn announce_trim(store: &Store, em: &Emitter, turn_id: &TurnId, t: context::Trimmed) {
    if let Err(e) = store.set_turn_context(turn_id, &t.first).await {
        tracing::warn!("could not record where turn {turn_id}'s request starts: {e}");
    }
    em.emit(EventMsg::ContextTrimmed {
        turn_id: turn_id.clone(),
        first_message_id: t.first,
        left_out: t.left_out,
    });
}

/// Runs the turn and returns its final event, which the caller emits once the chat's turn
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
        steer,
        tools,
        max_rounds,
        window,
        images,
    } = ctx;
    em.emit(EventMsg::TurnStarted {
        turn_id: begun.turn_id.clone(),
        user_message: begun.user_message.clone(),
        assistant_message_id: begun.assistant_message_id.clone(),
        provider: provider_name.clone(),
        model: model.clone(),
        side_by_side: begun.side_by_side.clone(),
    });
    let chat_id = em.chat_id().clone();
    let offered = tools
        .as_ref()
        .map(|t| t.registry.specs())
        .unwrap_or_default();
    let mut lp = Loop::new(
        &store,
        &em,
        &begun,
        tools,
        (&cancel, &steer),
        images.clone(),
    );
    let outcome = match (provider, request) {
        (Err(e), _) | (_, Err(e)) => Outcome::Failed(e.to_info()),
        (Ok(provider), Ok(mut template)) => {
            // A chat longer than the model's window: leave the oldest turns out of the request.
            let frame = context::Frame {
                window: window.tokens,
                output_limit: window.max_output,
                max_output: template.max_output_tokens,
                system: template.system.as_deref(),
                tools: &offered,
            };
            if let Some(t) = context::fit_request(&mut template.messages, &frame).trimmed {
                announce_trim(&store, &em, &begun.turn_id, t).await;
            }
            // The images' bytes, only of what the request carries after fitting.
            let (attachments, kind) = images;
            attachments.fill_images(&mut template.messages, kind).await;
            let turn = Rounds {
                provider: &provider,
                begun: &begun,
                chat_id: &chat_id,
                provider_name: &provider_name,
                model: &model,
                cancel: &cancel,
                max_rounds,
            };
            lp.rounds(&turn, template).await
        }
    };
    let last = lp.finish(&begun.turn_id, outcome).await;
    (em, last)
}

impl Loop {
    /// The loop's state at the start of a turn; the turn's tools ask for approval through it.
    fn new(
        store: &Store,
        em: &Emitter,
        begun: &BegunTurn,
        tools: Option<TurnTools>,
        (cancel, steer): (&CancellationToken, &CancellationToken),
        images: (
            crate::attachments::AttachmentService,
            parley_protocol::ProviderKind,
        ),
    ) -> Loop {
        let session = em.chat_id().0.clone();
        let tools = tools.map(|mut t| {
            t.ctx.asker = Some(Arc::new(TurnAsker {
                session: session.clone(),
                approvals: t.approvals.clone(),
                emitter: em.clone(),
                timeout: t.timeout,
                cancel: cancel.clone(),
            }));
            t
        });
        let (updates_tx, updates) = tokio::sync::mpsc::unbounded_channel();
        Loop {
            store: store.clone(),
            em: em.clone(),
            draft: Draft::new(begun.assistant_message_id.clone()),
            usage: None,
            stop_reason: None,
            raw_reason: None,
            session,
            tools,
            scheduler: Scheduler::new(),
            dispatched: Vec::new(),
            updates_tx,
            updates,
            calls_cancel: cancel.child_token(),
            bad_arguments: false,
            calls_started: false,
            steer: steer.clone(),
            images,
        }
    }

    /// Ends the turn: the calls still open settled, the rest of the answer and the turn's end
    /// stored in one transaction; returns the final event.
    async fn finish(self, turn_id: &TurnId, outcome: Outcome) -> EventMsg {
        let Loop {
            store,
            em,
            mut draft,
            usage,
            stop_reason,
            raw_reason,
            steer,
            ..
        } = self;
        draft.close_open(&em);
        draft.send_unsent(&em);
        // "Send now" after the last response: the turn still ends as steered, so the queue
        // waits for the message sent now.
        let stop_reason = match &outcome {
            Outcome::Completed if steer.is_cancelled() => {
                Some(parley_protocol::StopReason::Steered)
            }
            _ => stop_reason,
        };
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
            error,
        };
        let stored = store.finish_turn(turn_id, draft.take_pending(), end).await;
        final_event(turn_id.clone(), stored, outcome, usage, stop_reason)
    }
}

/// The turn's last event: how it ended, or that its end could not be stored.
fn final_event(
    turn_id: TurnId,
    stored: Result<(), crate::error::StoreError>,
    outcome: Outcome,
    usage: Option<Usage>,
    stop_reason: Option<StopReason>,
) -> EventMsg {
    match (stored, outcome) {
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
        (Ok(()), Outcome::Completed) => {
            tracing::info!("turn {turn_id} completed ({stop_reason:?})");
            EventMsg::TurnCompleted {
                turn_id,
                usage,
                stop_reason,
            }
        }
        (Ok(()), Outcome::Stopped) => {
            tracing::info!("turn {turn_id} stopped");
            EventMsg::TurnStopped { turn_id }
        }
        (Ok(()), Outcome::Failed(error)) => {
            // (A provider's sentence may quote the message: it is logged with details only.)
            tracing::warn!("turn {turn_id} failed: {:?}", error.code);
            tracing::debug!(target: crate::logs::CONTENT, "turn {turn_id}: {}", error.message);
            EventMsg::TurnFailed { turn_id, error }
        }
    }
}
