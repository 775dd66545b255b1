//! Paths that are not ordinary files, files too big or of the wrong kind, files that change or
//! vanish, cancellation, and the providers' limit table.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use parley_protocol::ProviderKind;

use super::file;
use super::test_fixtures as fixtures;
use super::tests::{go, ingest, refused, write};
use crate::attachments::ingest::{fits, from_bytes, limits_for, read, ImageFacts, Limits, Problem};

#[test]
fn a_folder_and_a_vanished_file_are_refused_with_a_sentence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("photos");
    std::fs::create_dir(&folder).expect("mkdir");
    let p = refused(
        "photos",
        read(&folder, &Limits::default(), &go()),
        "is a folder, not a file",
    );
    assert_eq!(p, Problem::NotAFile("a folder"));

    let gone = write(dir.path(), "notes.txt", b"chosen, then deleted");
    std::fs::remove_file(&gone).expect("rm");
    let p = refused(
        "notes.txt",
        read(&gone, &Limits::default(), &go()),
        "no longer exists",
    );
    assert_eq!(p, Problem::Missing);
}

#[cfg(unix)]
#[test]
fn a_fifo_a_socket_and_a_device_are_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.txt");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let started = Instant::now();
    let p = refused(
        "pipe.txt",
        read(&fifo, &Limits::default(), &go()),
        "is a named pipe (FIFO), not a file",
    );
    assert_eq!(p, Problem::NotAFile("a named pipe (FIFO)"));
    assert!(started.elapsed() < Duration::from_secs(2));

    let socket = dir.path().join("app.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    refused(
        "app.sock",
        read(&socket, &Limits::default(), &go()),
        "is a socket, not a file",
    );

    let null = std::path::Path::new("/dev/null");
    refused(
        "null",
        read(null, &Limits::default(), &go()),
        "is a device, not a file",
    );
}

#[test]
fn a_two_gigabyte_log_is_refused_at_once_without_being_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "server.log", b"2026-12-06 started\n");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(2 * 1024 * 1024 * 1024).expect("sparse");
    let started = Instant::now();
    let p = refused(
        "server.log",
        read(&path, &Limits::default(), &go()),
        "is 2.0 GB; Parley attaches text files of at most 2 MB",
    );
    assert!(matches!(
        p,
        Problem::TooLarge {
            what: "text files",
            ..
        }
    ));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn oversized_files_are_refused_by_their_kind_s_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = fixtures::encode(&fixtures::halves(8, 8), image::ImageFormat::Png);
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "huge.png",
            png,
            "is 51 MB; Parley attaches images of at most 50 MB",
        ),
        (
            "huge.pdf",
            b"%PDF-1.7\n".to_vec(),
            "is 51 MB; Parley attaches PDFs of at most 50 MB",
        ),
        (
            "huge.md",
            b"# title\n".to_vec(),
            "is 51 MB; Parley attaches text files of at most 2 MB",
        ),
    ];
    for (name, head, phrase) in cases {
        let path = write(dir.path(), name, &head);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.set_len(51 * 1024 * 1024).expect("grow");
        refused(name, read(&path, &Limits::default(), &go()), phrase);
    }
    // Pasted bytes meet the same limits.
    let small = Limits {
        image_input: 100,
        ..Limits::default()
    };
    let png = fixtures::encode(&fixtures::halves(64, 64), image::ImageFormat::Png);
    refused(
        "pasted image",
        from_bytes("", png, &small, &go()),
        "Parley attaches images of at most 100 bytes",
    );
}

#[test]
fn a_file_that_lies_about_its_type_is_refused_or_read_as_what_it_is() {
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00 rest of a zip".to_vec();
    let cases: [(&str, Vec<u8>, &str); 9] = [
        ("report.pdf", zip.clone(), "is a ZIP archive, not a PDF"),
        (
            "archive.zip",
            zip.clone(),
            "is a ZIP archive; Parley attaches images",
        ),
        (
            "holiday.png",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec(),
            "is a program (ELF), not a PNG image",
        ),
        (
            "notes.txt",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec(),
            "is a program (ELF); Parley attaches",
        ),
        (
            "photo.heic",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            "is a HEIC image (convert it to JPEG or PNG); Parley attaches",
        ),
        (
            "photo.jpg",
            b"\0\0\0\x18ftypavif\0\0\0\0avifmif1".to_vec(),
            "is an AVIF image (convert it to JPEG or PNG), not a JPEG image",
        ),
        (
            "movie.txt",
            b"\0\0\0\x18ftypisom\0\0\0\0isom".to_vec(),
            "is a video or audio file (MP4/MOV)",
        ),
        (
            "picture.png",
            b"just some words, not a picture".to_vec(),
            "is named as a PNG image, but its bytes are not one",
        ),
        (
            "paper.pdf",
            b"no header at all".to_vec(),
            "is named as a PDF, but its bytes are not one",
        ),
    ];
    for (name, bytes, phrase) in cases {
        refused(name, ingest(name, &bytes, &Limits::default()), phrase);
    }
    let p = refused(
        "empty.txt",
        ingest("empty.txt", b"", &Limits::default()),
        "is empty",
    );
    assert_eq!(p, Problem::Empty);
}

#[test]
fn a_refused_kind_is_not_read_past_its_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "backup.zip", b"PK\x03\x04 a zip");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(3 * 1024 * 1024 * 1024).expect("sparse");
    let started = Instant::now();
    refused(
        "backup.zip",
        read(&path, &Limits::default(), &go()),
        "is a ZIP archive",
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_file_that_changes_while_read_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "growing.log", b"first line\n");
    let mut opened = file::open(&path).expect("open");
    let mut bytes = opened.read_head(4, &go()).expect("head");
    std::fs::write(&path, b"first line\nsecond line, written meanwhile\n").expect("grow");
    assert_eq!(
        opened.read_rest(&mut bytes, &path, &go()),
        Err(Problem::Changed)
    );
    assert!(Problem::Changed
        .to_string()
        .contains("changed while it was being read"));

    let path = write(dir.path(), "shrinking.log", b"a longer first version\n");
    let mut opened = file::open(&path).expect("open");
    let mut bytes = Vec::new();
    std::fs::write(&path, b"short\n").expect("shrink");
    assert_eq!(
        opened.read_rest(&mut bytes, &path, &go()),
        Err(Problem::Changed)
    );
}

#[test]
fn cancelling_stops_reading_and_converting() {
    let cancelled = AtomicBool::new(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let png = fixtures::encode(&fixtures::halves(32, 32), image::ImageFormat::Png);
    let path = write(dir.path(), "shot.png", &png);
    let p = refused(
        "shot.png",
        read(&path, &Limits::default(), &cancelled),
        "was not attached: cancelled",
    );
    assert_eq!(p, Problem::Cancelled);
    refused(
        "shot.png",
        from_bytes("shot.png", png, &Limits::default(), &cancelled),
        "cancelled",
    );
    let pdf = fixtures::pdf(&[fixtures::Page::Text(&["one"])]);
    refused(
        "a.pdf",
        from_bytes("a.pdf", pdf, &Limits::default(), &cancelled),
        "cancelled",
    );
}

#[test]
fn sizes_read_as_people_say_them() {
    use crate::attachments::ingest::human_size;
    let cases = [
        (512, "512 bytes"),
        (2048, "2 KB"),
        (2 * 1024 * 1024, "2 MB"),
        (5 * 1024 * 1024 * 3 / 4, "3.75 MB"),
        (51 * 1024 * 1024, "51 MB"),
        (2 * 1024 * 1024 * 1024, "2.0 GB"),
    ];
    for (bytes, said) in cases {
        assert_eq!(human_size(bytes), said);
    }
}

#[test]
fn stored_images_fit_every_provider_and_the_table_says_where_they_do_not() {
    let limits = Limits::default();
    for kind in ProviderKind::ALL {
        let wire = limits_for(kind);
        assert!(!wire.source.is_empty());
        for mime in ["image/png", "image/jpeg"] {
            let stored = ImageFacts {
                mime,
                width: limits.long_edge,
                height: 10,
                size: limits.encoded_bytes,
            };
            assert!(
                fits(&stored, kind),
                "{kind:?} takes what ingest stores ({mime})"
            );
        }
    }
    let wide = ImageFacts {
        mime: "image/png",
        width: 2_001,
        height: 700,
        size: 1_000,
    };
    assert!(!fits(&wide, ProviderKind::Openai));
    assert!(fits(&wide, ProviderKind::Anthropic));
    let heavy = ImageFacts {
        mime: "image/jpeg",
        width: 1_000,
        height: 700,
        size: 4 * 1024 * 1024,
    };
    assert!(!fits(&heavy, ProviderKind::Anthropic));
    assert!(fits(&heavy, ProviderKind::OpenaiResponses));
    let webp = ImageFacts {
        mime: "image/webp",
        width: 100,
        height: 100,
        size: 1_000,
    };
    assert!(!fits(&webp, ProviderKind::Ollama));
    assert!(fits(&webp, ProviderKind::Gemini));
}
