//! Running turns: send, retry, stop. A chat has at most one active turn; its slot is
//! reserved before the database is touched, and the user's message is committed before the
//! request goes out.

use super::{not_found, turn, ChatService};
use crate::error::CoreError;
use crate::hub::Emitter;
use crate::providers::ChatRequest;
use crate::util::lock;
use parley_protocol::{
    ChatId, ChatParams, ChatSummary, Event, EventMsg, MessageId, Role, SendOptions, TurnId,
    MAX_MESSAGE_BYTES,
};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// A running turn: its id and its events.
pub struct TurnHandle {
    /// The chat.
    pub chat_id: ChatId,
    /// The turn.
    pub turn_id: TurnId,
    /// The turn's events, ending with `TurnCompleted`, `TurnStopped` or `TurnFailed`.
    pub events: mpsc::UnboundedReceiver<Event>,
}

/// What a turn's task takes with it.
pub(super) struct Running {
    pub(super) emitter: Emitter,
    pub(super) session: ChatSummary,
    pub(super) row: crate::providers::ProviderRow,
    pub(super) model: String,
    pub(super) options: SendOptions,
    pub(super) begun: crate::chats::BegunTurn,
    pub(super) cancel: CancellationToken,
    pub(super) steer: CancellationToken,
    pub(super) finish: Finish,
}

/// How a turn's end frees its chat.
pub(super) enum Finish {
    /// The chat's one turn: its end frees the chat's slot.
    Alone(watch::Sender<bool>),
    /// One column side by side (its own "done"): the last column's end frees the slot.
    Column(Arc<super::compare::Columns>, watch::Sender<bool>),
}

/// A chat's turn slot.
pub(super) struct ActiveTurn {
    pub(super) turn_id: Option<TurnId>,
    cancel: CancellationToken,
    /// "Send now": end at the next boundary instead of at once (`turn.rs`).
    steer: CancellationToken,
    done: watch::Receiver<bool>,
    /// Side by side: each column's turn, its own Stop and its own "done".
    pub(super) columns: Vec<(TurnId, CancellationToken, watch::Receiver<bool>)>,
}

/// A reserved turn slot: Stop, "Send now", and "done".
pub(super) type Slot = (CancellationToken, CancellationToken, watch::Sender<bool>);

/// What a turn starts from.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// A new user message.
    New(&'a str),
    /// The existing user message, answered again.
    Retry(&'a MessageId),
    /// A new version of an earlier user message (`.0`) with this text (`.1`).
    Edit(&'a MessageId, &'a str),
}

impl ChatService {
    /// Every event of every chat from now on, starting with a replay of the turns that are
    /// running (from their `TurnStarted`). A window attaches first, then loads history.
    pub fn attach_events(&self) -> mpsc::UnboundedReceiver<Event> {
        self.shared.hub.subscribe(None)
    }

    /// Runs the turn on a task of its own, its requests recorded as the chat's (`ledger`).
    pub(super) fn spawn_turn(&self, chat_id: &ChatId, run: Running) {
        let (cause, purpose) = (
            format!("chat {chat_id}"),
            parley_protocol::OutboundPurpose::Chat,
        );
        let turn = self.clone().run_turn(run);
        tokio::spawn(crate::ledger::within(
            &self.shared.ledger,
            purpose,
            cause,
            turn,
        ));
    }

    /// Sends a user message and starts a turn. The message is committed before anything goes
    /// to the provider; a second send while a turn runs is refused with [`CoreError::Busy`].
    pub async fn send_message(
        &self,
        chat_id: &ChatId,
        text: &str,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        // Message text reaches the log only with "Log details" on (`logs::CONTENT`).
        tracing::debug!(target: crate::logs::CONTENT, chat = %chat_id, "user message: {text}");
        self.start_turn(chat_id, Start::New(text), options).await
    }

    /// Answers the chat's last user message again (after a failure, a stop, an interruption,
    /// or to regenerate). The new answer is a new branch; the user's message is not repeated.
    pub async fn retry_turn(
        &self,
        chat_id: &ChatId,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        let page = self
            .shared
            .store
            .history_page(chat_id, None, 2)
            .await?
            .ok_or_else(|| not_found(chat_id))?;
        let user = match page.messages.as_slice() {
            [.., user, answer] if answer.role == Role::Assistant && user.role == Role::User => {
                user.id.clone()
            }
            [.., user] if user.role == Role::User => user.id.clone(),
            _ => {
                return Err(CoreError::InvalidInput(
                    "There is no message to answer again in this chat.".into(),
                ))
            }
        };
        self.start_turn(chat_id, Start::Retry(&user), options).await
    }

    /// Edits an earlier message of the user: the new text becomes a new version of it (a
    /// sibling; the old one and everything after it stay in the tree) and is answered. The
    /// chat's selected path follows the new version.
    pub async fn edit_message(
        &self,
        chat_id: &ChatId,
        message: &MessageId,
        text: &str,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        self.start_turn(chat_id, Start::Edit(message, text), options)
            .await
    }

    /// Answers again the question of `answer` (an answer of this chat; `None`: the last one
    /// on the selected path), with the model of `options` or the chat's: a new version of the
    /// answer, the earlier one kept.
    pub async fn regenerate(
        &self,
        chat_id: &ChatId,
        answer: Option<&MessageId>,
        options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        let Some(answer) = answer else {
            return self.retry_turn(chat_id, options).await;
        };
        let tree = self
            .shared
            .store
            .tree(chat_id)
            .await?
            .ok_or_else(|| not_found(chat_id))?;
        let node = tree.nodes.iter().find(|n| &n.id == answer).ok_or_else(|| {
            crate::StoreError::NoSuchMessage {
                message: answer.0.clone(),
            }
        })?;
        let question = match (&node.role, &node.parent_id) {
            (Role::Assistant, Some(q)) => q.clone(),
            _ => {
                return Err(CoreError::InvalidInput(
                    "Only an answer can be regenerated; to change a question, edit it.".into(),
                ))
            }
        };
        self.start_turn(chat_id, Start::Retry(&question), options)
            .await
    }

    /// Stores the user's message (or the retry) and a pending turn. When the chat has a running
    /// turn of another process (the app and `parley ask` share the database) the send is
    /// refused with `Busy` — unless that process is gone: its turn is marked interrupted
    /// (its output kept) and the send goes ahead.
    async fn begin(
        &self,
        chat_id: &ChatId,
        start: &Start<'_>,
        provider: &str,
        model: &str,
        (seen, attachments): (Option<u64>, &[parley_protocol::Part]),
    ) -> Result<crate::chats::BegunTurn, CoreError> {
        let store = &self.shared.store;
        for attempt in 0..2 {
            let owner = self.shared.instance_id.clone();
            let (provider, model) = (provider.to_owned(), model.to_owned());
            let begun = match start {
                Start::New(text) | Start::Edit(_, text) => {
                    let edit = match start {
                        Start::Edit(edited, _) => Some((*edited).clone()),
                        _ => None,
                    };
                    let at = crate::chats::Placement {
                        edit,
                        seen,
                        attachments: attachments.to_vec(),
                    };
                    store
                        .begin_turn_at(chat_id, (*text).to_owned(), provider, model, owner, at)
                        .await
                }
                Start::Retry(user) => {
                    store
                        .begin_retry_seen(chat_id, user, provider, model, owner, seen)
                        .await
                }
            };
            match begun {
                Err(crate::StoreError::TurnRunning { owners }) => {
                    self.free_from_dead(&owners, attempt).await?
                }
                other => return Ok(other?),
            }
        }
        Err(CoreError::Busy)
    }

    /// A chat held by running turns of `owners`: when every one is another process that is
    /// gone, their turns are marked interrupted (output kept) so a send can go ahead (once:
    /// `attempt` 0); else `Busy`.
    pub(super) async fn free_from_dead(
        &self,
        owners: &[String],
        attempt: u32,
    ) -> Result<(), CoreError> {
        let me = &self.shared.instance_id;
        let gone = owners
            .iter()
            .all(|o| o != me && crate::instance::owner_is_dead(&self.shared.data_dir, o));
        if !gone || attempt > 0 {
            return Err(CoreError::Busy);
        }
        for o in owners {
            self.shared.store.interrupt_turns_of(o).await?;
        }
        Ok(())
    }

    async fn start_turn(
        &self,
        chat_id: &ChatId,
        start: Start<'_>,
        mut options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        if let Start::New(text) | Start::Edit(_, text) = start {
            validate_message(text, !options.attachments.is_empty())?;
        }
        // Checked before anything is stored: a refused attachment changes nothing.
        let attachments = std::mem::take(&mut options.attachments);
        let attachments = match start {
            Start::Retry(_) if !attachments.is_empty() => {
                return Err(CoreError::InvalidInput(
                    "Attachments go with a new message or an edit, not with answering again."
                        .into(),
                ))
            }
            Start::Retry(_) => attachments,
            Start::New(_) | Start::Edit(..) => self.attachments.check_outgoing(attachments).await?,
        };
        let session = self.get_chat(chat_id).await?;
        let (row, model) = self.who_answers(&session, &options).await?;
        if let Start::New(_) | Start::Edit(..) = start {
            self.refuse_unseen_images(&row.name, &model, &attachments)
                .await?;
        }
        // Reserve the chat's single turn slot before touching the database.
        let (cancel, steer, done_tx) = self.reserve(chat_id)?;
        let begun = match self
            .begin(
                chat_id,
                &start,
                &row.name,
                &model,
                (options.revision, &attachments),
            )
            .await
        {
            Ok(b) => b,
            Err(e) => {
                lock(&self.active).remove(chat_id);
                return Err(e);
            }
        };
        if let Err(e) = self.attachments.mark_sent(&begun.user_message.parts).await {
            tracing::warn!("sent images not marked sent (kept a while longer): {e}");
        }
        if let Some(a) = lock(&self.active).get_mut(chat_id) {
            a.turn_id = Some(begun.turn_id.clone());
        }
        // Subscribe before the turn starts so the handle sees every event from TurnStarted on.
        let rx = self.shared.hub.subscribe(Some(chat_id.clone()));
        let turn_id = begun.turn_id.clone();
        let run = Running {
            emitter: Emitter::new(chat_id.clone(), self.shared.hub.clone()),
            session,
            row,
            model,
            options,
            begun,
            cancel,
            steer,
            finish: Finish::Alone(done_tx),
        };
        self.spawn_turn(chat_id, run);
        Ok(TurnHandle {
            chat_id: chat_id.clone(),
            turn_id,
            events: rx,
        })
    }

    /// Takes the chat's one turn slot (`Busy` when a turn runs): its Stop, its "Send now" and
    /// its "done".
    pub(super) fn reserve(&self, chat_id: &ChatId) -> Result<Slot, CoreError> {
        let (cancel, steer) = (CancellationToken::new(), CancellationToken::new());
        let (done_tx, done_rx) = watch::channel(false);
        let mut active = lock(&self.active);
        if active.contains_key(chat_id) {
            return Err(CoreError::Busy);
        }
        if lock(&self.closing).contains(chat_id) {
            return Err(not_found(chat_id));
        }
        active.insert(
            chat_id.clone(),
            ActiveTurn {
                turn_id: None,
                cancel: cancel.clone(),
                steer: steer.clone(),
                done: done_rx,
                columns: Vec::new(),
            },
        );
        Ok((cancel, steer, done_tx))
    }

    /// The turn, on a task of its own: the request built, the agent loop run, the slot
    /// freed, the last event sent; a completed first answer names the chat.
    async fn run_turn(self, run: Running) {
        let Running {
            emitter,
            session,
            row,
            model,
            options,
            begun,
            cancel,
            steer,
            finish,
        } = run;
        let sid = session.id.clone();
        let provider = self.providers.build_provider(&row).await;
        let settings = (self.settings.saved().await)
            .ok()
            .flatten()
            .unwrap_or_default();
        let params = session.params.clone();
        // Stop while an MCP server is still starting ends the turn at once (stopped), not after
        // the server's connect timeout.
        let tools = tokio::select! {
            biased;
            () = cancel.cancelled() => Ok(None),
            // "Send now" before the request: it ends at once too (nothing arrived to keep).
            () = steer.cancelled() => Ok(None),
            // Side by side, the columns answer without tools (each would ask apart).
            t = self.turn_tools(&params, &settings, &options, true), if begun.side_by_side.is_empty() => t,
            () = std::future::ready(()), if !begun.side_by_side.is_empty() => Ok(None),
        };
        // A tool that asks the model itself (MCP sampling) asks this chat's.
        let tools = tools.map(|t| {
            t.map(|mut t| {
                t.ctx.model = Some((row.name.clone(), model.clone()));
                t
            })
        });
        let (tools, request) = match tools {
            Ok(tools) => {
                let asked = (&row.name[..], &model[..], &options, &params);
                (tools, self.request(&sid, asked, &begun).await)
            }
            Err(e) => (None, Err(e)),
        };
        // Every model has a window: the user's, the provider's list, the table or the default.
        let window = self.providers.window_of(&row.name, &model).await;
        let (emitter, last) = turn::run(turn::TurnCtx {
            store: self.shared.store.clone(),
            emitter,
            begun,
            provider_name: row.name.clone(),
            model,
            provider,
            request,
            cancel,
            steer,
            tools,
            max_rounds: settings.max_tool_rounds.max(1),
            window,
            images: (self.attachments.clone(), row.kind),
        })
        .await;
        let completed = matches!(last, EventMsg::TurnCompleted { .. });
        let title = self.free_slot(&sid, finish, completed);
        emitter.emit(last);
        if title {
            self.title_after_turn(&sid);
        }
    }

    /// A turn ended (`completed`: with an answer): its chat's slot is freed — side by side, by
    /// the last column. Returns whether the chat may be titled now.
    fn free_slot(&self, sid: &ChatId, finish: Finish, completed: bool) -> bool {
        match finish {
            Finish::Alone(done) => {
                lock(&self.active).remove(sid);
                let _ = done.send(true);
                completed
            }
            Finish::Column(columns, done) => {
                let _ = done.send(true);
                columns.end(completed, |any| {
                    lock(&self.compared).insert(sid.clone(), any);
                    lock(&self.active).remove(sid);
                })
            }
        }
    }

    /// What the provider is sent: the chat's path up to the new question (not the empty
    /// answer begun for it), with the chat's settings.
    async fn request(
        &self,
        sid: &ChatId,
        (provider, model, options, params): (&str, &str, &SendOptions, &ChatParams),
        begun: &crate::chats::BegunTurn,
    ) -> Result<ChatRequest, CoreError> {
        let h = match self.shared.store.history(sid).await {
            Ok(Some(h)) => h,
            Ok(None) => return Err(not_found(sid)),
            Err(e) => return Err(CoreError::from(e)),
        };
        let params = params.clone();
        Ok(ChatRequest {
            model: model.to_owned(),
            system: options.system.clone().or(params.system),
            messages: for_provider(up_to_question(h.messages, begun), provider),
            temperature: params.temperature,
            top_p: params.top_p,
            max_output_tokens: params.max_output_tokens,
            reasoning: params.reasoning,
            vision: self.vision_of(provider, model).await,
            ..ChatRequest::default()
        })
    }

    /// Stops the chat's running turn (keeping its partial output) and waits until it is
    /// recorded. Returns whether a turn was running.
    pub async fn stop_turn(&self, chat_id: &ChatId) -> bool {
        self.end_turn(chat_id, |a| a.cancel.cancel()).await
    }

    /// "Send now": ends the chat's running turn at its next boundary — text generation stops
    /// with what arrived kept; a response with tool calls runs its round first (calls waiting
    /// for a decision still wait for it) — and waits until it is recorded (`TurnCompleted`,
    /// stop reason `Steered`). Returns whether a turn of this process was running.
    pub async fn steer_turn(&self, chat_id: &ChatId) -> bool {
        self.end_turn(chat_id, |a| a.steer.cancel()).await
    }

    /// Signals the chat's running turn and waits until its end is recorded.
    async fn end_turn(&self, chat_id: &ChatId, signal: impl FnOnce(&ActiveTurn)) -> bool {
        let done = {
            let active = lock(&self.active);
            match active.get(chat_id) {
                Some(a) => {
                    signal(a);
                    Some(a.done.clone())
                }
                None => None,
            }
        };
        super::turns::wait_done(done).await
    }

    /// Whether this process holds the chat's turn slot (a turn starting or running).
    pub fn is_answering(&self, chat_id: &ChatId) -> bool {
        lock(&self.active).contains_key(chat_id)
    }

    /// The running turn of a chat, if any.
    pub fn active_turn(&self, chat_id: &ChatId) -> Option<TurnId> {
        lock(&self.active)
            .get(chat_id)
            .and_then(|a| a.turn_id.clone())
    }
}

/// Waits until a signalled turn's end is recorded; false when there was none.
pub(super) async fn wait_done(done: Option<watch::Receiver<bool>>) -> bool {
    match done {
        Some(mut rx) => {
            let _ = rx.wait_for(|d| *d).await;
            true
        }
        None => false,
    }
}

/// A message needs text, unless it carries attachments (a screenshot alone is a question).
pub(super) fn validate_message(text: &str, attached: bool) -> Result<(), CoreError> {
    if text.trim().is_empty() && !attached {
        return Err(CoreError::InvalidInput(
            "The message is empty. Type something before sending.".into(),
        ));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(CoreError::InvalidInput(format!(
            "The message is {:.1} MB; Parley sends at most {} MB in one message. Split it into smaller parts.",
            text.len() as f64 / (1024.0 * 1024.0),
            MAX_MESSAGE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// The chat's path up to the question being answered: not the empty answer begun for it, nor
/// (side by side) another column's answer the path goes through.
fn up_to_question(
    mut messages: Vec<parley_protocol::Message>,
    begun: &crate::chats::BegunTurn,
) -> Vec<parley_protocol::Message> {
    if let Some(at) = messages.iter().position(|m| m.id == begun.user_message.id) {
        messages.truncate(at + 1);
    }
    messages.retain(|m| m.id != begun.assistant_message_id);
    messages
}

/// The conversation as `provider` may see it: reasoning signatures are only valid for the
/// provider that made them, so another provider's are dropped (the reasoning text stays).
fn for_provider(
    mut messages: Vec<parley_protocol::Message>,
    provider: &str,
) -> Vec<parley_protocol::Message> {
    for m in &mut messages {
        if m.role == Role::Assistant && m.provider.as_deref() != Some(provider) {
            for p in &mut m.parts {
                if let parley_protocol::Part::Reasoning { signature, .. } = p {
                    *signature = None;
                }
            }
        }
    }
    messages
}
