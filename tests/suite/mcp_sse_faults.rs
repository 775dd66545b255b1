//! Hostile servers of the legacy HTTP+SSE transport (tests/mcp_servers/legacy_sse.py), reached
//! with `parley mcp test`: each is refused within its bound with a sentence that says why, and
//! nothing reaches another address — a POST redirected elsewhere is not followed, an endpoint
//! on another origin is not used, an event that never ends is cut at 16 MB, a stream that names
//! no endpoint is given up.

use super::cli::run;
use std::path::Path;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_legacy_sse_servers_are_refused_and_reach_nothing_else() {
    let cases = [
        ("redirect", "answered a message with 307"),
        ("elsewhere", "endpoint on another origin"),
        ("endless", "could not be used"),
        ("silent", "named no endpoint"),
    ];
    for (mode, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (mut server, port) = legacy_server(d, mode).await;
        let url = format!("http://127.0.0.1:{port}/sse");
        let r = run(d, &["mcp", "add", "hostile", "--url", &url]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let started = Instant::now();
        let r = run(d, &["mcp", "test", "hostile"]).await;
        let took = started.elapsed();
        let _ = server.kill();
        let _ = server.wait();
        assert_ne!(r.code, 0, "{mode}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{mode}: {}", r.stderr);
        assert!(took < Duration::from_secs(40), "{mode}: {took:?}");
        assert!(
            !d.join("seen.txt.trap").exists(),
            "{mode}: something reached another address: {:?}",
            std::fs::read_to_string(d.join("seen.txt.trap"))
        );
    }
}

/// legacy_sse.py in `mode`, recording into `dir`/seen.txt; the child (the caller kills and
/// waits for it) and its port.
#[allow(clippy::zombie_processes)]
pub(super) async fn legacy_server(dir: &Path, mode: &str) -> (std::process::Child, u16) {
    let record = dir.join("seen.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp_servers/legacy_sse.py");
    let server = std::process::Command::new("python3")
        .arg(&script)
        .arg(&record)
        .arg(mode)
        .spawn()
        .unwrap();
    let port_file = dir.join("seen.txt.port");
    let started = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
        {
            return (server, p);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{mode}: no port"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
