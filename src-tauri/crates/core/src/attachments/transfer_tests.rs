//! The attachments topic across files and versions: older inline image rows moved into
//! storage or replaced by a note, a backup's blobs checked before they come along, and images
//! from export files taken in like attached ones (the file's claims never taken).

use super::tests::*;
use super::*;
use rusqlite::params;

#[test]
fn older_inline_image_rows_move_into_storage_or_become_a_note() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let good = outgoing::base64_of(&png(12, 10, 7));
        let rows = vec![
            ("m-good", good.clone()),
            ("m-comment", outgoing::base64_of(&png_with_comment())),
            ("m-bomb", outgoing::base64_of(&png_bomb())),
            ("m-garbage", outgoing::base64_of(b"not an image at all")),
            ("m-not-base64", "***".to_owned()),
        ];
        let inserted = rows.clone();
        core.store()
            .writer
            .call(move |c| {
                c.execute("INSERT INTO sessions(id, created_at, updated_at) VALUES ('s', 1, 1)", [])?;
                for (m, body) in &inserted {
                    c.execute(
                        "INSERT INTO messages(id, session_id, role, created_at) VALUES (?1, 's', 'user', 1)",
                        [m],
                    )?;
                    c.execute(
                        "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, 0, 'image', ?2, '\"image/png\"')",
                        params![m, body],
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
        core.attachments().tidy().await.unwrap();
        let parts: Vec<(String, String, String)> = core
            .store()
            .reader
            .call(|c| {
                let mut s = c.prepare("SELECT message_id, kind, body FROM parts ORDER BY message_id")?;
                let rows = s
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await
            .unwrap();
        let of = |m: &str| parts.iter().find(|p| p.0 == m).unwrap().clone();
        for m in ["m-good", "m-comment"] {
            let (_, kind, body) = of(m);
            assert_eq!(kind, "image", "{m}");
            let (bytes, _) = core.attachments().bytes(&body).await.unwrap().unwrap();
            assert!(plain::is_plain("image/png", &bytes), "{m}: stored without metadata");
        }
        assert_eq!(of("m-good").2, sha256_hex(&outgoing::bytes_of(&good).unwrap()), "plain bytes kept");
        for m in ["m-bomb", "m-garbage", "m-not-base64"] {
            let (_, kind, body) = of(m);
            assert_eq!(kind, "text", "{m}");
            assert!(body.trim_start().starts_with("[An image was here"), "{m}: {body}");
        }
        assert_eq!(core.attachments().stored_images().await.unwrap(), 2);
        // Nothing left to move: a second tidy changes nothing.
        core.attachments().tidy().await.unwrap();
        assert_eq!(core.attachments().stored_images().await.unwrap(), 2);
    });
}

#[test]
fn blobs_of_a_file_are_checked_before_they_come_along() {
    let src = rusqlite::Connection::open_in_memory().unwrap();
    let dst = rusqlite::Connection::open_in_memory().unwrap();
    for c in [&src, &dst] {
        c.execute_batch(
            "CREATE TABLE attachment_blobs (sha256 TEXT PRIMARY KEY, mime TEXT NOT NULL,
                width INTEGER NOT NULL, height INTEGER NOT NULL, size INTEGER NOT NULL,
                created_at INTEGER NOT NULL, attached_at INTEGER NOT NULL, bytes BLOB NOT NULL);",
        )
        .unwrap();
    }
    let limits = ingest::Limits::default();
    let good = png(20, 10, 1);
    let big = png(2100, 10, 1);
    let lying = png(20, 10, 2);
    let cases: Vec<(&str, String, &str, Vec<u8>, bool)> = vec![
        ("good", sha256_hex(&good), "image/png", good.clone(), true),
        (
            "wrong address",
            "ab".repeat(32),
            "image/png",
            good.clone(),
            false,
        ),
        (
            "metadata",
            sha256_hex(&png_with_comment()),
            "image/png",
            png_with_comment(),
            false,
        ),
        (
            "bomb",
            sha256_hex(&png_bomb()),
            "image/png",
            png_bomb(),
            false,
        ),
        (
            "too wide",
            sha256_hex(&big),
            "image/png",
            big.clone(),
            false,
        ),
        (
            "type lies",
            sha256_hex(&lying),
            "image/jpeg",
            lying.clone(),
            false,
        ),
        (
            "svg",
            sha256_hex(b"<svg/>"),
            "image/svg+xml",
            b"<svg/>".to_vec(),
            false,
        ),
    ];
    for (what, sha, mime, bytes, comes) in cases {
        src.execute(
            "INSERT INTO attachment_blobs VALUES (?1, ?2, 1, 1, 1, 1, 1, ?3)",
            params![sha, mime, bytes],
        )
        .unwrap();
        let here = transfer::bring_blob(&dst, &src, &sha, &limits).unwrap();
        assert_eq!(here, comes, "{what}");
        let copied: i64 = dst
            .query_row(
                "SELECT count(*) FROM attachment_blobs WHERE sha256 = ?1",
                [&sha],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(copied, i64::from(comes), "{what}");
    }
    // The stored details are the bytes' own, not the file's.
    let (w, h): (u32, u32) = dst
        .query_row("SELECT width, height FROM attachment_blobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((w, h), (20, 10));
    // Unknown to the file: not here.
    assert!(!transfer::bring_blob(&dst, &src, &"ef".repeat(32), &limits).unwrap());
}

#[test]
fn an_image_from_a_file_is_taken_in_like_an_attached_one() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE attachment_blobs (sha256 TEXT PRIMARY KEY, mime TEXT NOT NULL,
            width INTEGER NOT NULL, height INTEGER NOT NULL, size INTEGER NOT NULL,
            created_at INTEGER NOT NULL, attached_at INTEGER NOT NULL, bytes BLOB NOT NULL);
         CREATE TABLE attachment_thumbnails (sha256 TEXT PRIMARY KEY, png BLOB NOT NULL);",
    )
    .unwrap();
    let limits = ingest::Limits::default();
    let image = |data: Option<String>| Part::Image {
        mime: "image/gif".into(),
        sha256: "ab".repeat(32),
        name: "../../shot.png".into(),
        width: 9999,
        height: 9999,
        size: 1,
        data,
    };
    let plain = png(30, 20, 3);
    let mut kept = image(Some(outgoing::base64_of(&plain)));
    transfer::take_in(&c, &mut kept, &limits).unwrap();
    assert_eq!(
        kept,
        BlobInfo {
            sha256: sha256_hex(&plain),
            mime: "image/png".into(),
            width: 30,
            height: 20,
            size: plain.len() as u64,
        }
        .part("shot.png"),
        "plain bytes kept as they are, details from the bytes"
    );
    let mut stripped = image(Some(outgoing::base64_of(&png_with_comment())));
    transfer::take_in(&c, &mut stripped, &limits).unwrap();
    let Part::Image { sha256, .. } = &stripped else {
        panic!("{stripped:?}")
    };
    let bytes: Vec<u8> = c
        .query_row(
            "SELECT bytes FROM attachment_blobs WHERE sha256 = ?1",
            [sha256],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !bytes.windows(7).any(|w| w == b"Comment"),
        "the comment is gone"
    );
    for (what, data) in [
        ("bomb", outgoing::base64_of(&png_bomb())),
        ("zip", outgoing::base64_of(b"PK\x03\x04zip")),
        ("text", outgoing::base64_of(b"hello, I am text")),
        ("not base64", "%%%".into()),
    ] {
        let mut p = image(Some(data));
        transfer::take_in(&c, &mut p, &limits).unwrap();
        let Part::Text { text } = &p else {
            panic!("{what}: {p:?}")
        };
        assert!(
            text.starts_with("\n\n[An image was here (“shot.png”); it "),
            "{what}: {text}"
        );
    }
    // An image without bytes: the file's claims are not taken; unknown here, it is a note.
    let mut bare = image(None);
    transfer::take_in(&c, &mut bare, &limits).unwrap();
    assert_eq!(
        bare,
        Part::Text {
            text: "\n\n[An image was here (“shot.png”); it did not come with its bytes.]".into()
        }
    );
    // Stored here already: shown with what the store knows, not what the file claims.
    let mut known = Part::Image {
        mime: "image/gif".into(),
        sha256: sha256_hex(&plain),
        name: "shot.png".into(),
        width: 9999,
        height: 1,
        size: 7,
        data: None,
    };
    transfer::take_in(&c, &mut known, &limits).unwrap();
    assert_eq!(
        known,
        BlobInfo {
            sha256: sha256_hex(&plain),
            mime: "image/png".into(),
            width: 30,
            height: 20,
            size: plain.len() as u64,
        }
        .part("shot.png")
    );
    let stored: i64 = c
        .query_row("SELECT count(*) FROM attachment_blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 2);
}
