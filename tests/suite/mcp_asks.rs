//! What an MCP server asks the person (elicitation), in both eras: a request of the server's
//! own during a call (tests/mcp_servers/changing.py, the initialize handshake) and an
//! `input_required` result (tests/mcp_servers/stateless.py, 2026-07-28). `parley ask` on a
//! terminal (a pseudo-terminal this test opens) asks field by field, refuses a wrong value and
//! asks again, and the server gets the typed content; an address is shown whole and "opened"
//! only on the person's word; without a terminal every question is declined at once. Also what
//! a server sends besides: a result too long to read, progress, requests to the model
//! (sampling), prompts.

use super::agent::{answer, calls};
use super::cli::{add_local, parley, run};
use parley_tests::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mcp_servers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Adds the handshake-era server as "old" and the stateless one as "new".
pub(super) async fn add_servers(d: &Path) {
    let desc = d.join("desc.txt");
    std::fs::write(&desc, "Looks a word up.").unwrap();
    let old = script("changing.py");
    let new = script("stateless.py");
    let desc = desc.to_str().unwrap();
    for args in [
        vec!["mcp", "add", "old", "--", "python3", &old, desc],
        vec!["mcp", "add", "new", "--", "python3", &new],
    ] {
        let r = run(d, &args).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

/// A data folder with the scripted model (`local`) and both servers, and a workspace in it.
async fn setup(server: &MockServer) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, server).await;
    add_servers(d).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    (dir, ws)
}

/// The arguments of `parley ask "go"` in `ws` with server "old", every call approved.
fn old_args<'a>(ws: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let ws = ws.to_str().unwrap();
    let mut args = vec![
        "ask",
        "go",
        "--workspace",
        ws,
        "--mcp",
        "old",
        "--approve",
        "all",
    ];
    args.extend_from_slice(more);
    args
}

/// `parley ask "go"` in `ws` with server "old", every call approved, no terminal.
async fn ask_old(d: &Path, ws: &Path, more: &[&str]) -> super::cli::Run {
    run(d, &old_args(ws, more)).await
}

/// `parley ask` on a pseudo-terminal: what it wrote so far, and a way to type.
pub(super) struct Pty {
    seen: Arc<Mutex<String>>,
    writer: std::fs::File,
    child: tokio::process::Child,
    reader: std::thread::JoinHandle<()>,
}

impl Pty {
    pub(super) fn start(d: &Path, args: &[&str]) -> Pty {
        let (master, slave) = open_pty();
        let child = parley(d)
            .args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let writer = master.try_clone().unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let reader = {
            let seen = seen.clone();
            let mut master = master;
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Ends with EIO once the child has closed the terminal.
                while let Ok(n) = master.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            })
        };
        Pty {
            seen,
            writer,
            child,
            reader,
        }
    }

    /// Waits until `what` was written `count` times, then types `line`.
    pub(super) fn answer(&mut self, what: &str, count: usize, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.seen.lock().unwrap().clone();
            if text.matches(what).count() >= count {
                break;
            }
            assert!(Instant::now() < deadline, "never saw {what:?}:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    pub(super) async fn finish(mut self) -> String {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("parley ask did not end")
            .unwrap();
        self.reader.join().unwrap();
        let text = self.seen.lock().unwrap().clone();
        assert!(status.success(), "{text}");
        text
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_and_an_address_are_asked_on_the_terminal_in_both_eras() {
    let server = MockServer::start().await;
    // One call per round: the questions come in a known order.
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"ask"}"#)]));
    server.push(calls(&[("c2", "new__confirm", "{}")]));
    server.push(calls(&[("c3", "old__lookup", r#"{"q":"open"}"#)]));
    server.push(answer("Done."));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let ws = ws.to_str().unwrap();
    let mut pty = Pty::start(
        d,
        &[
            "ask",
            "go",
            "--workspace",
            ws,
            "--mcp",
            "old",
            "--mcp",
            "new",
            "--approve",
            "all",
        ],
    );
    // The handshake era: a request of the server's own, during the call.
    // The fields come in name order (the SDK keeps a schema's properties sorted).
    pty.answer("asks: Who is asking?", 1, "a");
    pty.answer("Agree [y/n]", 1, "y");
    pty.answer("2) green", 1, "2");
    pty.answer("How many", 1, "11");
    pty.answer("How many must be between 1 and 10.", 1, "3");
    pty.answer("Your name (required)", 1, "");
    pty.answer("Your name is required.", 1, "Ann");
    // The stateless era: an input_required result, answered and retried.
    pty.answer("asks: Proceed?", 1, "a");
    pty.answer("ok [y/n]", 1, "n");
    // An address: shown whole, "opened" on the person's word.
    pty.answer("https://example.com/auth?x=1", 1, "o");
    let text = pty.finish().await;
    assert!(text.contains("Sign in, please."), "{text}");
    let sent = String::from_utf8_lossy(&server.received()[3].body).into_owned();
    for want in [
        r#"the person: accept {\"agree\": true, \"color\": \"green\", \"n\": 3, \"name\": \"Ann\"}"#,
        r#"state echoed exactly; the user's answer: accept {\"ok\": false}"#,
        "the person: accept null",
    ] {
        assert!(sent.contains(want), "{want} not in {sent}");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_or_cancelled_question_reaches_the_server_as_such() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"ask"}"#)]));
    server.push(calls(&[("c2", "old__lookup", r#"{"q":"ask"}"#)]));
    server.push(answer("Done."));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let mut pty = Pty::start(d, &old_args(&ws, &[]));
    pty.answer("asks: Who is asking?", 1, "d");
    pty.answer("asks: Who is asking?", 2, "c");
    pty.finish().await;
    let sent = String::from_utf8_lossy(&server.received()[2].body).into_owned();
    assert!(sent.contains("the person: decline null"), "{sent}");
    assert!(sent.contains("the person: cancel null"), "{sent}");
}

/// Without a terminal nobody can answer: the question is declined at once (no wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_a_question_is_declined_at_once() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"ask"}"#)]));
    server.push(answer("Done."));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let started = Instant::now();
    let r = ask_old(d, &ws, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(30));
    let sent = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(sent.contains("the person: decline null"), "{sent}");
}

/// A result too long to be read (20 MB on one line): the call fails at once with a clear error,
/// not at its 600 s timeout, and the server goes on answering the next call.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_too_long_to_read_fails_at_once_and_the_server_goes_on() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"huge"}"#)]));
    server.push(calls(&[("c2", "old__lookup", r#"{"q":"word"}"#)]));
    server.push(answer("Done."));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let started = Instant::now();
    let r = ask_old(d, &ws, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let first = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(
        first.contains("sent a message longer than 16 MB"),
        "{}",
        &first[..first.len().min(2000)]
    );
    let second = String::from_utf8_lossy(&server.received()[2].body).into_owned();
    assert!(
        second.contains("definition of word"),
        "{}",
        &second[..second.len().min(2000)]
    );
}

/// A server's progress notifications for a running call reach the chat's events (the running
/// card shows them), with the call's id, in order, paced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_progress_reaches_the_chats_events() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"slow"}"#)]));
    server.push(answer("Done."));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let r = ask_old(d, &ws, &["--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reports: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["msg"]["type"] == "tool_progress")
        .map(|e| e["msg"].clone())
        .collect();
    assert!(reports.len() >= 5, "{reports:?}\n{}", r.stdout);
    assert!(reports
        .iter()
        .all(|m| m["call_id"] == "c1" && m["total"] == 10.0));
    let steps: Vec<f64> = reports
        .iter()
        .map(|m| m["progress"].as_f64().unwrap())
        .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    // Each report carries its own message (the last may come after the result: not awaited).
    for m in &reports {
        let step = m["progress"].as_f64().unwrap();
        assert_eq!(m["message"], format!("step {step} of 10"), "{m}");
    }
}

/// A server asks the model (sampling): declined at once unless allowed; allowed for the run
/// (`--allow-sampling`), the request is shown on the terminal with the model that would answer,
/// and only once the person lets it does the chat's model answer — the server gets its text.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_request_to_the_model_is_declined_unless_allowed_and_asked() {
    let server = MockServer::start().await;
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let ws = ws.to_str().unwrap();
    let base = [
        "ask",
        "go",
        "--workspace",
        ws,
        "--mcp",
        "old",
        "--approve",
        "all",
    ];
    // Not allowed (the default): declined, nothing asked.
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"sample"}"#)]));
    server.push(answer("Done."));
    let r = run(d, &base).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sent = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(
        sent.contains("sampled: error The user declined: MCP servers may not ask the model"),
        "{sent}"
    );
    // Allowed for the run, on a terminal: shown, then declined by the person.
    server.push(calls(&[("c2", "old__lookup", r#"{"q":"sample"}"#)]));
    server.push(answer("Done."));
    let mut args = base.to_vec();
    args.push("--allow-sampling");
    let mut pty = Pty::start(d, &args);
    pty.answer("[a] let the model answer", 1, "d");
    let text = pty.finish().await;
    assert!(
        text.contains("The model tiny of local would answer this (at most 50 tokens)"),
        "{text}"
    );
    assert!(
        text.contains("user: Say hi to the dictionary.") && text.contains("system: You are terse."),
        "{text}"
    );
    let sent = String::from_utf8_lossy(&server.received()[3].body).into_owned();
    assert!(
        sent.contains("sampled: error The user declined: the person did not allow it"),
        "{sent}"
    );
    // Allowed, and let through: the chat's model answers the server.
    server.push(calls(&[("c3", "old__lookup", r#"{"q":"sample"}"#)]));
    server.push(answer("Hi, dictionary."));
    server.push(answer("Done."));
    let mut pty = Pty::start(d, &args);
    pty.answer("[a] let the model answer", 1, "a");
    pty.finish().await;
    let asked = String::from_utf8_lossy(&server.received()[5].body).into_owned();
    assert!(
        asked.contains("Say hi to the dictionary.") && asked.contains("You are terse."),
        "{asked}"
    );
    assert!(
        !asked.contains("\"tools\""),
        "the model is asked without tools: {asked}"
    );
    let sent = String::from_utf8_lossy(&server.received()[6].body).into_owned();
    assert!(
        sent.contains(
            r#"sampled: model tiny said {\"text\": \"Hi, dictionary.\", \"type\": \"text\"}"#
        ),
        "{sent}"
    );
}

/// A server's prompts: listed with their arguments, their text with the arguments filled in
/// (exact into a pipe; a required argument left out is the server's error), hidden characters
/// reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_prompts_are_listed_and_their_text_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_servers(d).await;
    let r = run(d, &["mcp", "prompts", "old", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<parley_protocol::McpPrompt> = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    // Listed twice by the server (the prompt, its argument): kept once, the first.
    assert_eq!(names, ["define", "hello"]);
    assert_eq!(listed[0].description, "Asks for a definition.");
    assert_eq!(listed[0].arguments.len(), 2);
    assert!(listed[0].arguments[0].required && !listed[0].arguments[1].required);
    let r = run(d, &["mcp", "prompts", "old"]).await;
    assert!(r.stdout.contains("--arg word=… (required)"), "{}", r.stdout);
    let r = run(
        d,
        &[
            "mcp",
            "prompt",
            "old",
            "define",
            "--arg",
            "word=ephemeral",
            "--arg",
            "lang=French",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "Define the word ephemeral in French.\n");
    let r = run(d, &["mcp", "prompt", "old", "define"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("word is required"), "{}", r.stderr);
    let r = run(d, &["mcp", "prompt", "old", "hello", "--json"]).await;
    let got: parley_protocol::McpPromptText = serde_json::from_str(&r.stdout).unwrap();
    assert!(got.hidden && got.text == "Hello\u{202E} there", "{got:?}");
    // The stateless server offers none.
    let r = run(d, &["mcp", "prompts", "new", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "[]");
}

/// A server's resources: listed, and read exactly (text, and an image's bytes into a pipe); an
/// address it does not have is its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_resources_are_listed_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_servers(d).await;
    let r = run(d, &["mcp", "resources", "old", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<parley_protocol::McpResource> = serde_json::from_str(&r.stdout).unwrap();
    let uris: Vec<&str> = listed.iter().map(|x| x.uri.as_str()).collect();
    // The address listed twice is kept once (the first).
    assert_eq!(uris, ["dict://words/today.md", "dict://pics/dot.png"]);
    assert_eq!(listed[0].title.as_deref(), Some("Word of the day"));
    let r = run(d, &["mcp", "resource", "old", "dict://words/today.md"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "# Ephemeral\nLasting a very short time.\n");
    let out = std::process::Command::new(parley_bin())
        .args([
            "--data-dir",
            d.to_str().unwrap(),
            "mcp",
            "resource",
            "old",
            "dict://pics/dot.png",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{:?}",
        &out.stdout[..8.min(out.stdout.len())]
    );
    let r = run(d, &["mcp", "resource", "old", "dict://nothing"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("Resource not found"), "{}", r.stderr);
    let r = run(d, &["mcp", "resources", "new", "--json"]).await;
    assert_eq!(r.stdout.trim(), "[]", "{}", r.stderr);
}

/// Stop (Ctrl-C) during a slow call cancels it at the server: the server is told
/// (notifications/cancelled, with the call's request id) while it works, and `parley ask` ends at
/// once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cancels_a_running_call_at_the_server() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"slow"}"#)]));
    server.push(answer("never asked"));
    let (dir, ws) = setup(&server).await;
    let d = dir.path();
    let mut child = parley(d)
        .args([
            "ask",
            "go",
            "--json",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "old",
            "--approve",
            "all",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waits for the call's first progress report: the server is working.
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("\"tool_progress\"") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "no progress came");
    let stopped = Instant::now();
    super::cli_import::signal(&child, libc::SIGINT);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("parley ended")
        .unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(8),
        "{:?} {status}",
        stopped.elapsed()
    );
    let marker = d.join("desc.txt.cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the server was never told the call was cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let params = std::fs::read_to_string(&marker).unwrap();
    assert!(params.contains("requestId"), "{params}");
    assert_eq!(
        server.received().len(),
        1,
        "nothing more asked of the model"
    );
}

/// A server may ask the person only while one of its calls runs, one question at a time: asked
/// while it lists its tools, it is declined without a word to the person (on a terminal too).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_outside_a_call_is_declined_unasked() {
    let server = MockServer::start().await;
    server.push(calls(&[("c1", "old__lookup", r#"{"q":"word"}"#)]));
    server.push(answer("Done."));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    add_servers(d).await;
    std::fs::write(d.join("desc.txt.nag"), "").unwrap();
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let pty = Pty::start(d, &old_args(&ws, &[]));
    let text = pty.finish().await;
    assert!(
        !text.contains("Your password"),
        "the person was asked: {text}"
    );
    let nagged = std::fs::read_to_string(d.join("desc.txt.nagged")).unwrap();
    assert!(nagged.lines().all(|l| l.starts_with("decline")), "{nagged}");
    let sent = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(
        sent.contains("definition of word"),
        "the call itself ran: {sent}"
    );
}

/// A server that is off is not started for its prompts or resources either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_off_gives_no_prompt_or_resource() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_servers(d).await;
    assert_eq!(run(d, &["mcp", "disable", "old"]).await.code, 0);
    for args in [
        vec!["mcp", "prompts", "old"],
        vec!["mcp", "prompt", "old", "define", "--arg", "word=x"],
        vec!["mcp", "resources", "old"],
        vec!["mcp", "resource", "old", "dict://words/today.md"],
    ] {
        let r = run(d, &args).await;
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.stderr.contains("is off"), "{args:?}: {}", r.stderr);
    }
    assert!(
        !d.join("desc.txt.starts").exists(),
        "the server was started"
    );
}
