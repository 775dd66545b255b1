//! MCP servers from the window. What runs a program, offers tools again or trusts a changed
//! tool (adding, importing, turning on, accepting a change) and what forgets (removing) is
//! only *proposed* here: the change card (card/change.rs), on its own origin, shows it and
//! only its Confirm applies it. Listing, testing a configured server, reading its log and
//! turning it off are direct.

use super::prelude::*;
use parley_core::mcp::change::McpChange;
use parley_protocol::{
    ChangeTicket, ChatId, McpPrompt, McpPromptText, McpResource, McpServer, McpServerInput,
    McpTestReport, NamedValue,
};

async fn propose(app: &tauri::AppHandle, state: &AppState, change: McpChange) -> Res<ChangeTicket> {
    let preview = state.core.mcp().preview(&change).await.map_err(err)?;
    super::propose_in_card(app, change, preview).await
}

/// Every configured server, by name.
#[tauri::command]
#[specta::specta]
pub async fn list_mcp_servers(state: State<'_, AppState>) -> Res<Vec<McpServer>> {
    state.core.mcp().list().await.map_err(err)
}

/// Proposes adding a server (or replacing the one of the same name); confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn add_mcp_server(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    input: McpServerInput,
    replace: bool,
) -> Res<ChangeTicket> {
    propose(&app, &state, McpChange::Add { input, replace }).await
}

/// Proposes removing a server and forgetting its values; confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn remove_mcp_server(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
) -> Res<ChangeTicket> {
    propose(&app, &state, McpChange::Remove(name)).await
}

/// Proposes turning a server's tools on; confirmed in the card.
#[tauri::command]
#[specta::specta]
pub async fn enable_mcp_server(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
) -> Res<ChangeTicket> {
    propose(&app, &state, McpChange::Enable(name)).await
}

/// Turns a server's tools off (no card: nothing runs or is trusted by it).
#[tauri::command]
#[specta::specta]
pub async fn disable_mcp_server(state: State<'_, AppState>, name: String) -> Res<McpServer> {
    state
        .core
        .mcp()
        .set_enabled(&name, false)
        .await
        .map_err(err)
}

/// Reaches a server: the protocol it speaks, its tools against their pins, its log.
#[tauri::command]
#[specta::specta]
pub async fn test_mcp_server(state: State<'_, AppState>, name: String) -> Res<McpTestReport> {
    state.core.mcp().test(&name).await.map_err(err)
}

/// Proposes accepting a changed tool's definition (named by the hash shown); confirmed in the
/// card, which shows the old and the new definition.
#[tauri::command]
#[specta::specta]
pub async fn accept_mcp_tool(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
    tool: String,
    hash: String,
) -> Res<ChangeTicket> {
    propose(
        &app,
        &state,
        McpChange::Accept {
            server: name,
            tool,
            hash,
        },
    )
    .await
}

/// The lines of a server's log kept by this process.
#[tauri::command]
#[specta::specta]
pub async fn mcp_server_log(state: State<'_, AppState>, name: String) -> Res<Vec<String>> {
    state.core.mcp().log(&name).await.map_err(err)
}

/// Proposes adding the servers of another client's configuration (the text of its file);
/// confirmed in the card, which lists them.
#[tauri::command]
#[specta::specta]
pub async fn import_mcp_config(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    text: String,
) -> Res<ChangeTicket> {
    propose(&app, &state, McpChange::Import(text)).await
}

/// Proposes marking a tool read-only (its definition named by the hash shown): its calls then
/// run without asking where read-only calls do. Confirmed in the card, which shows what the
/// tool says it does.
#[tauri::command]
#[specta::specta]
pub async fn mark_mcp_tool_read_only(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
    tool: String,
    hash: String,
) -> Res<ChangeTicket> {
    propose(
        &app,
        &state,
        McpChange::ReadOnly {
            server: name,
            tool,
            hash,
        },
    )
    .await
}

/// Takes a tool's read-only mark off (its calls ask again: nothing to confirm). Returns whether
/// it was marked.
#[tauri::command]
#[specta::specta]
pub async fn unmark_mcp_tool_read_only(
    state: State<'_, AppState>,
    name: String,
    tool: String,
) -> Res<bool> {
    state
        .core
        .mcp()
        .unmark_read_only(&name, &tool)
        .await
        .map_err(err)
}

/// The prompts of the MCP servers a chat's tools include (its `/` commands); none without a
/// workspace (the servers' roots).
#[tauri::command]
#[specta::specta]
pub async fn list_mcp_prompts(state: State<'_, AppState>, chat_id: ChatId) -> Res<Vec<McpPrompt>> {
    let Some((ws, tools)) = chat_servers(&state, &chat_id).await? else {
        return Ok(Vec::new());
    };
    state
        .core
        .mcp()
        .prompts(&tools, std::path::Path::new(&ws))
        .await
        .map_err(err)
}

/// The text of a prompt with its arguments, for the message box.
#[tauri::command]
#[specta::specta]
pub async fn get_mcp_prompt(
    state: State<'_, AppState>,
    chat_id: ChatId,
    server: String,
    prompt: String,
    args: Vec<NamedValue>,
) -> Res<McpPromptText> {
    let (ws, tools) = chat_servers(&state, &chat_id)
        .await?
        .ok_or_else(no_servers)?;
    state
        .core
        .mcp()
        .prompt_text(&tools, (&server, &prompt), &args, std::path::Path::new(&ws))
        .await
        .map_err(err)
}

/// The resources of the MCP servers a chat's tools include (attachable with `@`); none without a
/// workspace.
#[tauri::command]
#[specta::specta]
pub async fn list_mcp_resources(
    state: State<'_, AppState>,
    chat_id: ChatId,
) -> Res<Vec<McpResource>> {
    let Some((ws, tools)) = chat_servers(&state, &chat_id).await? else {
        return Ok(Vec::new());
    };
    state
        .core
        .mcp()
        .resources(&tools, std::path::Path::new(&ws))
        .await
        .map_err(err)
}

/// Reads a resource and attaches it to the next message, through the attachments' checks
/// (`job`: to cancel it, as for a file).
#[tauri::command]
#[specta::specta]
pub async fn attach_mcp_resource(
    state: State<'_, AppState>,
    chat_id: ChatId,
    server: String,
    uri: String,
    job: String,
) -> Res<parley_protocol::Attachment> {
    let (ws, tools) = chat_servers(&state, &chat_id)
        .await?
        .ok_or_else(no_servers)?;
    let cancel = state.start_job(&job);
    let result = async {
        let file = state
            .core
            .mcp()
            .read_resource(&tools, (&server, &uri), std::path::Path::new(&ws))
            .await?;
        state
            .core
            .attachments()
            .attach_bytes(&file.name, &file.mime, file.bytes, cancel)
            .await
    }
    .await;
    state.end_job(&job);
    result.map_err(err)
}

/// A chat's workspace and tool list (which names its servers), when it has both: only those
/// servers are reached for it, and only in a workspace.
async fn chat_servers(state: &AppState, chat_id: &ChatId) -> Res<Option<(String, Vec<String>)>> {
    let chat = state.core.chats().get_chat(chat_id).await.map_err(err)?;
    Ok(chat.params.workspace.zip(chat.params.tools))
}

fn no_servers() -> ErrorInfo {
    ErrorInfo::new(
        ErrorCode::InvalidInput,
        "This chat uses no MCP server (they need a workspace folder and the chat's tools naming them).",
        false,
    )
}

/// Sign-ins waiting for the browser, by server name (Cancel ends one).
static SIGNING_IN: std::sync::Mutex<
    Vec<(String, u64, parley_core::mcp::oauth::CancellationToken)>,
> = std::sync::Mutex::new(Vec::new());

fn signing_in(
) -> std::sync::MutexGuard<'static, Vec<(String, u64, parley_core::mcp::oauth::CancellationToken)>>
{
    SIGNING_IN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Signs in to a remote server with OAuth: its authorization page opens in the system browser
/// (`$BROWSER` when set), and this waits for the browser to come back (at most five minutes,
/// or until cancelled). The tokens go to the keychain. Returns the server as it is now.
#[tauri::command]
#[specta::specta]
pub async fn sign_in_mcp_server(
    state: State<'_, AppState>,
    app: tauri::AppHandle,
    name: String,
) -> Res<McpServer> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cancel = parley_core::mcp::oauth::CancellationToken::new();
    signing_in().push((name.clone(), id, cancel.clone()));
    let open: parley_core::mcp::oauth::Opener = Box::new(move |url: &str| {
        parley_core::mcp::oauth::open_with_env_browser(url).unwrap_or_else(|| {
            use tauri_plugin_opener::OpenerExt;
            app.opener()
                .open_url(url, None::<&str>)
                .map_err(|e| e.to_string())
        })
    });
    let done = state.core.mcp().sign_in(&name, open, cancel.clone()).await;
    signing_in().retain(|(_, i, _)| *i != id);
    done.map_err(err)?;
    state.core.mcp().get(&name).await.map_err(err)
}

/// Stops waiting for the browser in a sign-in to server `name`.
#[tauri::command]
#[specta::specta]
pub fn cancel_mcp_sign_in(name: String) {
    for (n, _, c) in signing_in().iter() {
        if *n == name {
            c.cancel();
        }
    }
}

/// Signs out of a remote server: its tokens are forgotten.
#[tauri::command]
#[specta::specta]
pub async fn sign_out_mcp_server(state: State<'_, AppState>, name: String) -> Res<McpServer> {
    state.core.mcp().sign_out(&name).await.map_err(err)
}
