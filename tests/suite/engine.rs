//! The chat engine end to end against the scripted server: streaming, journal, stop, busy,
//! retries, timeouts, faults and bad input. Real SQLite files in temp dirs.

use parley_core::providers::HttpSettings;
use parley_core::{Core, CoreError};
use parley_protocol::{
    ChatId, ErrorCode, EventMsg, Part, ProviderKind, SendOptions, StopReason, ToolCallStatus,
    TurnStatus,
};
use parley_tests::*;
use std::time::{Duration, Instant};

pub(super) struct Env {
    pub(super) core: Core,
    pub(super) _dir: tempfile::TempDir,
}

pub(super) fn fast_http() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(3),
        response_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_attempts: 3,
        max_retry_delay: Duration::from_secs(5),
    }
}

pub(super) async fn env_with(server: &MockServer, http: HttpSettings, key: Option<&str>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http).await;
    add_provider(
        &core,
        "local",
        ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "test-model",
        key,
    )
    .await;
    Env { core, _dir: dir }
}

pub(super) async fn env(server: &MockServer) -> Env {
    env_with(server, fast_http(), None).await
}

/// Sends and collects every event until the turn ends.
pub(super) async fn run_turn(core: &Core, sid: &ChatId, text: &str) -> Vec<EventMsg> {
    let mut h = core
        .chats()
        .send_message(sid, text, SendOptions::default())
        .await
        .unwrap();
    collect(&mut h.events).await
}

pub(super) async fn collect(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<parley_protocol::Event>,
) -> Vec<EventMsg> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
        let end = ev.msg.is_turn_end();
        out.push(ev.msg);
        if end {
            break;
        }
    }
    out
}

/// Starts a turn and returns once its first text delta arrived (the server then stalls).
pub(super) async fn start_and_wait_for_text(core: &Core, sid: &ChatId) -> parley_core::TurnHandle {
    let mut h = core
        .chats()
        .send_message(sid, "go", SendOptions::default())
        .await
        .unwrap();
    while !matches!(
        h.events.recv().await.unwrap().msg,
        EventMsg::TextDelta { .. }
    ) {}
    h
}

pub(super) fn failed_code(events: &[EventMsg]) -> (ErrorCode, String) {
    match events.last() {
        Some(EventMsg::TurnFailed { error, .. }) => (error.code, error.message.clone()),
        other => panic!("expected TurnFailed, got {other:?}"),
    }
}

pub(super) async fn last_turn(
    core: &Core,
    sid: &ChatId,
) -> (TurnStatus, String, parley_protocol::TurnInfo) {
    let h = core.history().full_history(sid).await.unwrap();
    let turn = h.turns.last().unwrap().clone();
    let answer = h.messages.last().unwrap().text();
    (turn.status, answer, turn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_progressively_and_journals_while_streaming() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Hel", "lo ", "wor", "ld"], 300)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let started = Instant::now();
    let mut h = e
        .core
        .chats()
        .send_message(&s.id, "hi there", SendOptions::default())
        .await
        .unwrap();
    // The user's message is committed before the request goes out.
    let hist = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(hist.messages[0].text(), "hi there");
    assert_eq!(hist.session.title, "hi there");

    let mut first_delta_at = None;
    let mut seen_partial_in_db = false;
    let mut events = Vec::new();
    let mut seqs = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), h.events.recv())
            .await
            .unwrap()
            .unwrap();
        seqs.push(ev.seq);
        if matches!(ev.msg, EventMsg::TextDelta { .. }) && first_delta_at.is_none() {
            first_delta_at = Some(started.elapsed());
        }
        if matches!(ev.msg, EventMsg::TextDelta { ref delta, .. } if delta == "wor") {
            // Earlier deltas must already be in the database (flushed at least every 200 ms).
            let (status, text, _) = last_turn(&e.core, &s.id).await;
            assert_eq!(status, TurnStatus::Streaming);
            seen_partial_in_db = text.starts_with("Hel");
        }
        let end = matches!(ev.msg, EventMsg::TurnCompleted { .. });
        events.push(ev.msg);
        if end {
            break;
        }
    }
    let total = started.elapsed();
    assert!(
        seen_partial_in_db,
        "partial output was not journaled while streaming"
    );
    assert!(
        first_delta_at.unwrap() + Duration::from_millis(600) < total,
        "text did not arrive progressively: first at {first_delta_at:?}, end at {total:?}"
    );
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "seq not contiguous: {seqs:?}"
    );
    assert!(matches!(events[0], EventMsg::TurnStarted { .. }));
    match events.last().unwrap() {
        EventMsg::TurnCompleted {
            usage, stop_reason, ..
        } => {
            assert_eq!(usage.as_ref().unwrap().output_tokens, 4);
            assert_eq!(*stop_reason, Some(StopReason::EndTurn));
        }
        other => panic!("{other:?}"),
    }
    let (status, text, turn) = last_turn(&e.core, &s.id).await;
    assert_eq!(
        (status, text.as_str()),
        (TurnStatus::Completed, "Hello world")
    );
    assert_eq!(turn.usage.unwrap().input_tokens, 10);
    let req = &server.received()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    let body = req.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][0]["content"], "hi there");
    assert!(
        req.header("authorization").is_none(),
        "no key configured, none sent"
    );

    // A follow-up turn carries the history.
    server.push(Reply::sse(text_answer(&["Again"], 0)));
    let ev = run_turn(&e.core, &s.id, "more").await;
    assert!(matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })));
    let body = server.received()[1].json();
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[1],
        serde_json::json!({"role": "assistant", "content": "Hello world"})
    );
    assert_eq!(e.core.store().integrity_check().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_streams_into_its_own_part() {
    let server = MockServer::start().await;
    let mut steps = vec![ev_reasoning("Let me "), ev_reasoning("think.")];
    steps.extend(text_answer(&["Answer."], 0));
    server.push(Reply::sse(steps));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    // Deltas may arrive merged (at most one event per frame): what they carry is exact.
    let reasoning: String = ev
        .iter()
        .filter_map(|m| match m {
            EventMsg::ReasoningDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "Let me think.");
    let h = e.core.history().full_history(&s.id).await.unwrap();
    let parts = &h.messages[1].parts;
    assert_eq!(
        parts[0],
        Part::Reasoning {
            text: "Let me think.".into(),
            signature: None
        }
    );
    assert_eq!(
        parts[1],
        Part::Text {
            text: "Answer.".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_mid_stream_keeps_partial_text_and_closes_the_stream() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("Partial "),
        ev_text("text"),
        sleep_ms(20_000),
        ev_text("never"),
    ]));
    server.fallback(Reply::sse(text_answer(&["Fresh answer"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let mut h = e
        .core
        .chats()
        .send_message(&s.id, "go", SendOptions::default())
        .await
        .unwrap();
    // Until both pieces have arrived (they may come as one merged delta).
    let mut shown = String::new();
    while shown != "Partial text" {
        if let EventMsg::TextDelta { delta, .. } = h.events.recv().await.unwrap().msg {
            shown.push_str(&delta);
        }
    }
    // A second send while this one streams is refused, and nothing is stored for it.
    let busy = e
        .core
        .chats()
        .send_message(&s.id, "second", SendOptions::default())
        .await;
    assert!(matches!(busy, Err(CoreError::Busy)), "{:?}", busy.err());
    assert_eq!(busy.err().unwrap().to_info().code, ErrorCode::Busy);

    let t = Instant::now();
    assert!(e.core.chats().stop_turn(&s.id).await);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        t.elapsed()
    );
    let rest = collect(&mut h.events).await;
    assert!(matches!(rest.last(), Some(EventMsg::TurnStopped { .. })));
    let (status, text, _) = last_turn(&e.core, &s.id).await;
    assert_eq!(status, TurnStatus::Stopped);
    assert_eq!(text, "Partial text");
    let gone = server.received()[0].client_went_away.clone();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !gone.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        gone.load(std::sync::atomic::Ordering::SeqCst),
        "the HTTP stream was not closed within 1 s"
    );
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.messages.len(), 2, "the refused send stored nothing");

    // Sending again works.
    let ev = run_turn(&e.core, &s.id, "again").await;
    assert!(matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })));
    assert_eq!(last_turn(&e.core, &s.id).await.1, "Fresh answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_are_parsed_and_never_executed_truncated_ones_say_why() {
    let server = MockServer::start().await;
    let call = |args: &str| {
        sse_data(
            &serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": args}}]}}]}),
        )
    };
    server.push(Reply::sse(vec![
        call("{\"path\":"),
        call("\"a.txt\"}"),
        ev_finish("tool_calls"),
        ev_done(),
    ]));
    server.push(Reply::sse(vec![call("{\"path\":\"a."), Step::Disconnect]));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "read it").await;
    match ev.last() {
        Some(EventMsg::TurnCompleted { stop_reason, .. }) => {
            assert_eq!(*stop_reason, Some(StopReason::ToolUse))
        }
        other => panic!("{other:?}"),
    }
    let h = e.core.history().full_history(&s.id).await.unwrap();
    let parts = &h.messages[1].parts;
    assert_eq!(
        parts[0],
        Part::ToolCall {
            call_id: "call_1".into(),
            name: "read_file".into(),
            arguments: "{\"path\":\"a.txt\"}".into(),
            status: ToolCallStatus::Failed
        }
    );
    assert!(
        matches!(&parts[1], Part::ToolResult { is_error: true, output, .. } if output.contains("not available"))
    );

    let ev = run_turn(&e.core, &s.id, "again").await;
    failed_code(&ev);
    let h = e.core.history().full_history(&s.id).await.unwrap();
    let parts = &h.messages[3].parts;
    assert!(
        matches!(&parts[0], Part::ToolCall { status: ToolCallStatus::Failed, arguments, .. } if arguments == "{\"path\":\"a.")
    );
    assert!(
        matches!(&parts[1], Part::ToolResult { is_error: true, output, .. } if output.contains("cut off") && output.contains("not run")),
        "{parts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_streaming_chat_stops_it_first() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![ev_text("streaming"), sleep_ms(20_000)]));
    let e = env(&server).await;
    let s = e
        .core
        .chats()
        .create_chat(Some("doomed".into()))
        .await
        .unwrap();
    let mut h = start_and_wait_for_text(&e.core, &s.id).await;
    let t = Instant::now();
    e.core.chats().delete_chat(&s.id).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(matches!(
        collect(&mut h.events).await.last(),
        Some(EventMsg::TurnStopped { .. })
    ));
    assert_eq!(
        e.core
            .history()
            .full_history(&s.id)
            .await
            .err()
            .unwrap()
            .to_info()
            .code,
        ErrorCode::NotFound
    );
    assert!(e.core.chats().active_turn(&s.id).is_none());
    assert_eq!(e.core.store().integrity_check().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_right_after_the_end_event_is_accepted() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    for i in 0..20 {
        // `run_turn` returns the moment the terminal event arrives; the next send must not be Busy.
        let ev = run_turn(&e.core, &s.id, &format!("message {i}")).await;
        assert!(
            matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
            "turn {i}: {ev:?}"
        );
    }
    assert_eq!(
        e.core
            .history()
            .full_history(&s.id)
            .await
            .unwrap()
            .messages
            .len(),
        40
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_answers_the_same_user_message_again_as_a_new_branch() {
    let server = MockServer::start().await;
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    server.push(Reply::sse(text_answer(&["Recovered"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    failed_code(&run_turn(&e.core, &s.id, "question").await);
    let mut h = e
        .core
        .chats()
        .retry_turn(&s.id, SendOptions::default())
        .await
        .unwrap();
    let ev = collect(&mut h.events).await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let hist = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(hist.messages.len(), 2, "the user message is not repeated");
    assert_eq!(hist.messages[0].text(), "question");
    assert_eq!(hist.messages[1].text(), "Recovered");
    assert_eq!(
        hist.messages[1].parent_id.as_ref(),
        Some(&hist.messages[0].id)
    );
    assert_eq!(
        hist.turns.len(),
        1,
        "the failed answer is on the other branch"
    );
    // The retried request carried the same user message once.
    let body = server.received()[1].json();
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(body["messages"][0]["content"], "question");
    let empty = e.core.chats().create_chat(None).await.unwrap();
    assert!(e
        .core
        .chats()
        .retry_turn(&empty.id, SendOptions::default())
        .await
        .is_err());
}
