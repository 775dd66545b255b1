//! Serde round trips and the exact wire shape of the contract.

use super::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, value, "round trip changed {text}");
}

fn sample_message() -> Message {
    Message {
        id: "m1".into(),
        chat_id: "s1".into(),
        parent_id: None,
        role: Role::Assistant,
        parts: vec![
            Part::Reasoning {
                text: "think".into(),
                signature: Some("sig==".into()),
            },
            Part::Text {
                text: "héllo 👋 مرحبا \u{200b}".into(),
            },
            Part::ToolCall {
                call_id: "c1".into(),
                name: "read_file".into(),
                arguments: "{\"path\":\"a\"}".into(),
                status: ToolCallStatus::AwaitingApproval,
            },
            Part::ToolResult {
                call_id: "c1".into(),
                output: "x".into(),
                is_error: false,
            },
            Part::Image {
                mime: "image/png".into(),
                sha256: "ab".repeat(32),
                name: "shot.png".into(),
                width: 2,
                height: 1,
                size: 3,
                data: None,
            },
            Part::Image {
                mime: "image/png".into(),
                sha256: String::new(),
                name: String::new(),
                width: 0,
                height: 0,
                size: 0,
                data: Some("AAAA".into()),
            },
            Part::File {
                name: "a.txt".into(),
                mime: "text/plain".into(),
                text: "a".into(),
            },
        ],
        turn_id: Some("t1".into()),
        provider: Some("local".into()),
        model: Some("m".into()),
        created_at: 1_700_000_000_000,
    }
}

#[test]
fn every_part_round_trips() {
    for part in sample_message().parts {
        round_trip(&part);
    }
    round_trip(&sample_message());
}

#[test]
fn parts_are_tagged_snake_case() {
    let v = serde_json::to_value(Part::ToolCall {
        call_id: "c".into(),
        name: "n".into(),
        arguments: "{}".into(),
        status: ToolCallStatus::PendingInput,
    })
    .unwrap();
    assert_eq!(
        v,
        json!({"type": "tool_call", "call_id": "c", "name": "n", "arguments": "{}", "status": "pending_input"})
    );
    let v = serde_json::to_value(Part::Reasoning {
        text: "r".into(),
        signature: None,
    })
    .unwrap();
    assert_eq!(v, json!({"type": "reasoning", "text": "r"}));
}

#[test]
fn every_event_round_trips_with_seq() {
    let err = ErrorInfo::new(ErrorCode::RateLimited, "Slow down.", true);
    let msgs = vec![
        EventMsg::TurnStarted {
            turn_id: "t".into(),
            user_message: sample_message(),
            assistant_message_id: "m2".into(),
            provider: "p".into(),
            model: "m".into(),
            side_by_side: vec!["m2".into(), "m3".into()],
        },
        EventMsg::ItemStarted {
            message_id: "m2".into(),
            index: 0,
            part: Part::Text {
                text: String::new(),
            },
        },
        EventMsg::TextDelta {
            message_id: "m2".into(),
            index: 0,
            delta: "hi".into(),
        },
        EventMsg::ArgumentsDelta {
            message_id: MessageId("m".into()),
            index: 1,
            delta: "{\"pa".into(),
        },
        EventMsg::ReasoningDelta {
            message_id: "m2".into(),
            index: 1,
            delta: "hm".into(),
        },
        EventMsg::ItemUpdated {
            message_id: "m2".into(),
            index: 2,
            part: Part::Text { text: "x".into() },
        },
        EventMsg::ItemCompleted {
            message_id: "m2".into(),
            index: 0,
            part: Part::Text { text: "hi".into() },
        },
        EventMsg::ApprovalRequested {
            call_id: "c".into(),
            name: "run_shell".into(),
            arguments: "{}".into(),
            risk: ToolRisk::Destructive,
            reason: "why".into(),
            can_grant: true,
            in_person: false,
        },
        EventMsg::QuestionAsked {
            call_id: "q".into(),
            question: "which?".into(),
        },
        EventMsg::StreamRetry {
            attempt: 2,
            delay_ms: 500,
            reason: err.clone(),
        },
        EventMsg::TurnCompleted {
            turn_id: "t".into(),
            usage: Some(Usage {
                input_tokens: 1,
                output_tokens: 2,
                reasoning_tokens: Some(1),
                cached_input_tokens: None,
            }),
            stop_reason: Some(StopReason::EndTurn),
        },
        EventMsg::TurnStopped {
            turn_id: "t".into(),
        },
        EventMsg::TurnFailed {
            turn_id: "t".into(),
            error: err,
        },
    ];
    for (i, msg) in msgs.into_iter().enumerate() {
        let ev = Event {
            chat_id: "s".into(),
            seq: i as u64 + 1,
            msg,
        };
        round_trip(&ev);
    }
}

#[test]
fn event_wire_shape() {
    let ev = Event {
        chat_id: "s".into(),
        seq: 7,
        msg: EventMsg::TextDelta {
            message_id: "m".into(),
            index: 0,
            delta: "d".into(),
        },
    };
    assert_eq!(
        serde_json::to_value(ev).unwrap(),
        json!({"session_id": "s", "seq": 7, "msg": {"type": "text_delta", "message_id": "m", "index": 0, "delta": "d"}})
    );
}

#[test]
fn statuses_and_kinds_parse_their_own_names() {
    for s in [
        TurnStatus::Pending,
        TurnStatus::Streaming,
        TurnStatus::Completed,
        TurnStatus::Stopped,
        TurnStatus::Failed,
        TurnStatus::Interrupted,
    ] {
        assert_eq!(TurnStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
    }
    for k in [
        ProviderKind::Openai,
        ProviderKind::OpenaiCompatible,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::Ollama,
    ] {
        assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
    }
    for r in [Role::System, Role::User, Role::Assistant] {
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
    assert!(ToolCallStatus::Denied.is_terminal());
    assert!(!ToolCallStatus::Running.is_terminal());
}

#[test]
fn error_info_round_trips_and_displays_its_sentence() {
    let e = ErrorInfo::new(ErrorCode::Unauthorized, "The key was rejected.", false);
    round_trip(&e);
    assert_eq!(e.to_string(), "The key was rejected.");
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": "unauthorized", "message": "The key was rejected.", "retryable": false})
    );
}

#[test]
fn turn_end_events_name_exactly_the_ending_variants() {
    let t: TurnId = "t".into();
    let all = [
        EventMsg::TurnCompleted {
            turn_id: t.clone(),
            usage: None,
            stop_reason: None,
        },
        EventMsg::TurnStopped { turn_id: t.clone() },
        EventMsg::TurnFailed {
            turn_id: t.clone(),
            error: ErrorInfo::new(ErrorCode::Internal, "x", false),
        },
        EventMsg::TextDelta {
            message_id: "m".into(),
            index: 0,
            delta: "d".into(),
        },
        EventMsg::StreamRetry {
            attempt: 1,
            delay_ms: 5,
            reason: ErrorInfo::new(ErrorCode::RateLimited, "x", true),
        },
    ];
    for ev in all {
        let name = serde_json::to_value(&ev).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            ev.is_turn_end(),
            TURN_END_EVENTS.contains(&name.as_str()),
            "{name}"
        );
    }
}

#[test]
fn wire_names_are_the_serde_names() {
    for k in ProviderKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), json!(k.wire_name()));
    }
}

/// The code says "chat"; an export file (and `--json` output) keeps the names it had when a
/// chat was called a session, so a file moves between Parley versions both ways.
#[test]
fn a_chat_in_a_file_keeps_the_names_session_and_session_id() {
    let file = json!({
        "session": {"id": "c1", "title": "t", "created_at": 1, "updated_at": 2, "message_count": 1,
                    "provider": null, "model": null, "params": {}, "revision": 3,
                    "pinned": false, "archived": false,
                    "forked_from": {"session_id": "c0", "message_id": "m0"}},
        "head": "m1",
        "messages": [{"id": "m1", "session_id": "c1", "parent_id": null, "role": "user",
                      "turn_id": null, "provider": null, "model": null, "created_at": 1,
                      "parts": [{"type": "text", "text": "hi"}]}],
        "turns": [{"id": "t1", "session_id": "c1", "user_message_id": "m1",
                   "assistant_message_id": null, "status": "completed", "provider": null,
                   "model": null, "started_at": 1, "ended_at": 2, "usage": null,
                   "stop_reason": null, "error": null}]
    });
    let chat: ChatExport = serde_json::from_value(file).unwrap();
    assert_eq!(chat.session.id.0, "c1");
    assert_eq!(chat.session.forked_from.as_ref().unwrap().chat_id.0, "c0");
    assert_eq!(chat.messages[0].chat_id.0, "c1");
    assert_eq!(chat.turns[0].chat_id.0, "c1");
    let out = serde_json::to_value(&chat).unwrap();
    assert_eq!(out["session"]["forked_from"]["session_id"], "c0");
    assert_eq!(out["messages"][0]["session_id"], "c1");
    assert_eq!(out["turns"][0]["session_id"], "c1");
    for key in ["chat", "chat_id"] {
        assert!(!out.to_string().contains(&format!("\"{key}\"")), "{out}");
    }
    let hit = json!({"session_id": "c1", "title": "t", "message_id": null, "role": null,
        "model": null, "provider": null, "at": 0, "field": "title", "snippet": [],
        "on_selected_path": true, "archived": false});
    let parsed: SearchHit = serde_json::from_value(hit.clone()).unwrap();
    assert_eq!(parsed.chat_id.0, "c1");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), hit);
}

#[test]
fn an_image_of_an_older_export_still_reads() {
    // Export version 1 wrote an image as its MIME type and base64 bytes only.
    let p: Part = serde_json::from_str(r#"{"type":"image","mime":"image/png","data":"AAAA"}"#)
        .expect("reads");
    match p {
        Part::Image {
            mime, sha256, data, ..
        } => {
            assert_eq!(mime, "image/png");
            assert_eq!(sha256, "");
            assert_eq!(data.as_deref(), Some("AAAA"));
        }
        other => panic!("{other:?}"),
    }
    // A stored image (no bytes) writes no `data` at all.
    let stored = Part::Image {
        mime: "image/jpeg".into(),
        sha256: "cd".repeat(32),
        name: String::new(),
        width: 1,
        height: 1,
        size: 1,
        data: None,
    };
    assert!(!serde_json::to_string(&stored).unwrap().contains("data"));
}
