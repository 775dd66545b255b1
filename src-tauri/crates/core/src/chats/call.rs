//! One tool call's life: approval (asked by the loop, in call order), its place in the
//! schedule ([`crate::tools::runtime`]), the run — each step racing the stop button — and
//! exactly one end ([`CallEnd`]) whatever happens.

use crate::approvals::{
    ApprovalService, Approvals, CallFacts, Decision, Outcome as Waited, Pending,
};
use crate::hub::Emitter;
use crate::tools::runtime::Ticket;
use crate::tools::tool::{Prepared, Registry, Risk, ToolContext, ToolError};
use parley_protocol::{EventMsg, ToolCallStatus};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a turn needs to run tools.
pub(crate) struct TurnTools {
    pub registry: Registry,
    /// The workspace and the protected folders (cancel and call id are set per call).
    pub ctx: ToolContext,
    pub approvals: Arc<Approvals>,
    /// Saves "always allow" grants.
    pub grants: ApprovalService,
    /// How long an approval request or a question waits.
    pub timeout: Duration,
    /// Ask before read-only calls too.
    pub confirm_read_only: bool,
    /// Apply no grants (see `SendOptions::ignore_grants`).
    pub ignore_grants: bool,
}

/// Gives each call of one response an id no other call of it has. Models (and servers) can
/// repeat an id, or send none; approvals, results and the replay to the provider are all keyed
/// by this id, so a repeated one gets a suffix (`call_1`, `call_1-2`) and keeps it everywhere —
/// the stored call, its approval, its result and what is sent back to the model.
#[derive(Default)]
pub(super) struct CallIds {
    by_index: std::collections::HashMap<u32, String>,
    used: std::collections::HashSet<String>,
}

impl CallIds {
    /// The id of the call at the provider's `index` (`given` is the provider's id for it).
    pub(super) fn assign(&mut self, index: u32, given: &str) -> String {
        if let Some(id) = self.by_index.get(&index) {
            return id.clone();
        }
        let base = if given.trim().is_empty() {
            format!("call-{index}")
        } else {
            given.to_owned()
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        self.by_index.insert(index, id.clone());
        id
    }
}

/// How one call ended.
pub(super) struct CallEnd {
    pub(super) status: ToolCallStatus,
    pub(super) output: String,
    pub(super) is_error: bool,
    /// A broken invariant: the turn fails after every call has its result.
    pub(super) fatal: Option<String>,
    /// The images the tool returned (stored by the turn after the result).
    pub(super) images: Vec<crate::tools::tool::ToolImage>,
}

impl CallEnd {
    pub(super) fn failed(output: String) -> Self {
        CallEnd {
            status: ToolCallStatus::Failed,
            output,
            is_error: true,
            fatal: None,
            images: Vec::new(),
        }
    }

    pub(super) fn cancelled() -> Self {
        CallEnd {
            status: ToolCallStatus::Cancelled,
            output: "Cancelled by user.".into(),
            is_error: true,
            fatal: None,
            images: Vec::new(),
        }
    }
}

/// What a call task tells the turn loop while it works.
pub(super) enum Update {
    Status(usize, ToolCallStatus),
}

/// A call of the current response.
pub(super) struct Dispatched {
    pub(super) index: usize,
    pub(super) call_id: String,
    pub(super) end: CallTask,
}

pub(super) enum CallTask {
    Done(CallEnd),
    Task(tokio::task::JoinHandle<CallEnd>),
}

/// Everything a call task needs.
pub(super) struct CallJob {
    pub(super) index: usize,
    pub(super) session: String,
    pub(super) call_id: String,
    pub(super) name: String,
    pub(super) arguments: String,
    pub(super) prepared: Prepared,
    pub(super) ctx: ToolContext,
    /// The approval this call waits for, when the policy asked for one.
    pub(super) asked: Option<Asked>,
    pub(super) ticket: Ticket,
    pub(super) updates: tokio::sync::mpsc::UnboundedSender<Update>,
}

/// An approval request that went out for a call.
pub(super) struct Asked {
    pending: Pending,
    key: String,
    can_grant: bool,
    /// The canonical root of the call's workspace: what a grant is bound to.
    workspace: String,
    approvals: Arc<Approvals>,
    /// Where an "always allow" grant is saved.
    grants: ApprovalService,
    /// How long the request waits for an answer.
    timeout: Duration,
}

/// Decides whether a call needs the user's approval and, if so, registers its gate and returns
/// the request to emit. The loop calls this synchronously as each call's arguments complete,
/// so requests go out in call order, and the gate exists before the request does (no answer
/// can arrive unheard).
pub(super) fn ask(
    tools: &TurnTools,
    session: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    prepared: &Prepared,
) -> Option<(Asked, EventMsg)> {
    let workspace = tools.ctx.workspace.root().display().to_string();
    // An MCP tool is asked about, and granted, with its pinned definition's hash.
    let name = prepared.grant_as.as_deref().unwrap_or(name);
    let facts = CallFacts {
        workspace: &workspace,
        tool: name,
        arguments,
        risk: prepared.risk,
        always_ask: prepared.always_ask.clone(),
        flagged: tools.confirm_read_only && prepared.risk == Risk::ReadOnly,
        ignore_grants: tools.ignore_grants,
    };
    let reason = tools.approvals.check(session, &facts)?;
    let key = Approvals::key(session, call_id);
    let pending = tools.approvals.gate.register(&key);
    let can_grant = crate::approvals::can_grant(prepared.risk, prepared.always_ask.as_deref());
    let workspace = workspace.clone();
    tools.approvals.record_request(
        &key,
        crate::approvals::RequestInfo {
            name: name.to_owned(),
            arguments: arguments.to_owned(),
            risk: prepared.risk,
            reason: reason.clone(),
            can_grant,
            in_person: prepared.in_person,
        },
    );
    let request = EventMsg::ApprovalRequested {
        call_id: call_id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
        risk: prepared.risk,
        reason,
        can_grant,
        in_person: prepared.in_person,
    };
    Some((
        Asked {
            pending,
            key,
            can_grant,
            workspace,
            approvals: tools.approvals.clone(),
            grants: tools.grants.clone(),
            timeout: tools.timeout,
        },
        request,
    ))
}

/// Waits for the user's answer to an approval request and applies it. `None`: the call may run.
async fn await_approval(
    asked: Asked,
    session: &str,
    name: &str,
    arguments: &str,
    cancel: &CancellationToken,
) -> Option<CallEnd> {
    let Asked {
        pending,
        key,
        can_grant,
        workspace,
        approvals,
        grants,
        timeout,
    } = asked;
    let waited = pending.wait(timeout, cancel).await;
    approvals.gate.forget(&key);
    approvals.forget_request(&key);
    match waited {
        Waited::Decided(Decision::AllowOnce) => None,
        Waited::Decided(Decision::AllowSession) => {
            if can_grant {
                approvals.grant_session(session, &workspace, name, arguments);
            }
            None
        }
        Waited::Decided(Decision::AllowAlways) => {
            if can_grant {
                if let Some(canonical) = crate::approvals::canonical_arguments(arguments) {
                    if let Err(e) = grants.grant_always(&workspace, name, &canonical).await {
                        tracing::warn!("could not save the grant: {e}");
                    }
                }
            }
            None
        }
        Waited::Decided(Decision::Deny { note }) => {
            let mut output = "The user denied this call; it was not run.".to_owned();
            if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
                output.push_str(&format!(" The user's note: {}", n.trim()));
            }
            Some(CallEnd {
                status: ToolCallStatus::Denied,
                output,
                is_error: true,
                fatal: None,
                images: Vec::new(),
            })
        }
        Waited::TimedOut => Some(CallEnd {
            status: ToolCallStatus::Denied,
            output: format!(
                "Nobody answered the approval request within {} s, so the call was not run (treated as denied).",
                timeout.as_secs()
            ),
            is_error: true,
            fatal: None,
            images: Vec::new(),
        }),
        Waited::Aborted => Some(CallEnd::cancelled()),
    }
}

/// Approval (when asked), then the call's turn in the schedule, then the run — each step
/// racing the stop button.
pub(super) async fn process_call(job: CallJob) -> CallEnd {
    let CallJob {
        index,
        session,
        call_id,
        name,
        arguments,
        prepared,
        mut ctx,
        asked,
        mut ticket,
        updates,
    } = job;
    let cancel = ctx.cancel.clone();
    if let Some(asked) = asked {
        // Granted as approvals asked about it (an MCP tool: with its pinned definition).
        let granted_as = prepared.grant_as.as_deref().unwrap_or(&name);
        let denied = await_approval(asked, &session, granted_as, &arguments, &cancel).await;
        if let Some(end) = denied {
            return end;
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
    // No saved key leaves through a tool: what a command printed or a file held is cut
    // before it is stored, shown or sent to the model (exact keys only: shapes would change
    // file contents the model then edits).
    let cut = |s: String| crate::secrets::redact_known(&s).into_owned();
    let result = result
        .map(|o| crate::tools::tool::ToolOutput {
            text: cut(o.text),
            images: o.images,
        })
        .map_err(|e| match e {
            ToolError::RespondToModel(w) => ToolError::RespondToModel(cut(w)),
            ToolError::Fatal(w) => ToolError::Fatal(cut(w)),
        });
    match result {
        Ok(output) => CallEnd {
            status: ToolCallStatus::Completed,
            output: output.text,
            is_error: false,
            fatal: None,
            images: output.images,
        },
        Err(ToolError::RespondToModel(why)) => CallEnd::failed(why),
        Err(ToolError::Fatal(why)) => CallEnd {
            fatal: Some(why.clone()),
            ..CallEnd::failed(format!("The tool failed: {why}"))
        },
    }
}

/// Asks `ask_user` questions through the turn's events and the questions gate.
pub(super) struct TurnAsker {
    pub(super) session: String,
    pub(super) approvals: Arc<Approvals>,
    pub(super) emitter: Emitter,
    pub(super) timeout: Duration,
    pub(super) cancel: CancellationToken,
}

impl crate::tools::tool::Asker for TurnAsker {
    fn progress(&self, call_id: &str, progress: f64, total: Option<f64>, message: Option<String>) {
        self.emitter.emit(EventMsg::ToolProgress {
            call_id: call_id.to_owned(),
            progress,
            total,
            message,
        });
    }

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

#[cfg(test)]
mod tests {
    use super::CallIds;

    #[test]
    fn every_call_of_a_response_gets_its_own_id() {
        let mut ids = CallIds::default();
        let given = [
            (0, "a"),
            (1, "a"),
            (2, "a"),
            (3, ""),
            (4, "a-2"),
            (5, "call-3"),
            (6, " "),
        ];
        let got: Vec<String> = given.iter().map(|(i, id)| ids.assign(*i, id)).collect();
        assert_eq!(
            got,
            ["a", "a-2", "a-3", "call-3", "a-2-2", "call-3-2", "call-6"]
        );
        // The same provider index keeps its id (start, then finish with another id).
        assert_eq!(ids.assign(1, "zzz"), "a-2");
        let unique: std::collections::HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len());
    }
}
