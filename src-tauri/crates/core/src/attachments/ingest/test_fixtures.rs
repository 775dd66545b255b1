//! Test files made by the tests: images with metadata written byte by byte, PNG chunks with
//! their CRCs, decompression bombs, and PDFs (valid ones through lopdf, hostile ones by hand).

use std::io::Write;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

/// A `w`×`h` picture: red on the left half, blue on the right, a gradient over both.
pub fn halves(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let shade = (y * 60 / h.max(1)) as u8;
        if x < w / 2 {
            Rgb([220, shade, shade])
        } else {
            Rgb([shade, shade, 220])
        }
    }))
}

/// Pixels that do not compress: a PNG of it is big.
pub fn noise(w: u32, h: u32) -> DynamicImage {
    let mut state = 0x2545_f491_u32;
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        Rgb([a, b, c])
    }))
}

/// A picture with a transparent corner.
pub fn with_hole(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, y| {
        if x < 2 && y < 2 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([10, 200, 10, 255])
        }
    }))
}

pub fn encode(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let picture = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(picture.to_rgb8()),
        ImageFormat::Ico | ImageFormat::WebP => DynamicImage::ImageRgba8(picture.to_rgba8()),
        _ => picture.clone(),
    };
    picture.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A PNG chunk with its length and CRC.
pub fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("zlib");
    encoder.finish().expect("zlib")
}

/// A PNG with the given chunks put right after its IHDR.
pub fn png_with_chunks(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let after_ihdr = 8 + 25;
    let mut out = png[..after_ihdr].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[after_ihdr..]);
    out
}

/// A tiny PNG whose header claims `w`×`h` RGBA pixels: a decompression bomb.
pub fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &zlib(&vec![0u8; 64 * 1024])));
    out.extend(chunk(b"IEND", b""));
    out
}

/// A TIFF structure (little-endian) with Orientation, ImageDescription and a GPS IFD.
pub fn exif_tiff(orientation: u16, description: &str, gps_text: &str) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    // Header 8 bytes; each IFD: a count, three 12-byte entries, the next IFD's offset.
    let ifd0 = 8u32;
    let gps = ifd0 + 2 + 3 * 12 + 4;
    let rationals = gps + 2 + 3 * 12 + 4;
    let area = rationals + 24;
    let description = format!("{description}\0");
    let gps_text = format!("{gps_text}\0");
    let gps_text_at = area + description.len() as u32;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&ifd0.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes());
    entry(
        &mut out,
        0x010e,
        2,
        description.len() as u32,
        area.to_le_bytes(),
    );
    let [o1, o2] = orientation.to_le_bytes();
    entry(&mut out, 0x0112, 3, 1, [o1, o2, 0, 0]);
    entry(&mut out, 0x8825, 4, 1, gps.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(out.len() as u32, gps);
    out.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut out, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut out, 0x0002, 5, 3, rationals.to_le_bytes());
    entry(
        &mut out,
        0x001b,
        2,
        gps_text.len() as u32,
        gps_text_at.to_le_bytes(),
    );
    out.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(out.len() as u32, rationals);
    for (num, den) in [(51u32, 1u32), (30, 1), (1234, 100)] {
        out.extend_from_slice(&num.to_le_bytes());
        out.extend_from_slice(&den.to_le_bytes());
    }
    assert_eq!(out.len() as u32, area);
    out.extend_from_slice(description.as_bytes());
    out.extend_from_slice(gps_text.as_bytes());
    out
}

/// A JPEG segment: marker, big-endian length, payload.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A JPEG carrying an EXIF APP1 (orientation, description, GPS) and a COM comment.
pub fn jpeg_with_exif(picture: &DynamicImage, orientation: u16, secrets: [&str; 3]) -> Vec<u8> {
    let jpeg = encode(picture, ImageFormat::Jpeg);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_tiff(orientation, secrets[0], secrets[1]));
    // After SOI and the encoder's JFIF APP0.
    let mut at = 2;
    if jpeg[2..4] == [0xff, 0xe0] {
        at += 2 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    }
    let mut out = jpeg[..at].to_vec();
    out.extend(segment(0xe1, &app1));
    out.extend(segment(0xfe, secrets[2].as_bytes()));
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// What a test page holds.
pub enum Page<'a> {
    /// Lines of text in Helvetica.
    Text(&'a [&'a str]),
    /// Only a filled rectangle: no text layer.
    Drawing,
}

/// A valid PDF with the given pages, written by lopdf.
pub fn pdf(pages: &[Page<'_>]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for page in pages {
        let content = Content {
            operations: operations(page),
        };
        let content_id = doc.add_object(Stream::new(
            dictionary! {},
            content.encode().expect("content"),
        ));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

fn operations(page: &Page<'_>) -> Vec<Operation> {
    match page {
        Page::Text(lines) => {
            let mut ops = vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
                Operation::new("Td", vec![72.into(), 770.into()]),
                Operation::new("TL", vec![16.into()]),
            ];
            for line in *lines {
                ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
                ops.push(Operation::new("T*", vec![]));
            }
            ops.push(Operation::new("ET", vec![]));
            ops
        }
        Page::Drawing => vec![
            Operation::new("rg", vec![0.2.into(), 0.4.into(), 0.6.into()]),
            Operation::new("re", vec![50.into(), 50.into(), 300.into(), 300.into()]),
            Operation::new("f", vec![]),
        ],
    }
}

/// A PDF written by hand from object bodies (object N is `objects[N-1]`), with a correct
/// cross-reference table; `trailer_extra` goes into the trailer dictionary.
pub fn raw_pdf(objects: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A content stream object compressed with FlateDecode.
pub fn flate_stream(data: &[u8]) -> Vec<u8> {
    let packed = zlib(data);
    let mut out = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        packed.len()
    )
    .into_bytes();
    out.extend_from_slice(&packed);
    out.extend_from_slice(b"\nendstream");
    out
}
