//! The request bodies of every wire format for a table of conversations, against the JSON they
//! must serialize to (`testdata/requests.json`, recorded from the `json!` builders these typed
//! ones replaced). Compared after a round trip through the bytes sent, so a float written
//! differently or a field that appears, goes or moves to another object fails here.
//!
//! `PARLEY_RECORD_REQUESTS=1 cargo test -p parley-core --lib providers::request_table` rewrites
//! the file from the current builders (review the diff before committing it).

use super::{anthropic, gemini, ollama, openai_chat, openai_responses};
use super::{ChatRequest, ToolChoice, ToolSpec};
use parley_protocol::{Message, Part, ReasoningEffort, Role, ToolCallStatus};
use serde_json::{json, Map, Value};

const RECORDED: &str = include_str!("testdata/requests.json");

/// A message of `role` made of `parts` (shared with the pieces' tests).
pub(super) fn msg(role: Role, parts: Vec<Part>) -> Message {
    Message {
        id: "m".into(),
        chat_id: "s".into(),
        parent_id: None,
        role,
        parts,
        turn_id: None,
        provider: None,
        model: None,
        created_at: 0,
    }
}

pub(super) fn text(t: &str) -> Part {
    Part::Text { text: t.into() }
}

fn reasoning(t: &str, signature: Option<String>) -> Part {
    Part::Reasoning {
        text: t.into(),
        signature,
    }
}

fn call(id: &str, name: &str, arguments: &str) -> Part {
    Part::ToolCall {
        call_id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        status: ToolCallStatus::Completed,
    }
}

fn result(id: &str, output: &str, is_error: bool) -> Part {
    Part::ToolResult {
        call_id: id.into(),
        output: output.into(),
        is_error,
    }
}

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "read_file".into(),
            description: "Reads a file.".into(),
            parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
        },
        ToolSpec {
            name: "run".into(),
            description: "Runs a command — with ünïcode.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

/// An answer with every kind of part: each provider's signatures (and an unknown one), text,
/// calls with server and made-up ids, arguments cut off, empty and valid, results and errors.
fn tool_rounds() -> Vec<Message> {
    let responses_item = json!({"type": "reasoning", "id": "rs_1", "encrypted_content": "ENC", "summary": [{"type": "summary_text", "text": "S"}]});
    vec![
        msg(Role::System, vec![text("An older system message.")]),
        msg(Role::User, vec![text("Read a.txt"), text(" and b.txt")]),
        msg(
            Role::Assistant,
            vec![
                reasoning("I should read.", Some("ANTHROPICSIG".into())),
                reasoning("", Some(super::signature::anthropic_redacted("REDACTED"))),
                reasoning("", Some(super::signature::gemini("GEMSIG"))),
                reasoning("", Some(format!("openai-responses:{responses_item}"))),
                reasoning("unsigned", None),
                reasoning("", Some("weird:sig".into())),
                text("Reading."),
                call("call_1", "read_file", "{\"path\":\"a.txt\"}"),
                call("parley_call_0190", "read_file", ""),
                call("toolu_3", "run", "{\"cmd\":"),
                result("call_1", "A", false),
                result("parley_call_0190", "no such file", true),
                result("toolu_3", "bad arguments", true),
                reasoning("", Some(super::signature::gemini("AFTER"))),
                text("Then more."),
                call("call_4", "run", "{}"),
                result("call_4", "ran", false),
                Part::Image {
                    mime: "image/png".into(),
                    sha256: "ab".repeat(32),
                    name: String::new(),
                    width: 1,
                    height: 1,
                    size: 3,
                    data: Some("AAAA".into()),
                },
                reasoning("", Some(super::signature::gemini("END"))),
            ],
        ),
        msg(Role::Assistant, vec![]),
        msg(Role::Assistant, vec![reasoning("only thinking", None)]),
        msg(
            Role::User,
            vec![
                text("Thanks"),
                Part::File {
                    name: "f.txt".into(),
                    mime: "text/plain".into(),
                    text: "file text".into(),
                },
            ],
        ),
    ]
}

fn image(name: &str, mime: &str, (width, height): (u32, u32), data: Option<&str>) -> Part {
    Part::Image {
        mime: mime.into(),
        sha256: "cd".repeat(32),
        name: name.into(),
        width,
        height,
        size: data.map_or(0, |d| d.len() as u64 / 4 * 3),
        data: data.map(str::to_owned),
    }
}

/// Images among text, a document containing fences, an image whose bytes are gone, one each
/// format takes or not (GIF: not Gemini nor Ollama; 9000 px: not Anthropic), an answer's image,
/// and a later turn: the history's images are replayed with it.
fn attachments() -> Vec<Message> {
    let code = "fn main() {}\n```\nnot the end\n````\n";
    vec![
        msg(
            Role::User,
            vec![
                text("Compare "),
                image("a.png", "image/png", (640, 480), Some("iVBORw0K")),
                text("with"),
                image("", "image/jpeg", (2, 2), Some("/9j/4AAQ")),
                Part::File {
                    name: "main.rs".into(),
                    mime: "text/x-rust".into(),
                    text: code.into(),
                },
            ],
        ),
        msg(
            Role::Assistant,
            vec![
                text("They differ."),
                image("drawn.png", "image/png", (10, 10), Some("AAAA")),
            ],
        ),
        msg(
            Role::User,
            vec![
                image("gone.png", "image/png", (1, 1), None),
                image("anim.gif", "image/gif", (8, 8), Some("R0lGODlh")),
                image("huge.png", "image/png", (9_000, 100), Some("iVBORw0K")),
                text("And these?"),
            ],
        ),
    ]
}

/// A request of one user message to `model`, everything else at its default.
fn base(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![msg(Role::User, vec![text("Hello")])],
        ..Default::default()
    }
}

/// The table: a name and the request (sampling and reasoning, then tools).
fn cases() -> Vec<(&'static str, ChatRequest)> {
    let mut out = vec![("minimal", base("m-1"))];
    out.extend(sampling_cases());
    out.extend(tool_cases());
    out
}

/// Sampling values and reasoning efforts, on an ordinary model and on reasoning models.
fn sampling_cases() -> Vec<(&'static str, ChatRequest)> {
    let sampling = |effort| ChatRequest {
        system: Some("Be brief.".into()),
        temperature: Some(0.7),
        top_p: Some(0.9),
        max_output_tokens: Some(300),
        stop: vec!["END".into(), "\n\n".into()],
        reasoning: effort,
        ..base("gpt-4o")
    };
    let mut out = vec![("sampling-no-reasoning", sampling(None))];
    for (name, effort) in [
        ("sampling-off", ReasoningEffort::Off),
        ("sampling-low", ReasoningEffort::Low),
        ("sampling-medium", ReasoningEffort::Medium),
        ("sampling-high", ReasoningEffort::High),
    ] {
        out.push((name, sampling(Some(effort))));
    }
    for (name, model, effort) in [
        ("reasoning-model-default", "o3-mini", None),
        (
            "reasoning-model-off",
            "openai/gpt-5-mini",
            Some(ReasoningEffort::Off),
        ),
        (
            "reasoning-model-high",
            "codex-mini",
            Some(ReasoningEffort::High),
        ),
    ] {
        out.push((
            name,
            ChatRequest {
                reasoning: effort,
                ..base(model)
            },
        ));
    }
    out.push((
        "hot-and-blank-system",
        ChatRequest {
            system: Some("  \n".into()),
            temperature: Some(1.5),
            top_p: Some(0.25),
            ..base("models/gemini-2.5-flash")
        },
    ));
    out
}

/// Tool choices, tool rounds (whole and split) and a request of no messages.
fn tool_cases() -> Vec<(&'static str, ChatRequest)> {
    let mut out = Vec::new();
    for (name, choice) in [
        ("tools-auto", ToolChoice::Auto),
        ("tools-required", ToolChoice::Required),
        ("tools-none", ToolChoice::None),
    ] {
        out.push((
            name,
            ChatRequest {
                tools: tools(),
                tool_choice: choice,
                ..base("m-2")
            },
        ));
    }
    out.push((
        "tool-rounds",
        ChatRequest {
            system: Some("sys".into()),
            messages: tool_rounds(),
            tools: tools(),
            reasoning: Some(ReasoningEffort::Medium),
            max_output_tokens: Some(64_000),
            ..base("m-3")
        },
    ));
    out.push((
        "tool-rounds-split",
        ChatRequest {
            messages: super::split_rounds(tool_rounds()),
            ..base("m-3")
        },
    ));
    out.push((
        "attachments",
        ChatRequest {
            messages: attachments(),
            ..base("m-5")
        },
    ));
    out.push((
        "attachments-no-vision",
        ChatRequest {
            system: Some("sys".into()),
            messages: attachments(),
            vision: Some(false),
            ..base("m-6")
        },
    ));
    out.push((
        "no-messages",
        ChatRequest {
            messages: vec![],
            ..base("m-4")
        },
    ));
    out
}

/// The JSON a body sends: serialized to bytes as the HTTP request does, then read back.
fn sent<T: serde::Serialize>(body: &T) -> Value {
    let bytes = serde_json::to_vec(body).expect("a body serializes");
    serde_json::from_slice(&bytes).expect("a body is JSON")
}

fn bodies(req: &ChatRequest) -> Value {
    let mut m = Map::new();
    m.insert("openai_chat".into(), sent(&openai_chat::build_body(req)));
    m.insert(
        "openai_responses".into(),
        sent(&openai_responses::build_body(req)),
    );
    m.insert("anthropic".into(), sent(&anthropic::build_body(req)));
    m.insert("gemini".into(), sent(&gemini::build_body(req)));
    m.insert("ollama".into(), sent(&ollama::build_body(req)));
    Value::Object(m)
}

#[test]
fn every_request_body_serializes_to_its_recorded_json() {
    let got: Map<String, Value> = cases()
        .into_iter()
        .map(|(name, req)| (name.to_owned(), bodies(&req)))
        .collect();
    if std::env::var_os("PARLEY_RECORD_REQUESTS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/providers/testdata/requests.json"
        );
        let text = serde_json::to_string_pretty(&got).expect("JSON") + "\n";
        std::fs::write(path, text).expect("recorded");
        return;
    }
    let want: Map<String, Value> = serde_json::from_str(RECORDED).expect("recorded JSON");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the table's cases"
    );
    for (case, formats) in &want {
        for (format, body) in formats.as_object().expect("formats") {
            assert_eq!(&got[case][format], body, "{case}: {format}");
        }
    }
}

#[test]
fn a_model_of_unknown_vision_is_sent_images_as_a_vision_model_is() {
    let req = |vision| ChatRequest {
        messages: attachments(),
        vision,
        ..base("m-5")
    };
    assert_eq!(bodies(&req(None)), bodies(&req(Some(true))));
    assert_ne!(bodies(&req(None)), bodies(&req(Some(false))));
}
