//! A local server: started in a process group of its own with a small environment (what
//! programs need to run, and the variables configured for it — never all of Parley's), its
//! stderr read line by line into its bounded log, its stdin and stdout as rmcp's line
//! transport, its process (group) ended when the connection goes — gracefully on `close` (stdin closed, then SIGTERM,
//! then kill, as the specification's stdio shutdown says), killed when dropped. Its stdout is
//! watched for a message longer than LINE_MAX: rmcp drops such a line (it cannot hold it), so
//! the call waiting for it would wait until its timeout; here the waiting calls are told at
//! once (`oversize`), and fail with a clear error.

use crate::error::CoreError;
use crate::proclog::ProcLog as ServerLog;
use parley_protocol::NamedValue;
use process_wrap::tokio::ChildWrapper;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::Transport;
use rmcp::RoleClient;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::Notify;

/// The longest message a local server may send (rmcp's own bound: what streamable HTTP takes).
pub const LINE_MAX: usize = 16 * 1024 * 1024;
/// How long a server gets to exit by itself, then after SIGTERM, when it is closed.
const EXIT_WAIT: Duration = Duration::from_secs(3);

/// A reader that notices a line longer than LINE_MAX going by.
pub struct Watched<R> {
    inner: R,
    line: usize,
    told: bool,
    oversize: Arc<Notify>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let fresh = &buf.filled()[before..];
            let (line, told, tell) = watch_line(self.line, self.told, fresh);
            if tell {
                self.oversize.notify_waiters();
            }
            self.line = line;
            self.told = told;
        }
        polled
    }
}

/// After `fresh` bytes: the length of the line being read, whether it is over LINE_MAX, and
/// whether a line went over just now (to be told once per line). A line counts with its break,
/// as rmcp counts it; one at exactly LINE_MAX counts as over (rmcp may drop it: a call is better
/// failed than left waiting).
fn watch_line(line: usize, told: bool, fresh: &[u8]) -> (usize, bool, bool) {
    let (mut line, mut told, mut tell) = (line, told, false);
    let mut start = 0;
    for (i, _) in fresh.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        if !told && line + (i - start) + 1 >= LINE_MAX {
            tell = true;
        }
        line = 0;
        told = false;
        start = i + 1;
    }
    line += fresh.len() - start;
    if !told && line >= LINE_MAX {
        tell = true;
        told = true;
    }
    (line, told, tell)
}

/// A local server's transport and its process.
pub struct LocalServer {
    child: Option<Box<dyn ChildWrapper>>,
    transport: AsyncRwTransport<RoleClient, Watched<ChildStdout>, ChildStdin>,
}

impl LocalServer {
    /// The transport of a started `child` (its stdin and stdout piped, taken here); `oversize`
    /// is told of every message too long to be read.
    pub fn new(
        mut child: Box<dyn ChildWrapper>,
        oversize: Arc<Notify>,
    ) -> std::io::Result<LocalServer> {
        let stdin = child.inner_mut().stdin().take();
        let stdout = child.inner_mut().stdout().take();
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(std::io::Error::other(
                "the server's stdin or stdout is not piped",
            ));
        };
        let read = Watched {
            inner: stdout,
            line: 0,
            told: false,
            oversize,
        };
        Ok(LocalServer {
            child: Some(child),
            transport: AsyncRwTransport::new(read, stdin).with_max_line_length(LINE_MAX),
        })
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        let _ = self.transport.close().await;
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok() {
            self.child = None;
            return Ok(());
        }
        #[cfg(unix)]
        if child.signal(libc::SIGTERM).is_ok()
            && tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok()
        {
            self.child = None;
            return Ok(());
        }
        let killed = Box::into_pin(child.kill()).await;
        self.child = None;
        killed
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = Box::into_pin(child.kill()).await;
                });
            } else {
                let _ = child.start_kill();
            }
        }
    }
}

impl Transport<RoleClient> for LocalServer {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.transport.send(item)
    }

    fn receive(
        &mut self,
    ) -> impl std::future::Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.transport.receive()
    }

    fn close(&mut self) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send {
        self.shutdown()
    }
}

/// The variables of Parley's environment a local server inherits (besides its own).
const INHERITED: [&str; 22] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "XDG_RUNTIME_DIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "SYSTEMROOT",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "PATHEXT",
    "COMSPEC",
];

/// A started local server: its transport, its process (group) id, and the task reading its
/// stderr.
pub type Spawned = (
    super::stdio::LocalServer,
    Option<u32>,
    Option<tokio::task::JoinHandle<()>>,
);

/// Starts a local server in a process group of its own, its stderr read into `log`; `oversize`
/// hears of every message it sends that is too long to be read.
pub fn spawn(
    command: &str,
    args: &[String],
    env: &[NamedValue],
    log: &Arc<ServerLog>,
    oversize: Arc<tokio::sync::Notify>,
) -> Result<Spawned, CoreError> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args)
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for name in INHERITED {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    cmd.envs(env.iter().map(|v| (&v.name, &v.value)));
    let mut cmd = process_wrap::tokio::CommandWrap::from(cmd);
    #[cfg(unix)]
    cmd.wrap(process_wrap::tokio::ProcessGroup::leader());
    let could_not = |e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (not found: is it installed, and on PATH?)"
        } else {
            ""
        };
        CoreError::InvalidInput(format!("Could not start {command:?}{hint}: {e}."))
    };
    let mut child = cmd.spawn().map_err(could_not)?;
    let pid = child.id();
    let stderr = child.inner_mut().stderr().take();
    let transport = super::stdio::LocalServer::new(child, oversize).map_err(could_not)?;
    log.note(&format!(
        "started {command} (process {})",
        pid.map_or("?".into(), |p| p.to_string())
    ));
    let reader = stderr.map(|stderr| tokio::spawn(crate::proclog::read_into(stderr, log.clone())));
    Ok((transport, pid, reader))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_bound_is_noticed_wherever_its_breaks_fall() {
        let big = vec![b'x'; LINE_MAX - 2];
        // One line growing over several reads: told once, when it goes over.
        assert_eq!(watch_line(0, false, &big), (LINE_MAX - 2, false, false));
        assert_eq!(
            watch_line(LINE_MAX - 2, false, b"y"),
            (LINE_MAX - 1, false, false)
        );
        let (l, t, tell) = watch_line(LINE_MAX - 1, false, b"y");
        assert!(t && tell && l == LINE_MAX);
        assert_eq!(
            watch_line(l, t, b"yy"),
            (LINE_MAX + 2, true, false),
            "told once"
        );
        // Its end, and a short line after: the next line starts afresh.
        assert_eq!(
            watch_line(LINE_MAX + 2, true, b"z\n{}\n{\"a\""),
            (4, false, false)
        );
        // Short lines never are.
        assert_eq!(watch_line(0, false, b"{}\n{}\n"), (0, false, false));
        // A line that goes over in the same read as its break (the review's case).
        let mut chunk = vec![b'x'; LINE_MAX - 10];
        chunk.extend_from_slice(b"\n{}\n");
        assert_eq!(watch_line(20, false, &chunk), (0, false, true));
        // Exactly LINE_MAX with its break: over.
        let mut exact = vec![b'x'; LINE_MAX - 1];
        exact.push(b'\n');
        assert!(watch_line(0, false, &exact).2);
        // A long line after a break within one read, and one entirely inside a read.
        let mut chunk = b"{}\n".to_vec();
        chunk.extend(vec![b'x'; LINE_MAX + 1]);
        assert!(watch_line(0, false, &chunk).2);
        let mut inside = b"{}\n".to_vec();
        inside.extend(vec![b'x'; LINE_MAX + 1]);
        inside.extend_from_slice(b"\n{}");
        assert_eq!(watch_line(0, false, &inside), (2, false, true));
    }
}
