//! The composer's gauge: what the next request of a chat will take of the model's context
//! window — its selected branch, the system prompt, the tools' definitions and the draft with
//! its attachments — measured by the very calculation that fits a turn's request
//! (`context::fit_request`), so the gauge's "left out" is the transcript's marker after the
//! send. Where the provider reported the last answer's tokens, the figure builds on them.

use super::context::{self, Frame};
use super::ChatService;
use crate::error::CoreError;
use crate::providers::ProviderRow;
use parley_protocol::{
    ChatHistory, ChatId, ContextEstimate, Message, MessageId, Part, ProviderKind, Role,
    SendOptions, TurnStatus,
};

/// The id the draft carries while it is measured (it has none yet).
const DRAFT_ID: &str = "draft";

/// The draft as the turn will store and send it: its text, then its attachments.
pub(crate) fn draft_message(chat_id: &ChatId, text: &str, attachments: &[Part]) -> Message {
    let mut parts = vec![Part::Text { text: text.into() }];
    parts.extend(attachments.iter().cloned());
    Message {
        id: MessageId(DRAFT_ID.into()),
        chat_id: chat_id.clone(),
        parent_id: None,
        role: Role::User,
        parts,
        turn_id: None,
        provider: None,
        model: None,
        created_at: 0,
    }
}

/// The gauge's figures for a branch and a draft, before naming the model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    pub budget: u64,
    pub tokens: u64,
    pub draft_tokens: u64,
    pub fixed_tokens: u64,
    pub chat_tokens: u64,
    pub reported_base: Option<u64>,
    pub left_out: u32,
    pub left_out_by_draft: u32,
    pub first_kept: Option<MessageId>,
    pub draft_too_long: bool,
}

/// Measures `branch` (the selected path, oldest first) followed by `draft` in `frame`, with
/// the trimmer's own arithmetic. `base`: the provider's reported tokens of the last answer,
/// used when nothing is left out (then it is what the last request and answer took).
pub(crate) fn measure(
    branch: &[Message],
    draft: Message,
    frame: &Frame<'_>,
    base: Option<u64>,
) -> Measure {
    let draft_tokens = context::estimate(&draft);
    let fixed = frame.fixed();
    let chat_tokens = fixed + context::estimate_all(branch) + draft_tokens;
    let mut messages = branch.to_vec();
    messages.push(draft.clone());
    let fitted = context::fit_request(&mut messages, frame);
    let left_out = fitted.trimmed.as_ref().map_or(0, |t| t.left_out);
    // The same branch with an empty question: what is left out whatever the draft says.
    let mut bare = branch.to_vec();
    bare.push(draft_message(&draft.chat_id, "", &[]));
    let left_out_anyway = context::fit_request(&mut bare, frame)
        .trimmed
        .map_or(0, |t| t.left_out);
    // The draft itself first: everything before it is left out (the marker goes on it).
    let first_kept = fitted
        .trimmed
        .map(|t| t.first)
        .filter(|id| id.0 != DRAFT_ID);
    let reported_base = base.filter(|_| left_out == 0);
    let tokens = match reported_base {
        Some(b) => b + draft_tokens,
        None => fixed + fitted.sent,
    };
    Measure {
        budget: fitted.budget,
        tokens,
        draft_tokens,
        fixed_tokens: fixed,
        chat_tokens,
        reported_base,
        left_out,
        left_out_by_draft: left_out.saturating_sub(left_out_anyway),
        first_kept,
        draft_too_long: draft_tokens > fitted.budget,
    }
}

/// The provider's reported tokens of the branch's last answer — its request and the answer —
/// when they tell what the next request starts from: the answer completed in one response (no
/// tool rounds, whose usage adds up every round's request), its request left nothing out, and
/// the same provider and model answer next (another tokenizer counts differently).
pub(crate) fn reported_base(h: &ChatHistory, row: &ProviderRow, model: &str) -> Option<u64> {
    let last = h.messages.last().filter(|m| m.role == Role::Assistant)?;
    if last
        .parts
        .iter()
        .any(|p| matches!(p, Part::ToolCall { .. }))
    {
        return None;
    }
    let turn = h
        .turns
        .iter()
        .find(|t| Some(&t.id) == last.turn_id.as_ref())?;
    let same =
        turn.provider.as_deref() == Some(row.name.as_str()) && turn.model.as_deref() == Some(model);
    if turn.status != TurnStatus::Completed || turn.context_from.is_some() || !same {
        return None;
    }
    let u = turn.usage.as_ref()?;
    // Anthropic counts cache reads beside the input; the others inside it.
    let beside = match row.kind {
        ProviderKind::Anthropic => u.cached_input_tokens.unwrap_or(0),
        _ => 0,
    };
    Some(u.input_tokens + beside + u.output_tokens).filter(|t| *t > 0)
}

/// Messages of the branch the last answer's request left out (0: it saw the whole chat).
fn last_left_out(h: &ChatHistory) -> u32 {
    let Some(turn) = h
        .messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| m.turn_id.as_ref())
        .and_then(|id| h.turns.iter().find(|t| &t.id == id))
    else {
        return 0;
    };
    turn.context_from
        .as_ref()
        .and_then(|from| h.messages.iter().position(|m| &m.id == from))
        .map_or(0, |at| at as u32)
}

impl ChatService {
    /// What the next request of the chat will take of the model's window if `text` (with the
    /// attachments of `options`) is sent with `options`: the same provider and model, system
    /// prompt, tools and fitting as [`ChatService::send_message`], nothing stored or sent.
    pub async fn estimate_context(
        &self,
        chat_id: &ChatId,
        text: &str,
        options: &SendOptions,
    ) -> Result<ContextEstimate, CoreError> {
        let h = self
            .shared
            .store
            .history(chat_id)
            .await?
            .ok_or_else(|| super::not_found(chat_id))?;
        let (row, model) = self.who_answers(&h.session, options).await?;
        let window = self.providers.window_of(&row.name, &model).await;
        let settings = (self.settings.saved().await)
            .ok()
            .flatten()
            .unwrap_or_default();
        let params = &h.session.params;
        // A workspace that cannot be used fails the turn before any request: no tools then.
        let offered = match self.turn_tools(params, &settings, options, false).await {
            Ok(Some(t)) => t.registry.specs(),
            _ => Vec::new(),
        };
        let system = options.system.clone().or_else(|| params.system.clone());
        let frame = Frame {
            window: window.tokens,
            output_limit: window.max_output,
            max_output: params.max_output_tokens,
            system: system.as_deref(),
            tools: &offered,
        };
        let draft = draft_message(chat_id, text, &options.attachments);
        let base = reported_base(&h, &row, &model);
        let m = measure(&h.messages, draft, &frame, base);
        Ok(ContextEstimate {
            provider: row.name,
            model,
            window: window.tokens,
            source: window.source,
            answer_room: u32::try_from(frame.answer_room()).unwrap_or(u32::MAX),
            budget: m.budget,
            tokens: m.tokens,
            draft_tokens: m.draft_tokens,
            fixed_tokens: m.fixed_tokens,
            chat_tokens: m.chat_tokens,
            reported_base: m.reported_base,
            fits: m.left_out == 0 && !m.draft_too_long,
            left_out: m.left_out,
            left_out_by_draft: m.left_out_by_draft,
            first_kept: m.first_kept,
            last_left_out: last_left_out(&h),
            draft_too_long: m.draft_too_long,
        })
    }
}

#[cfg(test)]
#[path = "gauge_tests.rs"]
mod tests;
