//! MCP against the reference servers from the npm registry (`cargo xtask test` installs them
//! into the tool cache and names their folder in PARLEY_MCP_SERVERS): server-everything over
//! stdio and over streamable HTTP, reached with `parley mcp test` and `tools` — the protocol
//! negotiated (these servers know the initialize handshake only, so Parley falls back to it),
//! their tools listed with descriptions, the server's stderr kept — and servers that cannot be
//! used: a program that is not there, one that exits at once, one that writes garbage; and its
//! tiny image, returned by a call in `parley ask`, sent to the model with the result; and
//! server-everything with the legacy HTTP+SSE transport only, reached at its address all the
//! same, its tool called in a chat.

use super::cli::run;
use parley_protocol::{McpPin, McpTestReport, McpToolState};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn servers() -> PathBuf {
    PathBuf::from(std::env::var_os("PARLEY_MCP_SERVERS").expect(
        "PARLEY_MCP_SERVERS names the folder of the reference MCP servers: run `cargo xtask test`",
    ))
}

pub(super) fn program(name: &str) -> String {
    servers().join(name).to_string_lossy().into_owned()
}

/// Adds server-everything over stdio as "everything", through the CLI.
pub(super) async fn add_everything(d: &std::path::Path) {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_everything_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_everything(d).await;
    let r = run(d, &["mcp", "test", "everything", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: McpTestReport = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report.era, "handshake", "{report:?}");
    assert_eq!(report.protocol_version, "2025-11-25", "{report:?}");
    let names: Vec<&str> = report.tools.iter().map(|t| t.tool.name.as_str()).collect();
    for tool in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(names.contains(&tool), "{tool} in {names:?}");
    }
    assert!(report.tools.iter().all(|t| !t.tool.input_schema.is_empty()));
    assert!(
        report.tools.iter().all(|t| t.pin == McpPin::New),
        "first seen: pinned now"
    );
    assert!(
        report.log.iter().any(|l| l.contains("started")),
        "{:?}",
        report.log
    );
    // The text listing: each tool with its description.
    let r = run(d, &["mcp", "tools", "everything"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("echo")),
        "{}",
        r.stdout
    );
    let r = run(d, &["mcp", "tools", "everything", "--json"]).await;
    let tools: Vec<McpToolState> = serde_json::from_str(&r.stdout).unwrap();
    assert!(tools
        .iter()
        .any(|t| t.tool.name == "echo" && !t.tool.description.is_empty()));
    assert!(
        tools.iter().all(|t| t.pin == McpPin::Pinned),
        "seen before: as pinned"
    );
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// server-everything over HTTP (`mode`: "streamableHttp" or the legacy "sse"), bound to
/// 127.0.0.1 (it listens on every interface by itself: a preload gives `listen` the host),
/// once it listens.
async fn start_http(dir: &std::path::Path, port: u16, mode: &str) -> std::process::Child {
    let preload = dir.join("loopback.js");
    std::fs::write(
        &preload,
        "const net = require('net'); const listen = net.Server.prototype.listen;\n\
         net.Server.prototype.listen = function (...a) {\n\
           if (typeof a[0] === 'number' && (a.length === 1 || typeof a[1] === 'function')) a.splice(1, 0, '127.0.0.1');\n\
           return listen.apply(this, a);\n\
         };\n",
    )
    .unwrap();
    let mut server = std::process::Command::new(program("mcp-server-everything"))
        .arg(mode)
        .env("PORT", port.to_string())
        .env("NODE_OPTIONS", format!("--require {}", preload.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server-everything did not listen on {port}"
        );
        assert!(
            server.try_wait().unwrap().is_none(),
            "server-everything exited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_everything_over_streamable_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let mut server = start_http(d, port, "streamableHttp").await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let r = run(d, &["mcp", "add", "web", "--url", &url]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "test", "web", "--json"]).await;
    let _ = server.kill();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: McpTestReport = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report.era, "handshake", "{report:?}");
    assert!(
        report.tools.iter().any(|t| t.tool.name == "echo"),
        "{report:?}"
    );
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_servers_that_cannot_be_used_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, &[&str], &str); 4] = [
        ("missing", &["/nonexistent/mcp-server"], "not found"),
        (
            "exits",
            &["sh", "-c", "echo 'fatal: no config' >&2; exit 3"],
            "fatal: no config",
        ),
        (
            "garbage",
            &[
                "sh",
                "-c",
                "echo 'this is not json'; echo 'still starting' >&2; sleep 2",
            ],
            "could not be used",
        ),
        (
            "closed",
            &["sh", "-c", "exec 1>&-; sleep 2"],
            "could not be used",
        ),
    ];
    for (name, cmd, says) in cases {
        let mut args = vec!["mcp", "add", name, "--"];
        args.extend_from_slice(cmd);
        assert_eq!(run(d, &args).await.code, 0);
        let started = Instant::now();
        let r = run(d, &["mcp", "test", name]).await;
        assert_ne!(r.code, 0, "{name}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

/// server-everything's `get-tiny-image` in `parley ask`: the image is stored, shown as a line,
/// and the model's next request carries it right after the tool's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_everything_image_reaches_the_model() {
    use super::agent::{answer, calls};
    let server = parley_tests::MockServer::start().await;
    server.push(calls(&[("i1", "everything__get-tiny-image", "{}")]));
    server.push(answer("The MCP logo."));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    super::cli::add_local(d, &server).await;
    add_everything(d).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let r = run(
        d,
        &[
            "ask",
            "show the logo",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "everything",
            "--approve",
            "all",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("[image 20×20 image/png, stored as "),
        "{}",
        r.stderr
    );
    let body: serde_json::Value = serde_json::from_slice(&server.received()[1].body).unwrap();
    let msgs = body["messages"].as_array().unwrap();
    let tool = msgs.iter().position(|m| m["role"] == "tool").unwrap();
    let out = msgs[tool]["content"].as_str().unwrap();
    assert!(out.contains("Here's the image you requested:"), "{out}");
    assert!(
        out.contains("[Image 1 of this result (image/png).]"),
        "{out}"
    );
    let url = msgs[tool + 1]["content"][1]["image_url"]["url"]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{url}"
    );
}

/// server-everything with the legacy HTTP+SSE transport (2024-11-05) only: streamable HTTP
/// fails at its address, a GET there opens its event stream, and Parley uses it — tested, and
/// its `echo` called by a scripted model in `parley ask`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference MCP servers from npm: run by `cargo xtask test`"]
async fn mcp_real_everything_over_legacy_sse() {
    use super::agent::{answer, calls};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let mut server = start_http(d, port, "sse").await;
    let url = format!("http://127.0.0.1:{port}/sse");
    let r = run(d, &["mcp", "add", "legacy", "--url", &url]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(d, &["mcp", "test", "legacy", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: McpTestReport = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report.era, "handshake", "{report:?}");
    assert!(
        report.tools.iter().any(|t| t.tool.name == "echo"),
        "{report:?}"
    );
    assert!(
        report.log.iter().any(|l| l.contains("legacy HTTP+SSE")),
        "{:?}",
        report.log
    );
    let model = parley_tests::MockServer::start().await;
    model.push(calls(&[(
        "e1",
        "legacy__echo",
        r#"{"message":"over sse"}"#,
    )]));
    model.push(answer("It echoed."));
    super::cli::add_local(d, &model).await;
    let ws = d.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let r = run(
        d,
        &[
            "ask",
            "echo it",
            "--workspace",
            ws.to_str().unwrap(),
            "--mcp",
            "legacy",
            "--approve",
            "all",
        ],
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sent = String::from_utf8_lossy(&model.received()[1].body).into_owned();
    assert!(sent.contains("Echo: over sse"), "{sent}");
}
