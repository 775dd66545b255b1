//! The outbound ledger: each kind of request Parley makes is recorded in the data folder it was
//! made for — when, the host, why, what caused it, the bytes, how it ended — and never a key;
//! a Parley at rest makes none. Driven through the core (chats, titles, model lists, connection
//! tests, discovery, the fetch_url tool) and through `parley` (a model download from a hub, an
//! MCP server over HTTP, `parley ledger` itself).

use super::agent::http;
use super::cli::run;
use super::models_pull::{model_file, Hub};
use parley_core::Core;
use parley_protocol::{
    ConnectionDraft, EventMsg, OutboundEntry, OutboundPurpose, ProviderKind, SendOptions,
};
use parley_tests::*;
use std::time::{Duration, Instant};

const KEY: &str = "sk-ledger-secret-0123456789";

async fn entries(core: &Core) -> Vec<OutboundEntry> {
    core.ledger().list(None, 1000).await.unwrap()
}

/// Waits (10 s) until the ledger has an entry for `purpose`; returns the entries.
async fn wait_purpose(core: &Core, purpose: OutboundPurpose) -> Vec<OutboundEntry> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = entries(core).await;
        if all.iter().any(|e| e.purpose == purpose) {
            return all;
        }
        assert!(Instant::now() < deadline, "no {purpose:?} entry: {all:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn one(all: &[OutboundEntry], purpose: OutboundPurpose) -> &OutboundEntry {
    all.iter()
        .find(|e| e.purpose == purpose)
        .unwrap_or_else(|| panic!("no {purpose:?} entry: {all:#?}"))
}

async fn turn(core: &Core, chat: &parley_protocol::ChatId, text: &str) {
    let mut h = core
        .chats()
        .send_message(chat, text, SendOptions::default())
        .await
        .unwrap();
    while let Some(ev) = h.events.recv().await {
        if matches!(ev.msg, EventMsg::TurnCompleted { .. }) {
            return;
        }
        assert!(!ev.msg.is_turn_end(), "{:?}", ev.msg);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_of_the_core_is_recorded_with_its_cause_and_no_key() {
    let server = MockServer::start().await;
    server.answer_gets(Reply::json(200, r#"{"data":[{"id":"m"}]}"#));
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    let host = format!("127.0.0.1:{}", server.port());
    add_provider(
        &core,
        "p",
        ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "m",
        Some(KEY),
    )
    .await;

    // A chat's answer, then its title.
    core.chats().set_background_titles(true);
    server.push(Reply::sse(text_answer(&["Hello there."], 0)));
    server.push(Reply::sse(text_answer(&["Greeting"], 0)));
    let chat = core.chats().create_chat(None).await.unwrap().id;
    turn(&core, &chat, "Say hello.").await;
    let all = wait_purpose(&core, OutboundPurpose::Title).await;
    let answer = one(&all, OutboundPurpose::Chat);
    assert_eq!(answer.host, host);
    assert_eq!(answer.method, "POST");
    assert_eq!(answer.cause, format!("chat {chat}"));
    assert_eq!(answer.status, Some(200));
    assert!(answer.bytes_up > 20 && answer.bytes_down > 20, "{answer:?}");
    assert_eq!(
        one(&all, OutboundPurpose::Title).cause,
        format!("chat {chat}")
    );

    // The model list, and a connection test.
    core.providers().list_models("p", true).await.unwrap();
    let all = wait_purpose(&core, OutboundPurpose::ModelList).await;
    let list = one(&all, OutboundPurpose::ModelList);
    assert_eq!(
        (list.method.as_str(), list.cause.as_str()),
        ("GET", "provider p")
    );
    let draft = ConnectionDraft {
        kind: ProviderKind::OpenaiCompatible,
        base_url: server.base_url(),
        api_key: Some(KEY.into()),
        saved_provider: None,
    };
    core.providers().check_connection(draft).await.unwrap();
    let all = wait_purpose(&core, OutboundPurpose::ConnectionTest).await;
    assert_eq!(
        one(&all, OutboundPurpose::ConnectionTest).cause,
        "testing a provider at 127.0.0.1"
    );

    // Looking for local servers: one probe per port asked.
    core.providers()
        .discover_local_at(&[(server.port(), "llamacpp")])
        .await
        .unwrap();
    let all = wait_purpose(&core, OutboundPurpose::Discovery).await;
    assert_eq!(one(&all, OutboundPurpose::Discovery).host, host);

    // The fetch_url tool, as a chat's turn runs it.
    fetched(&core, &server).await;

    // Nothing recorded holds the key; nothing went anywhere else.
    let json = serde_json::to_string(&entries(&core).await).unwrap();
    assert!(!json.contains(KEY), "{json}");
    let fetch_host = format!("server.test:{}", server.port());
    assert!(entries(&core)
        .await
        .iter()
        .all(|e| e.host == host || e.host == fetch_host));
}

/// fetch_url against the test server (its policy lets 127.0.0.1 through) in a chat's scope.
async fn fetched(core: &Core, server: &MockServer) {
    use parley_core::tools::fetch::{FetchUrl, FetchUrlInput};
    use parley_core::tools::tool::Tool;
    let dns = std::sync::Arc::new(super::agent_limits::FakeDns(vec![(
        "server.test",
        "127.0.0.1".parse().unwrap(),
    )]));
    let tool = FetchUrl::with(dns, super::agent_limits::test_policy);
    let ws = tempfile::tempdir().unwrap();
    let ctx = parley_core::tools::tool::ToolContext::new(
        parley_core::tools::paths::Workspace::new(ws.path()).unwrap(),
        Default::default(),
    );
    let input = FetchUrlInput {
        url: format!("http://server.test:{}/page", server.port()),
    };
    let ran = core.in_ledger_scope("chat c1", tool.run(input, ctx)).await;
    assert!(ran.is_ok(), "{:?}", ran.err().map(|e| e.to_string()));
    let all = wait_purpose(core, OutboundPurpose::FetchUrl).await;
    let f = one(&all, OutboundPurpose::FetchUrl);
    assert_eq!(
        (f.method.as_str(), f.cause.as_str(), f.status),
        ("GET", "chat c1", Some(200))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_rest_parley_sends_nothing() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    add_provider(
        &core,
        "p",
        ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "m",
        Some(KEY),
    )
    .await;
    core.chats().create_chat(None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        entries(&core).await.is_empty(),
        "{:#?}",
        entries(&core).await
    );
    assert!(server.received().is_empty() && server.gets().is_empty());
}

fn ledger_of(r: &super::cli::Run) -> Vec<OutboundEntry> {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_and_mcp_over_http_are_recorded_and_parley_ledger_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A model from a hub.
    let file = model_file(d, 64 * 1024);
    let hub = Hub::start(d, &file, &[]);
    assert_eq!(run(d, &["models", "hub", &hub.url]).await.code, 0);
    let r = run(d, &["models", "pull", "test/tiny:tiny.gguf"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = ledger_of(&run(d, &["ledger", "--json"]).await);
    let hub_host = hub.url.trim_start_matches("http://").to_owned();
    let dl: Vec<_> = all
        .iter()
        .filter(|e| e.purpose == OutboundPurpose::ModelDownload)
        .collect();
    assert!(
        dl.len() >= 2,
        "the hub's description and the file: {all:#?}"
    );
    assert!(dl
        .iter()
        .all(|e| e.host == hub_host && e.cause == "model test/tiny:tiny.gguf"));
    assert!(dl.iter().any(|e| e.bytes_down >= 64 * 1024), "{dl:#?}");

    // An MCP server over HTTP (the legacy transport, tried after streamable HTTP).
    let (mut server, port) = super::mcp_sse_faults::legacy_server(d, "plain").await;
    let url = format!("http://127.0.0.1:{port}/sse");
    assert_eq!(
        run(d, &["mcp", "add", "words", "--url", &url]).await.code,
        0
    );
    let tested = run(d, &["mcp", "test", "words"]).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(tested.code, 0, "{}", tested.stderr);
    let all = ledger_of(&run(d, &["ledger", "--json", "--since", "1h"]).await);
    let mcp: Vec<_> = all
        .iter()
        .filter(|e| e.purpose == OutboundPurpose::Mcp)
        .collect();
    assert!(
        mcp.iter().any(|e| e.method == "GET"),
        "the event stream: {mcp:#?}"
    );
    assert!(
        mcp.iter().any(|e| e.method == "POST" && e.bytes_up > 0),
        "{mcp:#?}"
    );
    assert!(mcp
        .iter()
        .all(|e| e.cause == "MCP server words" && e.host == format!("127.0.0.1:{port}")));

    // The table: newest first, one line each; a bad --since says how to write it.
    let text = run(d, &["ledger"]).await.stdout;
    assert!(
        text.contains("model download") && text.contains("MCP server"),
        "{text}"
    );
    let bad = run(d, &["ledger", "--since", "yesterday"]).await;
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("YYYY-MM-DD") && bad.stderr.contains("2h"),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_listed_while_it_runs_and_completed_when_it_ends() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    add_provider(
        &core,
        "p",
        ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "m",
        Some(KEY),
    )
    .await;
    // An answer that takes a second and a half to stream.
    server.push(Reply::sse(text_answer(&["one ", "two ", "three"], 500)));
    let chat = core.chats().create_chat(None).await.unwrap().id;
    let mut h = core
        .chats()
        .send_message(&chat, "Count.", SendOptions::default())
        .await
        .unwrap();
    // While it streams: listed, not ended (so a crash now would still leave it listed).
    loop {
        let ev = h.events.recv().await.unwrap().msg;
        if matches!(ev, EventMsg::TextDelta { .. }) {
            break;
        }
        assert!(!ev.is_turn_end(), "{ev:?}");
    }
    let running = entries(&core).await;
    let e = one(&running, OutboundPurpose::Chat);
    assert_eq!(
        (e.status, e.error.as_deref(), e.bytes_down),
        (None, None, 0),
        "{e:?}"
    );
    while let Some(ev) = h.events.recv().await {
        if ev.msg.is_turn_end() {
            break;
        }
    }
    let done = entries(&core).await;
    assert_eq!(done.len(), 1, "one row, completed: {done:#?}");
    assert_eq!(done[0].status, Some(200));
    assert!(done[0].bytes_down > 0);
}
