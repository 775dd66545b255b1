//! What the merge follows: an import's staging database as it is written (a few megabytes of
//! chats at a time, `Written`), or a whole file (a backup); and the import's Cancel, heard
//! until the merge commits.

use crate::error::StoreError;
use std::sync::mpsc::{Receiver, Sender};
use tokio_util::sync::CancellationToken;

/// How much of the source the merge may read. An import's staging database is merged while
/// it is written, a few megabytes of chats at a time (reading the file and merging it each
/// take a core); a backup is whole from the start.
pub(crate) enum Written {
    /// Chats up to this row id are written (committed).
    Upto(i64),
    /// All of it is written.
    All,
}

/// What the merge follows: the writer of the source, or nothing (a whole file).
pub(crate) struct Follow {
    writer: Option<Receiver<Written>>,
    /// The import's Cancel: heard until the merge commits, not only while the file is read.
    cancel: Option<CancellationToken>,
}

impl Follow {
    /// A source that is whole (a backup).
    pub(crate) fn whole() -> Follow {
        Follow {
            writer: None,
            cancel: None,
        }
    }

    /// A source being written: its writer tells how far it is.
    pub(crate) fn written(cancel: CancellationToken) -> (Sender<Written>, Follow) {
        let (tx, rx) = std::sync::mpsc::channel();
        let follow = Follow {
            writer: Some(rx),
            cancel: Some(cancel),
        };
        (tx, follow)
    }

    /// `Err` once the import is cancelled: the merge then rolls back whatever it did.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        match &self.cancel {
            Some(c) if c.is_cancelled() => Err(StoreError::BadFile(READING_STOPPED.into())),
            _ => Ok(()),
        }
    }

    /// Whether the source is an import's staging database, written by this process.
    pub(super) fn ours(&self) -> bool {
        self.writer.is_some()
    }

    /// Waits until more is written: the last chat (row id) that may be read, and whether that
    /// is all. A writer gone without saying so stopped (its error is the import's).
    pub(super) fn next(&mut self) -> Result<(i64, bool), StoreError> {
        match &self.writer {
            None => Ok((i64::MAX, true)),
            Some(rx) => match rx.recv() {
                Ok(Written::Upto(rowid)) => Ok((rowid, false)),
                Ok(Written::All) => Ok((i64::MAX, true)),
                Err(_) => Err(StoreError::BadFile(READING_STOPPED.into())),
            },
        }
    }
}

/// Why the merge stops when the import's reading stopped (the reading says why).
const READING_STOPPED: &str = "reading the file stopped before its end; nothing of it was added.";

/// Whether the merge stopped because the reading it followed did.
pub(crate) fn stopped_reading(e: &StoreError) -> bool {
    matches!(e, StoreError::BadFile(why) if why == READING_STOPPED)
}
