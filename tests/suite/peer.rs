//! A real peer: llama.cpp's `llama-server` with SmolLM2-135M on loopback, exercised through
//! parley-core on its OpenAI Chat, OpenAI Responses and Anthropic Messages endpoints — a
//! streamed reply with usage, a tool call parsed and its result sent back and answered, and a
//! 401 for a wrong key.
//!
//! `cargo xtask test` builds the server (cached outside the repo) and runs these with
//! `PARLEY_LLAMA_SERVER`, `PARLEY_LLAMA_MODEL` and `PARLEY_LLAMA_TEMPLATE` set. They are
//! `#[ignore]`d for a plain `cargo test`; run without those variables they FAIL with a message
//! saying what is missing — they are never silently skipped.

use futures::StreamExt;
use parley_core::providers::{
    for_kind, ChatRequest, HttpSettings, StreamEvent, ToolChoice, ToolSpec,
};
use parley_core::Core;
use parley_protocol::{
    ChatParams, ErrorCode, EventMsg, Message, Part, ProviderKind, Role, SendOptions, ToolCallStatus,
};
use parley_tests::{add_provider, message, open_core};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODEL: &str = "smollm2-135m";

fn required(var: &str) -> PathBuf {
    let v = std::env::var_os(var).unwrap_or_else(|| {
        panic!(
            "{var} is not set: the real-peer suite needs llama-server and SmolLM2. Run it through `cargo xtask test`, which builds them (cached outside the repo)."
        )
    });
    let p = PathBuf::from(v);
    assert!(
        p.exists(),
        "{var} points at {}, which does not exist",
        p.display()
    );
    p
}

/// A running llama-server, killed on drop. Its output goes to a log file that is shown
/// whenever the server fails to come up.
struct Peer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

/// The last `n` lines of the server's log, for a failure message.
fn tail(log: &std::path::Path, n: usize) -> String {
    let text = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned());
    match text {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", log.display()),
    }
}

impl Peer {
    fn start(api_key: Option<&str>) -> Peer {
        let (server, model, template) = (
            required("PARLEY_LLAMA_SERVER"),
            required("PARLEY_LLAMA_MODEL"),
            required("PARLEY_LLAMA_TEMPLATE"),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(server);
        cmd.args(["-m"])
            .arg(model)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "-a",
                MODEL,
            ])
            .args(["--jinja", "--chat-template-file"])
            .arg(template)
            .args(["-c", "4096", "-t", "2", "-np", "1", "--no-webui"]);
        let log = tempfile::NamedTempFile::new().expect("a log file for llama-server");
        let out = log.reopen().expect("log file");
        let err = log.reopen().expect("log file");
        cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
        if let Some(k) = api_key {
            cmd.args(["--api-key", k]);
        }
        let child = cmd.spawn().expect("llama-server starts");
        let mut peer = Peer { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .and_then(|mut s| {
                    use std::io::{Read, Write};
                    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                    s.write_all(b"GET /health HTTP/1.0\r\n\r\n").ok()?;
                    let mut buf = String::new();
                    s.read_to_string(&mut buf).ok()?;
                    Some(buf.contains(" 200 "))
                })
                .unwrap_or(false);
            if ok {
                return peer;
            }
            if let Ok(Some(status)) = peer.child.try_wait() {
                panic!(
                    "llama-server exited before it became healthy ({status}); the last lines it printed:\n{}",
                    tail(peer.log.path(), 40)
                );
            }
            if Instant::now() >= deadline {
                let _ = peer.child.kill();
                let status = peer.child.wait().map(|s| s.to_string());
                panic!(
                    "llama-server did not become healthy in 60 s (killed: {status:?}); the last lines it printed:\n{}",
                    tail(peer.log.path(), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn msg(role: Role, parts: Vec<Part>) -> Message {
    Message {
        model: Some(MODEL.into()),
        ..message(role, parts, Some("peer"))
    }
}

fn text(role: Role, t: &str) -> Message {
    msg(role, vec![Part::Text { text: t.into() }])
}

async fn core_with(
    dir: &std::path::Path,
    kind: ProviderKind,
    url: &str,
    key: Option<&str>,
) -> Core {
    let core = open_core(dir, HttpSettings::default()).await;
    add_provider(&core, "peer", kind, url, MODEL, key).await;
    core
}

/// A streamed reply through the whole engine: stored, with usage.
async fn reply_with_usage(kind: ProviderKind, peer: &Peer) {
    let dir = tempfile::tempdir().unwrap();
    let core = core_with(dir.path(), kind, &peer.base_url(), None).await;
    let s = core.chats().create_chat(None).await.unwrap();
    core.chats()
        .set_chat_params(
            &s.id,
            ChatParams {
                temperature: Some(0.0),
                max_output_tokens: Some(48),
                system: Some("You are a friendly assistant.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut h = core
        .chats()
        .send_message(
            &s.id,
            "Say hello in one short sentence.",
            SendOptions::default(),
        )
        .await
        .unwrap();
    let mut deltas = 0;
    let usage = loop {
        match h.events.recv().await.unwrap().msg {
            EventMsg::TextDelta { .. } => deltas += 1,
            EventMsg::TurnCompleted { usage, .. } => break usage,
            EventMsg::TurnFailed { error, .. } => panic!("{kind:?}: {error:?}"),
            _ => {}
        }
    };
    assert!(
        deltas > 1,
        "{kind:?}: the reply streamed in pieces ({deltas})"
    );
    let u = usage.unwrap_or_else(|| panic!("{kind:?}: usage reported"));
    assert!(u.input_tokens > 0 && u.output_tokens > 0, "{kind:?}: {u:?}");
    let hist = core.history().full_history(&s.id).await.unwrap();
    let answer = &hist.messages[1];
    assert!(!answer.text().trim().is_empty(), "{kind:?}: stored answer");
    assert_eq!(answer.model.as_deref(), Some(MODEL));
    let list = core.providers().list_models("peer", true).await.unwrap();
    assert!(list.error.is_none(), "{kind:?}: {list:?}");
    let models = list.models;
    assert!(models.iter().any(|m| m.id == MODEL), "{kind:?}: {models:?}");
}

/// A tool call parsed from the real server, run by Parley's real `read_file` tool in a real
/// workspace, its result sent back in the provider's shape, and the model's answer to it.
async fn tool_loop(kind: ProviderKind, peer: &Peer) {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("notes.txt"), "The meeting is at 10.\n").unwrap();
    let mut registry = parley_core::tools::builtins();
    registry.retain(&["read_file".to_owned()]);
    let ctx = parley_core::tools::tool::ToolContext::new(
        parley_core::tools::paths::Workspace::new(ws.path()).unwrap(),
        Default::default(),
    );
    let client = parley_core::providers::http::client(&HttpSettings::default()).unwrap();
    let provider = for_kind(
        kind,
        client,
        &peer.base_url(),
        None,
        HttpSettings::default(),
    );
    let tools: Vec<ToolSpec> = registry.specs();
    let question = text(Role::User, "Read the file notes.txt with read_file.");
    // The 135M model will not choose a tool by itself: prefill the call's opening tag.
    let first = ChatRequest {
        model: MODEL.into(),
        messages: vec![question.clone(), text(Role::Assistant, "<tool_call>\n")],
        temperature: Some(0.0),
        max_output_tokens: Some(60),
        tools: tools.clone(),
        tool_choice: ToolChoice::Required,
        stop: vec!["</tool_call>".into()],
        ..Default::default()
    };
    let mut events = provider.stream(first, Default::default());
    let mut call = None;
    while let Some(ev) = events.next().await {
        match ev.unwrap_or_else(|e| panic!("{kind:?}: {e}")) {
            StreamEvent::ToolCallFinished {
                id,
                name,
                arguments,
                parsed,
                ..
            } if call.is_none() => {
                let args = parsed.unwrap_or_else(|e| panic!("{kind:?}: {e}: {arguments}"));
                assert_eq!(name, "read_file");
                assert!(args["path"].as_str().is_some(), "{kind:?}: {args}");
                assert!(!id.is_empty());
                call = Some((id, name, arguments));
            }
            StreamEvent::Finished { .. } => break,
            _ => {}
        }
    }
    let (call_id, name, arguments) = call.unwrap_or_else(|| panic!("{kind:?}: no tool call"));
    // The call runs through the same typed tool the agent loop uses: its schema is the one the
    // model was offered, so the arguments parse; the result (text or an error the model can
    // recover from) is what goes back.
    let prepared = registry
        .prepare(&name, &arguments, &ctx)
        .unwrap_or_else(|e| panic!("{kind:?}: {e}: {arguments}"));
    assert_eq!(prepared.risk, parley_protocol::ToolRisk::ReadOnly);
    let (output, is_error) = match prepared.run(ctx.clone()).await {
        Ok(out) => (out.text, false),
        Err(e) => (e.to_string(), true),
    };
    assert!(!output.is_empty(), "{kind:?}");
    let answered = msg(
        Role::Assistant,
        vec![
            Part::ToolCall {
                call_id: call_id.clone(),
                name,
                arguments,
                status: ToolCallStatus::Completed,
            },
            Part::ToolResult {
                call_id,
                output,
                is_error,
            },
        ],
    );
    let second = ChatRequest {
        model: MODEL.into(),
        messages: vec![question, answered],
        temperature: Some(0.0),
        max_output_tokens: Some(48),
        tools,
        tool_choice: ToolChoice::None,
        ..Default::default()
    };
    let mut events = provider.stream(second, Default::default());
    let (mut reply, mut finished) = (String::new(), false);
    while let Some(ev) = events.next().await {
        match ev.unwrap_or_else(|e| panic!("{kind:?}: the tool result was refused: {e}")) {
            StreamEvent::TextDelta(t) => reply.push_str(&t),
            StreamEvent::Finished { .. } => finished = true,
            _ => {}
        }
    }
    assert!(finished, "{kind:?}");
    assert!(
        !reply.trim().is_empty(),
        "{kind:?}: an answer to the tool result"
    );
}

async fn wrong_key_is_401(kind: ProviderKind, peer: &Peer) {
    let dir = tempfile::tempdir().unwrap();
    let core = core_with(
        dir.path(),
        kind,
        &peer.base_url(),
        Some("wrong-key-0123456789"),
    )
    .await;
    let s = core.chats().create_chat(None).await.unwrap();
    let mut h = core
        .chats()
        .send_message(&s.id, "hello", SendOptions::default())
        .await
        .unwrap();
    loop {
        match h.events.recv().await.unwrap().msg {
            EventMsg::TurnFailed { error, .. } => {
                assert_eq!(error.code, ErrorCode::Unauthorized, "{kind:?}: {error:?}");
                assert!(!error.retryable);
                assert!(!error.message.contains("wrong-key-0123456789"));
                break;
            }
            EventMsg::TurnCompleted { .. } => panic!("{kind:?}: a wrong key was accepted"),
            _ => {}
        }
    }
    let hist = core.history().full_history(&s.id).await.unwrap();
    assert_eq!(hist.messages[0].text(), "hello", "the message is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_openai_chat_replies_calls_tools_and_takes_results() {
    let peer = Peer::start(None);
    reply_with_usage(ProviderKind::OpenaiCompatible, &peer).await;
    tool_loop(ProviderKind::OpenaiCompatible, &peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_openai_responses_replies_calls_tools_and_takes_results() {
    let peer = Peer::start(None);
    reply_with_usage(ProviderKind::OpenaiResponses, &peer).await;
    tool_loop(ProviderKind::OpenaiResponses, &peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_anthropic_messages_replies_calls_tools_and_takes_results() {
    let peer = Peer::start(None);
    reply_with_usage(ProviderKind::Anthropic, &peer).await;
    tool_loop(ProviderKind::Anthropic, &peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_rejects_a_wrong_key_with_401_on_every_endpoint() {
    let peer = Peer::start(Some("right-key-9876543210"));
    for kind in [
        ProviderKind::OpenaiCompatible,
        ProviderKind::OpenaiResponses,
        ProviderKind::Anthropic,
    ] {
        wrong_key_is_401(kind, &peer).await;
    }
    // The right key works.
    let dir = tempfile::tempdir().unwrap();
    let core = core_with(
        dir.path(),
        ProviderKind::OpenaiCompatible,
        &peer.base_url(),
        Some("right-key-9876543210"),
    )
    .await;
    let list = core.providers().list_models("peer", true).await.unwrap();
    assert!(list.error.is_none(), "{list:?}");
}
