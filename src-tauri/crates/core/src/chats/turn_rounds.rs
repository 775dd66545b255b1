//! The rounds of one turn of the agent loop (`turn.rs`): each a request (the history, the answer
//! so far, the tools offered), a streamed response, its calls settled; then what follows — another
//! round with the results, the same round again with half the history after a refusal as too
//! long, or the end of the turn.

use super::{announce_trim, context, BegunTurn, Loop, Outcome};
use crate::providers::{ChatRequest, ModelProvider, ToolSpec};
use parley_protocol::{ChatId, ErrorCode, ErrorInfo, Message, StopReason};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What stays the same over the rounds of one turn.
pub(super) struct Rounds<'a> {
    pub(super) provider: &'a Arc<dyn ModelProvider>,
    pub(super) begun: &'a BegunTurn,
    pub(super) chat_id: &'a ChatId,
    pub(super) provider_name: &'a str,
    pub(super) model: &'a str,
    pub(super) cancel: &'a CancellationToken,
    pub(super) max_rounds: u32,
}

/// What the end of a round decides.
enum Next {
    /// The calls' results go back to the model: another round.
    Another,
    /// The request was refused as too long and was trimmed: the same round again.
    Again,
    /// The turn ends so.
    End(Outcome),
}

impl Loop {
    /// The rounds of the turn: a response, its calls run, their results sent back, until the
    /// model answers without calls, something ends the turn, or the round cap is reached.
    pub(super) async fn rounds(&mut self, turn: &Rounds<'_>, template: ChatRequest) -> Outcome {
        let mut history = template.messages.clone();
        let mut trimmed_after_refusal = false;
        let offered = self
            .tools
            .as_ref()
            .map(|t| t.registry.specs())
            .unwrap_or_default();
        let mut streaming = false;
        let mut round = 0u32;
        loop {
            round += 1;
            let mut request = self.round_request(turn, &template, &history, &offered);
            if self.draft.has_images() {
                // The images tools returned in this turn: their bytes, with the history's.
                let (attachments, kind) = &self.images;
                attachments.fill_images(&mut request.messages, *kind).await;
            }
            let response = self
                .stream_response(
                    turn.provider,
                    request,
                    turn.cancel,
                    &turn.begun.turn_id,
                    &mut streaming,
                )
                .await;
            let next = match self.end_round(turn, response, round).await {
                // Refused as too long before anything was written: once, send half.
                Err(e) if !trimmed_after_refusal && self.may_trim(turn, &e) => {
                    trimmed_after_refusal = true;
                    let half = context::estimate_all(&history) / 2;
                    match context::fit(&mut history, half) {
                        Some(t) => {
                            announce_trim(&self.store, &self.em, &turn.begun.turn_id, t).await;
                            Next::Again
                        }
                        None => Next::End(Outcome::Failed(e)),
                    }
                }
                Err(e) => Next::End(Outcome::Failed(e)),
                Ok(next) => next,
            };
            match next {
                Next::Another => {}
                Next::Again => round -= 1,
                Next::End(outcome) => return outcome,
            }
        }
    }

    /// The request of the next round: the history, the answer so far, the tools offered.
    fn round_request(
        &mut self,
        turn: &Rounds<'_>,
        template: &ChatRequest,
        history: &[Message],
        offered: &[ToolSpec],
    ) -> ChatRequest {
        let mut request = template.clone();
        let mut messages = history.to_vec();
        if !self.draft.is_empty() {
            messages.push(self.draft.as_message(
                turn.begun,
                turn.chat_id,
                turn.provider_name,
                turn.model,
            ));
        }
        request.messages = crate::providers::split_rounds(messages);
        if !offered.is_empty() {
            request.tools = offered.to_vec();
        }
        self.calls_cancel = turn.cancel.child_token();
        self.bad_arguments = false;
        self.calls_started = false;
        request
    }

    /// Whether a failed response may be sent again with half the history: refused as too long
    /// before anything of the answer was written, and not stopped.
    fn may_trim(&self, turn: &Rounds<'_>, e: &ErrorInfo) -> bool {
        e.code == ErrorCode::ContextTooLong && self.draft.is_empty() && !turn.cancel.is_cancelled()
    }

    /// After a response: settles its calls, then decides whether another round follows. A
    /// response's own failure comes back as the error (the caller may trim and retry).
    async fn end_round(
        &mut self,
        turn: &Rounds<'_>,
        response: Outcome,
        round: u32,
    ) -> Result<Next, ErrorInfo> {
        self.draft.close_open(&self.em);
        let had_calls = !self.dispatched.is_empty();
        let why_cancelled = if matches!(response, Outcome::Failed(_)) {
            self.calls_cancel.cancel();
            "Not run: the answer failed before the call could run."
        } else {
            "Cancelled by user."
        };
        let fatal = match self.settle_dispatched(why_cancelled).await {
            Ok(f) => f,
            Err(e) => return Ok(Next::End(Outcome::Failed(e))),
        };
        match response {
            Outcome::Completed => {}
            Outcome::Failed(e) => return Err(e),
            Outcome::Stopped => return Ok(Next::End(Outcome::Stopped)),
        }
        if turn.cancel.is_cancelled() {
            return Ok(Next::End(Outcome::Stopped));
        }
        if let Some(why) = fatal {
            return Ok(Next::End(Outcome::Failed(ErrorInfo::new(
                ErrorCode::Internal,
                format!("A tool failed in a way Parley cannot recover from: {why}. The turn was ended; the results so far are kept."),
                false,
            ))));
        }
        if self.bad_arguments && self.stop_reason == Some(StopReason::MaxTokens) {
            return Ok(Next::End(Outcome::Failed(ErrorInfo::new(
                ErrorCode::StreamInterrupted,
                "The model ran out of output tokens in the middle of a tool call, so the call was not run. Raise \"max output tokens\" in the chat settings, then retry.",
                true,
            ))));
        }
        // Without tools there is nothing to send back: the error results end the turn.
        if !had_calls || self.tools.is_none() {
            return Ok(Next::End(Outcome::Completed));
        }
        // "Send now" during the round: its results are kept; the new message goes next.
        if self.steer.is_cancelled() {
            self.stop_reason = Some(StopReason::Steered);
            return Ok(Next::End(Outcome::Completed));
        }
        if round >= turn.max_rounds {
            self.stop_reason = Some(StopReason::ToolRoundLimit);
            return Ok(Next::End(Outcome::Completed));
        }
        Ok(Next::Another)
    }
}
