//! Attachments through the core's services, on a real data folder and a mock provider:
//! sending with attachments (checked first; refused ones store nothing), edits and
//! regenerations keep a message's attachments, the clean-up after deletions. The transfer
//! cases (backup and restore, export and import) are in `attachments_transfer.rs`.

use super::engine::{collect, env, Env};
use parley_core::Core;
use parley_protocol::{ChatId, Part, SendOptions, ToolCallStatus};
use parley_tests::*;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A PNG of `w`×`h` pixels whose colours depend on `seed`.
pub(super) fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([seed, (x % 251) as u8, (y % 241) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG carrying EXIF with a GPS position and a comment, as a phone writes one.
pub(super) fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let exif = b"Exif\0\0MM\0*GPSLatitude 51.5007N GPSLongitude 0.1246W";
    let comment = b"taken at home";
    let mut out = plain[..2].to_vec();
    for (marker, data) in [(0xE1u8, &exif[..]), (0xFE, &comment[..])] {
        out.extend([0xFF, marker]);
        out.extend(((data.len() + 2) as u16).to_be_bytes());
        out.extend(data);
    }
    out.extend(&plain[2..]);
    out
}

pub(super) fn go() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// Attaches `bytes` as `name`; the part.
pub(super) async fn attach(core: &Core, name: &str, bytes: Vec<u8>) -> Part {
    core.attachments()
        .attach_bytes(name, "", bytes, go())
        .await
        .unwrap()
        .part
}

pub(super) fn sha_of(p: &Part) -> String {
    match p {
        Part::Image { sha256, .. } => sha256.clone(),
        other => panic!("not an image: {other:?}"),
    }
}

fn with(attachments: Vec<Part>) -> SendOptions {
    SendOptions {
        attachments,
        ..SendOptions::default()
    }
}

/// Sends `text` with `attachments` and waits for the answer.
pub(super) async fn send(core: &Core, chat: &ChatId, text: &str, attachments: Vec<Part>) {
    let mut h = core
        .chats()
        .send_message(chat, text, with(attachments))
        .await
        .unwrap();
    collect(&mut h.events).await;
}

async fn answered_env() -> (MockServer, Env) {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["seen"], 0)));
    let e = env(&server).await;
    (server, e)
}

fn parts_of(h: &parley_protocol::ChatHistory, i: usize) -> Vec<Part> {
    h.messages[i].parts.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_carries_its_checked_attachments_after_its_text() {
    let (server, e) = answered_env().await;
    let chat = e.core.chats().create_chat(None).await.unwrap().id;
    let image = attach(&e.core, "shot.png", png(40, 20, 1)).await;
    let sha = sha_of(&image);
    // What the window claims about an image is not what is stored.
    let lying = match image.clone() {
        Part::Image { sha256, .. } => Part::Image {
            mime: "image/svg+xml".into(),
            sha256,
            name: "shot.png".into(),
            width: 99_999,
            height: 1,
            size: 1,
            data: Some("PHN2Zz4=".into()),
        },
        _ => unreachable!(),
    };
    let file = Part::File {
        name: "notes.md".into(),
        mime: "text/markdown".into(),
        text: "# Notes".into(),
    };
    send(&e.core, &chat, "what is this?", vec![lying, file.clone()]).await;
    let h = e.core.history().full_history(&chat).await.unwrap();
    assert_eq!(
        parts_of(&h, 0),
        vec![
            Part::Text {
                text: "what is this?".into()
            },
            image.clone(),
            file.clone()
        ]
    );
    assert_eq!(server.received().len(), 1);
    // Regenerating and editing keep the attachments.
    let mut h2 = e
        .core
        .chats()
        .regenerate(&chat, None, SendOptions::default())
        .await
        .unwrap();
    collect(&mut h2.events).await;
    let first = h.messages[0].id.clone();
    let mut h3 = e
        .core
        .chats()
        .edit_message(&chat, &first, "and now?", with(vec![image.clone()]))
        .await
        .unwrap();
    collect(&mut h3.events).await;
    let h = e.core.history().full_history(&chat).await.unwrap();
    assert_eq!(
        parts_of(&h, 0),
        vec![
            Part::Text {
                text: "and now?".into()
            },
            image.clone(),
            file
        ],
        "the edit keeps the attachments, the image once"
    );
    assert_eq!(server.received().len(), 3);
    assert!(e.core.attachments().info(&sha).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_attachment_sends_and_stores_nothing() {
    let (server, e) = answered_env().await;
    let chat = e.core.chats().create_chat(None).await.unwrap().id;
    let image = attach(&e.core, "a.png", png(10, 10, 2)).await;
    let unknown = match image.clone() {
        Part::Image { name, .. } => Part::Image {
            mime: "image/png".into(),
            sha256: "ab".repeat(32),
            name,
            width: 1,
            height: 1,
            size: 1,
            data: None,
        },
        _ => unreachable!(),
    };
    let call = Part::ToolCall {
        call_id: "c1".into(),
        name: "shell".into(),
        arguments: r#"{"command":"rm -rf ~"}"#.into(),
        status: ToolCallStatus::AwaitingApproval,
    };
    for (what, parts, says) in [
        ("unknown image", vec![image.clone(), unknown], "not stored"),
        ("tool call", vec![call], "not a tool call"),
    ] {
        let e2 = e
            .core
            .chats()
            .send_message(&chat, "hi", with(parts))
            .await
            .err()
            .unwrap_or_else(|| panic!("{what} was sent"));
        assert!(e2.to_string().contains(says), "{what}: {e2}");
    }
    let h = e.core.history().full_history(&chat).await.unwrap();
    assert!(h.messages.is_empty(), "nothing stored");
    assert!(server.received().is_empty(), "nothing sent");
    // Answering again takes no attachments.
    send(&e.core, &chat, "hi", Vec::new()).await;
    let e3 = e
        .core
        .chats()
        .retry_turn(&chat, with(vec![image]))
        .await
        .err()
        .unwrap();
    assert!(e3.to_string().contains("new message or an edit"), "{e3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_goes_with_the_last_message_that_shows_it() {
    let (_server, e) = answered_env().await;
    let a = e.core.attachments();
    let chats = e.core.chats();
    let one = chats.create_chat(None).await.unwrap().id;
    let two = chats.create_chat(None).await.unwrap().id;
    let shared = attach(&e.core, "both.png", png(12, 12, 3)).await;
    let alone = attach(&e.core, "alone.png", png(12, 12, 4)).await;
    send(&e.core, &one, "one", vec![shared.clone(), alone.clone()]).await;
    send(&e.core, &two, "two", vec![shared.clone()]).await;
    let waiting = attach(&e.core, "unsent.png", png(12, 12, 5)).await;
    assert_eq!(a.stored_images().await.unwrap(), 3);
    chats.delete_chat(&one).await.unwrap();
    assert!(
        a.info(&sha_of(&alone)).await.unwrap().is_none(),
        "only in the deleted chat"
    );
    assert!(
        a.info(&sha_of(&shared)).await.unwrap().is_some(),
        "still in the other chat"
    );
    assert!(
        a.info(&sha_of(&waiting)).await.unwrap().is_some(),
        "waiting to be sent"
    );
    // A branch deleted takes its images too.
    let h = e.core.history().full_history(&two).await.unwrap();
    chats
        .delete_branch(&two, &h.messages[0].id, None)
        .await
        .unwrap();
    assert!(
        a.info(&sha_of(&shared)).await.unwrap().is_none(),
        "its last message gone"
    );
    assert_eq!(a.stored_images().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_alone_are_a_message_and_no_empty_text_is_sent() {
    let (server, e) = answered_env().await;
    let chat = e.core.chats().create_chat(None).await.unwrap().id;
    // Nothing at all is still refused, and nothing is sent.
    let Err(err) = e
        .core
        .chats()
        .send_message(&chat, "  ", SendOptions::default())
        .await
    else {
        panic!("an empty message was taken");
    };
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(server.received().is_empty());
    let image = attach(&e.core, "shot.png", png(40, 20, 3)).await;
    send(&e.core, &chat, "", vec![image.clone()]).await;
    let h = e.core.history().full_history(&chat).await.unwrap();
    assert!(parts_of(&h, 0).contains(&image));
    let sent = server.received();
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    let user = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .expect("a user message");
    let content = user["content"].as_array().expect("content parts");
    assert_eq!(content.len(), 1, "only the image: {content:?}");
    assert_eq!(content[0]["type"], "image_url");
}
