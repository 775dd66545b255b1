//! Images: decoded within limits (the header's size is checked before any pixel is allocated,
//! so a small file claiming 100,000 × 100,000 pixels is refused), turned upright from its EXIF
//! orientation, and handed to [`super::encode`], which re-encodes the pixels alone: EXIF, GPS,
//! XMP, comments, text chunks and ICC profiles are never copied.
//!
//! Animated GIF, PNG (APNG) and WebP: the first frame is attached, with a note.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};

use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use super::encode;
use super::error::Problem;
use super::limits::Limits;
use super::sniff::image_noun;
use super::{IngestedImage, Original};

/// Decodes, re-encodes and thumbnails an image whose format was sniffed from its bytes.
pub(super) fn ingest(
    name: &str,
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<IngestedImage, Problem> {
    let (width, height) = dimensions(bytes, format)?;
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) * 4 > limits.max_alloc
    {
        return Err(Problem::TooManyPixels {
            width,
            height,
            side: limits.max_side,
        });
    }
    if format == ImageFormat::Jpeg && !jpeg_is_whole(bytes) {
        return Err(Problem::Damaged {
            what: "JPEG image",
            detail: "it ends before its end-of-image marker".into(),
        });
    }
    let mut notes = Vec::new();
    if is_animated(bytes, format, limits)? {
        notes.push("It is animated; only its first frame is attached.".to_owned());
    }
    check(cancel)?;
    let picture = decode(bytes, format, limits)?;
    check(cancel)?;
    let encoded = encode::fit(picture, format, limits, cancel)?;
    if (encoded.width, encoded.height) != (width, height) {
        notes.push(format!(
            "Downscaled from {width}×{height} to {}×{}.",
            encoded.width, encoded.height
        ));
    }
    check(cancel)?;
    Ok(IngestedImage {
        name: name.to_owned(),
        bytes: encoded.bytes,
        mime: encoded.mime,
        width: encoded.width,
        height: encoded.height,
        original: Original {
            width,
            height,
            mime: format.to_mime_type(),
            size: bytes.len() as u64,
        },
        thumbnail: encoded.thumbnail,
        notes,
    })
}

pub(super) fn check(cancel: &AtomicBool) -> Result<(), Problem> {
    if cancel.load(Ordering::Relaxed) {
        Err(Problem::Cancelled)
    } else {
        Ok(())
    }
}

/// Whether a JPEG has its end-of-image marker (FF D9) after its last start-of-scan (FF DA).
/// The decoder fills a cut-short picture with grey instead of failing; entropy-coded data
/// never holds FF D9 (an FF there is followed by 00 or a restart marker).
fn jpeg_is_whole(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xff, 0xda]);
    match last_scan {
        Some(at) => bytes[at..].windows(2).any(|w| w == [0xff, 0xd9]),
        None => false,
    }
}

/// The size the header claims, read without decoding any pixel.
fn dimensions(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), Problem> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    reader.into_dimensions().map_err(|e| damaged(format, &e))
}

fn decode(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<DynamicImage, Problem> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits));
    let mut decoder = reader.into_decoder().map_err(|e| damaged(format, &e))?;
    // An unreadable orientation is no reason to refuse the picture: it stays as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| damaged(format, &e))?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

fn decoder_limits(limits: &Limits) -> image::Limits {
    let mut out = image::Limits::default();
    out.max_image_width = Some(limits.max_side);
    out.max_image_height = Some(limits.max_side);
    out.max_alloc = Some(limits.max_alloc);
    out
}

/// Whether the image has more than one frame (decided from headers, or from two frames of a
/// GIF, decoded within the limits).
fn is_animated(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<bool, Problem> {
    let fail = |e: ImageError| damaged(format, &e);
    match format {
        ImageFormat::Png => PngDecoder::new(Cursor::new(bytes))
            .and_then(|d| d.is_apng())
            .map_err(fail),
        ImageFormat::WebP => Ok(WebPDecoder::new(Cursor::new(bytes))
            .map_err(fail)?
            .has_animation()),
        ImageFormat::Gif => {
            let mut decoder =
                image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            decoder.set_limits(decoder_limits(limits)).map_err(fail)?;
            Ok(decoder.into_frames().take(2).filter(Result::is_ok).count() > 1)
        }
        _ => Ok(false),
    }
}

fn damaged(format: ImageFormat, error: &ImageError) -> Problem {
    Problem::Damaged {
        what: image_noun(format),
        detail: error.to_string(),
    }
}
