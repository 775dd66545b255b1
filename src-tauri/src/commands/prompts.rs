//! Settings → Prompts and the composer's `/` menu: saved prompts with `{{variables}}`, filled
//! in by the core; import and export through native dialogs (the page never names a path).

use super::prelude::*;
use parley_protocol::{Prompt, PromptDraft, PromptImport};

/// Every saved prompt, by name.
#[tauri::command]
#[specta::specta]
pub async fn list_prompts(state: State<'_, AppState>) -> Res<Vec<Prompt>> {
    state.core.prompts().list().await.map_err(err)
}

/// Saves a prompt (new, or a change with its id).
#[tauri::command]
#[specta::specta]
pub async fn save_prompt(state: State<'_, AppState>, draft: PromptDraft) -> Res<Prompt> {
    state.core.prompts().save(draft).await.map_err(err)
}

/// Removes a prompt.
#[tauri::command]
#[specta::specta]
pub async fn delete_prompt(state: State<'_, AppState>, id: String) -> Res<()> {
    state.core.prompts().remove(&id).await.map_err(err)
}

/// The prompt's text with its variables filled in (`values`: name and value).
#[tauri::command]
#[specta::specta]
pub async fn fill_prompt(
    state: State<'_, AppState>,
    id: String,
    values: Vec<(String, String)>,
) -> Res<String> {
    state.core.prompts().fill(&id, &values).await.map_err(err)
}

/// Writes every prompt as JSON to a file the person picks; its path, or `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_prompts(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Res<Option<String>> {
    let text = state.core.prompts().export().await.map_err(err)?;
    let filter = Some(("Prompts (JSON)", "json"));
    super::data::save_file(&app, "Export prompts", "parley-prompts.json", filter, &text).await
}

/// Adds the prompts of a JSON file the person picks; `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn import_prompts(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Res<Option<PromptImport>> {
    let file = super::data::pick_file(
        &app,
        "PARLEY_E2E_PICK_IMPORT",
        "Import prompts",
        None,
        ("Prompts (JSON)", "json"),
    )
    .await;
    let Some(file) = file else { return Ok(None) };
    let too_big = |e: String| ErrorInfo::new(ErrorCode::InvalidInput, e, false);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    if size > parley_core::prompts::FILE_MAX as u64 {
        return Err(too_big(format!(
            "{} is over 8 MB: not a prompt list.",
            file.display()
        )));
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|e| too_big(format!("{} could not be read as text: {e}", file.display())))?;
    state
        .core
        .prompts()
        .import(&text)
        .await
        .map(Some)
        .map_err(err)
}
