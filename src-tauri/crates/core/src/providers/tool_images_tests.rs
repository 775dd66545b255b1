use super::*;
use crate::providers::pieces::{ANTHROPIC, OLLAMA};
use parley_protocol::{Role, ToolCallStatus};

fn image(name: &str, mime: &str, data: Option<&str>) -> Part {
    Part::Image {
        mime: mime.into(),
        sha256: "ab".repeat(32),
        name: name.into(),
        width: 4,
        height: 3,
        size: 3,
        data: data.map(str::to_owned),
    }
}

fn answer(parts: Vec<Part>) -> Message {
    Message {
        id: "m".into(),
        chat_id: "s".into(),
        parent_id: None,
        role: Role::Assistant,
        parts,
        turn_id: None,
        provider: None,
        model: None,
        created_at: 0,
    }
}

fn call(id: &str) -> Part {
    Part::ToolCall {
        call_id: id.into(),
        name: "shot".into(),
        arguments: "{}".into(),
        status: ToolCallStatus::Completed,
    }
}

fn result(id: &str, output: &str) -> Part {
    Part::ToolResult {
        call_id: id.into(),
        output: output.into(),
        is_error: false,
    }
}

/// Two calls, the first returning two images and the second one; an image the model's own
/// answer carries (after text) stays the answer's.
fn rounds() -> Message {
    answer(vec![
        call("c1"),
        call("c2"),
        result("c1", "two shots"),
        image("a.png", "image/png", Some("AAAA")),
        image("b.gif", "image/gif", Some("BBBB")),
        result("c2", ""),
        image("c.png", "image/png", None),
        Part::Text {
            text: "Done.".into(),
        },
        image("drawn.png", "image/png", Some("CCCC")),
    ])
}

#[test]
fn images_after_a_result_go_with_it_and_the_answer_keeps_its_own() {
    let m = rounds();
    let kept: Vec<&Part> = answer_parts(&m).collect();
    assert_eq!(kept.len(), 6, "{kept:?}");
    assert!(matches!(kept[5], Part::Image { name, .. } if name == "drawn.png"));
    let r = results(&m, None, &ANTHROPIC);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].call_id, "c1");
    assert_eq!(r[0].output, "two shots");
    assert_eq!(
        r[0].images,
        vec![
            Piece::Image {
                mime: "image/png",
                data: "AAAA"
            },
            Piece::Image {
                mime: "image/gif",
                data: "BBBB"
            }
        ]
    );
    // An image whose bytes are gone: a note in the result's text, even when it was empty.
    assert!(r[1].images.is_empty());
    assert!(
        r[1].output.starts_with("[image c.png, 4×3, not sent:"),
        "{}",
        r[1].output
    );
}

#[test]
fn an_image_the_model_or_the_provider_cannot_take_is_a_note() {
    let m = rounds();
    // Ollama takes PNG and JPEG: the GIF is a note on its own line.
    let r = results(&m, None, &OLLAMA);
    assert_eq!(r[0].images.len(), 1);
    assert_eq!(
        r[0].output,
        "two shots\n[image b.gif, 4×3, not sent: Ollama does not take image/gif images]"
    );
    // A model known not to take images: every image is a note, none is sent.
    let r = results(&m, Some(false), &ANTHROPIC);
    assert!(r.iter().all(|r| r.images.is_empty()));
    assert_eq!(
        r[0].output
            .matches("this model does not take images")
            .count(),
        2
    );
}

#[test]
fn the_images_message_names_each_call() {
    let m = rounds();
    let r = results(&m, None, &ANTHROPIC);
    let pieces = images_message(&r);
    assert_eq!(pieces.len(), 3);
    assert_eq!(
        pieces[0],
        Piece::Text(Cow::Borrowed("[The tool call c1 returned 2 images:]"))
    );
    assert!(images_message(&results(&m, Some(false), &ANTHROPIC)).is_empty());
}
