//! Steering a chat's tree: edit, regenerate, switch versions, rewind, fork, delete a branch,
//! pin and archive; the filtered chat list. Every change carries the chat's revision the
//! window saw (`revision`), so a window that is behind gets a conflict instead of
//! overwriting what another window or `parley` did.

use super::prelude::*;
use parley_protocol::{ChatCounts, ChatFilter};

/// Chats as the sidebar shows them: the archive or the chats in use, all or one assistant's,
/// pinned first, then by activity; chats without messages left out.
#[tauri::command]
#[specta::specta]
pub async fn list_chats(
    state: State<'_, AppState>,
    filter: ChatFilter,
    limit: u32,
    offset: u32,
) -> Res<Vec<ChatSummary>> {
    state
        .core
        .chats()
        .list_chats(filter, limit, offset)
        .await
        .map_err(err)
}

/// How many chats are in use, archived, and per assistant.
#[tauri::command]
#[specta::specta]
pub async fn chat_counts(state: State<'_, AppState>) -> Res<ChatCounts> {
    state.core.chats().chat_counts().await.map_err(err)
}

/// One chat's summary (its current revision, title, flags).
#[tauri::command]
#[specta::specta]
pub async fn get_chat(state: State<'_, AppState>, chat_id: ChatId) -> Res<ChatSummary> {
    state.core.chats().get_chat(&chat_id).await.map_err(err)
}

/// Edits a message of the user: a new version of it, answered at once.
#[tauri::command]
#[specta::specta]
pub async fn edit_message(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    text: String,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state
        .core
        .chats()
        .edit_message(&chat_id, &message_id, &text, options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}

/// Answers again the question of `message_id` (an answer), with the model of `options`: a new
/// version of the answer.
#[tauri::command]
#[specta::specta]
pub async fn regenerate(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state
        .core
        .chats()
        .regenerate(&chat_id, Some(&message_id), options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}

/// Shows another version: the path continues through `message_id` to its newest leaf.
#[tauri::command]
#[specta::specta]
pub async fn switch_branch(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    revision: u32,
) -> Res<MessageId> {
    state
        .core
        .chats()
        .switch_branch(&chat_id, &message_id, Some(u64::from(revision)))
        .await
        .map_err(err)
}

/// Rewinds the chat to `message_id`; the later turns stay as a branch.
#[tauri::command]
#[specta::specta]
pub async fn rewind(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    revision: u32,
) -> Res<()> {
    state
        .core
        .chats()
        .rewind(&chat_id, &message_id, Some(u64::from(revision)))
        .await
        .map_err(err)
}

/// Copies the path up to `message_id` into a new chat that links back to this one.
#[tauri::command]
#[specta::specta]
pub async fn fork(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
) -> Res<ChatSummary> {
    state
        .core
        .chats()
        .fork(&chat_id, &message_id)
        .await
        .map_err(err)
}

/// Deletes `message_id` and everything after it on every branch; returns how many messages.
#[tauri::command]
#[specta::specta]
pub async fn delete_branch(
    state: State<'_, AppState>,
    chat_id: ChatId,
    message_id: MessageId,
    revision: u32,
) -> Res<u32> {
    let n = state
        .core
        .chats()
        .delete_branch(&chat_id, &message_id, Some(u64::from(revision)))
        .await
        .map_err(err)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Pins or unpins a chat.
#[tauri::command]
#[specta::specta]
pub async fn set_pinned(
    state: State<'_, AppState>,
    chat_id: ChatId,
    pinned: bool,
    revision: u32,
) -> Res<()> {
    state
        .core
        .chats()
        .set_pinned(&chat_id, pinned, Some(u64::from(revision)))
        .await
        .map_err(err)
}

/// Archives or unarchives a chat.
#[tauri::command]
#[specta::specta]
pub async fn set_archived(
    state: State<'_, AppState>,
    chat_id: ChatId,
    archived: bool,
    revision: u32,
) -> Res<()> {
    state
        .core
        .chats()
        .set_archived(&chat_id, archived, Some(u64::from(revision)))
        .await
        .map_err(err)
}

/// Asks a model for a new title now ("Regenerate title"); it replaces any title.
#[tauri::command]
#[specta::specta]
pub async fn retitle(state: State<'_, AppState>, chat_id: ChatId) -> Res<String> {
    state.core.chats().retitle(&chat_id).await.map_err(err)
}
