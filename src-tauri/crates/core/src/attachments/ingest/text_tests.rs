//! Text and code files: decoding, newlines, the fence language, binaries refused, SVG as source.

use super::tests::{document, ingest, refused};
use crate::attachments::ingest::{Limits, Problem};

#[test]
fn text_files_get_their_language_from_name_or_shebang() {
    let cases: [(&str, &str, &str, &str); 14] = [
        ("main.rs", "fn main() {}\n", "rust", "text/plain"),
        ("app.py", "print('hi')\n", "python", "text/plain"),
        ("index.ts", "export {}\n", "typescript", "text/plain"),
        ("data.json", "{\"a\": 1}\n", "json", "application/json"),
        ("README.md", "# Title\n", "markdown", "text/markdown"),
        ("Cargo.toml", "[package]\n", "toml", "text/plain"),
        ("ci.yml", "on: push\n", "yaml", "text/plain"),
        ("main.go", "package main\n", "go", "text/plain"),
        ("Makefile", "all:\n\ttrue\n", "makefile", "text/plain"),
        (
            "deploy",
            "#!/usr/bin/env python3\nimport os\n",
            "python",
            "text/plain",
        ),
        ("run", "#!/bin/bash -e\necho hi\n", "bash", "text/plain"),
        (
            "tool",
            "#!/usr/bin/env -S node --no-warnings\n",
            "javascript",
            "text/plain",
        ),
        ("notes.txt", "plain words\n", "text", "text/plain"),
        ("README", "no extension\n", "text", "text/plain"),
    ];
    for (name, text, language, mime) in cases {
        let doc = document(ingest(name, text.as_bytes(), &Limits::default()));
        assert_eq!((doc.language, doc.mime), (language, mime), "{name}");
        assert_eq!(doc.text, text, "{name}");
        assert_eq!(doc.pages, None);
    }
}

#[test]
fn encodings_boms_and_newlines_are_normalised() {
    let utf16le: Vec<u8> = b"\xff\xfe"
        .iter()
        .copied()
        .chain("héllo\r\nwörld".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = b"\xfe\xff"
        .iter()
        .copied()
        .chain("héllo\r\nwörld".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let cases: [(&str, Vec<u8>, &str, usize); 5] = [
        (
            "bom.txt",
            b"\xef\xbb\xbfh\xc3\xa9llo\r\nw\xc3\xb6rld".to_vec(),
            "héllo\nwörld",
            0,
        ),
        ("le.txt", utf16le, "héllo\nwörld", 0),
        ("be.txt", utf16be, "héllo\nwörld", 0),
        (
            "mac.txt",
            b"one\rtwo\r\nthree".to_vec(),
            "one\ntwo\nthree",
            0,
        ),
        ("latin1.txt", b"caf\xe9 \x80\n".to_vec(), "café €\n", 1),
    ];
    for (name, bytes, text, notes) in cases {
        let doc = document(ingest(name, &bytes, &Limits::default()));
        assert_eq!(doc.text, text, "{name}");
        assert_eq!(doc.notes.len(), notes, "{name}: {:?}", doc.notes);
    }
}

#[test]
fn a_binary_attached_as_text_is_refused() {
    let mut controls = b"header\n".to_vec();
    controls.extend((0..200u8).map(|i| 1 + i % 8));
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "data.txt",
            b"abc\0\0\0\x01\x02def".to_vec(),
            "looks like a binary file, not text (it contains NUL bytes)",
        ),
        ("dump.log", controls, "control characters"),
        (
            "bad16.txt",
            b"\xff\xfe\x00\xd8".to_vec(),
            "looks like a binary file, not text (its UTF-16 byte-order mark",
        ),
        (
            "utf16-without-bom.txt",
            "hello".encode_utf16().flat_map(u16::to_le_bytes).collect(),
            "it contains NUL bytes",
        ),
    ];
    for (name, bytes, phrase) in cases {
        let p = refused(name, ingest(name, &bytes, &Limits::default()), phrase);
        assert!(matches!(p, Problem::Binary(_)), "{name}: {p:?}");
    }
    // Terminal colours in a log are text.
    let doc = document(ingest(
        "build.log",
        b"\x1b[32mok\x1b[0m\tdone\x0c\n",
        &Limits::default(),
    ));
    assert_eq!(doc.text, "\x1b[32mok\x1b[0m\tdone\x0c\n");
}

#[test]
fn an_svg_is_its_xml_source_never_a_picture() {
    let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>\n";
    for name in ["drawing.svg", "drawing.xml", "drawing"] {
        let doc = document(ingest(name, svg, &Limits::default()));
        assert_eq!((doc.language, doc.mime), ("xml", "text/xml"), "{name}");
        assert!(doc.text.contains("<script>alert(1)</script>"));
        assert_eq!(
            doc.notes,
            ["An SVG drawing is attached as its XML source, never shown as a picture."]
        );
    }
}

#[test]
fn a_text_over_the_limit_is_refused() {
    let limits = Limits {
        text_input: 1_000,
        ..Limits::default()
    };
    let text = "x".repeat(1_001);
    refused(
        "big.csv",
        ingest("big.csv", text.as_bytes(), &limits),
        "is 1001 bytes; Parley attaches text files of at most 1000 bytes",
    );
    let doc = document(ingest("ok.csv", &text.as_bytes()[..1_000], &limits));
    assert_eq!(doc.language, "csv");
}
