//! `parley ask --attach FILE` (repeatable): each file read and converted before anything is
//! sent — an image stored once, metadata stripped; a document as its text — off the async
//! threads, Ctrl-C cancelling it. A file that cannot be attached fails the command with a
//! sentence naming it, and no message is sent.

use crate::term;
use parley_core::Core;
use parley_protocol::Part;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The parts the files become, in order; the notes of each (downscaled, a PDF's pages) go to
/// standard error unless `quiet` (`--json`).
pub async fn attach_all(
    core: &Core,
    files: &[PathBuf],
    quiet: bool,
) -> Result<Vec<Part>, crate::Failure> {
    let mut parts = Vec::with_capacity(files.len());
    for file in files {
        let cancel = Arc::new(AtomicBool::new(false));
        let attaching = core.attachments().attach_file(file, cancel.clone());
        tokio::pin!(attaching);
        let attached = tokio::select! {
            a = &mut attaching => a,
            _ = tokio::signal::ctrl_c() => {
                cancel.store(true, Ordering::Relaxed);
                attaching.await
            }
        }?;
        if !quiet {
            for note in &attached.notes {
                term::err(&format!("{}: {note}\n", file.display()));
            }
        }
        parts.push(attached.part);
    }
    Ok(parts)
}
