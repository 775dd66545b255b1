//! Cleaning up: an image's bytes stay stored while a message part refers to them (an image
//! part's body is their address) and go when none does — after a chat, a branch or an
//! imported copy is deleted — unless they are waiting to be sent.
//!
//! Decided: bytes attached in the composer but not sent yet are kept for [`GRACE_MS`] (seven
//! days) from when they were last attached (`attachment_blobs.attached_at`); sending them
//! ends the wait (`attached_at = 0`), so an image sent and then deleted goes at the next
//! clean-up. An image kept in a composer longer than that, across a clean-up, is refused at
//! sending with a sentence asking to attach it again. The clean-up runs at start and after
//! chats, branches or messages are deleted (`AttachmentService::collect_garbage`).

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{params, Connection};

/// How long bytes attached but not sent are kept (ms): seven days.
pub const GRACE_MS: i64 = 7 * 24 * 3600 * 1000;

/// The condition on `attachment_blobs` rows (as `b`) that no part refers to; the partial
/// index `parts_images` answers it without reading any other part.
macro_rules! unreferenced {
    () => {
        "NOT EXISTS (SELECT 1 FROM parts p INDEXED BY parts_images
                     WHERE p.kind = 'image' AND p.body = b.sha256)"
    };
}

/// Removes the images no part refers to that were not attached after `before` (ms), and their
/// thumbnails; returns how many images went. One transaction.
pub(in crate::attachments) fn collect(c: &mut Connection, before: i64) -> Result<u64, StoreError> {
    let tx = c.transaction()?;
    tx.execute(
        concat!(
            "DELETE FROM attachment_thumbnails WHERE sha256 IN
                 (SELECT b.sha256 FROM attachment_blobs b WHERE b.attached_at < ?1 AND ",
            unreferenced!(),
            ")"
        ),
        params![before],
    )?;
    let gone = tx.execute(
        concat!(
            "DELETE FROM attachment_blobs AS b WHERE b.attached_at < ?1 AND ",
            unreferenced!()
        ),
        params![before],
    )?;
    tx.commit()?;
    Ok(gone as u64)
}

impl Store {
    /// Removes the images no part refers to, but those attached in the last [`GRACE_MS`]
    /// before `now` and not sent since.
    pub(in crate::attachments) async fn collect_blobs(&self, now: i64) -> Result<u64, StoreError> {
        self.writer
            .call(move |c| collect(c, now.saturating_sub(GRACE_MS)))
            .await
    }

    /// Marks these images sent: their wait is over (see the module's doc).
    pub(in crate::attachments) async fn mark_sent(
        &self,
        shas: Vec<String>,
    ) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                for sha in &shas {
                    tx.prepare_cached(
                        "UPDATE attachment_blobs SET attached_at = 0 WHERE sha256 = ?1",
                    )?
                    .execute([sha])?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}
