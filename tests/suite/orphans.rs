//! No command outlives Parley: `parley ask` is killed with SIGKILL while a command (and its
//! background child) runs; the watchdog ends the command's whole group within seconds. With the
//! watchdog killed too, the next Parley to start ends the recorded group.

#![cfg(target_os = "linux")]

use super::cli::{add_local, parley, run};
use parley_tests::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Live (not zombie) processes in process group `pgid`, by /proc.
fn members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = after.split_whitespace().collect();
        if f.len() > 3 && f[0] != "Z" && f[2] == pgid.to_string() {
            out.push(pid);
        }
    }
    out
}

/// The watchdog of `pgid` (its command line names it).
fn watchdog_of(pgid: i32) -> Option<i32> {
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "parley-watchdog") && args.last() == Some(&pgid.to_string()) {
            return Some(pid);
        }
    }
    None
}

async fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `parley ask` running a command that leaves a background child; returns the process
/// and the command's process group once it runs.
async fn start_command(dir: &Path, ws: &Path, server: &MockServer) -> (tokio::process::Child, i32) {
    let cmd = r#"{"command":"sleep 300 & echo $$ > pg.txt; sleep 300"}"#;
    server.push(Reply::sse(vec![
        sse_data(&serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "s", "type": "function", "function": {"name": "run_shell", "arguments": cmd}}
        ]}}]})),
        ev_finish("tool_calls"),
        ev_done(),
    ]));
    let child = parley(dir)
        .args(["ask", "--workspace"])
        .arg(ws)
        .args(["--approve", "all", "go"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pg = ws.join("pg.txt");
    wait_until("the command starting", Duration::from_secs(30), || {
        std::fs::read_to_string(&pg).is_ok_and(|s| s.trim().parse::<i32>().is_ok())
    })
    .await;
    let pgid: i32 = std::fs::read_to_string(&pg)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_until("both sleeps running", Duration::from_secs(10), || {
        members(pgid).len() >= 3
    })
    .await;
    (child, pgid)
}

/// The watchdog of `pgid`, once it runs. Parley starts it just after the command, so a quick
/// command can write its group before the watchdog exists (seen on CI): wait for it.
async fn wait_for_watchdog(pgid: i32) -> i32 {
    wait_until("the watchdog starting", Duration::from_secs(10), || {
        watchdog_of(pgid).is_some()
    })
    .await;
    watchdog_of(pgid).expect("the watchdog runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_parley_leaves_no_command_running() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;

    // The watchdog ends the group.
    let (mut child, pgid) = start_command(dir.path(), ws.path(), &server).await;
    wait_for_watchdog(pgid).await;
    child.start_kill().unwrap();
    let _ = child.wait().await;
    wait_until("the group ending", Duration::from_secs(5), || {
        members(pgid).is_empty()
    })
    .await;
    wait_until("the watchdog ending", Duration::from_secs(5), || {
        watchdog_of(pgid).is_none()
    })
    .await;

    // The watchdog killed too: the next Parley to start ends the recorded group.
    std::fs::remove_file(ws.path().join("pg.txt")).unwrap();
    let (mut child, pgid) = start_command(dir.path(), ws.path(), &server).await;
    let dog = wait_for_watchdog(pgid).await;
    nix_kill(dog);
    child.start_kill().unwrap();
    let _ = child.wait().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!members(pgid).is_empty(), "nothing else ended it");
    let r = run(dir.path(), &["sessions", "list"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    wait_until("the recorded group ending", Duration::from_secs(5), || {
        members(pgid).is_empty()
    })
    .await;
}

fn nix_kill(pid: i32) {
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
}
