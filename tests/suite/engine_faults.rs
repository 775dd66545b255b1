//! The turn engine when providers misbehave: stalls, disconnects, error events, HTTP errors,
//! rate limits and overload, pages that are not streams, redirects to other hosts; bad input
//! and a second live process.

use super::engine::*;
use parley_core::secrets::MemoryStore;
use parley_core::{Core, CoreOptions};
use parley_protocol::ProviderDraft;
use parley_protocol::{ChatId, ErrorCode, EventMsg, ProviderKind, SendOptions, TurnStatus};
use parley_tests::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = e.core.chats().create_chat(None).await.unwrap();

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
    // (In a new chat: with earlier turns to leave out, "too long" is retried once with less —
    // tests/suite/long.rs.)
    let fresh = e.core.chats().create_chat(None).await.unwrap();
    let (code, _) = failed_code(&run_turn(&e.core, &fresh.id, "q").await);
    assert_eq!(code, ErrorCode::ContextTooLong);
    let (code, message) = failed_code(&run_turn(&e.core, &s.id, "q").await);
    assert_eq!(code, ErrorCode::QuotaExceeded, "{message}");
    assert_eq!(server.received().len(), 4, "4xx errors are not retried");
    // Every user message is kept.
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.messages.iter().filter(|m| m.text() == "q").count(), 3);
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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
async fn overload_529_then_success_and_an_exhausted_quota_is_not_retried() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ));
    server.push(Reply::json(500, r#"{"error":{"message":"boom"}}"#));
    server.push(Reply::sse(text_answer(&["fine"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let s = core.chats().create_chat(None).await.unwrap();
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
async fn a_connection_dropped_before_any_answer_is_sent_again() {
    let server = MockServer::start().await;
    server.push(Reply::hang_up());
    server.push(Reply::sse(text_answer(&["second ", "time"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();

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

    let unknown = ChatId("no-such-session".into());
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
    assert!(e.core.chats().rename_chat(&s.id, "  ").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_live_process_never_interrupts_the_first() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![ev_text("still going"), sleep_ms(20_000)]));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
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
    let sessions = other.chats().recent_chats(10, 0).await.unwrap();
    assert_eq!(sessions[0].id, s.id);
}
