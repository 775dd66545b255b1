//! The agent's limits against a scripted provider: stop (during an approval, during a
//! command), the calls that must never run (unknown
//! tools, bad arguments, paths outside), questions, no tools without a workspace, the round
//! cap, and where fetch_url may connect.

use super::agent::*;
use parley_protocol::{ApprovalDecision, EventMsg, SendOptions, StopReason, ToolCallStatus};
use parley_tests::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tools_bad_arguments_and_paths_outside_become_error_results_the_model_sees() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[
        ("u1", "delete_everything", "{}"),
        ("u2", "read_file", r#"{"file":"a.txt"}"#),
        ("u3", "read_file", r#"{"path":"../../etc/passwd"}"#),
        (
            "u4",
            "write_file",
            r#"{"path":"/tmp/evil.txt","content":"x"}"#,
        ),
    ]));
    server.push(answer("sorry"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    // u4 is a write outside: refused when prepared, so nobody is asked about it.
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(!seen
        .iter()
        .any(|e| matches!(e, EventMsg::ApprovalRequested { .. })));
    let parts = last_parts(&e.core, &sid).await;
    assert!(result_of(&parts, "u1")
        .0
        .contains("There is no tool named \"delete_everything\""));
    assert!(result_of(&parts, "u2").0.contains("not valid"));
    assert!(result_of(&parts, "u3").0.contains("outside the workspace"));
    assert!(result_of(&parts, "u4").0.contains("outside the workspace"));
    assert!(!std::path::Path::new("/tmp/evil.txt").exists());
    for id in ["u1", "u2", "u3", "u4"] {
        assert_eq!(status_of(&parts, id), ToolCallStatus::Failed);
    }
    let sent = server.received()[1].json()["messages"].to_string();
    assert!(
        sent.contains("There is no tool named"),
        "the model sees why"
    );

    // Arguments cut off by the output limit: a clear failure, nothing runs.
    server.push(Reply::sse(vec![
        call(0, "t1", "write_file", r#"{"path":"cut.txt","content":"abc"#),
        ev_finish("length"),
        ev_done(),
    ]));
    let (mut h, mut seen) = start(&e.core, &sid, "long").await;
    let end = wait_for(&mut h.events, &mut seen, is_end).await;
    let EventMsg::TurnFailed { error, .. } = end else {
        panic!("{end:?}")
    };
    assert!(
        error.message.contains("ran out of output tokens"),
        "{}",
        error.message
    );
    assert!(!e.ws.path().join("cut.txt").exists());
    assert_eq!(
        status_of(&last_parts(&e.core, &sid).await, "t1"),
        ToolCallStatus::Failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_user_waits_for_the_answer_and_without_a_workspace_no_tools_are_offered() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[(
        "q1",
        "ask_user",
        r#"{"question":"Which file?"}"#,
    )]));
    server.push(answer("thanks"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    let q = wait_for(&mut h.events, &mut seen, |e| {
        matches!(e, EventMsg::QuestionAsked { .. })
    })
    .await;
    assert!(
        matches!(q, EventMsg::QuestionAsked { call_id, question } if call_id == "q1" && question == "Which file?")
    );
    e.core
        .approvals()
        .answer_question(&sid, "q1", Some("a.txt please".into()))
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert_eq!(
        result_of(&last_parts(&e.core, &sid).await, "q1"),
        ("a.txt please".into(), false)
    );

    // No workspace: no tools in the request.
    let other = e.core.chats().create_chat(None).await.unwrap().id;
    server.push(answer("plain"));
    let (mut h, mut seen) = start(&e.core, &other, "hi").await;
    wait_for(&mut h.events, &mut seen, is_end).await;
    let last = server.received().last().unwrap().json();
    assert!(last.get("tools").is_none(), "{last}");
    // The webview cannot set a workspace through the chat settings.
    let mut params = e
        .core
        .history()
        .full_history(&other)
        .await
        .unwrap()
        .session
        .params;
    params.workspace = Some("/".into());
    let s = e
        .core
        .chats()
        .set_chat_params(&other, params)
        .await
        .unwrap();
    assert_eq!(s.params.workspace, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_read_only_calls_ask_too_when_the_caller_says_so() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[("r", "read_file", r#"{"path":"a.txt"}"#)]));
    server.push(answer("ok"));
    let opts = SendOptions {
        confirm_read_only: true,
        ..Default::default()
    };
    let mut h = e.core.chats().send_message(&sid, "go", opts).await.unwrap();
    let mut seen = Vec::new();
    wait_for(&mut h.events, &mut seen, approval_for("r")).await;
    e.core
        .approvals()
        .decide_approval(&sid, "r", ApprovalDecision::Deny { note: None })
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert_eq!(
        status_of(&last_parts(&e.core, &sid).await, "r"),
        ToolCallStatus::Denied
    );
}

/// Public addresses only — plus 127.0.0.1, where this test's server listens.
pub(super) fn test_policy(ip: std::net::IpAddr) -> Option<&'static str> {
    if ip == std::net::IpAddr::from([127, 0, 0, 1]) {
        None
    } else {
        parley_core::tools::net::forbidden(ip)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_url_checks_every_resolved_address_and_every_redirect_hop() {
    use parley_core::tools::fetch::{checked_target, FetchUrl, FetchUrlInput};
    use parley_core::tools::tool::Tool;
    let dns = FakeDns(vec![
        ("public.test", "93.184.216.34".parse().unwrap()),
        ("loop.test", "127.0.0.1".parse().unwrap()),
        ("private.test", "10.1.2.3".parse().unwrap()),
        ("meta.test", "169.254.169.254".parse().unwrap()),
        ("cgnat.test", "100.64.1.1".parse().unwrap()),
        ("mapped.test", "::ffff:127.0.0.1".parse().unwrap()),
        ("v6local.test", "fd00::1".parse().unwrap()),
        ("mixed.test", "93.184.216.34".parse().unwrap()),
        ("mixed.test", "192.168.1.1".parse().unwrap()),
        ("server.test", "127.0.0.1".parse().unwrap()),
        ("evil.test", "127.0.0.2".parse().unwrap()),
    ]);
    let forbidden = parley_core::tools::net::forbidden;
    let dns = &dns;
    let check = |u: &str| {
        let url = url::Url::parse(u).unwrap();
        async move { checked_target(&url, dns, forbidden).await }
    };
    assert!(check("https://public.test/x").await.is_ok());
    for bad in [
        "http://loop.test/",
        "http://private.test/",
        "http://meta.test/latest/meta-data",
        "http://cgnat.test/",
        "http://mapped.test/",
        "http://v6local.test/",
        "http://mixed.test/",
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://169.254.169.254/",
        "file:///etc/passwd",
        "ftp://public.test/",
    ] {
        let err = check(bad).await.unwrap_err().to_string();
        assert!(
            err.contains("refused") || err.contains("Only http"),
            "{bad}: {err}"
        );
    }

    // A redirect to a host resolving to a private address is refused at that hop.
    let server = MockServer::start().await;
    server.fallback(Reply::json(302, "").header(
        "location",
        &format!("http://evil.test:{}/next", server.port()),
    ));
    server.answer_gets(Reply::json(302, "").header(
        "location",
        &format!("http://evil.test:{}/next", server.port()),
    ));
    let dns = std::sync::Arc::new(FakeDns(vec![
        ("server.test", "127.0.0.1".parse().unwrap()),
        ("evil.test", "127.0.0.2".parse().unwrap()),
    ]));
    let tool = FetchUrl::with(dns.clone(), test_policy);
    let ws = tempfile::tempdir().unwrap();
    let ctx = parley_core::tools::tool::ToolContext::new(
        parley_core::tools::paths::Workspace::new(ws.path()).unwrap(),
        Default::default(),
    );
    let err = tool
        .run(
            FetchUrlInput {
                url: format!("http://server.test:{}/start", server.port()),
            },
            ctx.clone(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("evil.test is refused") && err.contains("127.0.0.2"),
        "{err}"
    );
    assert_eq!(server.gets().len(), 1, "only the first hop was fetched");

    // A page is returned as readable text.
    let page = MockServer::start().await;
    page.answer_gets(
        Reply::json(
            200,
            "<html><body><h1>Title</h1><script>x()</script><p>Body &amp; more</p></body></html>",
        )
        .content_type("text/html; charset=utf-8"),
    );
    let out = tool
        .run(
            FetchUrlInput {
                url: format!("http://server.test:{}/", page.port()),
            },
            ctx,
        )
        .await
        .unwrap();
    assert!(
        out.contains("Title\n\nBody & more") && !out.contains("x()"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_cap_ends_the_turn_with_a_clear_reason() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let mut settings = e.core.settings().get_settings().await.unwrap();
    settings.max_tool_rounds = 2;
    e.core.settings().save_settings(settings).await.unwrap();
    server.push(calls(&[("a", "read_file", r#"{"path":"a.txt"}"#)]));
    server.push(calls(&[("b", "list_dir", "{}")]));
    server.push(answer("never asked"));
    let (mut h, mut seen) = start(&e.core, &sid, "loop").await;
    let end = wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(
        matches!(
            end,
            EventMsg::TurnCompleted {
                stop_reason: Some(StopReason::ToolRoundLimit),
                ..
            }
        ),
        "{end:?}"
    );
    assert_eq!(server.received().len(), 2);
    let parts = last_parts(&e.core, &sid).await;
    result_of(&parts, "a");
    assert!(result_of(&parts, "b").0.contains("a.txt"));
}

pub(super) struct FakeDns(pub(super) Vec<(&'static str, std::net::IpAddr)>);

impl parley_core::tools::fetch::Resolve for FakeDns {
    fn lookup(
        &self,
        host: &str,
        port: u16,
    ) -> futures::future::BoxFuture<'static, std::io::Result<Vec<std::net::SocketAddr>>> {
        let found: Vec<std::net::SocketAddr> = self
            .0
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, ip)| std::net::SocketAddr::new(*ip, port))
            .collect();
        Box::pin(async move { Ok(found) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_during_an_approval_cancels_it_and_every_call_gets_a_result() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[
        ("s1", "write_file", r#"{"path":"q.txt","content":"q"}"#),
        ("s2", "read_file", r#"{"path":"a.txt"}"#),
    ]));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("s1")).await;
    let t0 = Instant::now();
    assert!(e.core.chats().stop_turn(&sid).await);
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(matches!(seen.last(), Some(EventMsg::TurnStopped { .. })));
    let parts = last_parts(&e.core, &sid).await;
    assert_eq!(status_of(&parts, "s1"), ToolCallStatus::Cancelled);
    assert_eq!(result_of(&parts, "s1").0, "Cancelled by user.");
    result_of(&parts, "s2");
    assert!(
        e.core
            .approvals()
            .decide_approval(&sid, "s1", ApprovalDecision::AllowOnce)
            .is_err(),
        "nothing pending any more"
    );
    assert!(!e.ws.path().join("q.txt").exists());
    assert_eq!(server.received().len(), 1, "no request after stop");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_while_a_command_runs_kills_its_whole_process_group_within_a_second() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[(
        "k1",
        "run_shell",
        r#"{"command":"sleep 60 & echo $! > child.pid; echo started; wait"}"#,
    )]));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("k1")).await;
    e.core
        .approvals()
        .decide_approval(&sid, "k1", ApprovalDecision::AllowOnce)
        .unwrap();
    let pid_file = e.ws.path().join("child.pid");
    let t = Instant::now();
    while !pid_file.exists()
        || std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .is_empty()
    {
        assert!(t.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t0 = Instant::now();
    assert!(e.core.chats().stop_turn(&sid).await);
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "stopped in {:?}",
        t0.elapsed()
    );
    assert!(
        parley_core::tools::run::gone(pid, Duration::from_millis(500)).await,
        "the background child is gone too"
    );
    let parts = last_parts(&e.core, &sid).await;
    assert_eq!(status_of(&parts, "k1"), ToolCallStatus::Cancelled);
    assert_eq!(result_of(&parts, "k1").0, "Cancelled by user.");
}
