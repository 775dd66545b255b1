//! Parley desktop: a thin adapter over parley-core. One [`AppState`] holds the core; every
//! command (in `commands/`, one file per topic) is a few lines onto one core service method of
//! the same name; turn events reach the window through one
//! `tauri::ipc::Channel<Event>` per window. Security decisions (which links open, where the
//! webview may navigate, where keys go) are made here in Rust, never in the webview.

// Test code may run long (a scenario reads top to bottom). Everything else keeps to 80 lines
// (clippy.toml): the build without cfg(test), which `clippy --all-targets` checks too, has
// no such allowance.
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod artifact_scheme;
mod artifact_window;
mod attachment_scheme;
mod card;
mod commands;
pub mod e2e;
pub mod rendering;

use commands::{
    about, app, approvals, artifacts, assistants, attachments, attachments_pick, chats, data,
    history, ledger, mcp, models, prompts, providers, queue, search, settings, tools, updates,
    usage, websearch,
};
use parley_core::{Core, CoreError};
use parley_protocol::ErrorInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::Manager;

/// Everything the commands share.
pub struct AppState {
    /// The core (chats, providers, turns).
    pub core: Core,
    /// The event forwarder of each window, replaced when the window reloads.
    pub(crate) forwarders: Mutex<HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
    /// The file picked for an import, between its preview and the person's confirmation (the
    /// webview never names a path).
    pub(crate) pending_import: Mutex<Option<std::path::PathBuf>>,
    /// The running import or preview, for its Cancel button.
    pub(crate) importing: Mutex<Option<parley_core::history::ImportControl>>,
    /// The cancel flag of each file being attached, by the job id the window chose.
    pub(crate) attaching: Mutex<HashMap<String, std::sync::Arc<std::sync::atomic::AtomicBool>>>,
}

impl AppState {
    /// Wraps an opened core.
    pub fn new(core: Core) -> Self {
        AppState {
            core,
            forwarders: Mutex::new(HashMap::new()),
            pending_import: Mutex::new(None),
            importing: Mutex::new(None),
            attaching: Mutex::new(HashMap::new()),
        }
    }
}

pub(crate) type Res<T> = Result<T, ErrorInfo>;

pub(crate) fn err(e: CoreError) -> ErrorInfo {
    e.to_info()
}

/// Knowledge the window shares with the core, generated rather than copied: the characters
/// approval dialogs make visible, the chat-settings limits, the events that end a turn and
/// the providers' default addresses, the built-in engine's name as a provider.
fn shared_constants(b: tauri_specta::Builder<tauri::Wry>) -> tauri_specta::Builder<tauri::Wry> {
    b.constant("HIDDEN_RANGES", parley_protocol::visible::HIDDEN_RANGES)
        .constant("PARAM_LIMITS", parley_protocol::PARAM_LIMITS)
        .constant("TURN_END_EVENTS", parley_protocol::TURN_END_EVENTS)
        .constant(
            "DEFAULT_BASE_URLS",
            parley_core::providers::presets::default_base_urls(),
        )
        .constant("BUILTIN_PROVIDER", parley_protocol::BUILTIN_PROVIDER)
}

/// The commands and types the UI sees; `ui/src/bindings.ts` is generated from this.
// One list of every command the window may call, in a fixed order (the order of the bindings),
// packed a few to a line.
#[rustfmt::skip]
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    shared_constants(tauri_specta::Builder::<tauri::Wry>::new()).commands(
        tauri_specta::collect_commands![
            chats::create_chat, chats::rename_chat, chats::delete_chat, history::get_history,
            history::get_part, attachments_pick::pick_attachments, attachments_pick::watch_drops,
            chats::send_message, chats::retry_turn, chats::stop_turn, chats::attach_events,
            providers::list_providers, providers::add_provider, providers::update_provider,
            providers::remove_provider, providers::clear_provider_key, providers::wait_change,
            providers::check_connection, providers::list_models, chats::set_chat_params,
            chats::use_imported_system, providers::provider_presets, providers::discover_local,
            settings::get_settings, settings::save_settings, app::open_link, app::app_ready,
            app::data_status, data::back_up_now, data::restore_backup, approvals::answer_question,
            approvals::list_grants, approvals::revoke_grant, tools::list_tools,
            assistants::list_assistants, assistants::save_assistant, assistants::delete_assistant,
            assistants::apply_assistant, chats::choose_workspace, chats::clear_workspace,
            assistants::choose_assistant_workspace, chats::list_chats, chats::chat_counts,
            chats::get_chat, chats::edit_message, chats::regenerate, chats::switch_branch,
            chats::rewind, chats::fork, chats::delete_branch, chats::set_pinned,
            chats::set_archived, chats::retitle, data::export_chats, data::preview_import,
            data::confirm_import, data::cancel_import, search::search, usage::usage_report,
            usage::chat_usage, usage::get_prices, usage::save_prices, chats::estimate_context,
            providers::get_context_windows, providers::save_context_windows,
            attachments::attach_file, attachments::attach_bytes, attachments::cancel_attach,
            models::list_local_models, models::pick_local_model, models::add_found_model,
            models::remove_local_model, models::set_local_model_settings, models::engine_status,
            models::engine_log, models::set_engine_idle, models::stop_engine,
            models::start_model_download, models::pause_model_download,
            models::cancel_model_download, models::model_downloads, models::model_hub,
            models::model_catalogue,
            mcp::list_mcp_servers, mcp::add_mcp_server, mcp::remove_mcp_server,
            mcp::sign_in_mcp_server, mcp::cancel_mcp_sign_in, mcp::sign_out_mcp_server,
            mcp::enable_mcp_server, mcp::disable_mcp_server, mcp::test_mcp_server,
            mcp::accept_mcp_tool, mcp::mcp_server_log, mcp::import_mcp_config,
            mcp::mark_mcp_tool_read_only, mcp::unmark_mcp_tool_read_only, mcp::list_mcp_prompts,
            mcp::get_mcp_prompt, mcp::list_mcp_resources, mcp::attach_mcp_resource,
            about::about_info, about::open_folder, about::diagnostics, about::third_party_notices,
            ledger::list_outbound, updates::update_support, updates::check_update,
            updates::download_update, updates::update_download_state,
            updates::cancel_update_download, updates::install_update, prompts::list_prompts,
            prompts::save_prompt, prompts::delete_prompt, prompts::fill_prompt,
            prompts::export_prompts, prompts::import_prompts, queue::list_queued,
            queue::queue_message, queue::edit_queued, queue::remove_queued, queue::send_now,
            artifacts::show_artifact, artifacts::place_artifact, artifacts::close_artifact,
            artifacts::save_artifact, websearch::get_search_backend,
            websearch::set_search_backend, websearch::remove_search_backend,
            websearch::test_search_backend, chats::compare_models, chats::stop_column,
            chats::answer_cost,
        ],
    )
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

/// Where the main webview may navigate: only the app itself and Vite's dev server in dev
/// builds. Never the cards' scheme: the cards live in windows of their own (card/window.rs).
fn navigation_allowed(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => true,
        ("http", Some("127.0.0.1")) if cfg!(dev) => url.port() == Some(5173),
        _ => false,
    }
}

/// Starts the app on an opened core.
/// The main window's navigation: allowed or blocked (and logged, by scheme and host only:
/// where a page tried to go can be a message's link).
fn navigation_checked(url: &url::Url) -> bool {
    let ok = navigation_allowed(url);
    if !ok {
        let host = url.host_str().unwrap_or("");
        tracing::warn!("blocked navigation to {}://{host}", url.scheme());
    }
    ok
}

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
        // Only the main window's layout is kept: Rust places every card window itself.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_filter(|label| label == "main")
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        // Its commands are not granted to the page: only Parley's own (commands/updates.rs).
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(AppState::new(core))
        .manage(attachments_pick::Drops::default())
        .manage(card::Nonces::default())
        .manage(card::Changes::default())
        .manage(card::Windows::default())
        .manage(updates::Updates::default())
        .manage(artifact_scheme::Artifacts::default())
        .manage(artifact_window::Placement::default())
        // Approval decisions and provider changes are made only in the cards, on their own
        // origin and in windows of their own (card/mod.rs, card/change.rs, card/window.rs).
        .register_asynchronous_uri_scheme_protocol(card::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            let label = ctx.webview_label().to_owned();
            tauri::async_runtime::spawn(async move {
                responder.respond(card::serve(&app, &label, &request).await);
            });
        })
        // Previews of answers' HTML, SVG and diagrams, each page served once (artifact_scheme.rs).
        .register_asynchronous_uri_scheme_protocol(artifact_scheme::SCHEME, artifact_scheme::handle)
        // Stored images and their thumbnails, by address (attachment_scheme.rs).
        .register_asynchronous_uri_scheme_protocol(
            attachment_scheme::SCHEME,
            attachment_scheme::handle,
        )
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
            .on_navigation(navigation_checked)
            .build()?;
            card::window::watch_requests(app.handle());
            card::ask::watch(app.handle());
            watch_main_window(app.handle());
            attachments_pick::watch(app.handle());
            end_on_signals(app.handle());
            updates::schedule(app.handle());
            Ok(())
        })
        .build(tauri::generate_context!())?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                shut_down(app);
            }
        });
    Ok(())
}

/// Ends what Parley runs before the process goes: MCP servers cleanly (each local one's
/// process group with it), the built-in engine, then the data. At exit, and before an
/// update's installer takes over (Windows ends the process without an exit event).
pub(crate) fn shut_down(app: &tauri::AppHandle) {
    let core = app.state::<AppState>().core.clone();
    tauri::async_runtime::block_on(async move {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), core.mcp().close_all()).await;
        core.models().stop_engine().await;
    });
    app.state::<AppState>().core.end();
}

/// The main window's events: the cards go with it; its size and position are saved shortly
/// after every change, not only at a clean exit (a crash or a forced quit keeps the last
/// layout too).
fn watch_main_window(app: &tauri::AppHandle) {
    let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handle = app.clone();
    if let Some(window) = app.get_webview_window("main") {
        window.on_window_event(move |event| {
            if matches!(event, tauri::WindowEvent::Destroyed) {
                // The cards and the preview belong to the main window: they go with it.
                card::window::close_all(&handle);
                artifact_window::close(&handle);
            }
            if matches!(event, tauri::WindowEvent::Moved(_)) {
                artifact_window::follow(&handle);
            }
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
                        save_window_state_on_main_thread(&handle);
                    }
                });
            }
        });
    }
}

/// Saves the windows' size and position, on the main thread. The plugin holds its lock while
/// it asks the window for its state, and a window's getters wait for the main thread: from any
/// other thread, a window event arriving meanwhile (the main thread then waits for the same
/// lock) froze the window for good, mid-start.
fn save_window_state_on_main_thread(app: &tauri::AppHandle) {
    let handle = app.clone();
    let queued = app.run_on_main_thread(move || {
        use tauri_plugin_window_state::{AppHandleExt, StateFlags};
        if let Err(e) = handle.save_window_state(StateFlags::all()) {
            tracing::warn!("could not save the window state: {e}");
        }
    });
    if let Err(e) = queued {
        tracing::warn!("could not save the window state: {e}");
    }
}

/// A window closed by the system (logout, shutdown, `kill`) ends as cleanly as one the person
/// closes: the core is ended (so the next start knows the run ended well and does not check
/// every page of the database), then the app exits.
fn end_on_signals(app: &tauri::AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
                signal(SignalKind::interrupt()),
            ) else {
                return tracing::warn!("cannot watch for signals: the window ends as a crash");
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = hup.recv() => {}
                _ = int.recv() => {}
            }
            app.state::<AppState>().core.end();
            app.exit(0);
            // Should the event loop not wind down, the process still ends.
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            std::process::exit(0);
        });
    }
    #[cfg(not(unix))]
    let _ = app;
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
        assert!(!ok("parley-approve://localhost/card?session=s&call=c"));
        assert!(!ok("http://parley-approve.localhost/card"));
        assert!(!ok("parley-approve://evil.com/card"));
        assert!(!ok("https://example.com/"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("data:text/html,hi"));
        // Previews run in windows of their own, never in this one (artifact_window.rs).
        assert!(!ok(
            "parley-artifact://localhost/0123456789abcdef0123456789abcdef"
        ));
        assert!(!ok(
            "parley-artifact://localhost/frame/0123456789abcdef0123456789abcdef"
        ));
        assert!(!ok("http://parley-artifact.localhost/x"));
    }
}
