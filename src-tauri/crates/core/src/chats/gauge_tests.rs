use super::*;
use crate::providers::ToolSpec;
use parley_protocol::{ToolCallStatus, TurnId, TurnInfo, Usage};

fn msg(i: usize, role: Role, parts: Vec<Part>) -> Message {
    Message {
        id: MessageId(format!("m{i}")),
        chat_id: ChatId("c".into()),
        parent_id: None,
        role,
        parts,
        turn_id: (role == Role::Assistant).then(|| TurnId(format!("t{i}"))),
        provider: None,
        model: None,
        created_at: 0,
    }
}

fn text(s: String) -> Part {
    Part::Text { text: s }
}

/// A branch of `turns` turns whose sizes vary with `seed`; every third answer runs a tool.
fn branch(turns: usize, seed: usize) -> Vec<Message> {
    (0..turns)
        .flat_map(|t| {
            let q = "q".repeat(20 + (t * 37 + seed * 11) % 900);
            let a = "a".repeat(50 + (t * 53 + seed * 7) % 4000);
            let mut answer = vec![text(a)];
            if (t + seed).is_multiple_of(3) {
                answer.insert(
                    0,
                    Part::ToolCall {
                        call_id: format!("c{t}"),
                        name: "read_file".into(),
                        arguments: "{\"path\":\"x\"}".into(),
                        status: ToolCallStatus::Completed,
                    },
                );
                answer.insert(
                    1,
                    Part::ToolResult {
                        call_id: format!("c{t}"),
                        output: "r".repeat((t * 101) % 3000),
                        is_error: false,
                    },
                );
            }
            [
                msg(2 * t, Role::User, vec![text(q)]),
                msg(2 * t + 1, Role::Assistant, answer),
            ]
        })
        .collect()
}

fn tools(n: usize) -> Vec<ToolSpec> {
    (0..n)
        .map(|i| ToolSpec {
            name: format!("tool_{i}"),
            description: "Does a thing with files in the workspace. ".repeat(i + 1),
            parameters: serde_json::json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        })
        .collect()
}

fn attachments(n: usize) -> Vec<Part> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                Part::File {
                    name: format!("notes{i}.md"),
                    mime: "text/markdown".into(),
                    text: "line of the document\n".repeat(200 * (i + 1)),
                }
            } else {
                Part::Image {
                    mime: "image/png".into(),
                    sha256: format!("{i:064x}"),
                    name: format!("shot{i}.png"),
                    width: 1_600,
                    height: 1_000,
                    size: 300_000,
                    data: None,
                }
            }
        })
        .collect()
}

/// The trimmer's view: the request as the turn builds it (branch, then the new message with
/// its attachments), fitted by the turn's own call.
fn trimmer(branch: &[Message], draft: &str, att: &[Part], frame: &Frame<'_>) -> context::Fitted {
    let mut request = branch.to_vec();
    let mut question = msg(9_999, Role::User, vec![text(draft.into())]);
    question.parts.extend(att.iter().cloned());
    request.push(question);
    context::fit_request(&mut request, frame)
}

#[test]
fn the_gauge_leaves_out_exactly_what_the_trimmer_leaves_out() {
    let windows = [1_024u32, 4_096, 8_192, 16_000, 32_768, 128_000];
    let mut cases = 0;
    let mut trimmed_cases = 0;
    for (w, &window) in windows.iter().enumerate() {
        for turns in [0usize, 1, 2, 5, 20, 60, 200] {
            for (k, draft_len) in [0usize, 10, 3_000, 30_000, 200_000].into_iter().enumerate() {
                let seed = w * 7 + turns + k;
                let b = branch(turns, seed);
                let offered = tools(seed % 4);
                let att = attachments((seed + k) % 4);
                let system = "You are terse. ".repeat(seed % 50);
                let frame = Frame {
                    window,
                    output_limit: [None, Some(4_096), Some(100_000)][seed % 3],
                    max_output: [None, None, Some(1_000)][(seed / 3) % 3],
                    system: (!system.is_empty()).then_some(system.as_str()),
                    tools: &offered,
                };
                let draft = "d".repeat(draft_len);
                let gauge = measure(
                    &b,
                    draft_message(&ChatId("c".into()), &draft, &att),
                    &frame,
                    None,
                );
                let cut = trimmer(&b, &draft, &att, &frame);
                let what =
                    format!("window {window}, {turns} turns, draft {draft_len}, seed {seed}");
                assert_eq!(gauge.budget, cut.budget, "{what}");
                assert_eq!(
                    gauge.left_out,
                    cut.trimmed.as_ref().map_or(0, |t| t.left_out),
                    "{what}"
                );
                // The marker lands where the gauge said, unless the question itself is first.
                let first = cut.trimmed.as_ref().map(|t| t.first.clone());
                match &gauge.first_kept {
                    Some(id) => assert_eq!(Some(id), first.as_ref(), "{what}"),
                    None => assert!(
                        first.is_none() || first == Some(MessageId("m9999".into())),
                        "{what}"
                    ),
                }
                assert_eq!(gauge.tokens, gauge.fixed_tokens + cut.sent, "{what}");
                assert_eq!(
                    gauge.draft_too_long,
                    gauge.draft_tokens > cut.budget,
                    "{what}"
                );
                assert!(gauge.left_out_by_draft <= gauge.left_out, "{what}");
                assert!(gauge.chat_tokens >= gauge.tokens, "{what}");
                cases += 1;
                trimmed_cases += usize::from(gauge.left_out > 0);
            }
        }
    }
    // The table covers both sides of the line.
    assert!(
        cases == 210 && trimmed_cases > 40 && trimmed_cases < 200,
        "{trimmed_cases}"
    );
}

#[test]
fn a_big_draft_is_named_as_the_cause_of_what_is_left_out() {
    let b = branch(10, 1);
    let frame = Frame {
        window: 8_192,
        output_limit: None,
        max_output: None,
        system: None,
        tools: &[],
    };
    let c = ChatId("c".into());
    let small = measure(&b, draft_message(&c, "hi", &[]), &frame, None);
    assert_eq!((small.left_out, small.left_out_by_draft), (0, 0));
    let big = "x".repeat(12_000);
    let pasted = measure(&b, draft_message(&c, &big, &[]), &frame, None);
    assert!(pasted.left_out > 0 && pasted.left_out_by_draft == pasted.left_out);
    assert!(!pasted.draft_too_long);
    // Attachments count as much as text.
    let doc = attachments(3);
    let attached = measure(&b, draft_message(&c, "see file", &doc), &frame, None);
    assert!(attached.left_out > 0 && attached.draft_tokens > 1_000);
    // Too long alone: nothing before it is kept, the marker goes on the draft itself.
    let huge = "x".repeat(60_000);
    let alone = measure(&b, draft_message(&c, &huge, &[]), &frame, None);
    assert!(alone.draft_too_long);
    assert_eq!(alone.left_out, 20);
    assert_eq!(alone.first_kept, None);
}

#[test]
fn the_reported_usage_of_the_last_answer_is_the_base_when_it_tells() {
    let b = branch(20, 1);
    let frame = Frame {
        window: 128_000,
        output_limit: None,
        max_output: None,
        system: None,
        tools: &[],
    };
    let c = ChatId("c".into());
    let m = measure(&b, draft_message(&c, "next", &[]), &frame, Some(5_000));
    assert_eq!(m.reported_base, Some(5_000));
    assert_eq!(m.tokens, 5_000 + m.draft_tokens);
    // Not when something is left out: the base counted messages that will not be sent.
    let small = Frame {
        window: 1_024,
        ..frame
    };
    let m = measure(&b, draft_message(&c, "next", &[]), &small, Some(5_000));
    assert!(m.left_out > 0);
    assert_eq!(m.reported_base, None);
    assert_eq!(
        m.tokens,
        m.fixed_tokens + context::estimate_all(&b[m.left_out as usize..]) + m.draft_tokens
    );
}

fn history(messages: Vec<Message>, turn: TurnInfo) -> ChatHistory {
    ChatHistory {
        session: serde_json::from_value(serde_json::json!({
            "id": "c", "title": "", "created_at": 0, "updated_at": 0, "message_count": 0,
            "provider": null, "model": null
        }))
        .unwrap(),
        messages,
        turns: vec![turn],
        has_more: false,
        running: Vec::new(),
        clipped: Vec::new(),
        versions: Vec::new(),
        later: Vec::new(),
    }
}

#[test]
fn the_base_is_used_only_for_a_plain_completed_answer_of_the_same_model() {
    let row = |kind| ProviderRow {
        name: "p".into(),
        kind,
        base_url: String::new(),
        default_model: None,
        key_host: None,
        created_at: 0,
    };
    let b = branch(2, 1); // seed 1: the second answer has no tool call
    let last = b.last().unwrap().clone();
    let turn = TurnInfo {
        id: last.turn_id.clone().unwrap(),
        chat_id: ChatId("c".into()),
        user_message_id: b[2].id.clone(),
        assistant_message_id: Some(last.id.clone()),
        status: TurnStatus::Completed,
        provider: Some("p".into()),
        model: Some("m".into()),
        started_at: 0,
        ended_at: Some(1),
        usage: Some(Usage {
            input_tokens: 900,
            output_tokens: 100,
            reasoning_tokens: None,
            cached_input_tokens: Some(400),
        }),
        stop_reason: None,
        error: None,
        context_from: None,
    };
    let h = history(b.clone(), turn.clone());
    assert_eq!(
        reported_base(&h, &row(ProviderKind::OpenaiCompatible), "m"),
        Some(1_000)
    );
    assert_eq!(
        reported_base(&h, &row(ProviderKind::Anthropic), "m"),
        Some(1_400)
    );
    assert_eq!(
        reported_base(&h, &row(ProviderKind::OpenaiCompatible), "other"),
        None
    );
    type Change = Box<dyn Fn(&mut TurnInfo)>;
    let variants: Vec<Change> = vec![
        Box::new(|t| t.status = TurnStatus::Failed),
        Box::new(|t| t.status = TurnStatus::Stopped),
        Box::new(|t| t.usage = None),
        Box::new(|t| t.provider = Some("q".into())),
        Box::new(|t| t.context_from = Some(MessageId("m2".into()))),
        Box::new(|t| {
            t.usage = Some(Usage {
                input_tokens: 0,
                output_tokens: 0,
                reasoning_tokens: None,
                cached_input_tokens: None,
            })
        }),
    ];
    for (i, change) in variants.iter().enumerate() {
        let mut t = turn.clone();
        change(&mut t);
        let h = history(b.clone(), t);
        assert_eq!(
            reported_base(&h, &row(ProviderKind::OpenaiCompatible), "m"),
            None,
            "variant {i}"
        );
    }
    // A tool round: the usage adds up every round's request.
    let mut with_call = b.clone();
    with_call.last_mut().unwrap().parts.insert(
        0,
        Part::ToolCall {
            call_id: "c".into(),
            name: "read_file".into(),
            arguments: "{}".into(),
            status: ToolCallStatus::Completed,
        },
    );
    let h = history(with_call, turn.clone());
    assert_eq!(
        reported_base(&h, &row(ProviderKind::OpenaiCompatible), "m"),
        None
    );
    // The last question without an answer yet: no base.
    let h = history(b[..3].to_vec(), turn);
    assert_eq!(
        reported_base(&h, &row(ProviderKind::OpenaiCompatible), "m"),
        None
    );
}

#[test]
fn the_last_requests_left_out_messages_are_counted_from_its_marker() {
    let b = branch(4, 2);
    let last = b.last().unwrap().clone();
    let mut turn = TurnInfo {
        id: last.turn_id.clone().unwrap(),
        chat_id: ChatId("c".into()),
        user_message_id: b[6].id.clone(),
        assistant_message_id: Some(last.id.clone()),
        status: TurnStatus::Completed,
        provider: None,
        model: None,
        started_at: 0,
        ended_at: None,
        usage: None,
        stop_reason: None,
        error: None,
        context_from: None,
    };
    assert_eq!(last_left_out(&history(b.clone(), turn.clone())), 0);
    turn.context_from = Some(MessageId("m4".into()));
    assert_eq!(last_left_out(&history(b, turn)), 4);
}
