//! Attachments: a file the person chose (`attach_file`), or bytes pasted or dropped
//! (`attach_bytes`), read and converted off the UI thread — the core runs ingest on a blocking
//! thread — and cancellable by the job id the window chose (`cancel_attach`). What comes back
//! is the part the message will carry; `send_message` takes it in `options.attachments`, and
//! the core checks it again. The stored images reach the window through the `attachment:`
//! scheme (`crate::attachment_scheme`), never through a command.

use super::prelude::*;
use parley_protocol::Attachment;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The most bytes `attach_bytes` takes (base64 of a 50 MB image and a little more).
const MAX_PASTED_BASE64: usize = 70 << 20;

/// Attaches the file at `path` (from the native dialog or a drop); `job` is the window's id
/// for this attaching, for `cancel_attach`.
#[tauri::command]
#[specta::specta]
pub async fn attach_file(state: State<'_, AppState>, path: String, job: String) -> Res<Attachment> {
    let cancel = state.start_job(&job);
    let result = state
        .core
        .attachments()
        .attach_file(std::path::Path::new(&path), cancel)
        .await;
    state.end_job(&job);
    result.map_err(err)
}

/// Attaches bytes that are no file of their own (an image pasted from the clipboard): `name`
/// as shown ("" when pasted), `mime` as the clipboard said (the bytes decide), `data` base64.
#[tauri::command]
#[specta::specta]
pub async fn attach_bytes(
    state: State<'_, AppState>,
    name: String,
    mime: String,
    data: String,
    job: String,
) -> Res<Attachment> {
    if data.len() > MAX_PASTED_BASE64 {
        return Err(err(parley_core::CoreError::InvalidInput(format!(
            "The pasted data is {} MB; Parley attaches images of up to 50 MB.",
            (data.len() * 3 / 4) >> 20
        ))));
    }
    let bytes = parley_core::attachments::from_base64(&data).ok_or_else(|| {
        err(parley_core::CoreError::InvalidInput(
            "The pasted data could not be read (it is not base64).".into(),
        ))
    })?;
    let cancel = state.start_job(&job);
    let result = state
        .core
        .attachments()
        .attach_bytes(&name, &mime, bytes, cancel)
        .await;
    state.end_job(&job);
    result.map_err(err)
}

/// Cancels the attaching `job` (nothing is stored); a finished or unknown job is left alone.
#[tauri::command]
#[specta::specta]
pub async fn cancel_attach(state: State<'_, AppState>, job: String) -> Res<()> {
    if let Some(flag) = state.jobs().get(&job) {
        flag.store(true, Ordering::Relaxed);
    }
    Ok(())
}

impl AppState {
    fn jobs(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<AtomicBool>>> {
        self.attaching
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cancel flag of a new attaching job (a job id used again gets a fresh flag).
    pub(super) fn start_job(&self, job: &str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.jobs().insert(job.to_owned(), flag.clone());
        flag
    }

    pub(super) fn end_job(&self, job: &str) {
        self.jobs().remove(job);
    }
}
