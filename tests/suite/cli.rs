//! The `parley` binary as a user runs it: separate processes on one data dir, streaming to
//! stdout, exit codes, and a SIGKILL in the middle of an answer.

use parley_protocol::{ChatHistory, ChatSummary, Event, EventMsg, TurnStatus};
use parley_tests::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

pub(super) struct Run {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

pub(super) fn parley(dir: &Path) -> Command {
    let mut c = Command::new(parley_bin());
    c.arg("--data-dir")
        .arg(dir)
        .env_remove("PARLEY_DATA_DIR")
        .kill_on_drop(true);
    c
}

pub(super) async fn run(dir: &Path, args: &[&str]) -> Run {
    run_command(parley(dir), args).await
}

/// Runs `cmd` (a `parley` command) with `args`, no input, to its end.
pub(super) async fn run_command(mut cmd: Command, args: &[&str]) -> Run {
    let out = cmd.args(args).stdin(Stdio::null()).output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(super) async fn add_local(dir: &Path, server: &MockServer) {
    add_named(dir, "local", server).await;
}

/// Adds an OpenAI-compatible provider `name` (model "tiny") for `server`, through the CLI.
pub(super) async fn add_named(dir: &Path, name: &str, server: &MockServer) {
    let r = run(
        dir,
        &[
            "providers",
            "add",
            name,
            "--kind",
            "openai-compatible",
            "--base-url",
            &server.base_url(),
            "--model",
            "tiny",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The history of the only chat in `dir`, read by a fresh `parley` process.
async fn only_chat(dir: &Path) -> ChatHistory {
    newest_chat(dir, Some(1)).await
}

/// The newest chat in `dir` (checking how many there are, when asked), read by a fresh
/// `parley` process.
pub(super) async fn newest_chat(dir: &Path, expect: Option<usize>) -> ChatHistory {
    let list = run(dir, &["sessions", "list", "--json"]).await;
    let sessions: Vec<ChatSummary> = serde_json::from_str(&list.stdout).unwrap();
    if let Some(n) = expect {
        assert_eq!(sessions.len(), n, "{}", list.stdout);
    }
    let show = run(dir, &["sessions", "show", &sessions[0].id.0, "--json"]).await;
    serde_json::from_str(&show.stdout).unwrap()
}

fn chat_id(stderr: &str) -> String {
    let start = stderr.find("(chat ").expect("chat id printed") + 6;
    stderr[start..].split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_streams_to_stdout_and_a_new_process_shows_it() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Hello", ", ", "world", "!"], 250)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;

    // Read stdout as it arrives: the first words must show before the process ends.
    let started = Instant::now();
    let mut child = parley(dir.path())
        .args(["ask", "Say hello"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).await.unwrap();
    let first_at = started.elapsed();
    assert_eq!(&first, b"Hello");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    assert!(
        first_at + Duration::from_millis(500) < started.elapsed(),
        "not streamed"
    );
    assert_eq!(format!("Hello{rest}"), "Hello, world!\n");
    let id = chat_id(&String::from_utf8_lossy(&out.stderr));

    let list = run(dir.path(), &["sessions", "list", "--json"]).await;
    let sessions: Vec<ChatSummary> = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].id.0, id);
    assert_eq!(sessions[0].title, "Say hello");

    let show = run(dir.path(), &["sessions", "show", &id]).await;
    assert_eq!(show.code, 0);
    assert!(
        show.stdout.contains("## user\nSay hello"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("## assistant (tiny)\nHello, world!"),
        "{}",
        show.stdout
    );

    // Continue the chat, rename, delete.
    server.push(Reply::sse(text_answer(&["Again"], 0)));
    let r = run(dir.path(), &["ask", "--session", &id, "once more"]).await;
    assert_eq!((r.code, r.stdout.as_str()), (0, "Again\n"), "{}", r.stderr);
    let r = run(dir.path(), &["sessions", "rename", &id, "Greetings"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let show = run(dir.path(), &["sessions", "show", &id, "--json"]).await;
    let h: ChatHistory = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(h.session.title, "Greetings");
    assert_eq!(h.messages.len(), 4);
    let r = run(dir.path(), &["sessions", "delete", &id]).await;
    assert_eq!(r.code, 0);
    let r = run(dir.path(), &["sessions", "show", &id]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("No chat with id"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_json_prints_protocol_events_as_lines() {
    let server = MockServer::start().await;
    let mut steps = vec![ev_reasoning("hmm")];
    steps.extend(text_answer(&["A", "B"], 0));
    server.push(Reply::sse(steps));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let r = run(dir.path(), &["ask", "--json", "--system", "Be brief.", "q"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // First the context estimate (tests/suite/gauge.rs), then the events.
    let mut lines = r.stdout.lines();
    let context: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert!(context["context"]["window"].is_number(), "{context}");
    let events: Vec<Event> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(matches!(events[0].msg, EventMsg::TurnStarted { .. }));
    assert!(matches!(
        events.last().unwrap().msg,
        EventMsg::TurnCompleted { .. }
    ));
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert!(events
        .iter()
        .any(|e| matches!(&e.msg, EventMsg::ReasoningDelta { delta, .. } if delta == "hmm")));
    let body = server.received()[0].json();
    assert_eq!(
        body["messages"][0],
        serde_json::json!({"role": "system", "content": "Be brief."})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero_with_a_clear_message() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Invalid API key","code":"invalid_api_key"}}"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;

    let r = run(dir.path(), &["ask", "hi"]).await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("error: The provider rejected the API key (HTTP 401)"),
        "{}",
        r.stderr
    );
    // The user's message is kept with the failed turn.
    let h = only_chat(dir.path()).await;
    assert_eq!(h.messages[0].text(), "hi");
    assert_eq!(h.turns[0].status, TurnStatus::Failed);

    let r = run(dir.path(), &["ask", "--session", "nope", "hi"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("No chat with id nope"), "{}", r.stderr);
    let r = run(dir.path(), &["ask", "   "]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    let r = run(
        dir.path(),
        &[
            "providers",
            "add",
            "x",
            "--kind",
            "openai",
            "--base-url",
            "ftp://example.com",
        ],
    )
    .await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("http:// or https://"), "{}", r.stderr);
    let r = run(dir.path(), &["providers", "models", "missing"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("No provider named"), "{}", r.stderr);
    let r = run(dir.path(), &["sessions", "rename", "nope", "x"]).await;
    assert_eq!(r.code, 1);
    let r = run(dir.path(), &["providers", "list"]).await;
    assert!(
        r.stdout.starts_with("local\topenai-compatible\t"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("key=none"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_are_listed_from_the_provider() {
    let server = MockServer::start().await;
    server.push(Reply::json(200, r#"{"object":"list","data":[{"id":"b-model","object":"model","owned_by":"me"},{"id":"a-model","object":"model"}]}"#));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let r = run(dir.path(), &["providers", "models", "local"]).await;
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "a-model\nb-model\n"),
        "{}",
        r.stderr
    );
    assert_eq!(server.received()[0].path, "/v1/models");

    // A failed refresh lists the models cached before and says why on stderr.
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Invalid API key","code":"invalid_api_key"}}"#,
    ));
    let r = run(dir.path(), &["providers", "models", "local"]).await;
    assert_eq!((r.code, r.stdout.as_str()), (0, "a-model\nb-model\n"));
    assert!(
        r.stderr.contains("could not refresh the model list"),
        "{}",
        r.stderr
    );

    // With nothing cached, the failure is the answer: non-zero, with the reason.
    let other = tempfile::tempdir().unwrap();
    add_local(other.path(), &server).await;
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Invalid API key","code":"invalid_api_key"}}"#,
    ));
    let r = run(other.path(), &["providers", "models", "local"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("error:"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_leaves_an_interrupted_turn_with_its_partial_text() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("Partial "),
        ev_text("answer"),
        sleep_ms(60_000),
        ev_text("never"),
    ]));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let mut child = parley(dir.path())
        .args(["ask", "Tell me everything"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the journal has the partial text on disk, then kill without warning.
    let db = dir.path().join("parley.db");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            Instant::now() < deadline,
            "partial text never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(c) =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            continue;
        };
        let body: Option<String> = c
            .query_row(&format!("SELECT {PART_TEXT_SQL} FROM parts p JOIN messages m ON m.id = p.message_id WHERE m.role = 'assistant'"), [], |r| r.get(0))
            .ok();
        if body.as_deref() == Some("Partial answer") {
            break;
        }
    }
    child.start_kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().await.unwrap();
    assert!(!status.success());

    let h = only_chat(dir.path()).await;
    assert_eq!(h.messages[0].text(), "Tell me everything");
    assert_eq!(h.messages[1].text(), "Partial answer");
    assert_eq!(h.turns[0].status, TurnStatus::Interrupted);
    assert!(h.turns[0]
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("partial answer is kept"));
    let text = run(dir.path(), &["sessions", "show", &h.session.id.0]).await;
    assert!(text.stdout.contains("[interrupted]"), "{}", text.stdout);

    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_list_pages_with_limit_and_offset_and_no_silent_cap() {
    let dir = tempfile::tempdir().unwrap();
    let ids = data::chats(dir.path(), 1205);
    // More than the old cap of 1,000, in one call.
    let all = run(
        dir.path(),
        &["sessions", "list", "--limit", "1500", "--json"],
    )
    .await;
    assert_eq!(all.code, 0, "{}", all.stderr);
    let all: Vec<ChatSummary> = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(all.len(), 1205);
    assert_eq!(all[0].id.0, ids[1204], "most recent first");
    // A page in the middle, and the word that more follow.
    let page = run(
        dir.path(),
        &["sessions", "list", "--limit", "100", "--offset", "1000"],
    )
    .await;
    assert_eq!(page.code, 0, "{}", page.stderr);
    let lines: Vec<&str> = page.stdout.lines().collect();
    assert_eq!(lines.len(), 100);
    assert!(lines[0].starts_with(&ids[204]), "{}", lines[0]);
    assert!(
        page.stderr
            .contains("More chats follow: parley chats list --offset 1100"),
        "{}",
        page.stderr
    );
    // The last page: what is left, and nothing said about more.
    let last = run(
        dir.path(),
        &["sessions", "list", "--limit", "100", "--offset", "1200"],
    )
    .await;
    assert_eq!(last.stdout.lines().count(), 5);
    assert!(!last.stderr.contains("More chats"), "{}", last.stderr);
    let past = run(dir.path(), &["sessions", "list", "--offset", "5000"]).await;
    assert_eq!(past.code, 0);
    assert!(
        past.stderr.contains("No chats after the first 5000."),
        "{}",
        past.stderr
    );
}

/// `parley chats list --sort`: by activity (the default), creation or title; the hint for the
/// next page keeps the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_are_listed_by_activity_creation_or_title() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let mut ids = Vec::new();
    for q in ["cherry", "apple", "Banana"] {
        server.push(Reply::sse(text_answer(&["ok"], 0)));
        assert_eq!(run(dir.path(), &["ask", q]).await.code, 0);
        let list: Vec<ChatSummary> = serde_json::from_str(
            &run(dir.path(), &["chats", "list", "--json", "--limit", "1"])
                .await
                .stdout,
        )
        .unwrap();
        ids.push(list[0].id.0.clone());
    }
    // The first chat gets a new message: the most recently active.
    server.push(Reply::sse(text_answer(&["again"], 0)));
    assert_eq!(
        run(dir.path(), &["ask", "--chat", &ids[0], "more"])
            .await
            .code,
        0
    );
    let titles = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| l.split('\t').nth(1).unwrap_or("").to_owned())
            .collect()
    };
    for (args, want) in [
        (vec![], ["cherry", "Banana", "apple"]),
        (vec!["--sort", "created"], ["Banana", "apple", "cherry"]),
        (vec!["--sort", "title"], ["apple", "Banana", "cherry"]),
    ] {
        let mut all = vec!["chats", "list"];
        all.extend(args.iter());
        let r = run(dir.path(), &all).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(titles(&r.stdout), want, "{args:?}");
    }
    let r = run(
        dir.path(),
        &["chats", "list", "--sort", "title", "--limit", "1"],
    )
    .await;
    assert!(
        r.stderr
            .contains("parley chats list --sort title --offset 1"),
        "{}",
        r.stderr
    );
    let r = run(dir.path(), &["chats", "list", "--sort", "size"]).await;
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("updated") && r.stderr.contains("title"),
        "{}",
        r.stderr
    );
}
