//! The attachments topic on a real database file: stored once, cleaned up when no message
//! refers to an image (with a grace period for images waiting to be sent), a message's
//! attachments checked before anything is stored, older inline image rows moved into storage,
//! and images from files taken in like attached ones.

use super::*;
use parley_protocol::{ChatId, ProviderKind, ToolCallStatus};

pub(super) use crate::test_kit::{core, rt};
use crate::Core;

/// A PNG of `w`×`h` pixels whose colours depend on `seed`.
pub(crate) fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([seed, (x % 251) as u8, (y % 241) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A PNG chunk with its CRC.
pub(super) fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(data);
    out.extend(crc.sum().to_be_bytes());
    out
}

/// A small PNG that claims 100,000 × 100,000 pixels.
pub(super) fn png_bomb() -> Vec<u8> {
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", b""));
    out
}

/// A plain PNG with a text chunk (a comment, as a camera or an editor writes) added.
pub(super) fn png_with_comment() -> Vec<u8> {
    let plain = png(8, 8, 9);
    let mut out = plain[..33].to_vec();
    out.extend(chunk(b"tEXt", b"Comment\0GPS 51.5N 0.1W"));
    out.extend(&plain[33..]);
    out
}

pub(super) fn no_cancel() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

#[test]
fn addresses_are_strict() {
    let good = "0123456789abcdef".repeat(4);
    let cases = [
        (good.as_str(), true),
        (&good[..63], false),
        (
            "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            false,
        ),
        (
            "../../etc/passwd/0123456789abcdef0123456789abcdef0123456789abcde",
            false,
        ),
        (
            "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            false,
        ),
        ("", false),
    ];
    for (s, ok) in cases {
        assert_eq!(is_sha256(s), ok, "{s}");
    }
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn names_are_shown_without_folders_or_hidden_characters() {
    let cases = [
        ("shot.png", "shot.png"),
        ("/home/me/secret/shot.png", "shot.png"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("a\u{202e}gnp.exe", "agnp.exe"),
        ("two\nlines.txt", "two lines.txt"),
        ("", ""),
    ];
    for (raw, shown) in cases {
        assert_eq!(shown_name(raw), shown, "{raw:?}");
    }
    assert_eq!(shown_name(&"x".repeat(400)).chars().count(), 255);
}

#[test]
fn the_same_image_attached_twice_is_stored_once() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let a = core.attachments();
        let bytes = png(40, 30, 1);
        let first = a
            .attach_bytes("a.png", "image/png", bytes.clone(), no_cancel())
            .await
            .unwrap();
        let file = dir.path().join("b.png");
        std::fs::write(&file, &bytes).unwrap();
        let second = a.attach_file(&file, no_cancel()).await.unwrap();
        let (
            Part::Image { sha256: s1, .. },
            Part::Image {
                sha256: s2, name, ..
            },
        ) = (&first.part, &second.part)
        else {
            panic!("{first:?} {second:?}");
        };
        assert_eq!(s1, s2);
        assert_eq!(name, "b.png");
        assert_eq!(a.stored_images().await.unwrap(), 1);
        let other = a
            .attach_bytes("", "image/png", png(40, 30, 2), no_cancel())
            .await
            .unwrap();
        assert_ne!(other.part, first.part);
        assert_eq!(a.stored_images().await.unwrap(), 2);
        // Served with the stored type, and a thumbnail.
        let (served, mime) = a.bytes(s1).await.unwrap().unwrap();
        assert_eq!(sha256_hex(&served), *s1);
        assert_eq!(mime, "image/png");
        let thumb = a.thumbnail(s1).await.unwrap().unwrap();
        assert!(thumb.starts_with(b"\x89PNG"));
        assert_eq!(a.bytes(&s1.to_uppercase()).await.unwrap(), None);
    });
}

#[test]
fn a_refused_file_names_itself_and_stores_nothing() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let a = core.attachments();
        let cancelled = Arc::new(AtomicBool::new(true));
        let cases: Vec<(&str, Vec<u8>, Arc<AtomicBool>)> = vec![
            ("bomb.png", png_bomb(), no_cancel()),
            ("cut.png", png(50, 50, 3)[..60].to_vec(), no_cancel()),
            ("empty.png", Vec::new(), no_cancel()),
            ("zip.pdf", b"PK\x03\x04rest of a zip".to_vec(), no_cancel()),
            ("cancelled.png", png(20, 20, 4), cancelled),
        ];
        for (name, bytes, cancel) in cases {
            let e = a
                .attach_bytes(name, "image/png", bytes, cancel)
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        let gone = dir.path().join("gone.png");
        let e = a.attach_file(&gone, no_cancel()).await.unwrap_err();
        assert!(e.to_string().contains("gone.png"), "{e}");
        assert_eq!(a.stored_images().await.unwrap(), 0);
    });
}

/// The messages of a chat that refer to `sha` (raw rows: no provider needed).
pub(super) async fn refer(core: &Core, chat: &str, sha: &str) {
    let (chat, sha) = (chat.to_owned(), sha.to_owned());
    core.store()
        .writer
        .call(move |c| {
            c.execute(
                "INSERT INTO sessions(id, created_at, updated_at) VALUES (?1, 1, 1)",
                [&chat],
            )?;
            let m = format!("{chat}-m");
            c.execute(
                "INSERT INTO messages(id, session_id, role, created_at) VALUES (?1, ?2, 'user', 1)",
                [&m, &chat],
            )?;
            c.execute(
                "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, 0, 'image', ?2, '{\"mime\":\"image/png\"}')",
                [&m, &sha],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

pub(super) async fn stored(core: &Core, sha: &str) -> bool {
    core.attachments().info(sha).await.unwrap().is_some()
}

#[test]
fn images_go_when_no_message_refers_to_them() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let a = core.attachments();
        let mut shas = Vec::new();
        for seed in 0..4 {
            let at = a
                .attach_bytes("", "image/png", png(16, 16, seed), no_cancel())
                .await
                .unwrap();
            let Part::Image { sha256, .. } = at.part else {
                panic!()
            };
            shas.push(sha256);
        }
        // 0: in two chats; 1: in one; 2: attached, not sent; 3: sent, its chat deleted.
        refer(&core, "c1", &shas[0]).await;
        refer(&core, "c2", &shas[0]).await;
        refer(&core, "c3", &shas[1]).await;
        refer(&core, "c4", &shas[3]).await;
        a.mark_sent(&[BlobInfo {
            sha256: shas[3].clone(),
            mime: "image/png".into(),
            width: 16,
            height: 16,
            size: 1,
        }
        .part("")])
            .await
            .unwrap();
        core.chats()
            .delete_chat(&ChatId("c4".into()))
            .await
            .unwrap();
        assert!(!stored(&core, &shas[3]).await, "sent, then deleted");
        assert!(stored(&core, &shas[2]).await, "waiting to be sent: kept");
        core.chats()
            .delete_chat(&ChatId("c1".into()))
            .await
            .unwrap();
        assert!(stored(&core, &shas[0]).await, "still in c2");
        // Past the grace period, an image never sent goes too; referred ones stay.
        let later = crate::now_ms() + GRACE_MS + 1;
        core.store().collect_blobs(later).await.unwrap();
        assert!(!stored(&core, &shas[2]).await, "waited too long");
        assert!(stored(&core, &shas[0]).await && stored(&core, &shas[1]).await);
        core.chats()
            .delete_chat(&ChatId("c2".into()))
            .await
            .unwrap();
        core.store().collect_blobs(later).await.unwrap();
        assert!(!stored(&core, &shas[0]).await, "its last chat deleted");
        let thumbs: i64 = core
            .store()
            .reader
            .call(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM attachment_thumbnails", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        assert_eq!(
            thumbs, 1,
            "only the image still referred to keeps its thumbnail"
        );
    });
}

#[test]
fn attachments_sent_with_a_message_are_checked_first() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let a = core.attachments();
        let at = a
            .attach_bytes("real.png", "image/png", png(32, 24, 5), no_cancel())
            .await
            .unwrap();
        let Part::Image { sha256, .. } = at.part.clone() else {
            panic!()
        };
        let image = |sha: &str, width: u32| Part::Image {
            mime: "image/gif".into(),
            sha256: sha.into(),
            name: "/tmp/x/real.png".into(),
            width,
            height: 1,
            size: 999_999,
            data: Some("AAAA".into()),
        };
        let file = |name: &str, text: String| Part::File {
            name: name.into(),
            mime: "text/plain".into(),
            text,
        };
        let refused: Vec<(&str, Vec<Part>, &str)> = vec![
            ("unknown", vec![image(&"ab".repeat(32), 1)], "not stored"),
            ("malformed", vec![image("../x", 1)], "not stored"),
            (
                "upper case",
                vec![image(&sha256.to_uppercase(), 1)],
                "not stored",
            ),
            (
                "tool call",
                vec![Part::ToolCall {
                    call_id: "c".into(),
                    name: "shell".into(),
                    arguments: "{}".into(),
                    status: ToolCallStatus::Completed,
                }],
                "not a tool call",
            ),
            (
                "text",
                vec![Part::Text { text: "x".into() }],
                "not a text part",
            ),
            (
                "result",
                vec![Part::ToolResult {
                    call_id: "c".into(),
                    output: "x".into(),
                    is_error: false,
                }],
                "not a tool result",
            ),
            ("no name", vec![file("\u{200b}", "x".into())], "no name"),
            (
                "long",
                vec![file("big.log", "x".repeat(3 << 20))],
                "big.log",
            ),
            (
                "bad type",
                vec![Part::File {
                    name: "a.txt".into(),
                    mime: "text/plain\n".into(),
                    text: "x".into(),
                }],
                "a.txt",
            ),
            (
                "too many",
                vec![file("a.txt", "x".into()); MAX_ATTACHMENTS + 1],
                "at most",
            ),
            (
                "good then bad",
                vec![at.part.clone(), image(&"cd".repeat(32), 1)],
                "not stored",
            ),
        ];
        for (what, parts, says) in refused {
            let e = a.check_outgoing(parts).await.unwrap_err().to_string();
            assert!(e.contains(says), "{what}: {e}");
        }
        // Accepted: details from the store, never the window's; no bytes carried.
        let parts = a
            .check_outgoing(vec![
                image(&sha256, 4000),
                file("/home/me/notes.md", "# hi".into()),
            ])
            .await
            .unwrap();
        assert_eq!(
            parts[0],
            BlobInfo {
                sha256: sha256.clone(),
                mime: "image/png".into(),
                width: 32,
                height: 24,
                size: a.info(&sha256).await.unwrap().unwrap().size,
            }
            .part("real.png")
        );
        assert_eq!(parts[1], file("notes.md", "# hi".into()));
    });
}

/// A request carries the newest images within its byte budget; older ones keep no bytes
/// (their note is sent instead).
#[test]
fn a_requests_images_stay_within_its_byte_budget_newest_first() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let a = core.attachments();
        let mut parts = Vec::new();
        for seed in 0..3 {
            let kept = a
                .attach_bytes("", "image/png", png(64, 64, seed), no_cancel())
                .await
                .unwrap();
            parts.push(kept.part);
        }
        let mut messages = vec![parley_protocol::Message {
            id: "m".into(),
            chat_id: ChatId("c".into()),
            parent_id: None,
            role: parley_protocol::Role::User,
            parts,
            turn_id: None,
            provider: None,
            model: None,
            created_at: 0,
        }];
        let data = |m: &[parley_protocol::Message]| -> Vec<usize> {
            m[0].parts
                .iter()
                .map(|p| match p {
                    Part::Image { data, .. } => data.as_ref().map_or(0, String::len),
                    _ => 0,
                })
                .collect()
        };
        a.fill_within(&mut messages, ProviderKind::Anthropic, (20, usize::MAX))
            .await;
        let each = data(&messages);
        assert!(each.iter().all(|n| *n > 0), "{each:?}");
        // Room for the newest two only.
        let room = each[1] + each[2];
        a.fill_within(&mut messages, ProviderKind::Anthropic, (20, room))
            .await;
        assert_eq!(data(&messages), vec![0, each[1], each[2]]);
        // One image at most.
        a.fill_within(&mut messages, ProviderKind::Anthropic, (1, usize::MAX))
            .await;
        assert_eq!(data(&messages), vec![0, 0, each[2]]);
    });
}
