//! What the reference server (server-everything from npm, over stdio, the initialize
//! handshake) asks the person, answered in `parley ask` on a terminal: its form of thirteen
//! fields of every kind (defaults offered and taken, the one required field filled), and a URL
//! elicitation shown whole and accepted on the person's word; and server-filesystem with the
//! chat's workspace as its root.

use super::agent::{answer, calls};
use super::cli::{add_local, run};
use super::mcp_asks::Pty;
use parley_tests::*;

use super::mcp_real::program;

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_everything_asks_for_a_form_and_an_address() {
    let server = MockServer::start().await;
    server.push(calls(&[(
        "c1",
        "everything__trigger-elicitation-request",
        "{}",
    )]));
    server.push(calls(&[(
        "c2",
        "everything__trigger-url-elicitation",
        r#"{"url":"https://example.com/verify?step=1","message":"Verify, please."}"#,
    )]));
    server.push(answer("Done."));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    super::mcp_real::add_everything(d).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let mut pty = Pty::start(
        d,
        &[
            "ask",
            "go",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "everything",
            "--approve",
            "all",
        ],
    );
    pty.answer("Please provide inputs for the following fields", 1, "a");
    // Thirteen fields in name order; `name` (the eighth) is the only required one: the rest
    // take their defaults or stay empty.
    for k in 1..=13 {
        pty.answer("\r\n> ", k, if k == 8 { "Ann" } else { "" });
    }
    pty.answer("https://example.com/verify?step=1", 1, "o");
    let text = pty.finish().await;
    assert!(text.contains("Verify, please."), "{text}");
    let sent: String = server
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    for want in [
        "User provided the requested information",
        "- Name: Ann",
        "Favorite Integer: 42",
        "User completed the URL elicitation flow",
    ] {
        assert!(sent.contains(want), "{want} not in {sent}");
    }
}

/// server-filesystem started without folders takes the chat's workspace as its only root
/// (`roots/list`): it lists that folder as allowed, reads a file in it, and refuses one
/// outside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_filesystem_works_in_the_chats_workspace_only() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    std::fs::write(ws.join("hello.txt"), "hello from the workspace").unwrap();
    std::fs::write(d.join("secret.txt"), "outside").unwrap();
    let inside = ws.join("hello.txt").to_string_lossy().into_owned();
    let outside = d.join("secret.txt").to_string_lossy().into_owned();
    server.push(calls(&[("c1", "files__list_allowed_directories", "{}")]));
    server.push(calls(&[(
        "c2",
        "files__read_text_file",
        &serde_json::json!({ "path": inside }).to_string(),
    )]));
    server.push(calls(&[(
        "c3",
        "files__read_text_file",
        &serde_json::json!({ "path": outside }).to_string(),
    )]));
    server.push(answer("Done."));
    add_local(d, &server).await;
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "files",
            "--",
            &program("mcp-server-filesystem"),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        d,
        &[
            "ask",
            "go",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "files",
            "--approve",
            "all",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let body = |i: usize| String::from_utf8_lossy(&server.received()[i].body).into_owned();
    let ws_real = ws.canonicalize().unwrap().to_string_lossy().into_owned();
    assert!(body(1).contains(&ws_real), "allowed: {}", body(1));
    assert!(body(2).contains("hello from the workspace"), "{}", body(2));
    let third = body(3);
    assert!(!third.contains("\"outside\""), "{third}");
    assert!(third.contains("Access denied"), "{third}");
}
