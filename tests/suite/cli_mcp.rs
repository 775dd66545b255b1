//! `parley mcp` as a user runs it, without values to keep (those need the keychain: see
//! `mcp_keychain`): add a local and a remote server, list them (text and JSON), turn one off
//! and on, remove one, import another client's file (sound entries added, the rest reported),
//! and bad input refused with a sentence and nothing saved.

use super::cli::run;
use parley_protocol::{McpImportReport, McpServer, McpTransport};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_are_added_listed_switched_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = run(d, &["mcp", "list"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("No MCP servers"), "{}", r.stderr);
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "everything",
            "--",
            "npx",
            "-y",
            "@modelcontextprotocol/server-everything",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("Added MCP server \"everything\""),
        "{}",
        r.stderr
    );
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "remote",
            "--url",
            "https://mcp.example.com/mcp",
            "--disabled",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "list"]).await;
    assert!(
        r.stdout
            .contains("everything  on   runs: npx -y @modelcontextprotocol/server-everything"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("remote  off  at https://mcp.example.com/mcp"),
        "{}",
        r.stdout
    );
    let r = run(d, &["mcp", "enable", "REMOTE"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "list", "--json"]).await;
    let servers: Vec<McpServer> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(servers.len(), 2);
    assert!(servers.iter().all(|s| s.enabled));
    assert_eq!(
        servers[0].transport,
        McpTransport::Stdio {
            command: "npx".into(),
            args: vec![
                "-y".into(),
                "@modelcontextprotocol/server-everything".into()
            ]
        }
    );
    let r = run(d, &["mcp", "remove", "everything"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "list", "--json"]).await;
    let servers: Vec<McpServer> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["remote"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_sentence_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&[&str], &str); 11] = [
        (&["mcp", "add", "x"], "after `--`"),
        (
            &["mcp", "add", "bad name", "--", "node"],
            "not a server name",
        ),
        (
            &["mcp", "add", "_lead", "--url", "https://a.example"],
            "not a server name",
        ),
        (&["mcp", "add", "x\u{202E}y", "--", "node"], "U+202E"),
        (
            &["mcp", "add", "x", "--url", "ftp://a.example/mcp"],
            "http:// or https://",
        ),
        (
            &["mcp", "add", "x", "--url", "https://u:p@a.example/mcp"],
            "credentials",
        ),
        (
            &["mcp", "add", "x", "--url", "not a url"],
            "not a valid address",
        ),
        (
            &[
                "mcp",
                "add",
                "x",
                "--env",
                "NOT_SET_ANYWHERE_42",
                "--",
                "node",
            ],
            "no such variable",
        ),
        (
            &[
                "mcp",
                "add",
                "x",
                "--header",
                "no colon",
                "--url",
                "https://a.example",
            ],
            "Name: value",
        ),
        (&["mcp", "remove", "nobody"], "no MCP server named"),
        (
            &["mcp", "import", "/nonexistent/file.json"],
            "Could not read",
        ),
    ];
    for (args, says) in cases {
        let r = run(d, args).await;
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "x",
            "--url",
            "https://a.example",
            "--",
            "node",
        ],
    )
    .await;
    assert_ne!(r.code, 0, "both a program and an address");
    let r = run(d, &["mcp", "list", "--json"]).await;
    assert_eq!(r.stdout.trim(), "[]", "nothing saved");
    let r = run(d, &["mcp", "add", "twice", "--", "node"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "add", "Twice", "--", "deno"]).await;
    assert!(r.stderr.contains("already"), "{}", r.stderr);
    let r = run(d, &["mcp", "add", "twice", "--replace", "--", "deno"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(run(d, &["mcp", "list"]).await.stdout.contains("runs: deno"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_file_is_imported_and_what_is_left_out_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        r#"{"mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "autoApprove": []},
            "web": {"type": "http", "url": "https://mcp.example.com/mcp"},
            "broken": {"args": ["x"]},
            "ws": {"type": "websocket", "url": "ws://a.example"},
            "input": {"command": "npx", "env": {"KEY": "${input:key}"}}
        }}"#,
    )
    .unwrap();
    let r = run(
        dir.path(),
        &["mcp", "import", file.to_str().unwrap(), "--json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: McpImportReport = serde_json::from_str(&r.stdout).unwrap();
    let mut added = report.added.clone();
    added.sort();
    assert_eq!(added, ["filesystem", "web"]);
    assert_eq!(report.skipped.len(), 3, "{report:?}");
    assert!(report.ignored_fields[0].contains("autoApprove"));
    // Again: everything is there already, and said so.
    let r = run(dir.path(), &["mcp", "import", file.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("No servers added."), "{}", r.stdout);
    assert!(r.stdout.contains("already configured here"), "{}", r.stdout);
    assert!(r.stdout.contains("does not expand"), "{}", r.stdout);
    for bad in ["[]", "{\"mcpServers\": 3}", "not json"] {
        std::fs::write(&file, bad).unwrap();
        let r = run(dir.path(), &["mcp", "import", file.to_str().unwrap()]).await;
        assert_ne!(r.code, 0, "{bad}");
        assert!(!r.stderr.is_empty());
    }
    let r = run(dir.path(), &["mcp", "import", dir.path().to_str().unwrap()]).await;
    assert!(
        r.stderr.contains("not an MCP configuration file"),
        "a folder: {}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_offers_an_mcp_servers_tools_in_a_workspace() {
    use parley_tests::*;
    let server = MockServer::start().await;
    server.push(super::agent::calls(&[(
        "m1",
        "changing__lookup",
        r#"{"q":"cat"}"#,
    )]));
    server.push(super::agent::answer("A cat."));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    super::cli::add_local(d, &server).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let desc = d.join("desc.txt");
    std::fs::write(&desc, "Looks a word up.").unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp_servers/changing.py");
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "changing",
            "--",
            "python3",
            script.to_str().unwrap(),
            desc.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Without a workspace, and with a server that is not there: refused, nothing sent.
    let r = run(d, &["ask", "q", "--mcp", "changing"]).await;
    assert!(r.stderr.contains("--workspace"), "{}", r.stderr);
    let r = run(
        d,
        &[
            "ask",
            "q",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "nobody",
        ],
    )
    .await;
    assert!(r.stderr.contains("no MCP server named"), "{}", r.stderr);
    assert!(server.received().is_empty());
    let r = run(
        d,
        &[
            "ask",
            "what is a cat?",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "changing",
            "--approve",
            "all",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("A cat."), "{}", r.stdout);
    let second = String::from_utf8_lossy(&server.received()[1].body).into_owned();
    assert!(
        second.contains("definition of cat"),
        "the result went back to the model: {second}"
    );
    let first = String::from_utf8_lossy(&server.received()[0].body).into_owned();
    assert!(
        first.contains("changing__lookup") && first.contains("read_file"),
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_server_starts_stops_the_answer_at_once() {
    use parley_tests::*;
    use std::time::{Duration, Instant};
    let server = MockServer::start().await;
    server.push(super::agent::answer("never asked"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    super::cli::add_local(d, &server).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    // A server that starts and never answers: it would hold the turn for the connect timeout.
    let marker = d.join("started");
    let script = format!("touch '{}'; sleep 100", marker.display());
    let r = run(d, &["mcp", "add", "slow", "--", "sh", "-c", &script]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let child = super::cli::parley(d)
        .args([
            "ask",
            "q",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "slow",
            "--approve",
            "all",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the server never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = Instant::now();
    super::cli_import::signal(&child, libc::SIGINT);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("parley ended")
        .unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(8),
        "took {:?}: {}",
        stopped.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        server.received().is_empty(),
        "nothing was sent to the model"
    );
}
