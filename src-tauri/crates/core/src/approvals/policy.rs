//! Approvals: the pending-decision gate and exact grants.
//!
//! - The gate holds one oneshot per call id, registered *before* the approval request is shown,
//!   so an answer can never race ahead of its question or land on another call. A dropped
//!   sender (stop, shutdown) means Abort; no answer within the timeout means Denied.
//! - A grant is exact: a tool plus its canonical arguments. Nothing here ever matches a prefix.
//!   Shell commands that are not simple (see [`crate::tools::shell`]) are never covered by a
//!   grant, calls that run code ([`Risk::RunsCode`]) never are, and writes to protected paths
//!   and reads or writes of hard links always ask.
//! - Flags from the model or tool metadata can only raise the bar: [`needs_approval`] takes them
//!   as "ask anyway" inputs, never as permissions.

use crate::tools::tool::Risk;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// The user's answer to one approval request.
pub use parley_protocol::ApprovalDecision as Decision;

/// How waiting for a decision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T = Decision> {
    /// The user decided.
    Decided(T),
    /// Nobody answered in time: treated as denied.
    TimedOut,
    /// The turn was stopped (or the gate dropped the request).
    Aborted,
}

/// Why a decision could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no approval is pending for call {0}")]
pub struct NotPending(pub String);

/// Pending approvals, by call id.
pub struct Gate<T = Decision> {
    pending: Mutex<HashMap<String, oneshot::Sender<T>>>,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Gate {
            pending: Mutex::new(HashMap::new()),
        }
    }
}

/// A registered request; wait on it after showing it to the user.
pub struct Pending<T = Decision> {
    rx: oneshot::Receiver<T>,
}

impl<T> Gate<T> {
    /// An empty gate.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<T>>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a call before its approval request goes out. Registering the same id again
    /// aborts the earlier wait.
    pub fn register(&self, call_id: &str) -> Pending<T> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(call_id.to_owned(), tx);
        Pending { rx }
    }

    /// Delivers the user's decision for exactly this call.
    pub fn decide(&self, call_id: &str, decision: T) -> Result<(), NotPending> {
        let tx = self
            .lock()
            .remove(call_id)
            .ok_or_else(|| NotPending(call_id.to_owned()))?;
        tx.send(decision)
            .map_err(|_| NotPending(call_id.to_owned()))
    }

    /// Aborts every pending request (stop, shutdown).
    pub fn abort_all(&self) {
        self.lock().clear();
    }

    /// The call ids waiting for a decision.
    pub fn pending_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Forgets a request whose wait ended without a decision (timeout, stop).
    pub fn forget(&self, call_id: &str) {
        self.lock().remove(call_id);
    }
}

impl<T> Pending<T> {
    /// Waits for the decision, the timeout, or the cancellation — whichever comes first.
    pub async fn wait(self, timeout: Duration, cancel: &CancellationToken) -> Outcome<T> {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Outcome::Aborted,
            r = tokio::time::timeout(timeout, self.rx) => match r {
                Ok(Ok(d)) => Outcome::Decided(d),
                Ok(Err(_)) => Outcome::Aborted,
                Err(_) => Outcome::TimedOut,
            },
        }
    }
}

/// Arguments in a canonical form (object keys sorted at every level, no whitespace), so that
/// `{"b":1,"a":2}` and `{ "a": 2, "b": 1 }` are the same call — and nothing else is.
pub fn canonical_arguments(raw: &str) -> Option<String> {
    fn sort(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    out.insert(k, sort(v));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let v: Value = serde_json::from_str(raw).ok()?;
    let sorted = sort(v);
    // Serialise keys in sorted order whatever map the build uses.
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(&sorted, &mut s);
    Some(s)
}

/// Exact grants: a workspace (its canonical root), a tool and the tool's canonical arguments.
/// A grant given in one workspace never covers the same call in another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    exact: HashSet<(String, String, String)>,
}

impl Grants {
    /// The saved grants, as loaded at start.
    pub fn from_saved(saved: impl IntoIterator<Item = parley_protocol::Grant>) -> Self {
        let mut g = Grants::new();
        for s in saved {
            g.grant(&s.workspace, &s.tool, &s.arguments);
        }
        g
    }

    /// No grants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants exactly this call in this workspace (returns false when the arguments are not
    /// JSON or no workspace is named).
    pub fn grant(&mut self, workspace: &str, tool: &str, arguments: &str) -> bool {
        match canonical_arguments(arguments) {
            Some(c) if !workspace.is_empty() => {
                self.exact
                    .insert((workspace.to_owned(), tool.to_owned(), c));
                true
            }
            _ => false,
        }
    }

    /// Whether exactly this call was granted in this workspace. The arguments are only put in
    /// canonical form (a copy of them) when some grant names this tool in this workspace.
    pub fn covers(&self, workspace: &str, tool: &str, arguments: &str) -> bool {
        !workspace.is_empty()
            && self
                .exact
                .iter()
                .any(|(w, t, _)| w == workspace && t == tool)
            && canonical_arguments(arguments).is_some_and(|c| {
                self.exact
                    .contains(&(workspace.to_owned(), tool.to_owned(), c))
            })
    }

    /// Revokes a grant; returns whether it existed.
    pub fn revoke(&mut self, workspace: &str, tool: &str, arguments: &str) -> bool {
        canonical_arguments(arguments).is_some_and(|c| {
            self.exact
                .remove(&(workspace.to_owned(), tool.to_owned(), c))
        })
    }
}

/// What is known about one call when deciding whether to ask.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    /// The canonical root of the workspace the call runs in: grants apply only there.
    pub workspace: &'a str,
    /// The tool.
    pub tool: &'a str,
    /// The raw arguments.
    pub arguments: &'a str,
    /// The risk from the parsed arguments.
    pub risk: Risk,
    /// Why this call asks whatever was granted, if it does: a shell command that is not a
    /// simple command, a write to a protected path (`.git`, the app's own data).
    pub always_ask: Option<String>,
    /// True when the model, the tool's metadata or the caller asked for confirmation.
    pub flagged: bool,
    /// The caller applies no grants (nobody decided in advance that granted calls may run).
    pub ignore_grants: bool,
}

/// `None` when the call may run without asking; else why the user must be asked.
pub fn needs_approval(call: &CallFacts<'_>, session: &Grants, always: &Grants) -> Option<String> {
    if let Some(why) = &call.always_ask {
        return Some(why.clone());
    }
    if call.flagged {
        return Some(match call.risk {
            Risk::ReadOnly => {
                "Read-only calls ask too here (nobody decided they may run unasked).".into()
            }
            _ => "Confirmation was asked for.".into(),
        });
    }
    if call.risk == Risk::ReadOnly {
        return None;
    }
    if call.risk == Risk::RunsCode {
        // Never covered by a grant, whatever was saved before this call was known to run code.
        return Some(RUNS_CODE.into());
    }
    if !call.ignore_grants
        && (session.covers(call.workspace, call.tool, call.arguments)
            || always.covers(call.workspace, call.tool, call.arguments))
    {
        return None;
    }
    Some(match call.risk {
        Risk::ReadOnly => return None,
        Risk::Mutating => "It changes files in the workspace.".into(),
        Risk::Network => "It reaches the network.".into(),
        Risk::Destructive => "It can delete or overwrite things, or run arbitrary commands.".into(),
        Risk::RunsCode => RUNS_CODE.into(),
    })
}

/// Why a call that runs code asks (when no more precise reason was given).
const RUNS_CODE: &str = "It runs code, which can do anything you can; it can be allowed once only.";

/// Whether "this chat" and "always" may be offered for a call: never for a call that always
/// asks (a compound command, a protected path, a hard link) nor for one that runs code.
pub fn can_grant(risk: Risk, always_ask: Option<&str>) -> bool {
    always_ask.is_none() && risk != Risk::RunsCode
}

/// What a pending approval request asks about, as it was shown (for a surface that renders it
/// on its own, such as the desktop's approval card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The tool.
    pub name: String,
    /// The exact arguments that would run.
    pub arguments: String,
    /// The risk of this exact call.
    pub risk: Risk,
    /// Why it asks.
    pub reason: String,
    /// Whether "this chat" / "always" may be chosen.
    pub can_grant: bool,
    /// Only a person may allow it (a protected write, a hard link).
    pub in_person: bool,
}

/// Everything approvals need across sessions: the gates for decisions and answers, the
/// grants of each session, and the saved "always" grants (loaded from the database at start).
#[derive(Default)]
pub struct Approvals {
    /// Pending approval requests, keyed by [`Approvals::key`].
    pub gate: Gate<Decision>,
    /// What each pending request asks about, by the same key.
    requests: Mutex<HashMap<String, RequestInfo>>,
    /// Pending `ask_user` questions, keyed the same way.
    pub questions: Gate<Option<String>>,
    session: Mutex<HashMap<String, Grants>>,
    always: Mutex<Grants>,
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Approvals {
    /// With the saved grants.
    pub fn new(always: Grants) -> Self {
        Approvals {
            always: Mutex::new(always),
            ..Default::default()
        }
    }

    /// The gate key of a call: call ids are only unique within a session.
    pub fn key(session: &str, call_id: &str) -> String {
        format!("{session}/{call_id}")
    }

    /// Records what a pending request asks about (until [`Approvals::forget_request`]).
    pub fn record_request(&self, key: &str, info: RequestInfo) {
        guard(&self.requests).insert(key.to_owned(), info);
    }

    /// What the pending request `key` asks about, while it waits.
    pub fn request(&self, key: &str) -> Option<RequestInfo> {
        if !self.gate.pending_ids().iter().any(|k| k == key) {
            return None;
        }
        guard(&self.requests).get(key).cloned()
    }

    /// Forgets a request that was answered, stopped or timed out.
    pub fn forget_request(&self, key: &str) {
        guard(&self.requests).remove(key);
    }

    /// Whether `call` must ask, given the session's and the saved grants.
    pub fn check(&self, session: &str, call: &CallFacts<'_>) -> Option<String> {
        let s = guard(&self.session);
        let empty = Grants::new();
        let session_grants = s.get(session).unwrap_or(&empty);
        needs_approval(call, session_grants, &guard(&self.always))
    }

    /// Grants identical calls in this workspace for the rest of the session.
    pub fn grant_session(&self, session: &str, workspace: &str, tool: &str, arguments: &str) {
        guard(&self.session)
            .entry(session.to_owned())
            .or_default()
            .grant(workspace, tool, arguments);
    }

    /// Grants identical calls in this workspace from now on (the caller saves it).
    pub fn grant_always(&self, workspace: &str, tool: &str, arguments: &str) {
        guard(&self.always).grant(workspace, tool, arguments);
    }

    /// Takes back a saved grant.
    pub fn revoke_always(&self, workspace: &str, tool: &str, arguments: &str) {
        guard(&self.always).revoke(workspace, tool, arguments);
    }

    /// Forgets a session's grants (the session was deleted, or its workspace changed).
    pub fn forget_chat(&self, session: &str) {
        guard(&self.session).remove(session);
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
