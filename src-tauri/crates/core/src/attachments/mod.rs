//! Attachments: the files a user attaches to a message (images, text and code files, PDFs).
//!
//! [`ingest`] is the pure part: reading a chosen or pasted file safely and turning it into
//! what a message carries (a re-encoded image without metadata, or a document's text).
//! [`AttachmentService`] is the topic's door for everyone else: attaching (ingest, then the
//! image stored once by its SHA-256 with its thumbnail: `store.rs`), reading stored bytes and
//! thumbnails (the window's `attachment:` scheme), checking a message's attachments before it
//! is sent (`outgoing.rs`), putting image bytes into a request (`outgoing.rs`), the clean-up
//! (`gc.rs`), and moving image rows of the older inline shape into storage (`legacy.rs`).
//! Exports, imports and restores reach the bytes through `transfer.rs` (in their own
//! transactions) and through this service. The topic sits below chats and history, which use
//! it, and above the floor.

mod gc;
pub mod ingest;
mod legacy;
mod outgoing;
mod plain;
mod store;
pub(crate) mod transfer;

pub use gc::GRACE_MS;
pub use outgoing::{bytes_of as from_base64, MAX_ATTACHMENTS};
pub use store::BlobInfo;

use crate::error::CoreError;
use crate::store::Store;
use ingest::{Ingested, Limits};
use parley_protocol::{Attachment, Part};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Attaching files and the stored images.
#[derive(Clone)]
pub struct AttachmentService {
    store: Store,
    limits: Arc<Limits>,
}

/// Whether `s` is an image's address as Parley writes it: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The address of `bytes`: their SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl AttachmentService {
    pub(crate) fn new(store: Store) -> Self {
        AttachmentService {
            store,
            limits: Arc::new(Limits::default()),
        }
    }

    /// The same service with other limits (tests).
    #[doc(hidden)]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Arc::new(limits);
        self
    }

    /// Reads and converts the file at `path` off the async threads (`cancel` stops it between
    /// steps); an image is stored (once per content) with its thumbnail. Returns what the
    /// message will carry. A refused file is a sentence naming it; nothing is stored then.
    pub async fn attach_file(
        &self,
        path: &Path,
        cancel: Arc<AtomicBool>,
    ) -> Result<Attachment, CoreError> {
        let (path, limits) = (path.to_owned(), self.limits.clone());
        let ingested = blocking(move || ingest::read(&path, &limits, &cancel)).await?;
        self.keep(ingested).await
    }

    /// [`AttachmentService::attach_file`] for bytes that are no file of their own (pasted from
    /// the clipboard, dropped from another app): `name` is what the user sees ("" when
    /// pasted); `mime` is what the sender claimed, and the bytes decide.
    pub async fn attach_bytes(
        &self,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
        cancel: Arc<AtomicBool>,
    ) -> Result<Attachment, CoreError> {
        tracing::debug!("attaching {} bytes said to be {mime}", bytes.len());
        let (name, limits) = (shown_name(name), self.limits.clone());
        let ingested = blocking(move || ingest::from_bytes(&name, bytes, &limits, &cancel)).await?;
        self.keep(ingested).await
    }

    /// Stores an ingested image; either way, the part the message will carry.
    async fn keep(&self, ingested: Ingested) -> Result<Attachment, CoreError> {
        match ingested {
            Ingested::Image(image) => {
                let blob = store::NewBlob::of(&image);
                let part = blob.info.part(&image.name);
                self.store.store_blob(blob).await?;
                Ok(Attachment {
                    part,
                    original_size: image.original.size,
                    notes: image.notes,
                })
            }
            Ingested::Document(doc) => Ok(Attachment {
                part: Part::File {
                    name: doc.name,
                    mime: doc.mime.to_owned(),
                    text: doc.text,
                },
                original_size: doc.original_size,
                notes: doc.notes,
            }),
        }
    }

    /// A stored image's bytes and MIME type (`None`: not stored, or not an address).
    pub async fn bytes(&self, sha256: &str) -> Result<Option<(Vec<u8>, String)>, CoreError> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        Ok(self.store.blob_bytes(sha256).await?)
    }

    /// A stored image's details (`None`: not stored, or not an address).
    pub async fn info(&self, sha256: &str) -> Result<Option<BlobInfo>, CoreError> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        Ok(self.store.blob(sha256).await?)
    }

    /// A stored image's thumbnail (PNG), made again from its bytes when it is not cached
    /// (`None`: not stored, or not an address).
    pub async fn thumbnail(&self, sha256: &str) -> Result<Option<Vec<u8>>, CoreError> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        if let Some(png) = self.store.thumbnail_png(sha256).await? {
            return Ok(Some(png));
        }
        let Some((bytes, _)) = self.store.blob_bytes(sha256).await? else {
            return Ok(None);
        };
        let limits = self.limits.clone();
        let made =
            blocking(move || ingest::from_bytes("", bytes, &limits, &AtomicBool::new(false))).await;
        match made {
            Ok(Ingested::Image(image)) => {
                self.store
                    .put_thumbnail(sha256, image.thumbnail.clone())
                    .await?;
                Ok(Some(image.thumbnail))
            }
            // Stored bytes that no longer read as an image have no thumbnail.
            Ok(Ingested::Document(_)) | Err(_) => Ok(None),
        }
    }

    /// Removes the stored images no message refers to (but those waiting to be sent: see
    /// [`GRACE_MS`]); returns how many went. Runs at start and after deletions.
    pub async fn collect_garbage(&self) -> Result<u64, CoreError> {
        Ok(self.store.collect_blobs(crate::now_ms()).await?)
    }

    /// What runs at start and after a restore or an import: image rows of the older inline
    /// shape moved into storage (`legacy.rs`), then the clean-up.
    pub async fn tidy(&self) -> Result<(), CoreError> {
        let moved = self.convert_inline().await?;
        if moved > 0 {
            tracing::info!("{moved} images of older messages moved into storage");
        }
        self.collect_garbage().await?;
        Ok(())
    }

    /// How many images are stored.
    pub async fn stored_images(&self) -> Result<u64, CoreError> {
        Ok(self.store.blob_count().await?)
    }
}

/// A file name as shown: one line without hidden characters, no folders, at most 255
/// characters ("" stays "": a pasted image).
pub(crate) fn shown_name(raw: &str) -> String {
    let line = crate::clean::visible_line(raw);
    let base = line.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars().take(255).collect()
}

/// One file is read and converted at a time: decoding a large image within the limits may
/// take ~0.7 GB, and eight dropped at once must not take eight times that. Files waiting
/// their turn hold nothing; a cancelled one ends as soon as it starts.
static READING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Runs `f` (ingest: reading, decoding, encoding) on a blocking thread, one at a time; a
/// refusal is a sentence naming the file.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ingest::IngestError> + Send + 'static,
) -> Result<T, CoreError> {
    let _turn = READING
        .acquire()
        .await
        .map_err(|e| CoreError::Internal(format!("attaching stopped: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Internal(format!("attaching stopped: {e}")))?
        .map_err(|e| CoreError::InvalidInput(e.to_string()))
}

impl store::NewBlob {
    /// An ingested image as stored: its bytes, details and thumbnail.
    fn of(image: &ingest::IngestedImage) -> Self {
        store::NewBlob {
            info: BlobInfo {
                sha256: sha256_hex(&image.bytes),
                mime: image.mime.to_owned(),
                width: image.width,
                height: image.height,
                size: image.bytes.len() as u64,
            },
            bytes: image.bytes.clone(),
            thumbnail: image.thumbnail.clone(),
        }
    }
}

impl BlobInfo {
    /// The part a message carries for this stored image, shown as `name`.
    pub fn part(&self, name: &str) -> Part {
        Part::Image {
            mime: self.mime.clone(),
            sha256: self.sha256.clone(),
            name: shown_name(name),
            width: self.width,
            height: self.height,
            size: self.size,
            data: None,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod transfer_tests;
