//! The session engine end to end against the scripted server: streaming, journal, stop, busy,
//! retries, timeouts, faults and bad input. Real SQLite files in temp dirs.

use parley_core::providers::HttpSettings;
use parley_core::secrets::{MemoryStore, Secret};
use parley_core::{Core, CoreError, CoreOptions};
use parley_protocol::ProviderDraft;
use parley_protocol::{
    ErrorCode, EventMsg, Part, ProviderKind, SendOptions, SessionId, StopReason, ToolCallStatus,
    TurnStatus,
};
use parley_tests::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Env {
    core: Core,
    _dir: tempfile::TempDir,
}

fn fast_http() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(3),
        response_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_attempts: 3,
        max_retry_delay: Duration::from_secs(5),
    }
}

async fn env_with(server: &MockServer, http: HttpSettings, key: Option<&str>) -> Env {
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

async fn env(server: &MockServer) -> Env {
    env_with(server, fast_http(), None).await
}

/// Sends and collects every event until the turn ends.
async fn run_turn(core: &Core, sid: &SessionId, text: &str) -> Vec<EventMsg> {
    let mut h = core
        .chats()
        .send_message(sid, text, SendOptions::default())
        .await
        .unwrap();
    collect(&mut h.events).await
}

async fn collect(
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
async fn start_and_wait_for_text(core: &Core, sid: &SessionId) -> parley_core::TurnHandle {
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

fn failed_code(events: &[EventMsg]) -> (ErrorCode, String) {
    match events.last() {
        Some(EventMsg::TurnFailed { error, .. }) => (error.code, error.message.clone()),
        other => panic!("expected TurnFailed, got {other:?}"),
    }
}

async fn last_turn(
    core: &Core,
    sid: &SessionId,
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
    let s = e.core.chats().create_session(None).await.unwrap();
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
            // Earlier deltas must already be in the database (flushed at least every 250 ms).
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
    let s = e.core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    assert!(ev
        .iter()
        .any(|m| matches!(m, EventMsg::ReasoningDelta { delta, .. } if delta == "think.")));
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
    let s = e.core.chats().create_session(None).await.unwrap();
    let mut h = e
        .core
        .chats()
        .send_message(&s.id, "go", SendOptions::default())
        .await
        .unwrap();
    loop {
        let ev = h.events.recv().await.unwrap();
        if matches!(ev.msg, EventMsg::TextDelta { ref delta, .. } if delta == "text") {
            break;
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
async fn idle_timeout_fires_even_with_keep_alive_comments() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("a"),
        Step::KeepAlive {
            every: Duration::from_millis(100),
            total: Duration::from_secs(20),
        },
    ]));
    let mut http = fast_http();
    http.idle_timeout = Duration::from_millis(700);
    let e = env_with(&server, http, None).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let t = Instant::now();
    let ev = run_turn(&e.core, &s.id, "q").await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::Timeout);
    assert!(message.contains("stopped sending data"), "{message}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    let (status, text, _) = last_turn(&e.core, &s.id).await;
    assert_eq!((status, text.as_str()), (TurnStatus::Failed, "a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mid_stream_disconnect_keeps_partial_output_and_is_not_replayed() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("abc"),
        sleep_ms(100),
        Step::Disconnect,
    ]));
    server.fallback(Reply::sse(text_answer(&["replayed!"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    let (code, _) = failed_code(&ev);
    assert_eq!(code, ErrorCode::StreamInterrupted);
    let (status, text, turn) = last_turn(&e.core, &s.id).await;
    assert_eq!((status, text.as_str()), (TurnStatus::Failed, "abc"));
    assert!(turn
        .error
        .unwrap()
        .message
        .contains("partial answer is kept"));
    assert_eq!(
        server.received().len(),
        1,
        "a broken stream must not be retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_event_after_200_fails_with_the_providers_words() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("Half"),
        sse_data(
            &serde_json::json!({"error": {"message": "Upstream provider overloaded", "code": 502}}),
        ),
        ev_done(),
    ]));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::StreamInterrupted);
    assert!(
        message.contains("Upstream provider overloaded"),
        "{message}"
    );
    assert_eq!(last_turn(&e.core, &s.id).await.1, "Half");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_are_classified_and_never_retried_or_echo_the_key() {
    let key = "sk-test-abcdefghijklmnop1234";
    let server = MockServer::start().await;
    server.push(Reply::json(401, &format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {key}.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    )));
    server.push(Reply::json(404, r#"{"error":{"message":"The model `test-model` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#));
    server.push(Reply::json(400, r#"{"error":{"message":"This model's maximum context length is 4096 tokens.","code":"context_length_exceeded"}}"#));
    server.push(Reply::json(429, r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#));
    let e = env_with(&server, fast_http(), Some(key)).await;
    let s = e.core.chats().create_session(None).await.unwrap();

    let (code, message) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::Unauthorized);
    assert!(message.contains("rejected the API key"), "{message}");
    assert!(
        !message.contains("abcdefghijklmnop"),
        "key echoed: {message}"
    );
    assert_eq!(
        server.received()[0].header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert!(!serde_json::to_string(&h)
        .unwrap()
        .contains("abcdefghijklmnop"));

    let (code, message) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::ModelNotFound, "{message}");
    let (code, _) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::ContextTooLong);
    let (code, message) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::QuotaExceeded, "{message}");
    assert_eq!(server.received().len(), 4, "4xx errors are not retried");
    // Every user message is kept.
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.messages.iter().filter(|m| m.text() == "q").count(), 4);
    assert!(h.turns.iter().all(|t| t.status == TurnStatus::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_honour_retry_after_and_5xx_back_off_bounded() {
    let server = MockServer::start().await;
    server.push(
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
        )
        .header("retry-after", "1"),
    );
    server.push(
        Reply::json(429, r#"{"error":{"message":"Rate limit reached"}}"#)
            .header("retry-after-ms", "200"),
    );
    server.push(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let t = Instant::now();
    let ev = run_turn(&e.core, &s.id, "q").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let retries: Vec<(u32, u64)> = ev
        .iter()
        .filter_map(|m| match m {
            EventMsg::StreamRetry {
                attempt,
                delay_ms,
                reason,
            } => {
                assert_eq!(reason.code, ErrorCode::RateLimited);
                Some((*attempt, *delay_ms))
            }
            _ => None,
        })
        .collect();
    assert_eq!(retries, vec![(2, 1000), (3, 200)]);
    assert!(t.elapsed() >= Duration::from_millis(1200));
    assert_eq!(server.received().len(), 3);

    // Three 500s: bounded, then a clear failure.
    for _ in 0..3 {
        server.push(Reply::json(500, r#"{"error":{"message":"boom"}}"#));
    }
    server.fallback(Reply::sse(text_answer(&["too late"], 0)));
    let ev = run_turn(&e.core, &s.id, "q2").await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::ProviderUnavailable);
    assert!(message.contains("boom"), "{message}");
    assert_eq!(server.received().len(), 6, "exactly 3 tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_with_200_and_unreachable_host_fail_clearly() {
    let server = MockServer::start().await;
    server.push(
        Reply::sse(vec![Step::Bytes(
            b"<html><body>Please log in</body></html>".to_vec(),
        )])
        .content_type("text/html; charset=utf-8"),
    );
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let (code, message) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::Protocol);
    assert!(message.contains("web page"), "{message}");

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    e.core
        .providers()
        .add_provider(ProviderDraft {
            name: "gone".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: format!("http://127.0.0.1:{port}/v1"),
            default_model: Some("m".into()),
            api_key: None,
        })
        .await
        .unwrap();
    let t = Instant::now();
    let mut h = e
        .core
        .chats()
        .send_message(
            &s.id,
            "anyone?",
            SendOptions {
                provider: Some("gone".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ev = collect(&mut h.events).await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::Network);
    assert!(message.contains("Could not connect"), "{message}");
    assert!(t.elapsed() < Duration::from_secs(4));
    let hist = e.core.history().full_history(&s.id).await.unwrap();
    assert!(
        hist.messages.iter().any(|m| m.text() == "anyone?"),
        "user message kept"
    );
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
    let s = e.core.chats().create_session(None).await.unwrap();
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
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();

    for empty in ["", "   \n\t "] {
        let err = e
            .core
            .chats()
            .send_message(&s.id, empty, SendOptions::default())
            .await
            .err()
            .unwrap();
        assert_eq!(err.to_info().code, ErrorCode::InvalidInput);
        assert!(err.to_string().contains("empty"));
    }
    assert!(
        e.core
            .history()
            .full_history(&s.id)
            .await
            .unwrap()
            .messages
            .is_empty(),
        "nothing stored"
    );

    // 1 MB is stored and sent intact; 3 MB is refused with a size message.
    let big: String = "héllo wörld 👋 ".repeat(1024 * 1024 / 18);
    let ev = run_turn(&e.core, &s.id, &big).await;
    assert!(matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })));
    assert_eq!(
        server.received()[0].json()["messages"][0]["content"]
            .as_str()
            .unwrap(),
        big
    );
    assert_eq!(
        e.core.history().full_history(&s.id).await.unwrap().messages[0].text(),
        big
    );
    let huge = "x".repeat(3 * 1024 * 1024);
    let err = e
        .core
        .chats()
        .send_message(&s.id, &huge, SendOptions::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("MB"), "{err}");

    // Emoji, RTL and zero-width characters round-trip unchanged.
    let tricky = "👩‍👩‍👧 مرحبا بالعالم \u{200b}\u{200d}\u{202e}abc\u{202c} 🇺🇦";
    run_turn(&e.core, &s.id, tricky).await;
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.messages[2].text(), tricky);

    for url in [
        "ftp://example.com/v1",
        "not a url",
        "http://",
        "file:///etc/passwd",
        "http://user:pw@host/v1",
    ] {
        let err = e
            .core
            .providers()
            .add_provider(ProviderDraft {
                name: "bad".into(),
                kind: ProviderKind::OpenaiCompatible,
                base_url: url.into(),
                default_model: None,
                api_key: None,
            })
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} accepted"));
        assert_eq!(err.to_info().code, ErrorCode::InvalidInput, "{url}");
    }
    assert_eq!(e.core.providers().list_providers().await.unwrap().len(), 1);
    let dup = e
        .core
        .providers()
        .add_provider(ProviderDraft {
            name: "local".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: None,
            api_key: None,
        })
        .await;
    assert!(dup.err().unwrap().to_string().contains("already exists"));

    let unknown = SessionId("no-such-session".into());
    let err = e
        .core
        .chats()
        .send_message(&unknown, "hi", SendOptions::default())
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_info().code, ErrorCode::NotFound);
    assert_eq!(
        e.core
            .history()
            .full_history(&unknown)
            .await
            .err()
            .unwrap()
            .to_info()
            .code,
        ErrorCode::NotFound
    );
    assert!(e.core.chats().rename_session(&s.id, "  ").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keychain_unavailable_fails_closed_and_keeps_nothing() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: Arc::new(MemoryStore::unavailable()),
        http: fast_http(),
    })
    .await
    .unwrap();
    let err = core
        .providers()
        .add_provider(ProviderDraft {
            name: "p".into(),
            kind: ProviderKind::Openai,
            base_url: server.base_url(),
            default_model: Some("m".into()),
            api_key: Some("sk-secret-value-123456".into()),
        })
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_info().code, ErrorCode::Keychain);
    assert!(err.to_string().contains("keychain"));
    assert!(
        core.providers().list_providers().await.unwrap().is_empty(),
        "no half-added provider"
    );
    let db = std::fs::read(dir.path().join("parley.db")).unwrap();
    assert!(
        !db.windows(12).any(|w| w == b"secret-value"),
        "key reached the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_streaming_session_stops_it_first() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![ev_text("streaming"), sleep_ms(20_000)]));
    let e = env(&server).await;
    let s = e
        .core
        .chats()
        .create_session(Some("doomed".into()))
        .await
        .unwrap();
    let mut h = start_and_wait_for_text(&e.core, &s.id).await;
    let t = Instant::now();
    e.core.chats().delete_session(&s.id).await.unwrap();
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
async fn a_second_live_process_never_interrupts_the_first() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![ev_text("still going"), sleep_ms(20_000)]));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let _turn = start_and_wait_for_text(&e.core, &s.id).await;
    // Another Core on the same data dir (the CLI next to the app) finds the turn's owner alive.
    let other = Core::open(CoreOptions {
        data_dir: e._dir.path().to_path_buf(),
        secrets: Arc::new(MemoryStore::new()),
        http: fast_http(),
    })
    .await
    .unwrap();
    assert_eq!(other.interrupted_at_start(), 0);
    let (status, _, _) = last_turn(&other, &s.id).await;
    assert!(status.is_active(), "{status:?}");
    e.core.chats().stop_turn(&s.id).await;
    assert_eq!(last_turn(&other, &s.id).await.0, TurnStatus::Stopped);
    let sessions = other.chats().list_sessions(10, 0).await.unwrap();
    assert_eq!(sessions[0].id, s.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_right_after_the_end_event_is_accepted() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
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
async fn a_removed_provider_falls_back_and_no_provider_is_a_clear_error() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    run_turn(&e.core, &s.id, "first").await;
    e.core
        .providers()
        .add_provider(ProviderDraft {
            name: "second".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: Some("other-model".into()),
            api_key: None,
        })
        .await
        .unwrap();
    e.core.providers().remove_provider("local").await.unwrap();
    let ev = run_turn(&e.core, &s.id, "after removal").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(
        h.messages.last().unwrap().provider.as_deref(),
        Some("second")
    );
    assert_eq!(
        h.messages.last().unwrap().model.as_deref(),
        Some("other-model")
    );

    e.core.providers().remove_provider("second").await.unwrap();
    let err = e
        .core
        .chats()
        .send_message(&s.id, "nobody home", SendOptions::default())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("No provider is configured"),
        "{err}"
    );
    assert_eq!(
        e.core
            .history()
            .full_history(&s.id)
            .await
            .unwrap()
            .messages
            .len(),
        4,
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_answers_the_same_user_message_again_as_a_new_branch() {
    let server = MockServer::start().await;
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    server.push(Reply::sse(text_answer(&["Recovered"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
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
    let empty = e.core.chats().create_session(None).await.unwrap();
    assert!(e
        .core
        .chats()
        .retry_turn(&empty.id, SendOptions::default())
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_walk_back_from_the_newest() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["a"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    for i in 0..5 {
        run_turn(&e.core, &s.id, &format!("q{i}")).await;
    }
    let p1 = e.core.history().get_history(&s.id, None, 4).await.unwrap();
    assert!(p1.has_more);
    assert_eq!(
        p1.messages.iter().map(|m| m.text()).collect::<Vec<_>>(),
        ["q3", "a", "q4", "a"]
    );
    assert_eq!(p1.turns.len(), 2);
    let p2 = e
        .core
        .history()
        .get_history(&s.id, Some(p1.messages[0].id.clone()), 4)
        .await
        .unwrap();
    assert_eq!(
        p2.messages.iter().map(|m| m.text()).collect::<Vec<_>>(),
        ["q1", "a", "q2", "a"]
    );
    let p3 = e
        .core
        .history()
        .get_history(&s.id, Some(p2.messages[0].id.clone()), 4)
        .await
        .unwrap();
    assert!(!p3.has_more);
    assert_eq!(p3.messages.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_gets_the_running_turn_then_live_events() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("one "),
        ev_text("two "),
        sleep_ms(400),
        ev_text("three"),
        ev_finish("stop"),
        ev_done(),
    ]));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let _turn = start_and_wait_for_text(&e.core, &s.id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A reloaded window subscribes mid-stream.
    let mut late = e.core.chats().attach_events();
    let mut text = String::new();
    let mut seqs = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), late.recv())
            .await
            .unwrap()
            .unwrap();
        seqs.push(ev.seq);
        match ev.msg {
            EventMsg::TextDelta { delta, .. } => text.push_str(&delta),
            EventMsg::TurnCompleted { .. } => break,
            _ => {}
        }
    }
    assert_eq!(seqs[0], 1, "replay starts at TurnStarted");
    // Replayed deltas of one item arrive merged, so seq may skip, but never goes back.
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
    assert_eq!(text, "one two three");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_edits_keys_and_connection_checks() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::new());
    let core = Core::open(CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: secrets.clone(),
        http: fast_http(),
    })
    .await
    .unwrap();
    let info = core
        .providers()
        .add_provider(ProviderDraft {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: Some("m".into()),
            api_key: None,
        })
        .await
        .unwrap();
    assert!(!info.has_key);
    let info = core
        .providers()
        .set_provider_key("p", Secret::new("sk-first-key-000000"))
        .await
        .unwrap();
    assert!(info.has_key);
    use parley_core::secrets::SecretStore;
    assert!(secrets.get("provider:p").unwrap().is_some());

    // A connection check uses the saved key, and says plainly what is wrong.
    server.push(Reply::json(200, r#"{"data":[{"id":"m"},{"id":"n"}]}"#));
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Invalid API key"}}"#,
    ));
    let check = |key: Option<&str>| parley_protocol::ConnectionDraft {
        kind: ProviderKind::OpenaiCompatible,
        base_url: server.base_url(),
        api_key: key.map(str::to_owned),
        saved_provider: Some("p".into()),
    };
    let ok = core
        .providers()
        .check_connection(check(None))
        .await
        .unwrap();
    assert!(
        ok.ok && ok.message == "Connected: 2 models available.",
        "{ok:?}"
    );
    assert_eq!(
        server.received()[0].header("authorization"),
        Some("Bearer sk-first-key-000000")
    );
    let bad = core
        .providers()
        .check_connection(check(Some("sk-typed-in-form-111")))
        .await
        .unwrap();
    assert!(
        !bad.ok && bad.message.contains("rejected the API key"),
        "{bad:?}"
    );
    assert_eq!(
        server.received()[1].header("authorization"),
        Some("Bearer sk-typed-in-form-111")
    );
    assert_eq!(
        secrets.get("provider:p").unwrap().unwrap().expose(),
        "sk-first-key-000000",
        "a typed key is not saved by a check"
    );

    // Same host: the key stays. Another host: the key is deleted and must be entered again.
    let same = core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: format!("{}/", server.base_url()),
            default_model: Some("n".into()),
        })
        .await
        .unwrap();
    assert!(same.has_key);
    assert_eq!(same.default_model.as_deref(), Some("n"));
    let moved = core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: "https://elsewhere.example/v1".into(),
            default_model: None,
        })
        .await
        .unwrap();
    assert!(!moved.has_key);
    assert!(secrets.get("provider:p").unwrap().is_none());
    let cleared = core
        .providers()
        .set_provider_key("p", Secret::new("sk-second-000000"))
        .await
        .unwrap();
    assert!(cleared.has_key);
    assert!(
        !core
            .providers()
            .clear_provider_key("p")
            .await
            .unwrap()
            .has_key
    );
    assert!(core
        .providers()
        .set_provider_key("p", Secret::new("  "))
        .await
        .is_err());

    // Settings: validated, and the saved idle timeout is what providers use.
    let mut settings = core.settings().get_settings().await.unwrap();
    settings.idle_timeout_secs = 5;
    assert!(core
        .settings()
        .save_settings(settings.clone())
        .await
        .is_err());
    settings.idle_timeout_secs = 600;
    core.settings()
        .save_settings(settings.clone())
        .await
        .unwrap();
    assert_eq!(core.settings().get_settings().await.unwrap(), settings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_529_then_success_and_an_exhausted_quota_is_not_retried() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ));
    server.push(Reply::json(500, r#"{"error":{"message":"boom"}}"#));
    server.push(Reply::sse(text_answer(&["fine"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let delays: Vec<u64> = ev
        .iter()
        .filter_map(|m| match m {
            EventMsg::StreamRetry {
                delay_ms, reason, ..
            } => {
                assert_eq!(reason.code, ErrorCode::ProviderUnavailable);
                Some(*delay_ms)
            }
            _ => None,
        })
        .collect();
    // Exponential with jitter: 500..750 ms, then 1000..1500 ms.
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!((500..=750).contains(&delays[0]), "{delays:?}");
    assert!((1000..=1500).contains(&delays[1]), "{delays:?}");
    assert_eq!(last_turn(&e.core, &s.id).await.1, "fine");

    // A used-up quota says so at once: retrying cannot help.
    server.push(
        Reply::json(
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        )
        .header("retry-after", "1"),
    );
    let t = Instant::now();
    let ev = run_turn(&e.core, &s.id, "q2").await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::QuotaExceeded);
    assert!(message.contains("quota"), "{message}");
    assert!(!ev.iter().any(|m| matches!(m, EventMsg::StreamRetry { .. })));
    assert!(t.elapsed() < Duration::from_millis(900));
    assert_eq!(server.received().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_can_cancel_the_wait_before_a_retry() {
    let server = MockServer::start().await;
    server
        .push(Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("retry-after", "30"));
    server.fallback(Reply::sse(text_answer(&["too late"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let mut h = e
        .core
        .chats()
        .send_message(&s.id, "q", SendOptions::default())
        .await
        .unwrap();
    loop {
        if let EventMsg::StreamRetry { delay_ms, .. } = h.events.recv().await.unwrap().msg {
            // Capped by max_retry_delay (5 s here), not the 30 s the server asked for.
            assert_eq!(delay_ms, 5000);
            break;
        }
    }
    let t = Instant::now();
    assert!(e.core.chats().stop_turn(&s.id).await);
    assert!(t.elapsed() < Duration::from_secs(1));
    let ev = collect(&mut h.events).await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnStopped { .. })),
        "{ev:?}"
    );
    assert_eq!(
        server.received().len(),
        1,
        "no request after the cancelled wait"
    );
    let hist = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(hist.messages[0].text(), "q", "the question is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_never_carries_the_key() {
    let home = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), fast_http()).await;
    // Anthropic sends its key in x-api-key, a header HTTP clients do not strip on redirects.
    add_provider(
        &core,
        "claude",
        ProviderKind::Anthropic,
        &home.base_url(),
        "m",
        Some("sk-ant-secret-0000000000"),
    )
    .await;
    let other = elsewhere.base_url().replace("127.0.0.1", "localhost");
    home.push(Reply::json(307, "").header("location", &format!("{other}/messages")));
    elsewhere.fallback(Reply::json(500, "{}"));
    let s = core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&core, &s.id, "q").await;
    let (code, message) = failed_code(&ev);
    assert_eq!(code, ErrorCode::Protocol);
    assert!(message.contains("redirected to another host"), "{message}");
    assert!(!message.contains("sk-ant-secret"));
    assert!(
        elsewhere.received().is_empty(),
        "the other host saw nothing"
    );
    assert_eq!(home.received().len(), 1, "not retried");

    // A redirect within the same host and port is followed (with the key).
    home.push(
        Reply::json(308, "").header("location", &format!("{}/moved/messages", home.base_url())),
    );
    home.push(Reply::sse(vec![Step::Bytes(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"moved\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec())]));
    let ev = run_turn(&core, &s.id, "again").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let got = home.received();
    assert_eq!(got[2].path, "/v1/moved/messages");
    assert_eq!(got[2].header("x-api-key"), Some("sk-ant-secret-0000000000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_lists_are_cached_with_capabilities_and_refreshed_on_demand() {
    let server = MockServer::start().await;
    // OpenRouter's shape: context length, supported parameters, input modalities.
    server.push(Reply::json(200, r#"{"data":[
        {"id":"b/vision","name":"B Vision","context_length":128000,"supported_parameters":["tools","reasoning"],"architecture":{"input_modalities":["text","image"]},"top_provider":{"max_completion_tokens":16000}},
        {"id":"a/plain","context_length":8192,"supported_parameters":["temperature"],"architecture":{"input_modalities":["text"]}}
    ]}"#));
    let e = env(&server).await;
    let list = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert!(list.error.is_none());
    assert!(list.fetched_at.is_some());
    let ids: Vec<_> = list.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a/plain", "b/vision"]);
    let b = &list.models[1];
    assert_eq!(b.display_name.as_deref(), Some("B Vision"));
    assert_eq!(b.context_window, Some(128000));
    assert_eq!(b.max_output_tokens, Some(16000));
    assert_eq!(
        (b.tools, b.vision, b.reasoning),
        (Some(true), Some(true), Some(true))
    );
    let a = &list.models[0];
    assert_eq!(
        (a.tools, a.vision, a.reasoning),
        (Some(false), Some(false), Some(false))
    );

    // Cached: no second request.
    let again = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert_eq!(again.models, list.models);
    assert_eq!(server.received().len(), 1);

    // A failed refresh keeps the cached list and says why.
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let failed = e.core.providers().list_models("local", true).await.unwrap();
    assert_eq!(failed.models, list.models);
    let err = failed.error.unwrap();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert_eq!(server.received().len(), 2);

    // Pointing the provider elsewhere forgets the old server's models.
    e.core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "local".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url().replace("/v1", "/v2"),
            default_model: Some("test-model".into()),
        })
        .await
        .unwrap();
    server.push(Reply::json(200, r#"{"data":[{"id":"c"}]}"#));
    let moved = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert_eq!(moved.models.len(), 1);
    assert_eq!(moved.models[0].id, "c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_servers_are_found_on_loopback_only_and_matched_to_providers() {
    let llama = MockServer::start().await;
    let ollama = MockServer::start().await;
    llama.fallback(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"smollm2","meta":{"n_ctx_train":8192}}]}"#,
    ));
    ollama.fallback(Reply::json(
        200,
        r#"{"models":[{"name":"qwen3:0.6b","model":"qwen3:0.6b"}]}"#,
    ));
    let port = |s: &MockServer| {
        s.base_url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/v1")
            .parse::<u16>()
            .unwrap()
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = env(&llama).await; // "local" already points at the llama server
    let t = Instant::now();
    let found = e
        .core
        .providers()
        .discover_local_at(&[
            (port(&llama), "llamacpp"),
            (port(&ollama), "ollama"),
            (closed_port, "vllm"),
        ])
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(found.len(), 2, "{found:?}");
    let l = found.iter().find(|s| s.preset == "llamacpp").unwrap();
    assert_eq!(l.base_url, format!("http://127.0.0.1:{}/v1", port(&llama)));
    assert_eq!(l.models[0].id, "smollm2");
    assert_eq!(l.models[0].context_window, Some(8192));
    assert_eq!(l.configured_as.as_deref(), Some("local"));
    let o = found.iter().find(|s| s.preset == "ollama").unwrap();
    assert_eq!(o.kind, ProviderKind::Ollama);
    assert_eq!(o.base_url, format!("http://127.0.0.1:{}", port(&ollama)));
    assert_eq!(o.configured_as, None);
    assert_eq!(ollama.received()[0].path, "/api/tags");
    // Every address probed is loopback, by construction.
    for s in &found {
        assert!(s.base_url.starts_with("http://127.0.0.1:"));
    }
    let presets = e.core.providers().provider_presets();
    for id in [
        "openai",
        "anthropic",
        "gemini",
        "openrouter",
        "groq",
        "deepseek",
        "mistral",
        "xai",
        "together",
        "ollama",
        "lmstudio",
        "llamacpp",
        "vllm",
    ] {
        assert!(presets.iter().any(|p| p.id == id), "{id}");
    }
    for (port, preset) in parley_core::providers::presets::LOCAL_PORTS {
        let p = presets.iter().find(|p| p.id == *preset).unwrap();
        assert!(p.local && p.base_url.starts_with(&format!("http://127.0.0.1:{port}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_before_any_answer_is_sent_again() {
    let server = MockServer::start().await;
    server.push(Reply::hang_up());
    server.push(Reply::sse(text_answer(&["second ", "time"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_session(None).await.unwrap();
    let ev = run_turn(&e.core, &s.id, "q").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let retry = ev.iter().find_map(|m| match m {
        EventMsg::StreamRetry { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(retry.unwrap().code, ErrorCode::Network);
    assert_eq!(last_turn(&e.core, &s.id).await.1, "second time");
    assert_eq!(server.received().len(), 2);
}
