//! Images across the data folder's edge: a backup carries them and a restore brings them back
//! into another folder; an export holds their bytes (version 2) and an import in another folder
//! stores the same bytes; a version-1 export's inline image still imports; an image inside an
//! imported file is taken in like an attached file (metadata stripped, a bomb or a lie replaced
//! by a note), and the chat is imported either way.

use super::attachments::{attach, jpeg_with_gps, png, send, sha_of};
use super::engine::env;
use parley_core::history::{Existing, ExportChoice, ExportFormat};
use parley_core::Core;
use parley_protocol::{ChatId, Part};
use parley_tests::*;
use serde_json::json;

async fn bytes(core: &Core, sha: &str) -> Option<Vec<u8>> {
    core.attachments().bytes(sha).await.unwrap().map(|(b, _)| b)
}

/// The only chat of `core`, with its messages.
async fn only_chat(core: &Core) -> parley_protocol::ChatHistory {
    let list = core.chats().recent_chats(10, 0).await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    core.history().full_history(&list[0].id).await.unwrap()
}

fn b64(bytes: &[u8]) -> String {
    // Standard base64, written out here so the test does not trust the code under test.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_carries_images_and_a_restore_brings_them_back() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let a = env(&server).await;
    let chat = a.core.chats().create_chat(None).await.unwrap().id;
    let image = attach(&a.core, "cat.png", png(30, 20, 6)).await;
    let sha = sha_of(&image);
    send(&a.core, &chat, "look", vec![image.clone()]).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = a
        .core
        .backups()
        .backup(Some(dir.path().join("b.db")))
        .await
        .unwrap();
    let b = env(&server).await;
    let report = b.core.backups().restore(&backup, false).await.unwrap();
    assert_eq!(report.chats_added, 1);
    let h = only_chat(&b.core).await;
    assert_eq!(h.messages[0].parts[1], image);
    assert_eq!(bytes(&b.core, &sha).await, bytes(&a.core, &sha).await);
    assert!(b
        .core
        .attachments()
        .thumbnail(&sha)
        .await
        .unwrap()
        .is_some());
    // Restored again: nothing added, the image still stored once.
    let again = b.core.backups().restore(&backup, false).await.unwrap();
    assert_eq!(again.chats_added, 0);
    assert_eq!(b.core.attachments().stored_images().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_the_bytes_and_an_import_stores_the_same() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let a = env(&server).await;
    let chat = a.core.chats().create_chat(None).await.unwrap().id;
    let image = attach(&a.core, "plot.png", png(50, 40, 7)).await;
    let photo = attach(&a.core, "photo.jpg", jpeg_with_gps()).await;
    send(
        &a.core,
        &chat,
        "two images",
        vec![image.clone(), photo.clone()],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chats.json");
    let choice = ExportChoice {
        chats: Some(vec![chat.clone()]),
        branch: false,
        format: ExportFormat::Json,
    };
    a.core
        .history()
        .export_to_file(&choice, &file, Existing::Keep)
        .await
        .unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["version"], 2);
    let part = &written["chats"][0]["messages"][0]["parts"][1];
    let stored = bytes(&a.core, &sha_of(&image)).await.unwrap();
    assert_eq!(part["data"], b64(&stored), "the bytes travel inline");
    assert_eq!(part["sha256"], sha_of(&image));
    let b = env(&server).await;
    b.core.history().import(&file, false).await.unwrap();
    let h = only_chat(&b.core).await;
    assert_eq!(
        h.messages[0].parts[1..],
        [image.clone(), photo.clone()],
        "same addresses"
    );
    for p in [&image, &photo] {
        assert_eq!(
            bytes(&b.core, &sha_of(p)).await,
            bytes(&a.core, &sha_of(p)).await
        );
    }
    // The Markdown export names the images.
    let md = a
        .core
        .history()
        .export_text(&ExportChoice {
            format: ExportFormat::Markdown,
            ..choice
        })
        .await
        .unwrap()
        .text;
    assert!(md.contains("image “plot.png”, 50×40, image/png"), "{md}");
}

/// A version-`version` export of one chat whose user message shows `images` (JSON parts).
fn export_with(version: u32, images: Vec<serde_json::Value>) -> String {
    let mut parts = vec![json!({"type": "text", "text": "see"})];
    parts.extend(images);
    json!({"format": "parley-chats", "version": version, "exported_at": 1, "chats": [{
        "session": {"id": "c-img", "title": "Images", "created_at": 1, "updated_at": 1, "message_count": 1, "params": {}},
        "head": "m-1",
        "messages": [{"id": "m-1", "session_id": "c-img", "parent_id": null, "role": "user",
                      "parts": parts, "created_at": 1}],
        "turns": []}]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_of_an_imported_file_are_checked_like_attached_ones() {
    let server = MockServer::start().await;
    let plain = png(20, 20, 8);
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let cases: Vec<(&str, u32, serde_json::Value, &str)> = vec![
        (
            "version 1 image",
            1,
            json!({"type": "image", "mime": "image/png", "data": b64(&plain)}),
            "stored",
        ),
        (
            "version 2 image",
            2,
            json!({"type": "image", "mime": "image/png", "sha256": "ab".repeat(32), "name": "x.png", "width": 1, "height": 1, "size": 1, "data": b64(&plain)}),
            "stored",
        ),
        (
            "gps photo",
            2,
            json!({"type": "image", "mime": "image/jpeg", "data": b64(&jpeg_with_gps())}),
            "stripped",
        ),
        (
            "bomb",
            2,
            json!({"type": "image", "mime": "image/png", "data": b64(&bomb)}),
            "note",
        ),
        (
            "a zip said to be png",
            1,
            json!({"type": "image", "mime": "image/png", "data": b64(b"PK\x03\x04 a zip")}),
            "note",
        ),
        (
            "an svg",
            2,
            json!({"type": "image", "mime": "image/svg+xml", "data": b64(b"<svg onload=alert(1)/>")}),
            "note",
        ),
        (
            "not base64",
            1,
            json!({"type": "image", "mime": "image/png", "data": "@@@"}),
            "note",
        ),
    ];
    for (what, version, image, outcome) in cases {
        let e = env(&server).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.json");
        std::fs::write(&file, export_with(version, vec![image])).unwrap();
        let report = e.core.history().import(&file, false).await.unwrap();
        assert_eq!(report.chats_added, 1, "{what}: the chat is imported");
        let h = e
            .core
            .history()
            .full_history(&ChatId("c-img".into()))
            .await
            .unwrap();
        let part = &h.messages[0].parts[1];
        match (outcome, part) {
            ("stored", Part::Image { sha256, width, .. }) => {
                assert_eq!(bytes(&e.core, sha256).await.unwrap(), plain, "{what}");
                assert_eq!(*width, 20, "{what}: details from the bytes");
            }
            ("stripped", Part::Image { sha256, .. }) => {
                let b = bytes(&e.core, sha256).await.unwrap();
                assert!(b.starts_with(&[0xFF, 0xD8]), "{what}");
                for secret in [&b"GPS"[..], b"taken at home", b"Exif"] {
                    assert!(!b.windows(secret.len()).any(|w| w == secret), "{what}");
                }
            }
            ("note", Part::Text { text }) => {
                assert!(text.starts_with("\n\n[An image was here"), "{what}: {text}");
                assert_eq!(
                    e.core.attachments().stored_images().await.unwrap(),
                    0,
                    "{what}"
                );
            }
            _ => panic!("{what}: {part:?}"),
        }
    }
}
