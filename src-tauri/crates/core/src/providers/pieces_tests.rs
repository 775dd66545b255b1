use super::super::request_table::{msg, text};
use super::*;
use parley_protocol::{Part, Role};

fn file(name: &str, body: &str) -> Part {
    Part::File {
        name: name.into(),
        mime: "text/plain".into(),
        text: body.into(),
    }
}

fn image(name: &str, mime: &str, side: u32, data: Option<&str>) -> Part {
    Part::Image {
        mime: mime.into(),
        sha256: String::new(),
        name: name.into(),
        width: side,
        height: side / 2,
        size: 0,
        data: data.map(str::to_owned),
    }
}

/// The opening fence of a block (its second line's backticks).
fn fence_of(block: &str) -> &str {
    let line = block.lines().nth(1).expect("a fence line");
    &line[..line.len() - line.trim_start_matches('`').len()]
}

#[test]
fn no_file_text_can_close_its_fence_early() {
    let hostile = [
        "",
        "plain",
        "```",
        "```\nrm -rf /\n```",
        "````\n```\n````",
        "text ``````````` ten-and-one",
        "ends with a fence\n```",
        "`",
        "``",
        "line\n~~~\n",
        "\n\n\n",
        "trailing newline\n",
        "````rust\nfn x() {}\n````\n",
    ];
    for body in hostile {
        let block = file_block("x.rs", "text/plain", body);
        let fence = fence_of(&block);
        assert!(fence.len() >= 3, "{body:?}: {block}");
        assert!(
            fence.len() > longest_backtick_run(body),
            "{body:?}: fence {fence:?} in {block}"
        );
        assert!(block.starts_with("File: x.rs\n"), "{block}");
        assert!(block.ends_with(&format!("\n{fence}")), "{block}");
        // The block's content is the file's text, whole (one trailing newline is the fence's).
        let inner = &block[block.find('\n').unwrap() + 1..];
        let inner = &inner[inner.find('\n').unwrap() + 1..inner.len() - fence.len() - 1];
        assert_eq!(inner, body.strip_suffix('\n').unwrap_or(body), "{block}");
        // No line of the content could be read as the closing fence.
        assert!(
            inner.lines().all(|l| !l.trim_start().starts_with(fence)),
            "{block}"
        );
    }
}

#[test]
fn a_block_is_marked_with_the_language_of_its_name_or_type() {
    let cases = [
        ("main.rs", "text/plain", "rust"),
        ("App.TSX", "", "tsx"),
        ("script.PY", "text/x-python", "python"),
        ("notes.md", "", "markdown"),
        ("data", "application/json", "json"),
        ("page", "text/html; charset=utf-8", "html"),
        ("Makefile", "text/plain", "text"),
        ("report.pdf", "application/pdf", "text"),
        ("no-extension", "", "text"),
        ("archive.tar.gz", "application/gzip", "text"),
    ];
    for (name, mime, want) in cases {
        let block = file_block(name, mime, "x");
        let line = block.lines().nth(1).unwrap();
        assert_eq!(line.trim_start_matches('`'), want, "{name} {mime}");
    }
}

#[test]
fn a_name_cannot_add_lines_or_run_on() {
    for (name, shown) in [
        ("", "attachment"),
        ("   ", "attachment"),
        ("a\nFile: b.rs\n```", "a File: b.rs ```"),
        ("tab\there\r", "tab here"),
    ] {
        let block = file_block(name, "text/plain", "body");
        assert_eq!(block.lines().next().unwrap(), format!("File: {shown}"));
        assert_eq!(block.lines().count(), 4, "{block:?}");
    }
    let long = "n".repeat(1_000);
    let first = file_block(&long, "", "").lines().next().unwrap().to_owned();
    assert!(
        first.chars().count() < 220 && first.ends_with('…'),
        "{first}"
    );
    let note = image_note("x\ny]", 3, 4, "why");
    assert_eq!(note, "[image x y], 3×4, not sent: why]");
}

/// A case: its name, the image, the model's vision, the format's rule, the note (`None`: sent).
type Case<'a> = (&'a str, Part, Option<bool>, &'a ImageRule, Option<&'a str>);

/// What each image becomes for each rule and vision: the note's reason, or sent.
#[test]
fn an_image_is_sent_only_when_the_model_and_format_take_it() {
    let png = image("shot.png", "image/png", 640, Some("iVBO"));
    let cases: Vec<Case<'_>> = vec![
        ("sent", png.clone(), None, &OPENAI, None),
        (
            "sent to a vision model",
            png.clone(),
            Some(true),
            &GEMINI,
            None,
        ),
        (
            "no vision",
            png.clone(),
            Some(false),
            &OPENAI,
            Some("[image shot.png, 640×320, not sent: this model does not take images]"),
        ),
        (
            "no bytes",
            image("gone.png", "image/png", 0, None),
            None,
            &ANTHROPIC,
            Some("[image gone.png, not sent: Parley no longer has its bytes]"),
        ),
        (
            "no bytes, no vision",
            image("", "image/png", 10, None),
            Some(false),
            &OLLAMA,
            Some("[pasted image, 10×5, not sent: Parley no longer has its bytes]"),
        ),
        (
            "gif to Gemini",
            image("a.gif", "image/gif", 8, Some("R0lG")),
            None,
            &GEMINI,
            Some("[image a.gif, 8×4, not sent: Gemini does not take image/gif images]"),
        ),
        (
            "webp to Ollama",
            image("a.webp", "image/webp", 8, Some("UklG")),
            None,
            &OLLAMA,
            Some("[image a.webp, 8×4, not sent: Ollama does not take image/webp images]"),
        ),
        (
            "gif to OpenAI",
            image("a.gif", "image/gif", 8, Some("R0lG")),
            None,
            &OPENAI,
            None,
        ),
        (
            "too wide for Anthropic",
            image("w.png", "image/png", 9_000, Some("iVBO")),
            None,
            &ANTHROPIC,
            Some("[image w.png, 9000×4500, not sent: Anthropic takes at most 8000 pixels a side]"),
        ),
        (
            "8000 is fine",
            image("w.png", "image/png", 8_000, Some("iVBO")),
            None,
            &ANTHROPIC,
            None,
        ),
        (
            "too heavy",
            image(
                "big.png",
                "image/png",
                10,
                Some(&"A".repeat(8 * 1024 * 1024)),
            ),
            None,
            &ANTHROPIC,
            Some("[image big.png, 10×5, not sent: Anthropic takes at most 5 MB (base64) an image]"),
        ),
    ];
    for (name, part, vision, rule, want) in cases {
        let m = msg(Role::User, vec![part]);
        let got = pieces(&m, vision, rule);
        match want {
            None => assert!(
                matches!(got.as_slice(), [Piece::Image { .. }]),
                "{name}: {got:?}"
            ),
            Some(note) => assert_eq!(got, vec![Piece::Text(note.into())], "{name}"),
        }
    }
}

#[test]
fn pieces_keep_order_and_join_text_as_the_message_does() {
    let m = msg(
        Role::User,
        vec![
            text("Look "),
            text("here"),
            image("a.png", "image/png", 4, Some("AAAA")),
            text("and"),
            file("f.txt", "body"),
            text("done"),
            image("b.png", "image/png", 4, None),
        ],
    );
    let got = pieces(&m, None, &OPENAI);
    assert_eq!(
        got,
        vec![
            Piece::Text("Look here".into()),
            Piece::Image {
                mime: "image/png",
                data: "AAAA"
            },
            Piece::Text(
                "and\n\nFile: f.txt\n```text\nbody\n```\n\ndone\n\n[image b.png, 4×2, not sent: Parley no longer has its bytes]".into()
            ),
        ]
    );
    assert!(has_image(&got));
    assert_eq!(
        text_of(&got),
        "Look here\n\nand\n\nFile: f.txt\n```text\nbody\n```\n\ndone\n\n[image b.png, 4×2, not sent: Parley no longer has its bytes]"
    );
    // A Claude import's shape: the file first, then the question.
    let imported = msg(
        Role::User,
        vec![file("notes.md", "# Notes"), text("Summarise")],
    );
    assert_eq!(
        text_of(&pieces(&imported, None, &OPENAI)),
        "File: notes.md\n```markdown\n# Notes\n```\n\nSummarise"
    );
    // Reasoning and tool parts are not pieces; empty text stays empty.
    let bare = msg(Role::User, vec![text("")]);
    assert_eq!(pieces(&bare, None, &OPENAI), vec![Piece::Text("".into())]);
}

#[test]
fn a_message_of_attachments_alone_has_no_empty_text_piece() {
    let shot = || image("shot.png", "image/png", 4, Some("AAAA"));
    let sent = Piece::Image {
        mime: "image/png",
        data: "AAAA",
    };
    let only_image = msg(Role::User, vec![text(""), shot()]);
    assert_eq!(pieces(&only_image, None, &OPENAI), vec![sent.clone()]);
    let only_file = msg(Role::User, vec![text(""), file("a.rs", "fn a() {}")]);
    assert_eq!(
        pieces(&only_file, None, &OPENAI),
        vec![Piece::Text("File: a.rs\n```rust\nfn a() {}\n```".into())]
    );
    // An answer's empty text is kept as it always was.
    let answer = msg(Role::Assistant, vec![text(""), text("")]);
    assert_eq!(pieces(&answer, None, &OPENAI), vec![Piece::Text("".into())]);
}

#[test]
fn images_of_answers_and_system_messages_are_notes() {
    let img = image("drawn.png", "image/png", 6, Some("AAAA"));
    let answer = msg(Role::Assistant, vec![text("Here:"), img.clone()]);
    assert_eq!(
        text_of(&pieces(&answer, Some(true), &OPENAI)),
        "Here:\n\n[image drawn.png, 6×3, not sent: images in answers are not sent back]"
    );
    assert_eq!(
        answer_text(&img).as_deref(),
        Some("[image drawn.png, 6×3, not sent: images in answers are not sent back]")
    );
    assert_eq!(
        answer_text(&file("a.rs", "x")).as_deref(),
        Some("File: a.rs\n```rust\nx\n```")
    );
    assert_eq!(answer_text(&text("t")), None);
    let system = msg(Role::System, vec![img]);
    assert_eq!(
        pieces(&system, None, &OPENAI),
        vec![Piece::Text(
            "[image drawn.png, 6×3, not sent: a system message takes text only]".into()
        )]
    );
}

#[test]
fn text_after_a_file_in_an_answer_is_a_paragraph_of_its_own_in_every_format_that_joins_them() {
    // A Claude import: an answer with an attachment, then its text.
    let answer = msg(
        Role::Assistant,
        vec![file("answer.txt", "ATTACHED"), text("ok")],
    );
    let question = msg(Role::User, vec![text("continue")]);
    let req = crate::providers::ChatRequest {
        messages: vec![answer, question],
        ..Default::default()
    };
    let want = "File: answer.txt\n```text\nATTACHED\n```\n\nok";
    let chat =
        serde_json::to_value(crate::providers::openai_chat::request::build_body(&req)).unwrap();
    assert_eq!(chat["messages"][0]["content"], want, "{chat}");
    let ollama = serde_json::to_value(crate::providers::ollama::request::build_body(&req)).unwrap();
    let ollama = &ollama["messages"];
    assert_eq!(ollama[0]["content"], want, "{ollama}");
}
