//! The queue: messages typed while a chat answers. Each waits in its own table (`store.rs`),
//! so a restart or a crash keeps it, and goes when the chat's turn completes — one at a time,
//! in order, each sent and then taken off the queue (a crash in between sends it twice rather
//! than never; an edit or a removal waits for a send in progress, so neither is lost in it).
//! The desktop app drains queues (`start_draining`, `drain.rs`); the CLI only adds to them.
//!
//! A turn that was stopped or failed holds the queue (the person decides: "Send now" on a
//! message, or edit, or remove); so does a queued send the core refuses (its sentence is kept
//! with the queue until a message goes). "Send now" steers: the running turn ends at its next
//! boundary (`ChatService::steer_turn`) and the message goes at once, ahead of the queue.

mod drain;
mod store;

use crate::chats::{ChatService, TurnHandle};
use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{ChatId, EventMsg, QueueState, QueuedMessage, SendOptions, QUEUE_MAX};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The most text one chat's queue holds (every change sends the whole queue to the window).
pub const QUEUE_MAX_BYTES: usize = 4 * 1024 * 1024;

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
    /// One change of a queue at a time while a message of it is sent: a message is sent and
    /// taken off before anything else looks at the queue.
    gate: tokio::sync::Mutex<()>,
    draining: std::sync::atomic::AtomicBool,
    /// Why a chat's queue waits, until a message of it goes.
    held: Mutex<HashMap<ChatId, String>>,
}

impl QueueService {
    pub(crate) fn new(shared: Arc<Shared>, chats: ChatService) -> QueueService {
        QueueService {
            inner: Arc::new(Inner {
                shared,
                chats,
                gate: tokio::sync::Mutex::new(()),
                draining: std::sync::atomic::AtomicBool::new(false),
                held: Mutex::default(),
            }),
        }
    }

    /// A chat's queue, in the order it goes.
    pub async fn list(&self, chat: &ChatId) -> Result<Vec<QueuedMessage>, CoreError> {
        Ok(self.inner.shared.store.queued(chat).await?)
    }

    /// A chat's queue and why it waits, if it does.
    pub async fn state(&self, chat: &ChatId) -> Result<QueueState, CoreError> {
        let queued = self.list(chat).await?;
        let held = crate::util::lock(&self.inner.held).get(chat).cloned();
        let held = held.filter(|_| !queued.is_empty());
        Ok(QueueState { queued, held })
    }

    /// Records why the chat's queue waits (`None`: it goes again).
    fn hold(&self, chat: &ChatId, why: Option<String>) {
        let mut held = crate::util::lock(&self.inner.held);
        match why {
            Some(w) => held.insert(chat.clone(), w),
            None => held.remove(chat),
        };
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
    ) -> Result<QueueState, CoreError> {
        crate::chats::check_message(text, false)?;
        let m = QueuedMessage {
            id: crate::new_id(),
            text: text.to_owned(),
            provider,
            model,
            created_at: crate::util::now_ms(),
        };
        let store = &self.inner.shared.store;
        match store.enqueue(chat, m, (QUEUE_MAX, QUEUE_MAX_BYTES)).await? {
            store::Enqueued::Added => {}
            store::Enqueued::Full => {
                return Err(CoreError::InvalidInput(format!(
                "This chat's queue already holds {QUEUE_MAX} messages. Send or remove one first."
            )))
            }
            store::Enqueued::TooLarge => {
                return Err(CoreError::InvalidInput(format!(
                "This chat's queue would hold over {} MB of text. Send or remove a message first.",
                QUEUE_MAX_BYTES / (1024 * 1024)
            )))
            }
        }
        let state = self.changed(chat).await?;
        let idle = !self.inner.chats.is_answering(chat);
        if idle && state.queued.len() == 1 && self.draining() {
            self.send_next(chat).await;
            return self.state(chat).await;
        }
        Ok(state)
    }

    /// Changes a queued message's text.
    pub async fn edit(&self, chat: &ChatId, id: &str, text: &str) -> Result<QueueState, CoreError> {
        crate::chats::check_message(text, false)?;
        let others: usize = (self.list(chat).await?.iter())
            .filter(|m| m.id != id)
            .map(|m| m.text.len())
            .sum();
        if others + text.len() > QUEUE_MAX_BYTES {
            return Err(CoreError::InvalidInput(format!(
                "This chat's queue would hold over {} MB of text. Shorten the message.",
                QUEUE_MAX_BYTES / (1024 * 1024)
            )));
        }
        // Not during a send: the message being sent is no longer queued after it.
        let _one = self.inner.gate.lock().await;
        let store = &self.inner.shared.store;
        if !store.edit_queued(chat, id, text.to_owned()).await? {
            return Err(gone());
        }
        self.changed(chat).await
    }

    /// Takes a message off the queue.
    pub async fn remove(&self, chat: &ChatId, id: &str) -> Result<QueueState, CoreError> {
        let _one = self.inner.gate.lock().await;
        if !self.inner.shared.store.unqueue(chat, id).await? {
            return Err(gone());
        }
        self.changed(chat).await
    }

    /// "Send now": ends the chat's running turn at its next boundary, then sends the message
    /// (a queued one is taken off the queue once the core has it). What can be checked is
    /// checked first: a message that would be refused ends nothing. Options that name no
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
        self.inner.chats.check_send(chat, &text, &options).await?;
        self.inner.chats.steer_turn(chat).await;
        let _one = self.inner.gate.lock().await;
        let handle = match self.inner.chats.send_message(chat, &text, options).await {
            Ok(h) => h,
            Err(e) => {
                // The answer ended as steered, so nothing follows it: the queue says why.
                let why = format!("Queued messages wait: “Send now” failed: {e}");
                self.hold(chat, Some(why));
                let _ = self.changed(chat).await;
                return Err(e);
            }
        };
        self.hold(chat, None);
        if let Some(id) = queued {
            self.inner.shared.store.unqueue(chat, &id).await?;
        }
        self.changed(chat).await?;
        Ok(handle)
    }

    /// From now on, a chat's queue goes as its turns (of this process) complete. The app
    /// calls this once; the CLI never does (it exits after its answer).
    pub fn start_draining(&self) {
        use std::sync::atomic::Ordering;
        if self.inner.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let events = self.inner.shared.hub.subscribe_ends();
        tokio::spawn(drain::drain(Arc::downgrade(&self.inner), events));
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
        if self.inner.chats.is_answering(chat) {
            return;
        }
        let held = match self.send_queued(chat, &first).await {
            Ok(()) => match self.inner.shared.store.unqueue(chat, &first.id).await {
                Ok(_) => None,
                Err(e) => Some(format!("The queue could not be updated: {e}.")),
            },
            // Another process answers in this chat: the queue waits for a word.
            Err(CoreError::Busy) => Some(
                "Queued messages wait: this chat was answering elsewhere when the next one was due. Send it now, or it goes after the next answer."
                    .to_owned(),
            ),
            Err(e) => Some(format!("The queued message was not sent: {e}")),
        };
        self.hold(chat, held);
        if let Err(e) = self.changed(chat).await {
            tracing::warn!("chat {chat}'s queue could not be read: {e}");
        }
    }

    /// Sends a queued message with the provider and model it was queued with; when those can no
    /// longer answer (removed since), with the chat's.
    async fn send_queued(&self, chat: &ChatId, m: &QueuedMessage) -> Result<(), CoreError> {
        let chosen = SendOptions {
            provider: m.provider.clone(),
            model: m.model.clone(),
            ..SendOptions::default()
        };
        let chats = &self.inner.chats;
        let options = match chats.check_send(chat, &m.text, &chosen).await {
            Err(_) if m.provider.is_some() => SendOptions::default(),
            _ => chosen,
        };
        chats.send_message(chat, &m.text, options).await.map(|_| ())
    }

    /// Announces the chat's queue (and why it waits, if it does); returns it.
    async fn changed(&self, chat: &ChatId) -> Result<QueueState, CoreError> {
        let state = self.state(chat).await?;
        let msg = EventMsg::QueueChanged {
            queued: state.queued.clone(),
            held: state.held.clone(),
        };
        self.inner.shared.hub.emit(chat, msg);
        Ok(state)
    }
}

fn gone() -> CoreError {
    CoreError::NotFound("That message is no longer queued (it was sent or removed).".into())
}
