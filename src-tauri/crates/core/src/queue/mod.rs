//! The queue: messages typed while a chat answers. Each waits in its own table (`store.rs`),
//! so a restart or a crash keeps it, and goes when the chat's turn completes — one at a time,
//! in order, each sent and then taken off the queue (a crash in between sends it twice rather
//! than never). The desktop app drains queues (`start_draining`); the CLI only adds to them.
//!
//! A turn that was stopped or failed holds the queue (the person decides: "Send now" on a
//! message, or edit, or remove); so does a queued send the core refuses (its sentence is shown).
//! "Send now" steers: the running turn ends at its next boundary (`ChatService::steer_turn`)
//! and the message goes at once, ahead of the queue.

mod store;

use crate::chats::{ChatService, TurnHandle};
use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{ChatId, EventMsg, QueuedMessage, SendOptions, StopReason, QUEUE_MAX};
use std::sync::{Arc, Weak};

/// What "Send now" sends.
pub enum SendNow {
    /// A new message.
    Text(String),
    /// A queued message (by id), taken off the queue once it is sent.
    Queued(String),
}

/// Chats' queues.
#[derive(Clone)]
pub struct QueueService {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    chats: ChatService,
    /// One send from a queue at a time: a message is sent and taken off before the next
    /// send looks at the queue.
    gate: tokio::sync::Mutex<()>,
    draining: std::sync::atomic::AtomicBool,
}

impl QueueService {
    pub(crate) fn new(shared: Arc<Shared>, chats: ChatService) -> QueueService {
        QueueService {
            inner: Arc::new(Inner {
                shared,
                chats,
                gate: tokio::sync::Mutex::new(()),
                draining: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// A chat's queue, in the order it goes.
    pub async fn list(&self, chat: &ChatId) -> Result<Vec<QueuedMessage>, CoreError> {
        Ok(self.inner.shared.store.queued(chat).await?)
    }

    /// Queues a message (with the provider and model to ask, `None`: the chat's when it goes).
    /// When the chat is not answering in this process and nothing else waits, it goes at once
    /// (the turn may have ended just before). Returns the queue.
    pub async fn add(
        &self,
        chat: &ChatId,
        text: &str,
        provider: Option<String>,
        model: Option<String>,
    ) -> Result<Vec<QueuedMessage>, CoreError> {
        crate::chats::check_message(text, false)?;
        let m = QueuedMessage {
            id: crate::new_id(),
            text: text.to_owned(),
            provider,
            model,
            created_at: crate::util::now_ms(),
        };
        if !self.inner.shared.store.enqueue(chat, m, QUEUE_MAX).await? {
            return Err(CoreError::InvalidInput(format!(
                "This chat's queue already holds {QUEUE_MAX} messages. Send or remove one first."
            )));
        }
        let queued = self.changed(chat, None).await?;
        let idle = self.inner.chats.active_turn(chat).is_none();
        if idle && queued.len() == 1 && self.draining() {
            self.send_next(chat).await;
            return self.list(chat).await;
        }
        Ok(queued)
    }

    /// Changes a queued message's text.
    pub async fn edit(
        &self,
        chat: &ChatId,
        id: &str,
        text: &str,
    ) -> Result<Vec<QueuedMessage>, CoreError> {
        crate::chats::check_message(text, false)?;
        if !self
            .inner
            .shared
            .store
            .edit_queued(chat, id, text.to_owned())
            .await?
        {
            return Err(gone());
        }
        self.changed(chat, None).await
    }

    /// Takes a message off the queue.
    pub async fn remove(&self, chat: &ChatId, id: &str) -> Result<Vec<QueuedMessage>, CoreError> {
        if !self.inner.shared.store.unqueue(chat, id).await? {
            return Err(gone());
        }
        self.changed(chat, None).await
    }

    /// "Send now": ends the chat's running turn at its next boundary, then sends the message
    /// (a queued one is taken off the queue once the core has it). Options that name no
    /// provider take a queued message's own.
    pub async fn send_now(
        &self,
        chat: &ChatId,
        what: SendNow,
        mut options: SendOptions,
    ) -> Result<TurnHandle, CoreError> {
        let (text, queued) = match what {
            SendNow::Text(t) => (t, None),
            SendNow::Queued(id) => {
                let all = self.list(chat).await?;
                let m = all.into_iter().find(|m| m.id == id).ok_or_else(gone)?;
                if options.provider.is_none() {
                    options.provider = m.provider;
                    options.model = m.model;
                }
                (m.text, Some(id))
            }
        };
        crate::chats::check_message(&text, !options.attachments.is_empty())?;
        self.inner.chats.steer_turn(chat).await;
        let _one = self.inner.gate.lock().await;
        let handle = self.inner.chats.send_message(chat, &text, options).await?;
        if let Some(id) = queued {
            self.inner.shared.store.unqueue(chat, &id).await?;
            self.changed(chat, None).await?;
        }
        Ok(handle)
    }

    /// From now on, a chat's queue goes as its turns (of this process) complete. The app
    /// calls this once; the CLI never does (it exits after its answer).
    pub fn start_draining(&self) {
        use std::sync::atomic::Ordering;
        if self.inner.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let events = self.inner.shared.hub.subscribe(None);
        tokio::spawn(drain(Arc::downgrade(&self.inner), events));
    }

    fn draining(&self) -> bool {
        self.inner
            .draining
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sends the chat's first queued message, unless a turn runs (its end sends it). A refused
    /// send holds the queue with the reason.
    async fn send_next(&self, chat: &ChatId) {
        let _one = self.inner.gate.lock().await;
        let first = match self.list(chat).await {
            Ok(all) => all.into_iter().next(),
            Err(e) => {
                tracing::warn!("chat {chat}'s queue could not be read: {e}");
                return;
            }
        };
        let Some(first) = first else { return };
        if self.inner.chats.active_turn(chat).is_some() {
            return;
        }
        let options = SendOptions {
            provider: first.provider.clone(),
            model: first.model.clone(),
            ..SendOptions::default()
        };
        let sent = self
            .inner
            .chats
            .send_message(chat, &first.text, options)
            .await;
        let held = match sent {
            Ok(_) => match self.inner.shared.store.unqueue(chat, &first.id).await {
                Ok(_) => None,
                Err(e) => Some(format!("The queue could not be updated: {e}.")),
            },
            // Another process answers in this chat: the queue waits for a word.
            Err(CoreError::Busy) => Some(
                "Queued messages wait: this chat is answering in another Parley (the command line). Send them when it is done."
                    .to_owned(),
            ),
            Err(e) => Some(format!("The queued message was not sent: {e}")),
        };
        if let Err(e) = self.changed(chat, held).await {
            tracing::warn!("chat {chat}'s queue could not be read: {e}");
        }
    }

    /// Announces the chat's queue (and why it waits, if it does); returns it.
    async fn changed(
        &self,
        chat: &ChatId,
        held: Option<String>,
    ) -> Result<Vec<QueuedMessage>, CoreError> {
        let queued = self.list(chat).await?;
        let held = held.filter(|_| !queued.is_empty());
        let msg = EventMsg::QueueChanged {
            queued: queued.clone(),
            held,
        };
        self.inner.shared.hub.emit(chat, msg);
        Ok(queued)
    }
}

/// The app's drain: a turn that completes (not steered: "Send now" sends its own message)
/// sends the chat's next queued message; one that was stopped or failed holds the queue.
async fn drain(
    inner: Weak<Inner>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<parley_protocol::Event>,
) {
    while let Some(ev) = events.recv().await {
        let held = match &ev.msg {
            EventMsg::TurnCompleted { stop_reason, .. } => {
                if *stop_reason == Some(StopReason::Steered) {
                    continue;
                }
                None
            }
            EventMsg::TurnStopped { .. } => {
                Some("Queued messages wait: the answer was stopped. Send one now, or edit or remove it.")
            }
            EventMsg::TurnFailed { .. } => {
                Some("Queued messages wait: the answer failed. Send one now when the provider is back, or edit or remove it.")
            }
            _ => continue,
        };
        let Some(inner) = inner.upgrade() else { return };
        let queue = QueueService { inner };
        let chat = ev.chat_id.clone();
        match held {
            None => {
                tokio::spawn(async move { queue.send_next(&chat).await });
            }
            Some(why) => {
                if let Err(e) = queue.changed(&chat, Some(why.to_owned())).await {
                    tracing::warn!("chat {chat}'s queue could not be read: {e}");
                }
            }
        }
    }
}

fn gone() -> CoreError {
    CoreError::NotFound("That message is no longer queued (it was sent or removed).".into())
}
