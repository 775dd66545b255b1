//! What the reference server (server-everything from npm, over stdio, the initialize
//! handshake) asks the person, answered in `parley ask` on a terminal: its form of thirteen
//! fields of every kind (defaults offered and taken, the one required field filled), and a URL
//! elicitation shown whole and accepted on the person's word.

use super::agent::{answer, calls};
use super::cli::{add_local, run};
use super::mcp_asks::Pty;
use parley_tests::*;
use std::path::PathBuf;

fn program(name: &str) -> String {
    PathBuf::from(std::env::var_os("PARLEY_MCP_SERVERS").expect(
        "PARLEY_MCP_SERVERS names the folder of the reference MCP servers: run `cargo xtask test`",
    ))
    .join(name)
    .to_string_lossy()
    .into_owned()
}

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
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "everything",
            "--",
            &program("mcp-server-everything"),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
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
