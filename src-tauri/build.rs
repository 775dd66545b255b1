//! Tauri build script. Each app command gets its own permission (`allow-<command>`), so the
//! capability file can grant exactly the commands the window uses and nothing else.

const COMMANDS: &[&str] = &[
    "list_sessions",
    "create_session",
    "rename_session",
    "delete_session",
    "get_history",
    "get_part",
    "send_message",
    "retry_turn",
    "stop_turn",
    "attach_events",
    "list_providers",
    "add_provider",
    "update_provider",
    "remove_provider",
    "clear_provider_key",
    "check_connection",
    "list_models",
    "set_session_params",
    "provider_presets",
    "discover_local",
    "get_settings",
    "save_settings",
    "open_link",
    "app_ready",
    "data_status",
    "back_up_now",
    "restore_backup",
    "decide_approval",
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
    "get_session",
    "edit_message",
    "regenerate",
    "switch_branch",
    "rewind",
    "fork",
    "delete_branch",
    "set_pinned",
    "set_archived",
    "chat_tree",
    "retitle",
    "export_chats",
    "preview_import",
    "confirm_import",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri build script failed: {e:#}"));
}
