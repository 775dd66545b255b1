//! A remote MCP server behind OAuth (tests/mcp_servers/oauth.py: its own authorization server,
//! PKCE S256 only, short-lived tokens), reached with the `parley` binary and the real OS
//! keychain (`cargo xtask test` runs these in a private D-Bus session with gnome-keyring); the
//! system browser is a stand-in script named by $BROWSER that follows the redirects. Before
//! signing in the server is refused with a sentence that says how to sign in; `parley mcp
//! login` registers, sends the browser with a PKCE challenge and a state, catches the redirect
//! on a loopback address and keeps the tokens in the keychain only (in no file of the data
//! folder, nor in what the model is sent); the server's tool then works in a chat; an expired
//! token is refreshed; a refused
//! sign-in says so; signing out forgets the tokens.

use super::agent::{answer, calls};
use super::cli::{add_local, parley, run_command, Run};
use parley_tests::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mcp_servers")
        .join(name)
}

/// The server, its tokens living `lifetime` seconds; its events file and port.
pub(super) struct Guarded {
    child: std::process::Child,
    pub(super) events: PathBuf,
    pub(super) port: u16,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Guarded {
    pub(super) fn start(dir: &Path, lifetime: u32) -> Guarded {
        let events = dir.join("events.txt");
        let child = std::process::Command::new("python3")
            .arg(script("oauth.py"))
            .arg(&events)
            .arg(lifetime.to_string())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let port_file = dir.join("events.txt.port");
        let started = Instant::now();
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break p;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "oauth.py did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Guarded {
            child,
            events,
            port,
        }
    }

    pub(super) fn events(&self) -> String {
        std::fs::read_to_string(&self.events).unwrap_or_default()
    }
}

/// `parley ARGS` with the stand-in browser (it records what it opened in `log`).
async fn run_with_browser(dir: &Path, log: &Path, args: &[&str]) -> Run {
    let mut cmd = parley(dir);
    cmd.env("BROWSER", script("browser.py"))
        .env("PARLEY_TEST_BROWSER_LOG", log);
    run_command(cmd, args).await
}

/// The server refused the connection, and the sentence says how to sign in.
fn refused_until_signed_in(r: &Run) {
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("parley mcp login guarded"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real keychain: run by `cargo xtask test`"]
async fn mcp_oauth_keychain_sign_in_refresh_and_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.as_path();
    let guarded = Guarded::start(dir.path(), 4);
    let browser_log = dir.path().join("browser.txt");
    let run = |args: &'static [&'static str]| run_with_browser(d, &browser_log, args);
    let url = format!("http://127.0.0.1:{}/mcp", guarded.port);
    let r = run_with_browser(d, &browser_log, &["mcp", "add", "guarded", "--url", &url]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Not signed in: refused, with how to sign in.
    refused_until_signed_in(&run(&["mcp", "test", "guarded"]).await);

    // Signing in: the browser is sent with a PKCE challenge and a state, comes back to a
    // loopback address, and the tokens are saved.
    let r = run(&["mcp", "login", "guarded"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, guarded.events());
    assert!(
        r.stderr.contains("Signed in to \"guarded\""),
        "{}",
        r.stderr
    );
    let opened = std::fs::read_to_string(&browser_log).unwrap();
    let first = opened.lines().next().unwrap();
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
    ] {
        assert!(first.contains(part), "{part} in {first}");
    }
    assert!(opened.contains("200 <!doctype html>"), "{opened}");
    assert!(
        opened.contains("Signed in. You can close this window"),
        "{opened}"
    );
    let events = guarded.events();
    assert!(events.contains("registered \"Parley\""), "{events}");
    assert!(events.contains("token granted"), "{events}");
    let list = run(&["mcp", "list"]).await;
    assert!(list.stdout.contains("signed in"), "{}", list.stdout);
    // The sign-in's steps are in the ledger: finding how it signs in, registering, the token.
    let ledger: Vec<parley_protocol::OutboundEntry> =
        serde_json::from_str(&run(&["ledger", "--json"]).await.stdout).unwrap();
    let steps: Vec<_> = ledger
        .iter()
        .filter(|e| e.purpose == parley_protocol::OutboundPurpose::McpSignIn)
        .collect();
    assert_eq!(steps.len(), 3, "{ledger:#?}");
    assert!(steps
        .iter()
        .all(|e| e.cause == "MCP server guarded" && e.error.is_none()));

    // Its tool works in a chat, with the token.
    signed_in_call(d, &guarded).await;

    // The token expires (4 s, refreshed when half is left): the next use refreshes it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = run(&["mcp", "test", "guarded"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, guarded.events());
    assert!(
        guarded.events().contains("refreshed"),
        "{}",
        guarded.events()
    );

    // The tokens are in the keychain only: in no file of the data folder, in no output.
    let events = guarded.events();
    let tokens: Vec<&str> = events
        .split(|c: char| c.is_whitespace())
        .filter(|w| w.starts_with("at-"))
        .collect();
    assert!(!tokens.is_empty(), "{events}");
    for t in &tokens {
        super::mcp_keychain::in_no_file(d, t);
        assert!(!r.stdout.contains(t) && !r.stderr.contains(t));
    }

    // Signed out: refused again.
    let r = run(&["mcp", "logout", "guarded"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    refused_until_signed_in(&run(&["mcp", "test", "guarded"]).await);

    // A sign-in the user refuses says so, and saves nothing.
    std::fs::write(guarded.events.with_extension("txt.deny"), "").unwrap();
    let r = run(&["mcp", "login", "guarded"]).await;
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("The server refused the sign-in: access_denied The user said no."),
        "{}",
        r.stderr
    );
    let list = run(&["mcp", "list"]).await;
    assert!(!list.stdout.contains("signed in"), "{}", list.stdout);
}

/// A scripted model calls the server's tool in `parley ask`: it runs with the access token.
async fn signed_in_call(d: &Path, guarded: &Guarded) {
    let server = MockServer::start().await;
    server.push(calls(&[("w1", "guarded__whoami", "{}")]));
    server.push(answer("You are signed in."));
    add_local(d, &server).await;
    let ws = d.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let r = super::cli::run(
        d,
        &[
            "ask",
            "who am I?",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "guarded",
            "--approve",
            "all",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, guarded.events());
    // The server echoed the token; the model got the result with the token cut out (a
    // saved secret never leaves through a tool).
    let sent = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(
        guarded.events().contains("called with at-"),
        "{}",
        guarded.events()
    );
    assert!(sent.contains("signed in with [redacted]"), "{sent}");
}
