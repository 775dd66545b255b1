//! The agent loop against a scripted provider: approvals, grants, order, stop, caps and the
//! calls that must never run.

use parley_core::providers::HttpSettings;
use parley_core::Core;
use parley_protocol::{
    ApprovalDecision, ChatId, EventMsg, Part, ProviderKind, SendOptions, ToolCallStatus,
};
use parley_tests::*;
use std::time::{Duration, Instant};

pub(super) struct Env {
    pub(super) core: Core,
    pub(super) ws: tempfile::TempDir,
    pub(super) _dir: tempfile::TempDir,
}

pub(super) fn http() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(3),
        response_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_attempts: 1,
        max_retry_delay: Duration::from_secs(1),
    }
}

pub(super) async fn env_kind(server: &MockServer, kind: ProviderKind) -> (Env, ChatId) {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    add_provider(&core, "p", kind, &server.base_url(), "m", Some("k")).await;
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("a.txt"), "alpha\n").unwrap();
    let s = core.chats().create_chat(None).await.unwrap();
    core.chats()
        .set_workspace(&s.id, Some(ws.path()))
        .await
        .unwrap();
    (
        Env {
            core,
            ws,
            _dir: dir,
        },
        s.id,
    )
}

pub(super) async fn env(server: &MockServer) -> (Env, ChatId) {
    env_kind(server, ProviderKind::OpenaiCompatible).await
}

/// One OpenAI-compatible chunk carrying a whole tool call.
pub(super) fn call(index: u32, id: &str, name: &str, args: &str) -> Step {
    sse_data(
        &serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": args}}
        ]}}]}),
    )
}

/// A response made of these calls.
pub(super) fn calls(list: &[(&str, &str, &str)]) -> Reply {
    let mut steps: Vec<Step> = list
        .iter()
        .enumerate()
        .map(|(i, (id, name, args))| call(i as u32, id, name, args))
        .collect();
    steps.push(ev_finish("tool_calls"));
    steps.push(ev_done());
    Reply::sse(steps)
}

pub(super) fn answer(text: &str) -> Reply {
    Reply::sse(text_answer(&[text], 0))
}

/// Sends a message; returns the turn and an empty log of the events seen so far.
pub(super) async fn start(
    core: &Core,
    sid: &ChatId,
    text: &str,
) -> (parley_core::TurnHandle, Vec<EventMsg>) {
    (
        core.chats()
            .send_message(sid, text, SendOptions::default())
            .await
            .unwrap(),
        Vec::new(),
    )
}

/// Receives events until `pred` matches one (returned) or the turn ends (panic).
pub(super) async fn wait_for(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<parley_protocol::Event>,
    seen: &mut Vec<EventMsg>,
    pred: impl Fn(&EventMsg) -> bool,
) -> EventMsg {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .expect("event in time")
            .expect("stream open")
            .msg;
        seen.push(ev.clone());
        if pred(&ev) {
            return ev;
        }
        assert!(!ev.is_turn_end(), "the turn ended first: {seen:#?}");
    }
}

pub(super) fn is_end(e: &EventMsg) -> bool {
    e.is_turn_end()
}

pub(super) fn approval_for(id: &'static str) -> impl Fn(&EventMsg) -> bool {
    move |e| matches!(e, EventMsg::ApprovalRequested { call_id, .. } if call_id == id)
}

/// The calls and results of the chat's last answer, in order.
pub(super) async fn last_parts(core: &Core, sid: &ChatId) -> Vec<Part> {
    let h = core.history().full_history(sid).await.unwrap();
    h.messages.last().unwrap().parts.clone()
}

pub(super) fn status_of(parts: &[Part], id: &str) -> ToolCallStatus {
    parts
        .iter()
        .find_map(|p| match p {
            Part::ToolCall {
                call_id, status, ..
            } if call_id == id => Some(*status),
            _ => None,
        })
        .unwrap()
}

pub(super) fn result_of(parts: &[Part], id: &str) -> (String, bool) {
    let found: Vec<(String, bool)> = parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult {
                call_id,
                output,
                is_error,
            } if call_id == id => Some((output.clone(), *is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "exactly one result for {id}: {parts:#?}");
    found[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_once_runs_the_call_and_deny_tells_the_model_with_the_note() {
    let server = MockServer::start().await;
    server.push(calls(&[(
        "c1",
        "write_file",
        r#"{"path":"b.txt","content":"hi"}"#,
    )]));
    server.push(answer("Wrote it."));
    server.push(calls(&[(
        "c2",
        "write_file",
        r#"{"path":"c.txt","content":"no"}"#,
    )]));
    server.push(answer("Understood."));
    let (e, sid) = env(&server).await;

    let (mut h, mut seen) = start(&e.core, &sid, "write b").await;
    let req = wait_for(&mut h.events, &mut seen, approval_for("c1")).await;
    let EventMsg::ApprovalRequested {
        arguments,
        risk,
        can_grant,
        reason,
        ..
    } = req
    else {
        unreachable!()
    };
    assert_eq!(
        arguments, r#"{"path":"b.txt","content":"hi"}"#,
        "the exact arguments are shown"
    );
    assert_eq!(risk, parley_protocol::ToolRisk::Mutating);
    assert!(can_grant && reason.contains("changes files"), "{reason}");
    assert!(
        !e.ws.path().join("b.txt").exists(),
        "nothing runs before the decision"
    );
    // A decision for another call id is refused and changes nothing.
    assert!(e
        .core
        .approvals()
        .decide_approval(&sid, "other", ApprovalDecision::AllowOnce)
        .is_err());
    e.core
        .approvals()
        .decide_approval(&sid, "c1", ApprovalDecision::AllowOnce)
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(
        matches!(seen.last(), Some(EventMsg::TurnCompleted { .. })),
        "{seen:#?}"
    );
    assert_eq!(
        std::fs::read_to_string(e.ws.path().join("b.txt")).unwrap(),
        "hi"
    );
    let parts = last_parts(&e.core, &sid).await;
    assert_eq!(status_of(&parts, "c1"), ToolCallStatus::Completed);
    assert!(result_of(&parts, "c1").0.contains("Created b.txt"));
    assert!(matches!(parts.last(), Some(Part::Text { text }) if text == "Wrote it."));
    // The statuses went through the state machine in order.
    let statuses: Vec<ToolCallStatus> = seen
        .iter()
        .filter_map(|e| match e {
            EventMsg::ItemUpdated {
                part: Part::ToolCall { status, .. },
                ..
            }
            | EventMsg::ItemCompleted {
                part: Part::ToolCall { status, .. },
                ..
            } => Some(*status),
            _ => None,
        })
        .collect();
    let mut dedup = statuses.clone();
    dedup.dedup();
    assert_eq!(
        dedup,
        [
            ToolCallStatus::PendingInput,
            ToolCallStatus::AwaitingApproval,
            ToolCallStatus::Running,
            ToolCallStatus::Completed
        ]
    );
    // The model got the tools and, next, the call with its result.
    let reqs = server.received();
    let first = reqs[0].json();
    let names: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for t in [
        "read_file",
        "list_dir",
        "find_files",
        "grep",
        "write_file",
        "edit_file",
        "run_shell",
        "fetch_url",
        "ask_user",
    ] {
        assert!(names.contains(&t), "{t} offered: {names:?}");
    }
    let second = reqs[1].json();
    let msgs = second["messages"].as_array().unwrap();
    assert_eq!(msgs[msgs.len() - 2]["tool_calls"][0]["id"], "c1");
    assert_eq!(msgs[msgs.len() - 1]["role"], "tool");
    assert!(msgs[msgs.len() - 1]["content"]
        .as_str()
        .unwrap()
        .contains("Created b.txt"));

    // Deny, with a note.
    let (mut h, mut seen) = start(&e.core, &sid, "write c").await;
    wait_for(&mut h.events, &mut seen, approval_for("c2")).await;
    e.core
        .approvals()
        .decide_approval(
            &sid,
            "c2",
            ApprovalDecision::Deny {
                note: Some("not now, use b.txt".into()),
            },
        )
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(!e.ws.path().join("c.txt").exists());
    let parts = last_parts(&e.core, &sid).await;
    assert_eq!(status_of(&parts, "c2"), ToolCallStatus::Denied);
    let (out, is_error) = result_of(&parts, "c2");
    assert!(
        is_error && out.contains("denied") && out.contains("not now, use b.txt"),
        "{out}"
    );
    let fourth = server.received()[3].json();
    let sent = fourth["messages"].to_string();
    assert!(
        sent.contains("not now, use b.txt"),
        "the model is told: {sent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_run_unasked_and_mutating_calls_run_in_call_order_whatever_the_approval_order() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[
        (
            "w1",
            "run_shell",
            r#"{"command":"sleep 0.3","timeout_secs":5}"#,
        ),
        ("r1", "read_file", r#"{"path":"a.txt"}"#),
        (
            "w2",
            "write_file",
            r#"{"path":"a.txt","content":"second\n"}"#,
        ),
        ("r2", "read_file", r#"{"path":"a.txt"}"#),
    ]));
    server.push(answer("done"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("w1")).await;
    wait_for(&mut h.events, &mut seen, approval_for("w2")).await;
    // Approve the later call first: it still waits for the earlier one.
    e.core
        .approvals()
        .decide_approval(&sid, "w2", ApprovalDecision::AllowOnce)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        std::fs::read_to_string(e.ws.path().join("a.txt")).unwrap(),
        "alpha\n",
        "w2 waits for w1"
    );
    e.core
        .approvals()
        .decide_approval(&sid, "w1", ApprovalDecision::AllowOnce)
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    let parts = last_parts(&e.core, &sid).await;
    // r1 (after w1, before w2) read the old text; r2 (after w2) the new one.
    assert!(result_of(&parts, "r1").0.contains("alpha"));
    assert!(result_of(&parts, "r2").0.contains("second"));
    // Results follow the calls, in call order.
    let order: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult { call_id, .. } => Some(call_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["w1", "r1", "w2", "r2"]);
    let running: Vec<&str> = seen
        .iter()
        .filter_map(|e| match e {
            EventMsg::ItemUpdated {
                part:
                    Part::ToolCall {
                        call_id,
                        status: ToolCallStatus::Running,
                        ..
                    },
                ..
            } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        running,
        ["w1", "r1", "w2", "r2"],
        "each started in call order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_can_be_answered_and_run_while_the_next_call_still_streams() {
    let server = MockServer::start().await;
    let block = |i: u32, id: &str, name: &str, json: &str| {
        let start = serde_json::json!({"type":"content_block_start","index":i,"content_block":{"type":"tool_use","id":id,"name":name,"input":{}}});
        let delta = serde_json::json!({"type":"content_block_delta","index":i,"delta":{"type":"input_json_delta","partial_json":json}});
        let stop = serde_json::json!({"type":"content_block_stop","index":i});
        Step::Bytes(format!("event: content_block_start\ndata: {start}\n\nevent: content_block_delta\ndata: {delta}\n\nevent: content_block_stop\ndata: {stop}\n\n").into_bytes())
    };
    let head = Step::Bytes(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n".to_vec());
    let tail = Step::Bytes(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec());
    server.push(Reply::sse(vec![
        head,
        block(0, "t1", "write_file", r#"{"path":"x.txt","content":"x"}"#),
        sleep_ms(1500),
        block(1, "t2", "read_file", r#"{"path":"x.txt"}"#),
        tail,
    ]));
    server.push(Reply::sse(vec![Step::Bytes(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"done\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec())]));
    let (e, sid) = env_kind(&server, ProviderKind::Anthropic).await;
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("t1")).await;
    e.core
        .approvals()
        .decide_approval(&sid, "t1", ApprovalDecision::AllowOnce)
        .unwrap();
    wait_for(&mut h.events, &mut seen, |e| matches!(e, EventMsg::ItemUpdated { part: Part::ToolCall { call_id, status: ToolCallStatus::Running, .. }, .. } if call_id == "t1")).await;
    assert!(
        !seen.iter().any(|e| matches!(e, EventMsg::ItemStarted { part: Part::ToolCall { call_id, .. }, .. } if call_id == "t2")),
        "t1 runs while the model has not yet sent t2"
    );
    wait_for(&mut h.events, &mut seen, is_end).await;
    let parts = last_parts(&e.core, &sid).await;
    assert_eq!(status_of(&parts, "t1"), ToolCallStatus::Completed);
    assert!(
        result_of(&parts, "t2").0.contains("x"),
        "the read after the write sees it"
    );
    // Anthropic replay: tool_use blocks, then the results in one user turn, in call order.
    let second = server.received()[1].json();
    let msgs = second["messages"].as_array().unwrap();
    let results = &msgs[msgs.len() - 1]["content"];
    assert_eq!(results[0]["tool_use_id"], "t1");
    assert_eq!(results[1]["tool_use_id"], "t2");
}

// ----- fetch_url against addresses you control -----
