//! `run_shell`: one command line in the workspace, with stdin closed, a timeout, capped output
//! and a scrubbed environment. The command runs in its own process group, and the whole group
//! is killed when the call is stopped, times out, or its future is dropped — so nothing the
//! command started outlives the call. What runs is byte-identical to what was approved: the
//! approved string is handed to `sh -c` (`cmd /C` on Windows) unchanged.

use super::shell::{classify_for, Classified, Interpreter};
use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The longest a command may run, and the default.
pub const MAX_TIMEOUT_SECS: u64 = 120;
/// The most output kept per stream (the head and the tail of longer output).
pub const MAX_OUTPUT_BYTES: usize = 32 * 1024;

/// Arguments of `run_shell`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunShellInput {
    /// The command line, run by the system shell in the workspace folder.
    pub command: String,
    /// Seconds before the command is killed (at most 120, the default).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// Runs a shell command in the workspace.
pub struct RunShell;

impl Tool for RunShell {
    type Input = RunShellInput;

    fn name(&self) -> &'static str {
        "run_shell"
    }

    fn description(&self) -> &'static str {
        "Run a shell command in the workspace folder (stdin closed, 120 s at most, output capped). Prefer one simple command per call."
    }

    fn risk(&self, input: &RunShellInput, ctx: &ToolContext) -> Risk {
        let c = classify_in(&input.command, ctx);
        if c.runs_code.is_some() {
            Risk::RunsCode
        } else if c.destructive || c.always_ask.is_some() {
            Risk::Destructive
        } else if c.network {
            Risk::Network
        } else {
            Risk::Mutating
        }
    }

    fn always_ask(&self, input: &RunShellInput, ctx: &ToolContext) -> Option<String> {
        let c = classify_in(&input.command, ctx);
        match c.runs_code {
            Some(why) => Some(format!(
                "This command runs code, so it always asks and can be allowed once only: {why}."
            )),
            None => c
                .always_ask
                .map(|why| format!("This command always asks because {why}.")),
        }
    }

    fn run(
        &self,
        input: RunShellInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(run_command(input, ctx))
    }
}

/// The classification of `command` for this system's shell, with a program named by its path
/// inside the workspace counted as running code (a workspace under `/usr/bin` does not make
/// its scripts system programs), and so `git` in a workspace git would take for a bare
/// repository.
fn classify_in(command: &str, ctx: &ToolContext) -> Classified {
    let mut c = classify_for(command, Interpreter::HERE);
    if c.runs_code.is_none() {
        let root = ctx.workspace.root();
        c.runs_code = super::code::workspace_program(command, root)
            .or_else(|| super::code::bare_workspace_git(command, root));
        c.always_ask = c.always_ask.or(c.runs_code);
    }
    c
}

/// Output kept from one stream: the head, and a rolling tail once the head is full.
#[derive(Default)]
struct Capped {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    total: usize,
}

impl Capped {
    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        let half = MAX_OUTPUT_BYTES / 2;
        let room = half.saturating_sub(self.head.len());
        let (h, t) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(h);
        self.tail.extend(t);
        while self.tail.len() > half {
            self.tail.pop_front();
        }
    }

    fn render(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        let kept = self.head.len() + self.tail.len();
        if self.total > kept {
            out.push_str(&format!(
                "\n[… {} bytes cut: the output was {} bytes; showing the first and last {} …]\n",
                self.total - kept,
                self.total,
                MAX_OUTPUT_BYTES / 2
            ));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        out.push_str(&String::from_utf8_lossy(&tail));
        out
    }
}

/// Kills the command's whole process group when dropped (and forgets its record).
struct GroupGuard(Option<u32>, Option<std::path::PathBuf>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            kill_group(pid);
            if let Some(log) = &self.1 {
                super::orphans::forget(log, pid);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    // The child leads its own group (`process_group(0)`), so its pid is the group id and this
    // never reaches Parley's own processes.
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(not(unix))]
fn kill_group(pid: u32) {
    // taskkill /T ends the whole process tree.
    let _ = std::process::Command::new("taskkill")
        .args(["/F", "/T", "/PID", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

fn spawn_reader(
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<Capped>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(&buf[..n]);
        }
    })
}

/// Runs the approved command line, killing its whole group when it ends, times out or is
/// stopped; its status and output as the tool's result.
async fn run_command(input: RunShellInput, ctx: ToolContext) -> Result<String, ToolError> {
    if input.command.trim().is_empty() {
        return Err(ToolError::RespondToModel("The command is empty.".into()));
    }
    let limit = input
        .timeout_secs
        .unwrap_or(MAX_TIMEOUT_SECS)
        .clamp(1, MAX_TIMEOUT_SECS);
    let mut cmd = shell_command(&input.command, &ctx);
    let (mut child, mut guard) = spawn_watched(&mut cmd, &ctx)?;
    let out = Arc::new(Mutex::new(Capped::default()));
    let err = Arc::new(Mutex::new(Capped::default()));
    let readers = [
        child.stdout.take().map(|p| spawn_reader(p, out.clone())),
        child.stderr.take().map(|p| spawn_reader(p, err.clone())),
    ];
    let started = std::time::Instant::now();
    let ended = tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => None,
        r = tokio::time::timeout(Duration::from_secs(limit), child.wait()) => Some(r),
    };
    // Whatever happened, nothing the command started may outlive the call.
    guard.kill();
    let _ = child.start_kill();
    for r in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_millis(500), r).await;
    }
    let render = |c: &Arc<Mutex<Capped>>| {
        c.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .render()
    };
    let (stdout, stderr) = (render(&out), render(&err));
    let timed_out = matches!(ended, Some(Err(_)));
    let status = match ended {
        None => return Err(ToolError::RespondToModel("Cancelled by user.".into())),
        Some(Err(_)) => format!("killed after the {limit} s timeout"),
        Some(Ok(Err(e))) => format!("could not be waited for: {e}"),
        Some(Ok(Ok(s))) => match s.code() {
            Some(c) => format!("exit code {c}"),
            None => "killed by a signal".into(),
        },
    };
    let text = report(&input.command, &status, started, &stdout, &stderr);
    if timed_out {
        return Err(ToolError::RespondToModel(text));
    }
    Ok(text)
}

/// The system shell set to run `line` unchanged in the workspace: stdin closed, output piped,
/// the environment scrubbed, in a process group of its own (Unix).
fn shell_command(line: &str, ctx: &ToolContext) -> tokio::process::Command {
    #[cfg(windows)]
    let mut cmd = {
        // The approved bytes, unchanged: /S strips exactly the outer quotes added here, and no
        // argument quoting of the standard library touches the line. /D skips AutoRun.
        let mut c = tokio::process::Command::new("cmd.exe");
        c.args(["/D", "/S", "/C"]).raw_arg(format!("\"{}\"", line));
        c
    };
    #[cfg(not(windows))]
    let mut cmd = {
        let mut c = tokio::process::Command::new("/bin/sh");
        c.arg("-c").arg(line);
        c
    };
    cmd.current_dir(ctx.workspace.root())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .env_clear()
        .envs(super::scrubbed_env(std::env::vars()))
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    cmd
}

/// Starts `cmd`, its group watched (and recorded in the process log) so it is ended should
/// Parley die, and a guard that kills the group when dropped.
fn spawn_watched(
    cmd: &mut tokio::process::Command,
    ctx: &ToolContext,
) -> Result<(tokio::process::Child, GroupGuard), ToolError> {
    let child = cmd
        .spawn()
        .map_err(|e| ToolError::RespondToModel(format!("The command could not start: {e}.")))?;
    if let Some(pid) = child.id() {
        // Should Parley die while it runs, the group is ended anyway: recorded first (a quick
        // write, so the gap after the spawn is short), then watched.
        if let Some(log) = &ctx.process_log {
            super::orphans::record(log, pid);
        }
        super::orphans::watch(pid);
    }
    let guard = GroupGuard(child.id(), ctx.process_log.clone());
    Ok((child, guard))
}

/// The result's text: the command, its status and time, then each stream's output.
fn report(
    command: &str,
    status: &str,
    started: std::time::Instant,
    stdout: &str,
    stderr: &str,
) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "$ {}\n[{status}, {:.1} s]\n",
        command,
        started.elapsed().as_secs_f64()
    ));
    if !stdout.is_empty() {
        text.push_str("--- stdout ---\n");
        text.push_str(stdout);
        if !stdout.ends_with('\n') {
            text.push('\n');
        }
    }
    if !stderr.is_empty() {
        text.push_str("--- stderr ---\n");
        text.push_str(stderr);
        if !stderr.ends_with('\n') {
            text.push('\n');
        }
    }
    if stdout.is_empty() && stderr.is_empty() {
        text.push_str("(no output)\n");
    }
    text
}

/// True once process `pid` no longer runs (gone, or a zombie waiting to be reaped), waiting up
/// to `within`. For tests of the kill-the-group promise.
#[cfg(unix)]
pub async fn gone(pid: i32, within: Duration) -> bool {
    let t0 = std::time::Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let dead = match stat {
            Err(_) => nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err(),
            Ok(s) => s
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        };
        if dead {
            return true;
        }
        if t0.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::paths::Workspace;

    fn ctx(dir: &std::path::Path) -> ToolContext {
        ToolContext::new(Workspace::new(dir).unwrap(), Default::default())
    }

    #[test]
    fn output_keeps_head_and_tail_with_a_notice() {
        let mut c = Capped::default();
        let big: Vec<u8> = (0..100_000).map(|i| b'a' + (i % 26) as u8).collect();
        c.push(&big[..50_000]);
        c.push(&big[50_000..]);
        let r = c.render();
        assert!(r.starts_with("abcdef"));
        assert!(r.contains("bytes cut: the output was 100000 bytes"));
        assert!(r.len() < MAX_OUTPUT_BYTES + 200);
        let tail = String::from_utf8(big[100_000 - 100..].to_vec()).unwrap();
        assert!(r.ends_with(&tail));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn runs_in_the_workspace_with_stdin_closed_and_secrets_scrubbed() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("PARLEY_TEST_SECRET_TOKEN", "hunter2");
        let out = RunShell
            .run(
                RunShellInput {
                    command: "pwd; cat; env | grep -c hunter2; echo oops >&2; exit 3".into(),
                    timeout_secs: None,
                },
                ctx(dir.path()),
            )
            .await
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert!(out.contains(&format!("{}\n", root.display())), "{out}");
        assert!(out.contains("[exit code 3"), "{out}");
        assert!(
            out.contains("--- stdout ---\n") && out.contains("\n0\n"),
            "{out}"
        );
        assert!(out.contains("--- stderr ---\noops"), "{out}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = std::time::Instant::now();
        let err = RunShell
            .run(
                RunShellInput {
                    command: "sleep 30 & echo $! > child.pid; echo started; wait".into(),
                    timeout_secs: Some(1),
                },
                ctx(dir.path()),
            )
            .await
            .unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(5));
        let ToolError::RespondToModel(text) = err else {
            panic!()
        };
        assert!(text.contains("killed after the 1 s timeout") && text.contains("started"));
        let pid: i32 = std::fs::read_to_string(dir.path().join("child.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(crate::tools::run::gone(pid, Duration::from_secs(2)).await);
    }
}
