//! Approvals and grants. The policy and the pending-decision gates are in `policy.rs` (pure,
//! table-tested); [`ApprovalService`] is what the window and the CLI call: answer a pending
//! approval or question, list and revoke saved grants. Grant queries are in `store.rs`.

mod policy;
mod store;

pub use policy::*;
#[cfg(test)]
pub(crate) use store::GrantTables;

use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{ApprovalDecision, ChatId, Grant, MAX_MESSAGE_BYTES};
use std::sync::Arc;

/// Decisions, answers and grants.
#[derive(Clone)]
pub struct ApprovalService {
    shared: Arc<Shared>,
    approvals: Arc<Approvals>,
}

impl ApprovalService {
    /// The service with the grants saved in earlier runs in force.
    pub(crate) async fn load(shared: Arc<Shared>) -> Result<Self, CoreError> {
        let always = Grants::from_saved(shared.store.list_grants().await?);
        Ok(ApprovalService {
            shared,
            approvals: Arc::new(Approvals::new(always)),
        })
    }

    /// Answers a pending approval request. Only a call that is waiting can be answered; the
    /// decision is applied in Rust (grants are recorded only for calls that allow them).
    pub fn decide_approval(
        &self,
        chat_id: &ChatId,
        call_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), CoreError> {
        if let ApprovalDecision::Deny { note: Some(n) } = &decision {
            if n.len() > 10_000 {
                return Err(CoreError::InvalidInput(
                    "The note is too long (10,000 bytes at most).".into(),
                ));
            }
        }
        self.approvals
            .gate
            .decide(&Approvals::key(&chat_id.0, call_id), decision)
            .map_err(|_| {
                CoreError::NotFound(format!(
                    "No approval is waiting for call {call_id} (it was answered, stopped or timed out)."
                ))
            })
    }

    /// What the approval request of `call_id` asks about, while it waits (`None` once it was
    /// answered, stopped or timed out).
    pub fn pending_request(&self, chat_id: &ChatId, call_id: &str) -> Option<RequestInfo> {
        self.approvals.request(&Approvals::key(&chat_id.0, call_id))
    }

    /// Answers a question the model asked with `ask_user` (`None`: no answer).
    pub fn answer_question(
        &self,
        chat_id: &ChatId,
        call_id: &str,
        answer: Option<String>,
    ) -> Result<(), CoreError> {
        if answer.as_ref().is_some_and(|a| a.len() > MAX_MESSAGE_BYTES) {
            return Err(CoreError::InvalidInput("The answer is too long.".into()));
        }
        self.approvals
            .questions
            .decide(&Approvals::key(&chat_id.0, call_id), answer)
            .map_err(|_| {
                CoreError::NotFound(format!(
                    "No question is waiting for call {call_id} (it was answered, stopped or timed out)."
                ))
            })
    }

    /// The pending approvals and questions and the grants in force (the turn engine's view).
    pub(crate) fn state(&self) -> &Arc<Approvals> {
        &self.approvals
    }

    /// Saves an "always allow" grant of `tool` with these (canonical) arguments in
    /// `workspace`, then applies it to this run; nothing is applied when it cannot be saved.
    pub(crate) async fn grant_always(
        &self,
        workspace: &str,
        tool: &str,
        canonical: &str,
    ) -> Result<(), CoreError> {
        self.shared
            .store
            .add_grant(workspace, tool, canonical)
            .await?;
        self.approvals.grant_always(workspace, tool, canonical);
        Ok(())
    }

    /// Every saved "always allow" grant, by workspace.
    pub async fn list_grants(&self) -> Result<Vec<Grant>, CoreError> {
        Ok(self.shared.store.list_grants().await?)
    }

    /// Revokes a saved grant: the next identical call asks again.
    pub async fn revoke_grant(&self, id: i64) -> Result<(), CoreError> {
        match self.shared.store.delete_grant(id).await? {
            Some(g) => {
                self.approvals
                    .revoke_always(&g.workspace, &g.tool, &g.arguments);
                Ok(())
            }
            None => Err(CoreError::NotFound("That grant no longer exists.".into())),
        }
    }
}
