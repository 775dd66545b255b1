//! One event of a provider's stream in the agent loop (`turn.rs`): into the answer's draft, a
//! finished tool call stored and dispatched; and how a stream that ends reads.

use super::{add_usage, call, Loop, Outcome};
use crate::error::ProviderErrorKind;
use crate::providers::StreamEvent;
use parley_protocol::EventMsg;

impl Loop {
    /// One event of the provider's stream into the answer's draft (a tool call finished is
    /// stored, then dispatched); whether it was an item boundary, or the response's end.
    pub(super) async fn on_provider_event(
        &mut self,
        event: StreamEvent,
        ids: &mut call::CallIds,
    ) -> Step {
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
            StreamEvent::ReasoningSignature(sig) => draft.sign_reasoning(sig, em),
            StreamEvent::ToolCallStarted { index, id, name } => {
                self.calls_started = true;
                let id = ids.assign(index, &id);
                draft.start_call(index, id, name, em);
                true
            }
            StreamEvent::ToolCallArgsDelta { index, delta } => {
                draft.append_arguments(index, delta, em);
                false
            }
            StreamEvent::ToolCallFinished {
                index,
                id,
                name,
                arguments,
                parsed,
            } => {
                self.calls_started = true;
                let id = ids.assign(index, &id);
                let i = draft.finish_call(index, id.clone(), name.clone(), arguments.clone(), em);
                // The call as it will run is stored before it can run.
                if let Err(e) = self.flush().await {
                    return Step::End(Outcome::Failed(e));
                }
                // Asking for approval is an item boundary: stored at once, below.
                self.dispatch(i, id, name, arguments, parsed)
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
                return Step::End(Outcome::Completed);
            }
        };
        Step::Go(boundary)
    }
}

/// What one provider event did: an item boundary (stored at once) or not; or the end.
pub(super) enum Step {
    Go(bool),
    End(Outcome),
}

/// The stream's next item: an event, or how the response ended (cut off, or an error).
pub(super) fn received(
    event: Option<Result<StreamEvent, crate::ProviderError>>,
) -> Result<StreamEvent, Outcome> {
    match event {
        None => Err(Outcome::Failed(
            crate::ProviderError::new(
                ProviderErrorKind::StreamInterrupted,
                "the stream ended before the model finished",
            )
            .to_info(),
        )),
        Some(Err(e)) => Err(Outcome::Failed(e.to_info())),
        Some(Ok(ev)) => Ok(ev),
    }
}
