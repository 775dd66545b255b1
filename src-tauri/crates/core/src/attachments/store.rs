//! The attachments topic's tables (schema v10): `attachment_blobs`, an image's bytes stored
//! once by their SHA-256, and `attachment_thumbnails`, their cached thumbnails. Callable only
//! from this topic; what crosses into another topic's transaction on purpose (a merge bringing
//! the blobs of the image parts it adds) is in `merge.rs`.

use crate::error::StoreError;
use crate::store::Store;
use crate::util::now_ms;
use rusqlite::{params, Connection, OptionalExtension};

/// A stored image's details (not its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// `image/png`, `image/jpeg`, …
    pub mime: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Bytes stored.
    pub size: u64,
}

/// An image to store: its details and bytes, and its thumbnail (PNG).
pub(in crate::attachments) struct NewBlob {
    pub info: BlobInfo,
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// Stores `blob` unless its address is stored already (then only marks it attached now);
/// the thumbnail is kept when none is. One statement each, in the caller's transaction.
pub(in crate::attachments) fn put_blob(c: &Connection, blob: &NewBlob) -> Result<(), StoreError> {
    let i = &blob.info;
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO attachment_blobs(sha256, mime, width, height, size, created_at, attached_at, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
         ON CONFLICT(sha256) DO UPDATE SET attached_at = excluded.attached_at",
    )?
    .execute(params![
        i.sha256,
        i.mime,
        i.width,
        i.height,
        i.size as i64,
        now,
        blob.bytes
    ])?;
    if !blob.thumbnail.is_empty() {
        c.prepare_cached(
            "INSERT INTO attachment_thumbnails(sha256, png) VALUES (?1, ?2)
             ON CONFLICT(sha256) DO NOTHING",
        )?
        .execute(params![i.sha256, blob.thumbnail])?;
    }
    Ok(())
}

/// A stored image's details, read on connection `c`.
pub(in crate::attachments) fn blob_info(
    c: &Connection,
    sha256: &str,
) -> Result<Option<BlobInfo>, StoreError> {
    Ok(c
        .prepare_cached(
            "SELECT sha256, mime, width, height, size FROM attachment_blobs WHERE sha256 = ?1",
        )?
        .query_row([sha256], |r| {
            Ok(BlobInfo {
                sha256: r.get(0)?,
                mime: r.get(1)?,
                width: r.get(2)?,
                height: r.get(3)?,
                size: r.get::<_, i64>(4)?.max(0) as u64,
            })
        })
        .optional()?)
}

impl Store {
    /// Stores an image (once per address) and its thumbnail, in one transaction.
    pub(in crate::attachments) async fn store_blob(&self, blob: NewBlob) -> Result<(), StoreError> {
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                put_blob(&tx, &blob)?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// The details of the stored images `shas` (those not stored are left out), each marked
    /// attached now: an image about to be sent is not cleaned up meanwhile.
    pub(in crate::attachments) async fn touch_blobs(
        &self,
        shas: Vec<String>,
    ) -> Result<Vec<BlobInfo>, StoreError> {
        self.writer
            .call(move |c| {
                let tx = c.transaction()?;
                let now = now_ms();
                let mut found = Vec::new();
                for sha in &shas {
                    if let Some(info) = blob_info(&tx, sha)? {
                        tx.prepare_cached(
                            "UPDATE attachment_blobs SET attached_at = ?2 WHERE sha256 = ?1",
                        )?
                        .execute(params![sha, now])?;
                        found.push(info);
                    }
                }
                tx.commit()?;
                Ok(found)
            })
            .await
    }

    /// A stored image's details.
    pub(in crate::attachments) async fn blob(
        &self,
        sha256: &str,
    ) -> Result<Option<BlobInfo>, StoreError> {
        let sha = sha256.to_owned();
        self.reader.call(move |c| blob_info(c, &sha)).await
    }

    /// A stored image's bytes and MIME type.
    pub(in crate::attachments) async fn blob_bytes(
        &self,
        sha256: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let sha = sha256.to_owned();
        self.reader
            .call(move |c| {
                Ok(c.prepare_cached("SELECT bytes, mime FROM attachment_blobs WHERE sha256 = ?1")?
                    .query_row([sha], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?)
            })
            .await
    }

    /// A stored image's cached thumbnail (PNG).
    pub(in crate::attachments) async fn thumbnail_png(
        &self,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sha = sha256.to_owned();
        self.reader
            .call(move |c| {
                Ok(c.prepare_cached("SELECT png FROM attachment_thumbnails WHERE sha256 = ?1")?
                    .query_row([sha], |r| r.get(0))
                    .optional()?)
            })
            .await
    }

    /// Caches a thumbnail made again (its image still stored).
    pub(in crate::attachments) async fn put_thumbnail(
        &self,
        sha256: &str,
        png: Vec<u8>,
    ) -> Result<(), StoreError> {
        let sha = sha256.to_owned();
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO attachment_thumbnails(sha256, png)
                     SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM attachment_blobs WHERE sha256 = ?1)
                     ON CONFLICT(sha256) DO NOTHING",
                    params![sha, png],
                )?;
                Ok(())
            })
            .await
    }

    /// How many images are stored (tests, the report of a clean-up).
    pub(in crate::attachments) async fn blob_count(&self) -> Result<u64, StoreError> {
        self.reader
            .call(|c| {
                Ok(c.query_row("SELECT count(*) FROM attachment_blobs", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64)
            })
            .await
    }
}
