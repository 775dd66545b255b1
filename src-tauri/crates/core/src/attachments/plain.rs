//! Whether an image's bytes carry nothing but its pixels, so that bytes which came back from an
//! export (Parley's own re-encoded images) are kept exactly as they are instead of being
//! re-encoded again (a JPEG would lose a little each time, and its address would change).
//! Strict allow-lists: a PNG of IHDR, PLTE, tRNS, IDAT and IEND chunks and nothing after; a
//! baseline or progressive JPEG of JFIF (without its thumbnail), tables, frames and scans, and
//! nothing after its end. Anything else — EXIF, XMP, ICC, text, comments, an embedded
//! thumbnail, trailing bytes — is not plain, and goes through ingest's re-encoding.

/// Whether `bytes` (of type `mime`) are plain: pixels only.
pub(super) fn is_plain(mime: &str, bytes: &[u8]) -> bool {
    match mime {
        "image/png" => plain_png(bytes),
        "image/jpeg" => plain_jpeg(bytes),
        _ => false,
    }
}

fn plain_png(bytes: &[u8]) -> bool {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let Some(mut rest) = bytes.strip_prefix(SIGNATURE) else {
        return false;
    };
    while rest.len() >= 12 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = &rest[4..8];
        let Some(after) = rest.get(12 + len..) else {
            return false;
        };
        match kind {
            b"IEND" => return after.is_empty(),
            b"IHDR" | b"PLTE" | b"tRNS" | b"IDAT" => rest = after,
            _ => return false,
        }
    }
    false
}

fn plain_jpeg(bytes: &[u8]) -> bool {
    let Some(mut rest) = bytes.strip_prefix(&[0xFF, 0xD8]) else {
        return false;
    };
    loop {
        let [0xFF, marker, ..] = *rest else {
            return false;
        };
        if marker == 0xD9 {
            return rest.len() == 2;
        }
        let Some(&[hi, lo]) = rest.get(2..4) else {
            return false;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(after) = rest.get(2 + len..).filter(|_| len >= 2) else {
            return false;
        };
        match marker {
            // JFIF without a thumbnail: 16 bytes.
            0xE0 => {
                if len != 16 || rest.get(4..9) != Some(b"JFIF\0") {
                    return false;
                }
                rest = after;
            }
            0xDB | 0xC4 | 0xDD | 0xC0 | 0xC1 | 0xC2 => rest = after,
            0xDA => match skip_scan(after) {
                Some(next) => rest = next,
                None => return false,
            },
            _ => return false,
        }
    }
}

/// The bytes after a scan's entropy-coded data: at the next marker that is not a restart
/// marker or a stuffed zero.
fn skip_scan(data: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == 0xFF {
            match data[i + 1] {
                0x00 | 0xD0..=0xD7 | 0xFF => i += 1,
                _ => return Some(&data[i..]),
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(chunks: &[(&[u8; 4], &[u8])], tail: &[u8]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in chunks {
            out.extend((data.len() as u32).to_be_bytes());
            out.extend(*kind);
            out.extend(*data);
            out.extend([0, 0, 0, 0]);
        }
        out.extend(tail);
        out
    }

    fn jpeg(segments: &[(u8, &[u8])], scan: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, data) in segments {
            out.extend([0xFF, *marker]);
            out.extend(((data.len() + 2) as u16).to_be_bytes());
            out.extend(*data);
        }
        out.extend(scan);
        out.extend([0xFF, 0xD9]);
        out.extend(tail);
        out
    }

    #[test]
    fn only_pixels_pass() {
        let ihdr: &[u8] = &[0; 13];
        let jfif: &[u8] = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
        let sos: &[u8] = &[1, 1, 0, 0, 63, 0];
        let cases: Vec<(&str, &str, Vec<u8>, bool)> = vec![
            ("png", "image/png", png(&[(b"IHDR", ihdr), (b"IDAT", b"x"), (b"IEND", b"")], b""), true),
            ("png with exif", "image/png", png(&[(b"IHDR", ihdr), (b"eXIf", b"GPS"), (b"IDAT", b"x"), (b"IEND", b"")], b""), false),
            ("png with text", "image/png", png(&[(b"IHDR", ihdr), (b"tEXt", b"Comment\0hi"), (b"IDAT", b"x"), (b"IEND", b"")], b""), false),
            ("png with icc", "image/png", png(&[(b"IHDR", ihdr), (b"iCCP", b"p"), (b"IDAT", b"x"), (b"IEND", b"")], b""), false),
            ("png with bytes after", "image/png", png(&[(b"IHDR", ihdr), (b"IDAT", b"x"), (b"IEND", b"")], b"zip"), false),
            ("png cut short", "image/png", png(&[(b"IHDR", ihdr), (b"IDAT", b"x")], b""), false),
            ("png said to be jpeg", "image/jpeg", png(&[(b"IHDR", ihdr), (b"IEND", b"")], b""), false),
            ("jpeg", "image/jpeg", jpeg(&[(0xE0, jfif), (0xDB, &[0; 65]), (0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]), (0xC4, &[0; 20]), (0xDA, sos)], &[1, 2, 0xFF, 0, 3, 0xFF, 0xD0, 4], b""), true),
            ("jpeg with exif", "image/jpeg", jpeg(&[(0xE1, b"Exif\0\0GPS"), (0xDA, sos)], &[1], b""), false),
            ("jpeg with a comment", "image/jpeg", jpeg(&[(0xFE, b"hello"), (0xDA, sos)], &[1], b""), false),
            ("jpeg with icc", "image/jpeg", jpeg(&[(0xE2, b"ICC_PROFILE\0"), (0xDA, sos)], &[1], b""), false),
            ("jfif with a thumbnail", "image/jpeg", jpeg(&[(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\x01\x01\0\0\0"), (0xDA, sos)], &[1], b""), false),
            ("jpeg with bytes after", "image/jpeg", jpeg(&[(0xDA, sos)], &[1], b"PK"), false),
            ("jpeg cut short", "image/jpeg", vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00], false),
            ("webp", "image/webp", b"RIFF\0\0\0\0WEBP".to_vec(), false),
            ("empty", "image/png", Vec::new(), false),
        ];
        for (what, mime, bytes, plain) in cases {
            assert_eq!(is_plain(mime, &bytes), plain, "{what}");
        }
    }
}
