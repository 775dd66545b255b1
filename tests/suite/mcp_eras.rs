//! Both protocol eras against small servers of our own (python3): the initialize handshake
//! (tests/mcp_servers/changing.py, 2025-11-25) and the stateless 2026-07-28 revision
//! (tests/mcp_servers/stateless.py: `server/discover`, the revision in every request's `_meta`,
//! no initialize). The era is negotiated per server and shown by `parley mcp test` and
//! `mcp list`; a tool of the stateless server that needs the user's input answers
//! `input_required` with an opaque `requestState`, and the retry carries that state back byte
//! for byte (the server checks), with the user's answer — declined: Parley has no form to show
//! it in yet.

use super::agent::{answer, calls};
use super::cli::{add_local, run};
use parley_protocol::McpTestReport;
use parley_tests::*;
use std::path::Path;

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mcp_servers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_speaks_its_own_era() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let desc = d.join("desc.txt");
    std::fs::write(&desc, "Looks a word up.").unwrap();
    let old = script("changing.py");
    let new = script("stateless.py");
    assert_eq!(
        run(
            d,
            &[
                "mcp",
                "add",
                "old",
                "--",
                "python3",
                &old,
                desc.to_str().unwrap()
            ]
        )
        .await
        .code,
        0
    );
    assert_eq!(
        run(d, &["mcp", "add", "new", "--", "python3", &new])
            .await
            .code,
        0
    );
    for (name, era, version) in [
        ("old", "handshake", "2025-11-25"),
        ("new", "stateless", "2026-07-28"),
    ] {
        let r = run(d, &["mcp", "test", name, "--json"]).await;
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let report: McpTestReport = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            (report.era.as_str(), report.protocol_version.as_str()),
            (era, version),
            "{name}"
        );
        let text = run(d, &["mcp", "test", name]).await.stdout;
        assert!(text.contains(&format!("protocol {version}")), "{text}");
    }
    // The list shows the era each server spoke when last reached.
    let list = run(d, &["mcp", "list"]).await.stdout;
    assert!(list.contains("protocol 2026-07-28 (stateless)"), "{list}");
    assert!(
        list.contains("protocol 2025-11-25 (initialize handshake)"),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_required_echoes_the_request_state_exactly() {
    let server = MockServer::start().await;
    server.push(calls(&[
        ("e1", "new__echo", r#"{"text":"hi"}"#),
        ("e2", "new__confirm", "{}"),
    ]));
    server.push(answer("Done."));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let new = script("stateless.py");
    assert_eq!(
        run(d, &["mcp", "add", "new", "--", "python3", &new])
            .await
            .code,
        0
    );
    let r = run(
        d,
        &[
            "ask",
            "go",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "new",
            "--approve",
            "all",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(second.contains("echo: hi"), "{second}");
    assert!(
        second.contains("state echoed exactly; the user's answer: decline"),
        "{second}"
    );
}
