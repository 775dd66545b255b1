//! The transport of a local server: its stdin and stdout as rmcp's line transport, its process
//! (group) ended when the connection goes — gracefully on `close` (stdin closed, then SIGTERM,
//! then kill, as the specification's stdio shutdown says), killed when dropped. Its stdout is
//! watched for a message longer than LINE_MAX: rmcp drops such a line (it cannot hold it), so
//! the call waiting for it would wait until its timeout; here the waiting calls are told at
//! once (`oversize`), and fail with a clear error.

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
            let (line, told) = watch_line(self.line, self.told, fresh);
            if told && !self.told {
                self.oversize.notify_waiters();
            }
            self.line = line;
            self.told = told;
        }
        polled
    }
}

/// The length of the line being read after `fresh` bytes, and whether it is (or the last
/// one was, before a line break) over LINE_MAX.
fn watch_line(line: usize, told: bool, fresh: &[u8]) -> (usize, bool) {
    match fresh.iter().rposition(|&b| b == b'\n') {
        Some(i) => {
            let tail = fresh.len() - i - 1;
            (tail, tail > LINE_MAX)
        }
        None => {
            let line = line.saturating_add(fresh.len());
            (line, told || line > LINE_MAX)
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_bound_is_noticed_wherever_its_breaks_fall() {
        let big = vec![b'x'; LINE_MAX];
        // One line growing over several reads.
        let (l, t) = watch_line(0, false, &big);
        assert_eq!((l, t), (LINE_MAX, false));
        let (l, t) = watch_line(l, t, b"y");
        assert!(t && l == LINE_MAX + 1);
        // Its end, and a short line after: the next line starts afresh.
        let (l, t) = watch_line(l, t, b"z\n{}\n{\"a\"");
        assert_eq!((l, t), (4, false));
        // Short lines never are.
        let (l, t) = watch_line(0, false, b"{}\n{}\n");
        assert_eq!((l, t), (0, false));
        // A long line after a break within one read.
        let mut chunk = b"{}\n".to_vec();
        chunk.extend(vec![b'x'; LINE_MAX + 1]);
        assert!(watch_line(0, false, &chunk).1);
    }
}
