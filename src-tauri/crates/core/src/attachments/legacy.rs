//! Image rows of the older inline shape (before attachments were stored apart: the body the
//! base64 bytes, the meta the MIME type alone) moved into storage, at start and after a
//! restore: each through the same checks as an attached file (`transfer::take_in`: ingest,
//! metadata stripped), the row then pointing at the stored bytes; bytes that are not a valid
//! image become a text note in the image's place, saying why. One row per transaction, found
//! through the image parts' index (only image rows are read).

use super::transfer::take_in;
use super::AttachmentService;
use crate::error::{CoreError, StoreError};
use crate::store::{codec, Store};
use rusqlite::{params, OptionalExtension};

/// An image row of the older shape: which part it is.
type RowKey = (String, i64);

/// The condition on `parts` (as `p`) of an image row of the older shape.
macro_rules! inline_image {
    () => {
        "p.kind = 'image' AND CASE WHEN json_valid(p.meta) THEN json_type(p.meta) END = 'text'"
    };
}

impl Store {
    /// The next image row of the older shape after `after`.
    async fn next_inline_image(&self, after: RowKey) -> Result<Option<RowKey>, StoreError> {
        self.reader
            .call(move |c| {
                Ok(c.prepare_cached(concat!(
                    "SELECT p.message_id, p.idx FROM parts p INDEXED BY parts_images
                     WHERE ",
                    inline_image!(),
                    " AND (p.message_id, p.idx) > (?1, ?2)
                     ORDER BY p.message_id, p.idx LIMIT 1"
                ))?
                .query_row(params![after.0, after.1], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
            })
            .await
    }

    /// Moves one image row of the older shape into storage (see the module's doc).
    async fn convert_inline_row(
        &self,
        key: RowKey,
        limits: std::sync::Arc<super::ingest::Limits>,
    ) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let row: Option<(String, String)> = tx
                    .query_row(
                        concat!(
                            "SELECT p.body, p.meta FROM parts p WHERE p.message_id = ?1 AND p.idx = ?2 AND ",
                            inline_image!()
                        ),
                        params![key.0, key.1],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((body, meta)) = row else {
                    return Ok(());
                };
                let mut part = codec::decode_part("image", body, Some(&meta))?;
                take_in(&tx, &mut part, &limits)?;
                let (kind, body, meta) = codec::encode_part(&part)?;
                tx.execute(
                    "UPDATE parts SET kind = ?3, body = ?4, meta = ?5 WHERE message_id = ?1 AND idx = ?2",
                    params![key.0, key.1, kind, body, meta],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

impl AttachmentService {
    /// Moves every image row of the older inline shape into storage; returns how many.
    pub(super) async fn convert_inline(&self) -> Result<u64, CoreError> {
        let store = &self.store;
        let mut at: RowKey = (String::new(), -1);
        let mut moved = 0;
        while let Some(key) = store.next_inline_image(at.clone()).await? {
            store
                .convert_inline_row(key.clone(), self.limits.clone())
                .await?;
            moved += 1;
            at = key;
        }
        Ok(moved)
    }
}
