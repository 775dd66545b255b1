//! The composer's queue: messages typed while the chat answers wait as chips (kept in the
//! database), go when the answer ends, and "Send now" steers the running answer to an end.

use super::prelude::*;
use parley_core::queue::SendNow;
use parley_protocol::QueueState;

/// The chat's queue, in the order it goes, and why it waits if it does.
#[tauri::command]
#[specta::specta]
pub async fn list_queued(state: State<'_, AppState>, chat_id: ChatId) -> Res<QueueState> {
    state.core.queue().state(&chat_id).await.map_err(err)
}

/// Queues a message (with the composer's provider and model); returns the queue.
#[tauri::command]
#[specta::specta]
pub async fn queue_message(
    state: State<'_, AppState>,
    chat_id: ChatId,
    text: String,
    provider: Option<String>,
    model: Option<String>,
) -> Res<QueueState> {
    let queue = state.core.queue();
    queue
        .add(&chat_id, &text, provider, model)
        .await
        .map_err(err)
}

/// Changes a queued message's text; returns the queue.
#[tauri::command]
#[specta::specta]
pub async fn edit_queued(
    state: State<'_, AppState>,
    chat_id: ChatId,
    id: String,
    text: String,
) -> Res<QueueState> {
    state
        .core
        .queue()
        .edit(&chat_id, &id, &text)
        .await
        .map_err(err)
}

/// Takes a message off the queue; returns the queue.
#[tauri::command]
#[specta::specta]
pub async fn remove_queued(
    state: State<'_, AppState>,
    chat_id: ChatId,
    id: String,
) -> Res<QueueState> {
    state.core.queue().remove(&chat_id, &id).await.map_err(err)
}

/// "Send now": ends the running answer at its next boundary and sends `text` (or the queued
/// message `queued`) at once.
#[tauri::command]
#[specta::specta]
pub async fn send_now(
    state: State<'_, AppState>,
    chat_id: ChatId,
    text: String,
    queued: Option<String>,
    options: SendOptions,
) -> Res<TurnId> {
    let what = match queued {
        Some(id) => SendNow::Queued(id),
        None => SendNow::Text(text),
    };
    let handle = state
        .core
        .queue()
        .send_now(&chat_id, what, options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}
