//! Images crossing the data folder's edge, in other topics' transactions on purpose: an
//! export carries each image's bytes inline (`data`, base64: the file stands alone); an import
//! takes them in like an attached file — through ingest, which refuses a bomb, a lie about the
//! type or a damaged file and strips metadata (bytes that are already plain pixels, as Parley
//! writes them, are kept as they are); a merge (import or restore) brings the stored bytes of
//! each image part it adds, checked again. An image that cannot be taken in becomes a text
//! note in its place, so its chat is still imported.

use super::ingest::{self, Ingested, Limits};
use super::outgoing::{base64_of, bytes_of};
use super::store::{blob_info, put_blob, BlobInfo, NewBlob};
use super::{is_sha256, plain, sha256_hex, AttachmentService};
use crate::error::{CoreError, StoreError};
use parley_protocol::{ChatExport, Part};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::atomic::AtomicBool;

/// The image types Parley stores (what ingest writes).
const STORED_TYPES: [&str; 2] = ["image/png", "image/jpeg"];

impl AttachmentService {
    /// Puts each stored image's bytes into its part (`data`, base64), for an export.
    pub async fn inline_images(&self, chats: &mut [ChatExport]) -> Result<(), CoreError> {
        for part in chats
            .iter_mut()
            .flat_map(|c| c.messages.iter_mut())
            .flat_map(|m| m.parts.iter_mut())
        {
            if let Part::Image { sha256, data, .. } = part {
                if is_sha256(sha256) {
                    if let Some((bytes, _)) = self.store.blob_bytes(sha256).await? {
                        *data = Some(base64_of(&bytes));
                    }
                }
            }
        }
        Ok(())
    }
}

/// An image part from a file (an export, a backup's older inline row) made a part of this
/// data folder, on connection `c` (an import's staging database, or the merge's transaction):
/// its bytes (`data`) taken in through ingest and stored there, the part pointing at them;
/// bytes that cannot be taken in leave a text note in the image's place. Any other part, and
/// an image without bytes, is left as it is.
pub(crate) fn take_in(c: &Connection, part: &mut Part, limits: &Limits) -> Result<(), StoreError> {
    let Part::Image {
        data, name, sha256, ..
    } = part
    else {
        return Ok(());
    };
    let name = super::shown_name(name);
    let Some(data) = data else {
        // No bytes: the file's claims are never taken. An image already stored here is shown
        // with what the store knows; any other is a note.
        *part = match super::store::blob_info(c, sha256)? {
            Some(info) if super::is_sha256(sha256) => info.part(&name),
            _ => note(&name, "did not come with its bytes"),
        };
        return Ok(());
    };
    let taken = match bytes_of(data) {
        None => Err("is not readable: its bytes are not base64".to_owned()),
        Some(bytes) => blob_of(bytes, limits),
    };
    *part = match taken {
        Ok(blob) => {
            put_blob(c, &blob)?;
            sent(c, &blob.info.sha256)?;
            blob.info.part(&name)
        }
        Err(why) => note(&name, &why),
    };
    Ok(())
}

/// The text that takes the place of an image that could not be taken in: a paragraph of its
/// own (text parts next to each other are sent and shown joined as they are, so without the
/// blank line the note ran on from the question's last word).
fn note(name: &str, why: &str) -> Part {
    Part::Text {
        text: format!("\n\n[An image was here ({}); it {why}.]", shown(name)),
    }
}

fn shown(name: &str) -> String {
    if name.is_empty() {
        "pasted".to_owned()
    } else {
        format!("“{name}”")
    }
}

/// Bytes from a file as Parley stores an image: through ingest (refused, or re-encoded
/// without metadata), or as they are when they are already plain pixels within the stored
/// size (Parley's own, coming back from an export: their address stays).
fn blob_of(bytes: Vec<u8>, limits: &Limits) -> Result<NewBlob, String> {
    let original = bytes.clone();
    let image = match ingest::from_bytes("", bytes, limits, &AtomicBool::new(false)) {
        Ok(Ingested::Image(image)) => image,
        Ok(Ingested::Document(_)) => return Err("is not an image".into()),
        Err(e) => return Err(e.problem.to_string()),
    };
    let unchanged = image.notes.is_empty()
        && image.original.mime == image.mime
        && (image.original.width, image.original.height) == (image.width, image.height)
        && plain::is_plain(image.mime, &original)
        && original.len() as u64 <= limits.encoded_bytes;
    let bytes = if unchanged { original } else { image.bytes };
    Ok(NewBlob {
        info: BlobInfo {
            sha256: sha256_hex(&bytes),
            mime: image.mime.to_owned(),
            width: image.width,
            height: image.height,
            size: bytes.len() as u64,
        },
        bytes,
        thumbnail: image.thumbnail,
    })
}

/// Bytes that a message part refers to are not waiting to be sent.
fn sent(c: &Connection, sha256: &str) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE attachment_blobs SET attached_at = 0 WHERE sha256 = ?1")?
        .execute([sha256])?;
    Ok(())
}

/// The merge added an image part pointing at `sha256`: its stored bytes come along from the
/// file `src` (a backup, or an import's staging database) into `tx`, unless they are here
/// already. A file's bytes are checked again — their address, a stored type, plain pixels
/// (nothing but pixel data) within the stored size — and left behind when they fail: the part
/// then shows as an image whose bytes are missing. Returns whether the bytes are here.
pub(crate) fn bring_blob(
    tx: &Connection,
    src: &Connection,
    sha256: &str,
    limits: &Limits,
) -> Result<bool, StoreError> {
    if !is_sha256(sha256) {
        return Ok(false);
    }
    if blob_info(tx, sha256)?.is_some() {
        return Ok(true);
    }
    // A crafted file's row of another type (a number, text) is a row Parley did not write.
    let row: Option<(String, Vec<u8>)> = src
        .prepare_cached(
            "SELECT mime, bytes FROM attachment_blobs
             WHERE sha256 = ?1 AND typeof(bytes) = 'blob' AND typeof(mime) = 'text'",
        )?
        .query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((mime, bytes)) = row else {
        return Ok(false);
    };
    let Some((width, height)) = checked(&mime, &bytes, sha256, limits) else {
        tracing::warn!("the stored image {sha256} of a file failed its checks; left behind");
        return Ok(false);
    };
    tx.prepare_cached(
        "INSERT INTO attachment_blobs(sha256, mime, width, height, size, created_at, attached_at, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
    )?
    .execute(params![
        sha256,
        mime,
        width,
        height,
        bytes.len() as i64,
        crate::now_ms(),
        bytes
    ])?;
    Ok(true)
}

/// The pixels of a file's stored image when it passes the checks a merge makes.
fn checked(mime: &str, bytes: &[u8], sha256: &str, limits: &Limits) -> Option<(u32, u32)> {
    if !STORED_TYPES.contains(&mime)
        || bytes.len() as u64 > limits.encoded_bytes
        || sha256_hex(bytes) != sha256
        || !plain::is_plain(mime, bytes)
    {
        return None;
    }
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    (w.max(h) <= limits.long_edge && w > 0 && h > 0).then_some((w, h))
}
