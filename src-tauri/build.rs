//! Tauri build script. Each app command gets its own permission (`allow-<command>`), so the
//! capability file can grant exactly the commands the window uses and nothing else.

const COMMANDS: &[&str] = &[
    "create_chat",
    "rename_chat",
    "delete_chat",
    "get_history",
    "get_part",
    "pick_attachments",
    "watch_drops",
    "send_message",
    "retry_turn",
    "stop_turn",
    "attach_events",
    "list_providers",
    "add_provider",
    "update_provider",
    "remove_provider",
    "clear_provider_key",
    "wait_change",
    "check_connection",
    "list_models",
    "set_chat_params",
    "use_imported_system",
    "provider_presets",
    "discover_local",
    "get_settings",
    "save_settings",
    "open_link",
    "app_ready",
    "data_status",
    "back_up_now",
    "restore_backup",
    "answer_question",
    "list_grants",
    "revoke_grant",
    "list_tools",
    "list_assistants",
    "save_assistant",
    "delete_assistant",
    "apply_assistant",
    "choose_workspace",
    "clear_workspace",
    "choose_assistant_workspace",
    "list_chats",
    "chat_counts",
    "get_chat",
    "edit_message",
    "regenerate",
    "switch_branch",
    "rewind",
    "fork",
    "delete_branch",
    "set_pinned",
    "set_archived",
    "retitle",
    "export_chats",
    "preview_import",
    "confirm_import",
    "cancel_import",
    "search",
    "usage_report",
    "chat_usage",
    "get_prices",
    "save_prices",
    "estimate_context",
    "get_context_windows",
    "save_context_windows",
    "attach_file",
    "attach_bytes",
    "cancel_attach",
    "list_mcp_servers",
    "add_mcp_server",
    "remove_mcp_server",
    "enable_mcp_server",
    "disable_mcp_server",
    "test_mcp_server",
    "sign_in_mcp_server",
    "cancel_mcp_sign_in",
    "sign_out_mcp_server",
    "accept_mcp_tool",
    "mcp_server_log",
    "import_mcp_config",
    "mark_mcp_tool_read_only",
    "unmark_mcp_tool_read_only",
    "list_mcp_prompts",
    "get_mcp_prompt",
    "list_mcp_resources",
    "attach_mcp_resource",
    "list_local_models",
    "pick_local_model",
    "add_found_model",
    "remove_local_model",
    "set_local_model_settings",
    "engine_status",
    "engine_log",
    "set_engine_idle",
    "stop_engine",
    "start_model_download",
    "pause_model_download",
    "cancel_model_download",
    "model_downloads",
    "model_hub",
    "model_catalogue",
    "about_info",
    "open_folder",
    "diagnostics",
    "third_party_notices",
    "list_outbound",
    "update_support",
    "check_update",
    "download_update",
    "update_download_state",
    "cancel_update_download",
    "install_update",
    "list_prompts",
    "save_prompt",
    "delete_prompt",
    "fill_prompt",
    "export_prompts",
    "import_prompts",
    "list_queued",
    "queue_message",
    "edit_queued",
    "remove_queued",
    "send_now",
    "show_artifact",
    "place_artifact",
    "close_artifact",
    "save_artifact",
    "get_search_backend",
    "set_search_backend",
    "remove_search_backend",
    "test_search_backend",
    "compare_models",
    "stop_column",
    "answer_cost",
];

/// The identifier, from Cargo.toml (`[package.metadata.parley] identifier`), the one place it
/// is written: handed to Tauri through `TAURI_CONFIG`, merged over tauri.conf.json (which has
/// none), for this script's `tauri_build` and, through `rustc-env`, for `generate_context!`.
/// The bundler (`cargo xtask bundle`) is given the same, read by xtask from the same line.
fn identifier_into_config() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    let manifest = std::fs::read_to_string("Cargo.toml")
        .unwrap_or_else(|e| panic!("Cargo.toml could not be read: {e}"));
    let mut in_table = false;
    let mut identifier = None;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.parley]";
        } else if let Some(v) = line.strip_prefix("identifier").filter(|_| in_table) {
            identifier = Some(
                v.trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_owned(),
            );
        }
    }
    let Some(identifier) = identifier else {
        panic!("Cargo.toml has no [package.metadata.parley] identifier");
    };
    // What the Tauri CLI passed (a bundle's `--config`), with the identifier set over it.
    let mut config: serde_json::Value = std::env::var("TAURI_CONFIG")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    config["identifier"] = serde_json::Value::String(identifier.clone());
    config["plugins"]["updater"] = update_source();
    let config = config.to_string();
    // Before any thread exists: tauri_build reads it below.
    std::env::set_var("TAURI_CONFIG", &config);
    println!("cargo:rustc-env=TAURI_CONFIG={config}");
    println!("cargo:rustc-env=PARLEY_IDENTIFIER={identifier}");
}

/// Where a release build looks for updates, and the key their packages are signed with: set
/// by the release workflow (`PARLEY_UPDATE_ENDPOINT`, `PARLEY_UPDATE_PUBKEY`: docs/RELEASING.md).
/// A build without them has no update source (About says so). The key is also the updater
/// plugin's configuration (it must have one); the app reads both with `option_env!`.
fn update_source() -> serde_json::Value {
    let mut pubkey = String::new();
    for name in ["PARLEY_UPDATE_ENDPOINT", "PARLEY_UPDATE_PUBKEY"] {
        println!("cargo:rerun-if-env-changed={name}");
        let value = std::env::var(name).unwrap_or_default();
        if name == "PARLEY_UPDATE_ENDPOINT" && !value.is_empty() && !value.starts_with("https://") {
            panic!("PARLEY_UPDATE_ENDPOINT must be an https address: {value}");
        }
        println!("cargo:rustc-env={name}={}", value.trim());
        if name == "PARLEY_UPDATE_PUBKEY" {
            pubkey = value.trim().to_owned();
        }
    }
    serde_json::json!({ "pubkey": pubkey })
}

fn main() {
    identifier_into_config();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri build script failed: {e:#}"));
}
