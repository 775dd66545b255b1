//! What a file is, from its first bytes (magic numbers), never from its name; and what its name
//! claims, to say so when the two disagree.

use image::ImageFormat;

/// What the first bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// An image the `image` crate decodes.
    Image(ImageFormat),
    /// A PDF (`%PDF-` in its first 1,024 bytes).
    Pdf,
    /// No known signature: text, if it decodes as text.
    Unknown,
    /// A known kind Parley does not attach, as a phrase: "a ZIP archive".
    Other(&'static str),
}

/// Signatures at offset 0: (magic, what it is).
const OTHERS: &[(&[u8], &str)] = &[
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"PK\x07\x08", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"BZh", "a bzip2 archive"),
    (b"(\xb5/\xfd", "a Zstandard archive"),
    (b"\x7fELF", "a program (ELF)"),
    (b"\xfe\xed\xfa\xce", "a program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "a program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "a program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a program (Mach-O or Java class)"),
    (b"\x00asm", "a WebAssembly module"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Microsoft Office document",
    ),
    (b"8BPS", "a Photoshop image"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"OggS", "an Ogg audio or video file"),
    (b"fLaC", "a FLAC audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"\x1aE\xdf\xa3", "a Matroska or WebM video"),
    (b"MThd", "a MIDI file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"\x00\x01\x00\x00\x00", "a font"),
    (b"OTTO", "a font"),
];

/// What `head` (the file's first bytes, up to a few KB) is.
pub(super) fn sniff(head: &[u8]) -> Sniffed {
    if let Some(format) = image_format(head) {
        return Sniffed::Image(format);
    }
    if head.len() >= 5
        && head[..head.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Sniffed::Pdf;
    }
    if let Some(other) = iso_media(head).or_else(|| riff(head)) {
        return Sniffed::Other(other);
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Sniffed::Other("a tar archive");
    }
    if head.starts_with(b"MZ") && head.iter().take(512).any(|&b| b == 0) {
        return Sniffed::Other("a Windows program");
    }
    for (magic, what) in OTHERS {
        if head.starts_with(magic) {
            return Sniffed::Other(what);
        }
    }
    Sniffed::Unknown
}

fn image_format(head: &[u8]) -> Option<ImageFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some(ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else if head.starts_with(b"II*\x00") || head.starts_with(b"MM\x00*") {
        Some(ImageFormat::Tiff)
    } else if is_bmp(head) {
        Some(ImageFormat::Bmp)
    } else if head.len() >= 6 && head.starts_with(b"\x00\x00\x01\x00") && head[4..6] != [0, 0] {
        Some(ImageFormat::Ico)
    } else {
        None
    }
}

/// "BM" alone starts plenty of text files; a bitmap also has a known DIB header size at 14.
fn is_bmp(head: &[u8]) -> bool {
    head.len() >= 18
        && head.starts_with(b"BM")
        && matches!(
            u32::from_le_bytes([head[14], head[15], head[16], head[17]]),
            12 | 16 | 40 | 52 | 56 | 64 | 108 | 124
        )
}

/// ISO base media files (`ftyp` at offset 4): HEIC, AVIF, or video.
fn iso_media(head: &[u8]) -> Option<&'static str> {
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return None;
    }
    Some(match &head[8..12] {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"mif1" | b"msf1" => {
            "a HEIC image (convert it to JPEG or PNG)"
        }
        b"avif" | b"avis" => "an AVIF image (convert it to JPEG or PNG)",
        _ => "a video or audio file (MP4/MOV)",
    })
}

fn riff(head: &[u8]) -> Option<&'static str> {
    if head.len() < 12 || !head.starts_with(b"RIFF") {
        return None;
    }
    Some(match &head[8..12] {
        b"WAVE" => "a WAV audio file",
        b"AVI " => "an AVI video",
        _ => "a RIFF media file",
    })
}

/// What a file's extension claims it is, as a phrase ("a PDF"), for binary kinds only: a name
/// ending in `.txt` claims nothing a text reader would refuse.
pub(super) fn claimed(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "pdf" => "a PDF",
        "png" | "apng" => "a PNG image",
        "jpg" | "jpeg" | "jpe" | "jfif" => "a JPEG image",
        "gif" => "a GIF image",
        "webp" => "a WebP image",
        "bmp" => "a BMP image",
        "tif" | "tiff" => "a TIFF image",
        "ico" => "an ICO image",
        "heic" | "heif" => "a HEIC image",
        "avif" => "an AVIF image",
        _ => return None,
    })
}

/// What an image format is, without an article ("PNG image").
pub(super) fn image_noun(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG image",
        ImageFormat::Jpeg => "JPEG image",
        ImageFormat::Gif => "GIF image",
        ImageFormat::WebP => "WebP image",
        ImageFormat::Bmp => "BMP image",
        ImageFormat::Tiff => "TIFF image",
        ImageFormat::Ico => "ICO image",
        _ => "image",
    }
}

/// The phrase for what an image format is ("a PNG image").
pub(super) fn image_phrase(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "a PNG image",
        ImageFormat::Jpeg => "a JPEG image",
        ImageFormat::Gif => "a GIF image",
        ImageFormat::WebP => "a WebP image",
        ImageFormat::Bmp => "a BMP image",
        ImageFormat::Tiff => "a TIFF image",
        ImageFormat::Ico => "an ICO image",
        _ => "an image",
    }
}
