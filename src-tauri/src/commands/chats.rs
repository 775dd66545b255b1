//! Chats and turns: list, create, rename, delete, settings, workspace; send, retry, stop; the event channel.

use super::prelude::*;
use parley_core::chats::{EventBatches, FRAME};

/// Creates an empty chat.
#[tauri::command]
#[specta::specta]
pub async fn create_chat(state: State<'_, AppState>) -> Res<ChatSummary> {
    state.core.chats().create_chat(None).await.map_err(err)
}

/// Renames a chat (checked against the revision the window saw, when given).
#[tauri::command]
#[specta::specta]
pub async fn rename_chat(
    state: State<'_, AppState>,
    chat_id: ChatId,
    title: String,
    revision: Option<u32>,
) -> Res<()> {
    state
        .core
        .chats()
        .rename_chat_seen(&chat_id, &title, revision.map(u64::from))
        .await
        .map_err(err)
}

/// Deletes a chat; a running answer in it is stopped first.
#[tauri::command]
#[specta::specta]
pub async fn delete_chat(
    state: State<'_, AppState>,
    chat_id: ChatId,
    revision: Option<u32>,
) -> Res<()> {
    state
        .core
        .chats()
        .delete_chat_seen(&chat_id, revision.map(u64::from))
        .await
        .map_err(err)
}

/// Sends a message; the answer streams through the window's event channel.
#[tauri::command]
#[specta::specta]
pub async fn send_message(
    state: State<'_, AppState>,
    chat_id: ChatId,
    text: String,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state
        .core
        .chats()
        .send_message(&chat_id, &text, options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}

/// Answers the chat's last message again (after a failure, a stop, or to regenerate).
#[tauri::command]
#[specta::specta]
pub async fn retry_turn(
    state: State<'_, AppState>,
    chat_id: ChatId,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state
        .core
        .chats()
        .retry_turn(&chat_id, options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}

/// Stops the chat's running answer, keeping what arrived.
#[tauri::command]
#[specta::specta]
pub async fn stop_turn(state: State<'_, AppState>, chat_id: ChatId) -> Res<bool> {
    Ok(state.core.chats().stop_turn(&chat_id).await)
}

/// Connects the window to the event stream: first the running turns from their start, then
/// live events, in batches of at most one per frame. Calling it again (after a reload) replaces the window's previous channel.
#[tauri::command]
#[specta::specta]
pub async fn attach_events(
    window: tauri::WebviewWindow,
    state: State<'_, AppState>,
    channel: Channel<Vec<Event>>,
) -> Res<()> {
    // At most one delivery per frame, consecutive deltas merged: the window's work per frame
    // stays the same however fast the model writes.
    let mut batches = EventBatches::new(state.core.chats().attach_events(), FRAME);
    let task = tauri::async_runtime::spawn(async move {
        while let Some(batch) = batches.next().await {
            if channel.send(batch).is_err() {
                break;
            }
        }
    });
    let previous = state
        .forwarders
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(window.label().to_owned(), task);
    if let Some(old) = previous {
        old.abort();
    }
    Ok(())
}

/// Changes a chat's generation settings (system prompt, temperature, ...).
#[tauri::command]
#[specta::specta]
pub async fn set_chat_params(
    state: State<'_, AppState>,
    chat_id: ChatId,
    params: ChatParams,
) -> Res<ChatSummary> {
    state
        .core
        .chats()
        .set_chat_params(&chat_id, params)
        .await
        .map_err(err)
}

/// Turns on (`use_it`) or discards the system prompt an imported chat came with.
#[tauri::command]
#[specta::specta]
pub async fn use_imported_system(
    state: State<'_, AppState>,
    chat_id: ChatId,
    use_it: bool,
) -> Res<ChatSummary> {
    state
        .core
        .chats()
        .use_imported_system(&chat_id, use_it)
        .await
        .map_err(err)
}

/// Lets the user choose the chat's workspace folder in a native dialog. `None`: cancelled.
#[tauri::command]
#[specta::specta]
pub async fn choose_workspace(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    chat_id: ChatId,
) -> Res<Option<ChatSummary>> {
    match super::app::pick_folder(&app, "Choose the folder this chat's tools may work in").await {
        None => Ok(None),
        Some(dir) => state
            .core
            .chats()
            .set_workspace(&chat_id, Some(&dir))
            .await
            .map(Some)
            .map_err(err),
    }
}

/// Removes the chat's workspace (no tools from then on).
#[tauri::command]
#[specta::specta]
pub async fn clear_workspace(state: State<'_, AppState>, chat_id: ChatId) -> Res<ChatSummary> {
    state
        .core
        .chats()
        .set_workspace(&chat_id, None)
        .await
        .map_err(err)
}
