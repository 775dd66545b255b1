//! Images: metadata stripped, orientation applied, bombs and damaged files refused, formats
//! converted, the size budget kept.

use image::{GenericImageView, ImageFormat};

use super::test_fixtures as fixtures;
use super::tests::{go, image, ingest, refused};
use crate::attachments::ingest::{from_bytes, Ingested, Limits, Problem};

/// Byte strings that must never survive re-encoding.
const SECRETS: [&str; 3] = [
    "DESCRIPTION-SECRET-7",
    "GPS-SECRET-51N",
    "COMMENT-SECRET-42",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(bytes: &[u8], label: &str) {
    for needle in SECRETS.iter().map(|s| s.as_bytes()).chain([
        &b"Exif"[..],
        b"eXIf",
        b"tEXt",
        b"iTXt",
        b"zTXt",
        b"iCCP",
        b"XMP",
        b"xmpmeta",
        b"\xff\xe1",
        b"\xff\xfe",
    ]) {
        assert!(
            !contains(bytes, needle),
            "{label}: {:?} survived",
            String::from_utf8_lossy(needle)
        );
    }
}

#[test]
fn a_jpeg_with_gps_exif_and_a_comment_comes_out_without_them_and_upright() {
    // Orientation 6: stored lying on its side, shown turned 90° clockwise.
    let input = fixtures::jpeg_with_exif(&fixtures::halves(40, 20), 6, SECRETS);
    for needle in SECRETS {
        assert!(
            contains(&input, needle.as_bytes()),
            "the fixture carries {needle}"
        );
    }
    let out = image(ingest("IMG_0001.jpg", &input, &Limits::default()));
    assert_clean(&out.bytes, "image");
    assert_clean(&out.thumbnail, "thumbnail");
    assert_eq!(out.mime, "image/jpeg");
    assert_eq!((out.original.width, out.original.height), (40, 20));
    assert_eq!((out.width, out.height), (20, 40), "turned upright");
    let shown = image::load_from_memory(&out.bytes)
        .expect("decodes")
        .to_rgb8();
    // The left half (red) is on top after a quarter turn clockwise.
    let (top, bottom) = (shown.get_pixel(10, 5).0, shown.get_pixel(10, 35).0);
    assert!(top[0] > 150 && top[2] < 100, "top {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "bottom {bottom:?}");
}

#[test]
fn a_png_with_text_xmp_exif_and_icc_chunks_comes_out_without_them() {
    let png = fixtures::encode(&fixtures::halves(30, 30), ImageFormat::Png);
    let chunks = [
        fixtures::chunk(b"tEXt", format!("Comment\0{}", SECRETS[2]).as_bytes()),
        fixtures::chunk(
            b"iTXt",
            format!(
                "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>{}</x:xmpmeta>",
                SECRETS[0]
            )
            .as_bytes(),
        ),
        fixtures::chunk(
            b"zTXt",
            &[
                b"Author\0\0".to_vec(),
                fixtures::zlib(SECRETS[1].as_bytes()),
            ]
            .concat(),
        ),
        fixtures::chunk(b"eXIf", &fixtures::exif_tiff(1, SECRETS[0], SECRETS[1])),
    ];
    let input = fixtures::png_with_chunks(&png, &chunks);
    let out = image(ingest("screenshot.png", &input, &Limits::default()));
    assert_clean(&out.bytes, "image");
    assert_eq!(out.mime, "image/png", "a lossless source stays PNG");
    assert_eq!((out.width, out.height), (30, 30));
}

#[test]
fn hostile_images_are_refused_with_a_sentence() {
    let png = fixtures::encode(&fixtures::noise(64, 64), ImageFormat::Png);
    let jpeg = fixtures::encode(&fixtures::noise(64, 64), ImageFormat::Jpeg);
    let gif = fixtures::encode(&fixtures::halves(64, 64), ImageFormat::Gif);
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("bomb.png", fixtures::bomb_png(100_000, 100_000), "claims to be 100000×100000 pixels, more than Parley opens (16384 pixels a side): a decompression bomb?"),
        ("tall.png", fixtures::bomb_png(16_000, 16_000), "claims to be 16000×16000 pixels"),
        ("cut.png", png[..png.len() / 2].to_vec(), "is a damaged or cut-short PNG image"),
        ("cut.jpg", jpeg[..jpeg.len() / 3].to_vec(), "is a damaged or cut-short JPEG image"),
        ("cut.gif", gif[..gif.len() / 3].to_vec(), "is a damaged or cut-short GIF image"),
        ("header.png", png[..40].to_vec(), "is a damaged or cut-short PNG image"),
    ];
    for (name, bytes, phrase) in cases {
        let started = std::time::Instant::now();
        let problem = refused(name, ingest(name, &bytes, &Limits::default()), phrase);
        assert!(
            started.elapsed().as_secs() < 5,
            "{name} took {:?}",
            started.elapsed()
        );
        if name.ends_with(".png") && name != "cut.png" && name != "header.png" {
            assert!(matches!(problem, Problem::TooManyPixels { .. }));
        }
    }
}

#[test]
fn formats_image_decodes_are_converted_to_png_or_jpeg() {
    let picture = fixtures::halves(24, 16);
    let cases = [
        (ImageFormat::Png, "a.png", "image/png"),
        (ImageFormat::Jpeg, "a.jpg", "image/jpeg"),
        (ImageFormat::Gif, "a.gif", "image/png"),
        (ImageFormat::WebP, "a.webp", "image/jpeg"),
        (ImageFormat::Bmp, "a.bmp", "image/png"),
        (ImageFormat::Tiff, "a.tiff", "image/png"),
        (ImageFormat::Ico, "a.ico", "image/png"),
    ];
    for (format, name, mime) in cases {
        let out = image(ingest(
            name,
            &fixtures::encode(&picture, format),
            &Limits::default(),
        ));
        assert_eq!(out.mime, mime, "{name}");
        assert_eq!((out.width, out.height), (24, 16), "{name}");
        assert_eq!(out.original.mime, format.to_mime_type(), "{name}");
        let thumb = image::load_from_memory_with_format(&out.thumbnail, ImageFormat::Png)
            .expect("thumbnail");
        assert_eq!(
            thumb.dimensions(),
            (24, 16),
            "{name}: a small image is its own thumbnail"
        );
        assert!(out.notes.is_empty(), "{name}: {:?}", out.notes);
    }
}

#[test]
fn transparency_keeps_png_and_a_misnamed_image_is_read_as_what_it_is() {
    let hole = fixtures::encode(&fixtures::with_hole(16, 16), ImageFormat::WebP);
    let out = image(ingest("sticker.webp", &hole, &Limits::default()));
    assert_eq!(out.mime, "image/png");
    let back = image::load_from_memory(&out.bytes).expect("png");
    assert_eq!(back.get_pixel(0, 0).0[3], 0);

    let jpeg = fixtures::encode(&fixtures::halves(16, 16), ImageFormat::Jpeg);
    let out = image(ingest("photo.png", &jpeg, &Limits::default()));
    assert_eq!(out.original.mime, "image/jpeg");
    assert_eq!(
        out.notes,
        ["Its name says a PNG image, but it is a JPEG image; it was read as what it is."]
    );
}

#[test]
fn big_images_are_downscaled_and_thumbnailed() {
    let png = fixtures::encode(&fixtures::halves(2_400, 600), ImageFormat::Png);
    let out = image(ingest("wide.png", &png, &Limits::default()));
    assert_eq!((out.width, out.height), (2_000, 500));
    assert_eq!(out.notes, ["Downscaled from 2400×600 to 2000×500."]);
    let thumb = image::load_from_memory(&out.thumbnail).expect("thumbnail");
    assert_eq!(thumb.dimensions(), (256, 64));
}

#[test]
fn an_image_over_the_byte_budget_steps_down_to_fit() {
    let png = fixtures::encode(&fixtures::noise(600, 400), ImageFormat::Png);
    let limits = Limits {
        encoded_bytes: 40_000,
        ..Limits::default()
    };
    let out = image(ingest("noise.png", &png, &limits));
    assert!(out.bytes.len() <= 40_000, "{} bytes", out.bytes.len());
    assert_eq!(
        out.mime, "image/jpeg",
        "an opaque PNG too big becomes a JPEG"
    );

    let tiny = Limits {
        encoded_bytes: 10,
        ..Limits::default()
    };
    let p = refused(
        "noise.png",
        ingest("noise.png", &png, &tiny),
        "could not be made smaller than 10 bytes",
    );
    assert_eq!(p, Problem::CannotShrink { limit: 10 });
}

#[test]
fn an_animated_gif_gives_its_first_frame_with_a_note() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        let frames = [fixtures::halves(20, 10), fixtures::noise(20, 10)]
            .map(|p| Frame::from_parts(p.to_rgba8(), 0, 0, Delay::from_numer_denom_ms(100, 1)));
        encoder.encode_frames(frames).expect("gif");
    }
    let out = image(ingest("party.gif", &bytes, &Limits::default()));
    assert_eq!(
        out.notes,
        ["It is animated; only its first frame is attached."]
    );
    assert_eq!((out.width, out.height), (20, 10));
}

#[test]
fn a_pasted_image_keeps_an_empty_name_and_is_named_in_sentences() {
    let png = fixtures::encode(&fixtures::halves(8, 8), ImageFormat::Png);
    match from_bytes("", png, &Limits::default(), &go()) {
        Ok(Ingested::Image(out)) => assert_eq!(out.name, ""),
        other => panic!("{other:?}"),
    }
    refused(
        "pasted image",
        from_bytes(
            "",
            fixtures::bomb_png(90_000, 10),
            &Limits::default(),
            &go(),
        ),
        "a decompression bomb?",
    );
}
