//! Images and documents on the wire, through the engine and the mock server, for every wire
//! format: a chat's images and files (imported, so its history carries them) sent in each
//! format's documented shape and replayed in later turns; a switch of provider mid-chat; a
//! model whose list says it takes no images gets notes in their place, and a new message with
//! images to it is refused before any request; a provider's "no images" error told plainly.

use parley_core::providers::pieces::image_note;
use parley_core::Core;
use parley_protocol::{ChatFilter, ChatId, EventMsg, Part, ProviderKind, SendOptions};
use parley_tests::*;
use serde_json::{json, Value};
use std::path::Path;

/// A real 2×2 PNG with nothing but pixels: an import keeps such bytes as they are.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8DA8B+MgBgAHfAD/dPQfSYAAAAASUVORK5CYII=";
const QUESTION: &str = "What is in these?";
/// A document whose text holds a three- and a four-backtick fence.
const NOTES: &str = "# Notes\n```\ncode\n````\nend\n";
/// How the document reaches the model: named, fenced with five backticks, marked markdown.
const BLOCK: &str = "File: notes.md\n`````markdown\n# Notes\n```\ncode\n````\nend\n`````";

const KINDS: [ProviderKind; 5] = [
    ProviderKind::OpenaiCompatible,
    ProviderKind::OpenaiResponses,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
    ProviderKind::Ollama,
];

/// A Parley export of one chat: the user's question with an image and a document, the answer
/// of `provider`.
fn export(dir: &Path, provider: &str) -> std::path::PathBuf {
    let sid = "pics";
    let parts = json!([
        {"type": "text", "text": QUESTION},
        {"type": "image", "mime": "image/png", "name": "shot.png", "width": 640, "height": 480,
         "size": 16, "data": PNG},
        {"type": "file", "name": "notes.md", "mime": "text/markdown", "text": NOTES}
    ]);
    let file = json!({"format": "parley-chats", "version": 1, "exported_at": 0, "chats": [{
        "session": {"id": sid, "title": "Pictures", "created_at": 0, "updated_at": 0,
                    "message_count": 2, "params": {}},
        "head": "a1",
        "messages": [
            {"id": "q1", "session_id": sid, "parent_id": null, "role": "user", "created_at": 1,
             "parts": parts},
            {"id": "a1", "session_id": sid, "parent_id": "q1", "role": "assistant", "created_at": 2,
             "provider": provider, "model": "gpt-4o",
             "parts": [{"type": "text", "text": "A chart and notes."}]}
        ],
        "turns": []
    }]});
    let path = dir.join(format!("export-{provider}.json"));
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// The note for the imported image as the history keeps it (its bytes stored by address, its
/// name from the file, its pixels as stored).
async fn note_of(core: &Core, chat: &ChatId) -> String {
    let history = core.history().full_history(chat).await.unwrap();
    let image = history.messages[0]
        .parts
        .iter()
        .find(|p| matches!(p, Part::Image { .. }));
    let Some(Part::Image {
        name,
        width,
        height,
        sha256,
        data,
        ..
    }) = image
    else {
        panic!("the image was imported: {history:?}");
    };
    assert_eq!(sha256.len(), 64, "its bytes are stored");
    assert_eq!(data, &None, "and not kept in the part");
    image_note(name, *width, *height, "this model does not take images")
}

/// Imports the export and returns the chat's id.
async fn imported(core: &Core, dir: &Path, provider: &str) -> ChatId {
    core.history()
        .import(&export(dir, provider), false)
        .await
        .unwrap();
    let chats = core
        .chats()
        .list_chats(ChatFilter::default(), 10, 0)
        .await
        .unwrap();
    chats
        .iter()
        .find(|c| c.title == "Pictures")
        .unwrap()
        .id
        .clone()
}

async fn finish(h: &mut parley_core::TurnHandle) -> EventMsg {
    loop {
        let ev = h.events.recv().await.unwrap();
        if matches!(
            ev.msg,
            EventMsg::TurnCompleted { .. } | EventMsg::TurnFailed { .. }
        ) {
            return ev.msg;
        }
    }
}

/// Sends `text` with `provider` and waits for the turn to end.
async fn ask(core: &Core, chat: &ChatId, provider: &str, text: &str) -> EventMsg {
    let mut h = core
        .chats()
        .send_message(
            chat,
            text,
            SendOptions {
                provider: Some(provider.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    finish(&mut h).await
}

/// The first user message of a request body, in its format.
fn first_user(kind: ProviderKind, body: &Value) -> Value {
    match kind {
        ProviderKind::OpenaiResponses => body["input"][0].clone(),
        ProviderKind::Gemini => body["contents"][0].clone(),
        _ => body["messages"][0].clone(),
    }
}

/// The imported question as `kind` documents a user message with text, an image and a
/// document; with `vision` false, the image is a note and the message plain text.
/// `note` is what stands in for the image (its name and size as the history keeps them).
fn expected_question(kind: ProviderKind, vision: bool, note: &str) -> Value {
    let url = format!("data:image/png;base64,{PNG}");
    let joined = format!("{QUESTION}\n\n{note}\n\n{BLOCK}");
    match (kind, vision) {
        (ProviderKind::OpenaiResponses, true) => {
            json!({"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": QUESTION},
            {"type": "input_image", "image_url": url, "detail": "auto"},
            {"type": "input_text", "text": BLOCK}]})
        }
        (ProviderKind::OpenaiResponses, false) => {
            json!({"type": "message", "role": "user", "content": joined})
        }
        (ProviderKind::Anthropic, true) => json!({"role": "user", "content": [
            {"type": "text", "text": QUESTION},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "text", "text": BLOCK}]}),
        (ProviderKind::Anthropic, false) => {
            json!({"role": "user", "content": [{"type": "text", "text": joined}]})
        }
        (ProviderKind::Gemini, true) => json!({"role": "user", "parts": [
            {"text": QUESTION},
            {"inlineData": {"mimeType": "image/png", "data": PNG}},
            {"text": BLOCK}]}),
        (ProviderKind::Gemini, false) => json!({"role": "user", "parts": [{"text": joined}]}),
        (ProviderKind::Ollama, true) => json!({"role": "user",
            "content": format!("{QUESTION}\n\n{BLOCK}"), "images": [PNG]}),
        (ProviderKind::Ollama, false) => json!({"role": "user", "content": joined}),
        (_, true) => json!({"role": "user", "content": [
            {"type": "text", "text": QUESTION},
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": BLOCK}]}),
        (_, false) => json!({"role": "user", "content": joined}),
    }
}

/// A provider of `kind` named `name` at `server`, model "tiny"; the model list the server
/// answers says whether tiny takes images (`None`: the list says nothing).
async fn provider(
    core: &Core,
    name: &str,
    kind: ProviderKind,
    server: &MockServer,
    vision: Option<bool>,
) {
    add_provider(
        core,
        name,
        kind,
        &server.base_url(),
        "tiny",
        Some("test-key-0000000000"),
    )
    .await;
    let entry = match vision {
        Some(v) => {
            let inputs = if v {
                json!(["text", "image"])
            } else {
                json!(["text"])
            };
            json!({"id": "tiny", "architecture": {"input_modalities": inputs}})
        }
        None => json!({"id": "tiny"}),
    };
    server.answer_gets(Reply::json(200, &json!({"data": [entry]}).to_string()));
    let list = core.providers().list_models(name, true).await.unwrap();
    assert_eq!(list.models[0].vision, vision, "{kind:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_sends_history_images_and_documents_in_its_documented_shape() {
    for kind in KINDS {
        for vision in [None, Some(true), Some(false)] {
            let server = MockServer::start().await;
            // The request is what is checked: the provider refuses it and the turn ends.
            server.fallback(Reply::json(400, r#"{"error":{"message":"stop here"}}"#));
            let dir = tempfile::tempdir().unwrap();
            let core = open_core(dir.path(), Default::default()).await;
            provider(&core, "p", kind, &server, vision).await;
            let chat = imported(&core, dir.path(), "elsewhere").await;
            let ended = ask(&core, &chat, "p", "And now?").await;
            assert!(matches!(ended, EventMsg::TurnFailed { .. }), "{ended:?}");
            let got = server.received();
            assert_eq!(got.len(), 1, "{kind:?} {vision:?}");
            let body = got[0].json();
            let sees = vision != Some(false);
            let note = note_of(&core, &chat).await;
            assert_eq!(
                first_user(kind, &body),
                expected_question(kind, sees, &note),
                "{kind:?}, vision {vision:?}: {body}"
            );
            assert_eq!(
                body.to_string().contains("not sent"),
                !sees,
                "a note only in place of an image not sent: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_begun_with_openai_sends_its_images_to_anthropic_in_anthropics_shape() {
    let openai = MockServer::start().await;
    let claude = MockServer::start().await;
    openai.push(Reply::sse(text_answer(&["Seen."], 0)));
    claude.fallback(Reply::json(400, r#"{"error":{"message":"stop here"}}"#));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    provider(
        &core,
        "openai",
        ProviderKind::OpenaiCompatible,
        &openai,
        None,
    )
    .await;
    provider(
        &core,
        "claude",
        ProviderKind::Anthropic,
        &claude,
        Some(true),
    )
    .await;
    let chat = imported(&core, dir.path(), "openai").await;
    let ended = ask(&core, &chat, "openai", "Describe them").await;
    assert!(matches!(ended, EventMsg::TurnCompleted { .. }), "{ended:?}");
    assert_eq!(
        first_user(ProviderKind::OpenaiCompatible, &openai.received()[0].json()),
        expected_question(ProviderKind::OpenaiCompatible, true, "")
    );
    // The same history, now to Anthropic: its image blocks, the later turns replayed.
    ask(&core, &chat, "claude", "And in short?").await;
    let body = claude.received()[0].json();
    assert_eq!(
        first_user(ProviderKind::Anthropic, &body),
        expected_question(ProviderKind::Anthropic, true, ""),
        "{body}"
    );
    let texts: Vec<&Value> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"][0]["text"])
        .collect();
    assert_eq!(
        texts[1..],
        [
            &json!("A chart and notes."),
            &json!("Describe them"),
            &json!("Seen."),
            &json!("And in short?")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_with_images_to_a_model_without_vision_is_refused_before_any_request() {
    for kind in KINDS {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let core = open_core(dir.path(), Default::default()).await;
        provider(&core, "p", kind, &server, Some(false)).await;
        let chat = core.chats().create_chat(None).await.unwrap().id;
        // Stored images (the check that they are comes first).
        let named =
            super::attachments::attach(&core, "shot.png", super::attachments::png(4, 4, 1)).await;
        let pasted = super::attachments::attach(&core, "", super::attachments::png(4, 4, 2)).await;
        let options = |attachments| SendOptions {
            provider: Some("p".into()),
            attachments,
            ..Default::default()
        };
        let err = core
            .chats()
            .send_message(&chat, "what is this?", options(vec![named, pasted]))
            .await
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "Model \"tiny\" of provider \"p\" does not take images, so the message was not sent. Remove the images (\"shot.png\", a pasted image) or pick a model that takes them.",
            "{kind:?}"
        );
        assert!(server.received().is_empty(), "{kind:?}: no request");
        let history = core.history().full_history(&chat).await.unwrap();
        assert!(history.messages.is_empty(), "{kind:?}: nothing stored");
        // A document alone is text: it goes.
        server.fallback(Reply::json(400, r#"{"error":{"message":"stop here"}}"#));
        let doc = Part::File {
            name: "a.txt".into(),
            mime: "text/plain".into(),
            text: "x".into(),
        };
        let h = core
            .chats()
            .send_message(&chat, "and this?", options(vec![doc]))
            .await;
        assert!(h.is_ok(), "{kind:?}: {:?}", h.err());
        finish(&mut h.unwrap()).await;
        assert_eq!(server.received().len(), 1, "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_refuses_images_is_reported_plainly() {
    let server = MockServer::start().await;
    server.fallback(Reply::json(
        400,
        r#"{"error":{"message":"Invalid content type. image_url is only supported by certain models.","type":"invalid_request_error"}}"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    provider(&core, "p", ProviderKind::OpenaiCompatible, &server, None).await;
    let chat = imported(&core, dir.path(), "p").await;
    let ended = ask(&core, &chat, "p", "And now?").await;
    let EventMsg::TurnFailed { error, .. } = ended else {
        panic!("{ended:?}");
    };
    assert_eq!(
        error.message,
        "The model does not take images (HTTP 400). Remove the images from the message, or pick a model that takes images. Provider said: Invalid content type. image_url is only supported by certain models."
    );
    assert!(!error.retryable);
    assert_eq!(server.received().len(), 1, "not retried");
}
