//! Side by side: one message answered by 2–4 models at once. The answers are sibling versions
//! of the one answer in the tree (the version switcher shows them afterwards), each a turn of
//! its own streaming at the same time, each with its own Stop; the chat's slot is held until
//! the last of them ends. The first column is the chat's path until another is chosen
//! (`switch_branch`: "Continue with this one").

use super::turns::{Finish, Running};
use super::ChatService;
use crate::error::CoreError;
use crate::hub::Emitter;
use crate::util::lock;
use parley_protocol::{ChatId, Event, MessageId, ModelChoice, SendOptions, TurnId, COMPARE_MAX};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// A comparison that started: its columns (turn, answer) in order, and the chat's events.
pub struct CompareHandle {
    /// The chat.
    pub chat_id: ChatId,
    /// Each column's turn and answer, in column order.
    pub columns: Vec<(TurnId, MessageId)>,
    /// Every event of the chat from the first `TurnStarted` on (all columns).
    pub events: mpsc::UnboundedReceiver<Event>,
}

/// The columns still running; the last to end frees the chat.
pub(super) struct Columns {
    remaining: AtomicUsize,
    completed: AtomicBool,
    done: watch::Sender<bool>,
}

impl Columns {
    /// A column ended (`completed`: with an answer). The last one frees the chat (`free`)
    /// and says whether the chat may be titled now (any column completed).
    pub(super) fn end(&self, completed: bool, free: impl FnOnce(bool)) -> bool {
        if completed {
            self.completed.store(true, Ordering::SeqCst);
        }
        if self.remaining.fetch_sub(1, Ordering::SeqCst) != 1 {
            return false;
        }
        let any = self.completed.load(Ordering::SeqCst);
        free(any);
        let _ = self.done.send(true);
        any
    }
}

/// What each column answers with: the provider's row, the model, the send options.
type Who = (crate::providers::ProviderRow, String, SendOptions);

impl ChatService {
    /// Sends `text` once and has each of `models` (2–4, each once) answer it
    /// at the same time. The message is stored before anything goes out; a chat that is
    /// answering is `Busy`. One model failing leaves the others streaming.
    pub async fn compare(
        &self,
        chat_id: &ChatId,
        text: &str,
        models: Vec<ModelChoice>,
        mut options: SendOptions,
    ) -> Result<CompareHandle, CoreError> {
        super::turns::validate_message(text, !options.attachments.is_empty())?;
        if models.len() < 2 || models.len() > COMPARE_MAX {
            return Err(CoreError::InvalidInput(format!(
                "Side by side compares 2 to {COMPARE_MAX} models; {} were chosen.",
                models.len()
            )));
        }
        let attachments = std::mem::take(&mut options.attachments);
        let attachments = self.attachments.check_outgoing(attachments).await?;
        let session = self.get_chat(chat_id).await?;
        let who = self
            .who_of(&session, models, &options, &attachments)
            .await?;
        let (cancel, steer, done) = self.reserve(chat_id)?;
        let at = super::Placement {
            edit: None,
            seen: options.revision,
            attachments,
        };
        let begun = match self.begin_columns(chat_id, text, &who, at).await {
            Ok(b) => b,
            Err(e) => {
                lock(&self.active).remove(chat_id);
                return Err(e);
            }
        };
        if let Err(e) = self
            .attachments
            .mark_sent(&begun[0].user_message.parts)
            .await
        {
            tracing::warn!("sent images not marked sent (kept a while longer): {e}");
        }
        let events = self.shared.hub.subscribe(Some(chat_id.clone()));
        let columns: Vec<(TurnId, MessageId)> = begun
            .iter()
            .map(|b| (b.turn_id.clone(), b.assistant_message_id.clone()))
            .collect();
        let group = Arc::new(Columns {
            remaining: AtomicUsize::new(begun.len()),
            completed: AtomicBool::new(false),
            done,
        });
        self.spawn_columns(
            chat_id,
            &session,
            begun.into_iter().zip(who).collect(),
            (&cancel, &steer),
            &group,
        );
        Ok(CompareHandle {
            chat_id: chat_id.clone(),
            columns,
            events,
        })
    }

    /// Who answers in each column (each model once), checked before anything is stored.
    async fn who_of(
        &self,
        session: &parley_protocol::ChatSummary,
        models: Vec<ModelChoice>,
        options: &SendOptions,
        attachments: &[parley_protocol::Part],
    ) -> Result<Vec<Who>, CoreError> {
        let mut who: Vec<Who> = Vec::new();
        for choice in models {
            let mut o = options.clone();
            (o.provider, o.model) = (choice.provider, choice.model);
            let (row, model) = self.who_answers(session, &o).await?;
            if who
                .iter()
                .any(|(r, m, _)| r.name == row.name && *m == model)
            {
                return Err(CoreError::InvalidInput(format!(
                    "{model} of {} is chosen twice; pick different models to compare.",
                    row.name
                )));
            }
            self.refuse_unseen_images(&row.name, &model, attachments)
                .await?;
            o.provider = Some(row.name.clone());
            who.push((row, model, o));
        }
        Ok(who)
    }

    /// Starts each column's turn: its own Stop (under the chat's), its own "done".
    fn spawn_columns(
        &self,
        chat_id: &ChatId,
        session: &parley_protocol::ChatSummary,
        columns: Vec<(super::BegunTurn, Who)>,
        (cancel, steer): (
            &tokio_util::sync::CancellationToken,
            &tokio_util::sync::CancellationToken,
        ),
        group: &Arc<Columns>,
    ) {
        let mut runs = Vec::new();
        for (b, (row, model, options)) in columns {
            let (col_done, col_rx) = watch::channel(false);
            let col_cancel = cancel.child_token();
            if let Some(a) = lock(&self.active).get_mut(chat_id) {
                a.turn_id.get_or_insert_with(|| b.turn_id.clone());
                a.columns
                    .push((b.turn_id.clone(), col_cancel.clone(), col_rx));
            }
            runs.push(Running {
                emitter: Emitter::new(chat_id.clone(), self.shared.hub.clone()),
                session: session.clone(),
                row,
                model,
                options,
                begun: b,
                cancel: col_cancel,
                steer: steer.child_token(),
                finish: Finish::Column(group.clone(), col_done),
            });
        }
        // Every column is registered before any starts (a Stop finds them all).
        for run in runs {
            self.spawn_turn(chat_id, run);
        }
    }

    /// Stores the message and one pending turn per column, in one transaction.
    async fn begin_columns(
        &self,
        chat_id: &ChatId,
        text: &str,
        who: &[Who],
        at: super::Placement,
    ) -> Result<Vec<super::BegunTurn>, CoreError> {
        let columns = who
            .iter()
            .map(|(row, model, _)| (row.name.clone(), model.clone()))
            .collect();
        let columns: Vec<(String, String)> = columns;
        for attempt in 0..2 {
            let owner = self.shared.instance_id.clone();
            let begun = (self.shared.store)
                .begin_turns_at(chat_id, text.to_owned(), columns.clone(), owner, at.clone())
                .await;
            match begun {
                // A `parley ask` that died holding the chat: its turn is interrupted, once.
                Err(crate::StoreError::TurnRunning { owners }) => {
                    self.free_from_dead(&owners, attempt).await?
                }
                other => return Ok(other?),
            }
        }
        Err(CoreError::Busy)
    }

    /// How the chat's last comparison ended — whether any column completed — once, after its
    /// last column (the queue's drain asks); `None` when the last turn was not side by side.
    pub fn side_by_side_outcome(&self, chat_id: &ChatId) -> Option<bool> {
        lock(&self.compared).remove(chat_id)
    }

    /// Stops one column of the chat's comparison (its partial answer kept) and waits until its
    /// end is recorded; the other columns go on. Returns whether that column was running.
    pub async fn stop_column(&self, chat_id: &ChatId, turn: &TurnId) -> bool {
        let done = {
            let active = lock(&self.active);
            let column = active
                .get(chat_id)
                .and_then(|a| a.columns.iter().find(|(t, ..)| t == turn));
            match column {
                Some((_, cancel, done)) if !*done.borrow() => {
                    cancel.cancel();
                    Some(done.clone())
                }
                Some(_) => None,
                None => None,
            }
        };
        super::turns::wait_done(done).await
    }
}
