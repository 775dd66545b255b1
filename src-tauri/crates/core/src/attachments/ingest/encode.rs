//! Re-encoding an image from its pixels alone, which is what strips every piece of metadata:
//! the encoders write no EXIF, XMP, text chunk, comment or ICC profile, so none of the
//! original's survive.
//!
//! Decided: the result is PNG when the source is lossless (PNG, GIF, BMP, TIFF, ICO:
//! screenshots, diagrams) or has transparency, JPEG at quality 85 otherwise (photos: JPEG,
//! WebP). It is downscaled to `Limits::long_edge` and then, while it is over
//! `Limits::encoded_bytes`, a PNG without transparency becomes a JPEG, a JPEG's quality steps
//! down to 55, and then the picture shrinks by a quarter at a time.

use std::sync::atomic::AtomicBool;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, ImageFormat};

use super::error::Problem;
use super::image::check;
use super::limits::Limits;

/// A re-encoded image and its thumbnail.
pub(super) struct Encoded {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// PNG, at most `Limits::thumb_edge` on its long edge.
    pub thumbnail: Vec<u8>,
}

const START_QUALITY: u8 = 85;
const LOWEST_QUALITY: u8 = 55;
const MAX_STEPS: usize = 12;

/// Downscales and re-encodes `picture` until it fits `limits.encoded_bytes`.
pub(super) fn fit(
    picture: DynamicImage,
    source: ImageFormat,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<Encoded, Problem> {
    let alpha = has_transparency(&picture);
    let mut picture = shrink_to(picture, limits.long_edge);
    picture = if alpha {
        DynamicImage::ImageRgba8(picture.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.to_rgb8())
    };
    let mut png = alpha || is_lossless(source);
    let mut quality = START_QUALITY;
    for _ in 0..MAX_STEPS {
        check(cancel)?;
        let bytes = if png {
            to_png(&picture)?
        } else {
            to_jpeg(&picture, quality)?
        };
        if bytes.len() as u64 <= limits.encoded_bytes {
            let thumbnail = to_png(&thumbnail_of(&picture, limits.thumb_edge))?;
            let (width, height) = picture.dimensions();
            let mime = if png { "image/png" } else { "image/jpeg" };
            return Ok(Encoded {
                bytes,
                mime,
                width,
                height,
                thumbnail,
            });
        }
        if png && !alpha {
            png = false;
        } else if !png && quality > LOWEST_QUALITY {
            quality -= 15;
        } else {
            let (w, h) = picture.dimensions();
            let long = (w.max(h) * 3 / 4).max(1);
            picture = shrink_to(picture, long);
        }
    }
    Err(Problem::CannotShrink {
        limit: limits.encoded_bytes,
    })
}

/// The picture shrunk to `edge` on its long side; a smaller one is its own thumbnail.
fn thumbnail_of(picture: &DynamicImage, edge: u32) -> DynamicImage {
    let (w, h) = picture.dimensions();
    if w.max(h) <= edge {
        picture.clone()
    } else {
        picture.thumbnail(edge, edge)
    }
}

fn is_lossless(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::Tiff
            | ImageFormat::Ico
    )
}

/// Whether any pixel is less than opaque (an alpha channel that is all 255 is dropped).
fn has_transparency(picture: &DynamicImage) -> bool {
    if !picture.color().has_alpha() {
        return false;
    }
    match picture {
        DynamicImage::ImageRgba8(buffer) => buffer.pixels().any(|p| p.0[3] < u8::MAX),
        DynamicImage::ImageLumaA8(buffer) => buffer.pixels().any(|p| p.0[1] < u8::MAX),
        other => other.pixels().any(|(_, _, p)| p.0[3] < u8::MAX),
    }
}

fn shrink_to(picture: DynamicImage, long_edge: u32) -> DynamicImage {
    let (w, h) = picture.dimensions();
    if w.max(h) <= long_edge {
        return picture;
    }
    picture.resize(long_edge, long_edge, FilterType::Triangle)
}

fn to_png(picture: &DynamicImage) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
    picture.write_with_encoder(encoder).map_err(encode_failed)?;
    Ok(out)
}

fn to_jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut out, quality);
    DynamicImage::ImageRgb8(picture.to_rgb8())
        .write_with_encoder(encoder)
        .map_err(encode_failed)?;
    Ok(out)
}

fn encode_failed(error: image::ImageError) -> Problem {
    Problem::Damaged {
        what: "image",
        detail: format!("it could not be re-encoded: {error}"),
    }
}
