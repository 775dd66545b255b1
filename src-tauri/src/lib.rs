//! Parley desktop: a thin adapter over parley-core. One [`AppState`] holds the core; every
//! command is a few lines onto it; turn events reach the window through one
//! `tauri::ipc::Channel<Event>` per window. Security decisions (which links open, where the
//! webview may navigate, where keys go) are made here in Rust, never in the webview.

use parley_core::secrets::Secret;
use parley_core::{ConnectionCheck, Core, CoreError, NewProvider, ProviderUpdate};
use parley_protocol::{
    ApprovalDecision, Assistant, ConnectionDraft, ConnectionReport, ErrorCode, ErrorInfo, Event,
    Grant, LocalServer, MessageId, ModelList, ProviderDraft, ProviderEdit, ProviderInfo,
    ProviderPreset, SendOptions, SessionHistory, SessionId, SessionParams, SessionSummary,
    Settings, ToolInfo, TurnId,
};
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::ipc::Channel;
use tauri::{Manager, State};

/// Everything the commands share.
pub struct AppState {
    /// The core (sessions, providers, turns).
    pub core: Core,
    /// The event forwarder of each window, replaced when the window reloads.
    forwarders: Mutex<HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
}

impl AppState {
    /// Wraps an opened core.
    pub fn new(core: Core) -> Self {
        AppState {
            core,
            forwarders: Mutex::new(HashMap::new()),
        }
    }
}

type Res<T> = Result<T, ErrorInfo>;

fn err(e: CoreError) -> ErrorInfo {
    e.to_info()
}

/// Lists chats, most recent activity first.
#[tauri::command]
#[specta::specta]
async fn list_sessions(
    state: State<'_, AppState>,
    limit: u32,
    offset: u32,
) -> Res<Vec<SessionSummary>> {
    state.core.list_sessions(limit, offset).await.map_err(err)
}

/// Creates an empty chat.
#[tauri::command]
#[specta::specta]
async fn create_session(state: State<'_, AppState>) -> Res<SessionSummary> {
    state.core.create_session(None).await.map_err(err)
}

/// Renames a chat.
#[tauri::command]
#[specta::specta]
async fn rename_session(
    state: State<'_, AppState>,
    session_id: SessionId,
    title: String,
) -> Res<()> {
    state
        .core
        .rename_session(&session_id, &title)
        .await
        .map_err(err)
}

/// Deletes a chat; a running answer in it is stopped first.
#[tauri::command]
#[specta::specta]
async fn delete_session(state: State<'_, AppState>, session_id: SessionId) -> Res<()> {
    state.core.delete_session(&session_id).await.map_err(err)
}

/// A page of a chat's messages, newest last, ending before `before` (or at the newest).
#[tauri::command]
#[specta::specta]
async fn get_history(
    state: State<'_, AppState>,
    session_id: SessionId,
    before: Option<MessageId>,
    limit: u32,
) -> Res<SessionHistory> {
    state
        .core
        .history_page(&session_id, before, limit)
        .await
        .map_err(err)
}

/// Sends a message; the answer streams through the window's event channel.
#[tauri::command]
#[specta::specta]
async fn send_message(
    state: State<'_, AppState>,
    session_id: SessionId,
    text: String,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state
        .core
        .send(&session_id, &text, options)
        .await
        .map_err(err)?;
    Ok(handle.turn_id)
}

/// Answers the chat's last message again (after a failure, a stop, or to regenerate).
#[tauri::command]
#[specta::specta]
async fn retry_turn(
    state: State<'_, AppState>,
    session_id: SessionId,
    options: SendOptions,
) -> Res<TurnId> {
    let handle = state.core.retry(&session_id, options).await.map_err(err)?;
    Ok(handle.turn_id)
}

/// Stops the chat's running answer, keeping what arrived.
#[tauri::command]
#[specta::specta]
async fn stop_turn(state: State<'_, AppState>, session_id: SessionId) -> Res<bool> {
    Ok(state.core.stop(&session_id).await)
}

/// Connects the window to the event stream: first the running turns from their start, then
/// live events. Calling it again (after a reload) replaces the window's previous channel.
#[tauri::command]
#[specta::specta]
async fn attach_events(
    window: tauri::WebviewWindow,
    state: State<'_, AppState>,
    channel: Channel<Event>,
) -> Res<()> {
    let mut rx = state.core.subscribe_all();
    let task = tauri::async_runtime::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if channel.send(ev).is_err() {
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

/// Configured providers; only whether a key exists, never the key.
#[tauri::command]
#[specta::specta]
async fn list_providers(state: State<'_, AppState>) -> Res<Vec<ProviderInfo>> {
    state.core.list_providers().await.map_err(err)
}

/// Adds a provider; its key goes to the OS keychain.
#[tauri::command]
#[specta::specta]
async fn add_provider(state: State<'_, AppState>, draft: ProviderDraft) -> Res<ProviderInfo> {
    state
        .core
        .add_provider(NewProvider {
            name: draft.name,
            kind: draft.kind,
            base_url: draft.base_url,
            default_model: draft.default_model,
            api_key: draft.api_key.map(Secret::new),
        })
        .await
        .map_err(err)
}

/// Changes a provider; a new host drops its key.
#[tauri::command]
#[specta::specta]
async fn update_provider(state: State<'_, AppState>, edit: ProviderEdit) -> Res<ProviderInfo> {
    state
        .core
        .update_provider(ProviderUpdate {
            name: edit.name,
            kind: edit.kind,
            base_url: edit.base_url,
            default_model: edit.default_model,
        })
        .await
        .map_err(err)
}

/// Removes a provider and its key.
#[tauri::command]
#[specta::specta]
async fn remove_provider(state: State<'_, AppState>, name: String) -> Res<()> {
    state.core.remove_provider(&name).await.map_err(err)
}

/// Saves a provider's key in the keychain.
#[tauri::command]
#[specta::specta]
async fn set_provider_key(
    state: State<'_, AppState>,
    name: String,
    key: String,
) -> Res<ProviderInfo> {
    state
        .core
        .set_provider_key(&name, Secret::new(key))
        .await
        .map_err(err)
}

/// Deletes a provider's key from the keychain.
#[tauri::command]
#[specta::specta]
async fn clear_provider_key(state: State<'_, AppState>, name: String) -> Res<ProviderInfo> {
    state.core.clear_provider_key(&name).await.map_err(err)
}

/// Checks that a provider (saved or still in the form) answers.
#[tauri::command]
#[specta::specta]
async fn check_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Res<ConnectionReport> {
    state
        .core
        .check_connection(ConnectionCheck {
            kind: draft.kind,
            base_url: draft.base_url,
            api_key: draft.api_key.map(Secret::new),
            saved_provider: draft.saved_provider,
        })
        .await
        .map_err(err)
}

/// A provider's model list: cached, or fetched from the provider when `refresh` is set or
/// nothing is cached yet.
#[tauri::command]
#[specta::specta]
async fn list_models(state: State<'_, AppState>, name: String, refresh: bool) -> Res<ModelList> {
    state.core.model_list(&name, refresh).await.map_err(err)
}

/// Changes a chat's generation settings (system prompt, temperature, ...).
#[tauri::command]
#[specta::specta]
async fn set_session_params(
    state: State<'_, AppState>,
    session_id: SessionId,
    params: SessionParams,
) -> Res<SessionSummary> {
    state
        .core
        .set_session_params(&session_id, params)
        .await
        .map_err(err)
}

/// Answers a pending approval request. The webview can only answer a call that is waiting;
/// what a decision allows is decided in Rust.
#[tauri::command]
#[specta::specta]
async fn decide_approval(
    state: State<'_, AppState>,
    session_id: SessionId,
    call_id: String,
    decision: ApprovalDecision,
) -> Res<()> {
    state
        .core
        .decide_approval(&session_id, &call_id, decision)
        .map_err(err)
}

/// Answers a question the model asked (`None`: skip it).
#[tauri::command]
#[specta::specta]
async fn answer_question(
    state: State<'_, AppState>,
    session_id: SessionId,
    call_id: String,
    answer: Option<String>,
) -> Res<()> {
    state
        .core
        .answer_question(&session_id, &call_id, answer)
        .map_err(err)
}

/// Every saved "always allow" grant.
#[tauri::command]
#[specta::specta]
async fn list_grants(state: State<'_, AppState>) -> Res<Vec<Grant>> {
    state.core.list_grants().await.map_err(err)
}

/// Revokes a saved grant.
#[tauri::command]
#[specta::specta]
async fn revoke_grant(state: State<'_, AppState>, id: u32) -> Res<()> {
    state.core.revoke_grant(i64::from(id)).await.map_err(err)
}

/// The built-in tools.
#[tauri::command]
#[specta::specta]
async fn list_tools(state: State<'_, AppState>) -> Res<Vec<ToolInfo>> {
    Ok(state.core.builtin_tools())
}

/// Every assistant (the default first).
#[tauri::command]
#[specta::specta]
async fn list_assistants(state: State<'_, AppState>) -> Res<Vec<Assistant>> {
    state.core.list_assistants().await.map_err(err)
}

/// Saves an assistant (its workspace is only changed by `choose_assistant_workspace`).
#[tauri::command]
#[specta::specta]
async fn save_assistant(state: State<'_, AppState>, assistant: Assistant) -> Res<Assistant> {
    state.core.save_assistant(assistant).await.map_err(err)
}

/// Deletes an assistant.
#[tauri::command]
#[specta::specta]
async fn delete_assistant(state: State<'_, AppState>, id: String) -> Res<()> {
    state.core.delete_assistant(&id).await.map_err(err)
}

/// Sets a chat up from an assistant (system prompt, tools, workspace).
#[tauri::command]
#[specta::specta]
async fn apply_assistant(
    state: State<'_, AppState>,
    session_id: SessionId,
    assistant_id: String,
) -> Res<SessionSummary> {
    state
        .core
        .apply_assistant(&session_id, &assistant_id)
        .await
        .map_err(err)
}

/// Shows the native folder dialog. The webview never names a path: the workspace is a
/// security boundary, so only a folder the user picked here can become one. E2E tests set
/// `PARLEY_E2E_PICK_FOLDER` (read from the app's own environment) instead of clicking a
/// native dialog WebDriver cannot reach.
async fn pick_folder(app: &tauri::AppHandle, title: &str) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("PARLEY_E2E_PICK_FOLDER") {
        return Some(p.into());
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .pick_folder(move |picked| {
            let _ = tx.send(picked);
        });
    rx.await.ok().flatten().and_then(|p| p.into_path().ok())
}

/// Lets the user choose the chat's workspace folder in a native dialog. `None`: cancelled.
#[tauri::command]
#[specta::specta]
async fn choose_workspace(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    session_id: SessionId,
) -> Res<Option<SessionSummary>> {
    match pick_folder(&app, "Choose the folder this chat's tools may work in").await {
        None => Ok(None),
        Some(dir) => state
            .core
            .set_workspace(&session_id, Some(&dir))
            .await
            .map(Some)
            .map_err(err),
    }
}

/// Removes the chat's workspace (no tools from then on).
#[tauri::command]
#[specta::specta]
async fn clear_workspace(state: State<'_, AppState>, session_id: SessionId) -> Res<SessionSummary> {
    state
        .core
        .set_workspace(&session_id, None)
        .await
        .map_err(err)
}

/// Lets the user choose an assistant's workspace folder in a native dialog, or clears it.
#[tauri::command]
#[specta::specta]
async fn choose_assistant_workspace(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    assistant_id: String,
    clear: bool,
) -> Res<Option<Assistant>> {
    let dir = if clear {
        None
    } else {
        match pick_folder(&app, "Choose the folder this assistant's tools may work in").await {
            None => return Ok(None),
            Some(d) => Some(d),
        }
    };
    state
        .core
        .set_assistant_workspace(&assistant_id, dir.as_deref())
        .await
        .map(Some)
        .map_err(err)
}

/// Ready-made provider configurations.
#[tauri::command]
#[specta::specta]
async fn provider_presets(state: State<'_, AppState>) -> Res<Vec<ProviderPreset>> {
    Ok(state.core.provider_presets())
}

/// Model servers running on this machine (loopback only).
#[tauri::command]
#[specta::specta]
async fn discover_local(state: State<'_, AppState>) -> Res<Vec<LocalServer>> {
    state.core.discover_local().await.map_err(err)
}

/// The user's settings.
#[tauri::command]
#[specta::specta]
async fn get_settings(state: State<'_, AppState>) -> Res<Settings> {
    state.core.settings().await.map_err(err)
}

/// Saves the user's settings.
#[tauri::command]
#[specta::specta]
async fn save_settings(state: State<'_, AppState>, settings: Settings) -> Res<()> {
    state.core.save_settings(settings).await.map_err(err)
}

/// Opens a link from a message in the system browser: http(s) and mailto only.
#[tauri::command]
#[specta::specta]
async fn open_link(app: tauri::AppHandle, url: String) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let parsed = url::Url::parse(&url).map_err(|_| {
        ErrorInfo::new(
            ErrorCode::InvalidInput,
            "That link is not a valid address.",
            false,
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
        return Err(ErrorInfo::new(
            ErrorCode::InvalidInput,
            format!(
                "Parley opens only web and e-mail links, not {}: links.",
                parsed.scheme()
            ),
            false,
        ));
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|e| {
            ErrorInfo::new(
                ErrorCode::Internal,
                format!("Could not open the link: {e}"),
                true,
            )
        })
}

/// The UI calls this once the session list is first painted. Only the benchmark listens: with
/// `PARLEY_READY_FILE` set, the moment is written there (unix ms).
#[tauri::command]
#[specta::specta]
async fn app_ready() -> Res<()> {
    if let Some(path) = std::env::var_os("PARLEY_READY_FILE") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let _ = std::fs::write(path, now.to_string());
    }
    Ok(())
}

/// The commands and types the UI sees; `ui/src/bindings.ts` is generated from this.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new().commands(tauri_specta::collect_commands![
        list_sessions,
        create_session,
        rename_session,
        delete_session,
        get_history,
        send_message,
        retry_turn,
        stop_turn,
        attach_events,
        list_providers,
        add_provider,
        update_provider,
        remove_provider,
        set_provider_key,
        clear_provider_key,
        check_connection,
        list_models,
        set_session_params,
        provider_presets,
        discover_local,
        get_settings,
        save_settings,
        open_link,
        app_ready,
        decide_approval,
        answer_question,
        list_grants,
        revoke_grant,
        list_tools,
        list_assistants,
        save_assistant,
        delete_assistant,
        apply_assistant,
        choose_workspace,
        clear_workspace,
        choose_assistant_workspace,
    ])
}

/// The TypeScript bindings as they should be checked in.
pub fn bindings_typescript() -> Result<String, String> {
    let path = std::env::temp_dir().join(format!("parley-bindings-{}.ts", std::process::id()));
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from the Rust commands by tauri-specta. Do not edit: run `cargo xtask bindings`.\n// @ts-nocheck"),
            &path,
        )
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&path);
    Ok(text)
}

/// Where the webview may navigate: only the app itself (and Vite's dev server in dev builds).
fn navigation_allowed(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => true,
        ("http", Some("127.0.0.1")) if cfg!(dev) => url.port() == Some(5173),
        _ => false,
    }
}

/// Starts the app on an opened core.
pub fn run(core: Core) -> Result<(), tauri::Error> {
    let builder = specta_builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(core))
        .invoke_handler(builder.invoke_handler())
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("index.html".into()),
            )
            .title("Parley")
            .inner_size(1100.0, 720.0)
            .min_inner_size(640.0, 480.0)
            .on_navigation(|url| {
                let ok = navigation_allowed(url);
                if !ok {
                    tracing::warn!("blocked navigation to {url}");
                }
                ok
            })
            .build()?;
            // Save size and position shortly after every change, not only at a clean exit:
            // a crash or a forced quit keeps the last layout too.
            let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let handle = app.handle().clone();
            if let Some(window) = app.get_webview_window("main") {
                window.on_window_event(move |event| {
                    if matches!(
                        event,
                        tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_)
                    ) {
                        let mine = generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        let generation = generation.clone();
                        let handle = handle.clone();
                        tauri::async_runtime::spawn(async move {
                            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
                            if generation.load(std::sync::atomic::Ordering::SeqCst) == mine {
                                use tauri_plugin_window_state::{AppHandleExt, StateFlags};
                                if let Err(e) = handle.save_window_state(StateFlags::all()) {
                                    tracing::warn!("could not save the window state: {e}");
                                }
                            }
                        });
                    }
                });
            }
            Ok(())
        })
        .run(tauri::generate_context!())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when ui/src/bindings.ts no longer matches the Rust commands and types.
    #[test]
    fn bindings_are_current() {
        let want = bindings_typescript().unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "ui/src/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
        );
    }

    #[test]
    fn navigation_stays_inside_the_app() {
        let ok = |u: &str| navigation_allowed(&url::Url::parse(u).unwrap());
        assert!(ok("tauri://localhost/index.html"));
        assert!(ok("http://tauri.localhost/"));
        assert!(!ok("https://example.com/"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("data:text/html,hi"));
    }
}
