//! `parley ask --attach FILE` (repeatable) as a user runs it: an image and a text file go with
//! the message, after its text; a file that cannot be attached — gone, a folder, a bomb — fails
//! the command with a sentence naming it, and nothing is sent and no chat is left behind.

use super::attachments::png;
use super::cli::{add_local, newest_chat, run};
use parley_protocol::{ChatSummary, Part};
use parley_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_attach_sends_an_image_and_a_text_file() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["a cat"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let image = dir.path().join("cat.png");
    std::fs::write(&image, png(64, 32, 1)).unwrap();
    let notes = dir.path().join("notes.rs");
    std::fs::write(&notes, "fn main() {}\n").unwrap();
    let r = run(
        dir.path(),
        &[
            "ask",
            "what is this?",
            "--attach",
            image.to_str().unwrap(),
            "--attach",
            notes.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("a cat"));
    let h = newest_chat(dir.path(), Some(1)).await;
    let parts = &h.messages[0].parts;
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!(
        parts[0],
        Part::Text {
            text: "what is this?".into()
        }
    );
    match &parts[1] {
        Part::Image {
            name,
            width,
            height,
            mime,
            sha256,
            data,
            ..
        } => {
            assert_eq!(
                (name.as_str(), *width, *height, mime.as_str()),
                ("cat.png", 64, 32, "image/png")
            );
            assert_eq!(sha256.len(), 64);
            assert_eq!(*data, None);
        }
        other => panic!("{other:?}"),
    }
    match &parts[2] {
        Part::File { name, text, .. } => {
            assert_eq!(name, "notes.rs");
            assert!(text.contains("fn main() {}"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 1);
    // `chats show` puts each attachment on a line of its own, after the question's text.
    let shown = run(dir.path(), &["chats", "show", &h.session.id.0]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown
            .stdout
            .contains("what is this?\n[image image/png]\n[file notes.rs]\n"),
        "{}",
        shown.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_cannot_be_attached_is_named_and_nothing_is_sent() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["no"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let good = dir.path().join("good.png");
    std::fs::write(&good, png(8, 8, 2)).unwrap();
    // Chosen, then deleted before sending.
    let deleted = dir.path().join("deleted.png");
    std::fs::write(&deleted, png(8, 8, 3)).unwrap();
    std::fs::remove_file(&deleted).unwrap();
    let folder = dir.path().join("a-folder.png");
    std::fs::create_dir(&folder).unwrap();
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let bomb_file = dir.path().join("bomb.png");
    std::fs::write(&bomb_file, bomb).unwrap();
    let binary = dir.path().join("data.txt");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 0]).unwrap();
    for bad in [&deleted, &folder, &bomb_file, &binary] {
        let name = bad.file_name().unwrap().to_str().unwrap();
        let r = run(
            dir.path(),
            &[
                "ask",
                "hi",
                "--attach",
                good.to_str().unwrap(),
                "--attach",
                bad.to_str().unwrap(),
            ],
        )
        .await;
        assert_ne!(r.code, 0, "{name}");
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
    }
    assert!(server.received().is_empty(), "no request sent");
    let list = run(dir.path(), &["chats", "list", "--json"]).await;
    let chats: Vec<ChatSummary> = serde_json::from_str(&list.stdout).unwrap();
    assert!(chats.is_empty(), "no chat left behind: {chats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_too_long_for_the_window_is_warned_about_on_stderr() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["read"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    // ~100k tokens of text against an unknown model's default window.
    let log = dir.path().join("big.log");
    std::fs::write(&log, "a line of a long log file\n".repeat(12_000)).unwrap();
    let r = run(
        dir.path(),
        &["ask", "summarise", "--attach", log.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("Warning: this message alone is about"),
        "{}",
        r.stderr
    );
    // A message that fits says nothing of the kind.
    let r = run(dir.path(), &["ask", "hello"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("Warning"), "{}", r.stderr);
}
