//! Chats and turns: list, create, rename, delete, settings, workspace; send, retry, stop; the
//! event channel. Steering a chat's tree: edit, regenerate, switch versions, rewind, fork,
//! delete a branch, pin and archive; the filtered chat list. Every change to the tree carries
//! the chat's revision the window saw (`revision`), so a window that is behind gets a conflict
//! instead of overwriting what another window or `parley` did.

use super::prelude::*;
use parley_core::chats::{EventBatches, FRAME};
use parley_protocol::{ChatCounts, ChatFilter};

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

/// Sends a message to 2–4 models side by side: each answer a version of one answer, each
/// streaming at once. Returns each column's turn and answer, in order.
#[tauri::command]
#[specta::specta]
pub async fn compare_models(
    state: State<'_, AppState>,
    chat_id: ChatId,
    text: String,
    models: Vec<parley_protocol::ModelChoice>,
    options: SendOptions,
) -> Res<Vec<(TurnId, parley_protocol::MessageId)>> {
    let chats = state.core.chats();
    let handle = chats
        .compare(&chat_id, &text, models, options)
        .await
        .map_err(err)?;
    Ok(handle.columns)
}

/// Stops one column of a side-by-side answer (the others go on); waits until it is recorded.
#[tauri::command]
#[specta::specta]
pub async fn stop_column(
    state: State<'_, AppState>,
    chat_id: ChatId,
    turn_id: TurnId,
) -> Res<bool> {
    Ok(state.core.chats().stop_column(&chat_id, &turn_id).await)
}

/// What an answer with this usage cost, by the price table (`None`: the model has no price).
#[tauri::command]
#[specta::specta]
pub async fn answer_cost(
    state: State<'_, AppState>,
    provider: String,
    model: String,
    usage: parley_protocol::Usage,
) -> Res<Option<f64>> {
    let providers = state.core.providers().list_providers().await.map_err(err)?;
    let anthropic = providers
        .iter()
        .any(|p| p.name == provider && p.kind == parley_protocol::ProviderKind::Anthropic);
    let usage_service = state.core.usage();
    usage_service
        .answer_cost(&model, &usage, anthropic)
        .await
        .map_err(err)
}

/// What the next request would take of the model's context window if `text` were sent with
/// `options` (the composer's gauge): nothing is stored or sent.
#[tauri::command]
#[specta::specta]
pub async fn estimate_context(
    state: State<'_, AppState>,
    chat_id: ChatId,
    text: String,
    options: SendOptions,
) -> Res<parley_protocol::ContextEstimate> {
    state
        .core
        .chats()
        .estimate_context(&chat_id, &text, &options)
        .await
        .map_err(err)
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
