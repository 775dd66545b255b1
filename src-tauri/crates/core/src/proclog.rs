//! A child process's log (an MCP server's, the built-in engine's): the lines it writes (and the
//! notes Parley adds — started, exited, restarted), kept bounded (the newest kept), each line
//! cut to a length, secrets the process has seen redacted and hidden characters marked, so that
//! Settings and the CLI can show it as it is.

use std::collections::VecDeque;
use std::sync::Mutex;

/// The most bytes of lines kept per server.
pub const LOG_MAX: usize = 256 * 1024;
/// The longest line kept (longer ones are cut, with a mark).
const LINE_MAX: usize = 2000;

/// A server's bounded log.
#[derive(Default)]
pub struct ProcLog {
    inner: Mutex<Lines>,
}

#[derive(Default)]
struct Lines {
    lines: VecDeque<String>,
    bytes: usize,
    dropped: u64,
}

impl ProcLog {
    /// Adds a line (cut, redacted, hidden characters marked), dropping the oldest over the cap.
    pub fn push(&self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        let mut cut: String = line.chars().take(LINE_MAX).collect();
        if cut.len() < line.len() {
            cut.push_str(" …[cut]");
        }
        let shown = parley_protocol::visible::mark_hidden(&crate::secrets::redact_known(&cut));
        let mut l = crate::util::lock(&self.inner);
        l.bytes += shown.len();
        l.lines.push_back(shown);
        while l.bytes > LOG_MAX {
            let Some(old) = l.lines.pop_front() else {
                break;
            };
            l.bytes -= old.len();
            l.dropped += 1;
        }
    }

    /// A note of Parley's own (what happened to the process).
    pub fn note(&self, what: &str) {
        self.push(&format!("[parley] {what}"));
    }

    /// The kept lines, oldest first, after a line saying how many older ones were dropped.
    pub fn lines(&self) -> Vec<String> {
        let l = crate::util::lock(&self.inner);
        let mut out = Vec::with_capacity(l.lines.len() + 1);
        if l.dropped > 0 {
            out.push(format!("[parley] {} earlier lines are not kept", l.dropped));
        }
        out.extend(l.lines.iter().cloned());
        out
    }

    /// The last `n` kept lines.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let l = crate::util::lock(&self.inner);
        l.lines
            .iter()
            .skip(l.lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

/// The most bytes of one stderr line held (the rest of a longer line is dropped unread into
/// memory: a process that writes without line breaks cannot fill it).
const STDERR_LINE_MAX: usize = 4096;

/// Reads a process's output (stderr, stdout) into its log, line by line, each line at most
/// STDERR_LINE_MAX bytes.
pub async fn read_into(stream: impl tokio::io::AsyncRead + Unpin, log: std::sync::Arc<ProcLog>) {
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let (taken, ended) = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                let end = buf.iter().position(|&b| b == b'\n');
                let part = &buf[..end.unwrap_or(buf.len())];
                let room = STDERR_LINE_MAX.saturating_sub(line.len());
                line.extend_from_slice(&part[..part.len().min(room)]);
                cut |= part.len() > room;
                (end.map_or(buf.len(), |i| i + 1), end.is_some())
            }
        };
        reader.consume(taken);
        if ended {
            let mut text = String::from_utf8_lossy(&line).into_owned();
            if cut {
                text.push_str(" …[cut]");
            }
            log.push(&text);
            line.clear();
            cut = false;
        }
    }
    if !line.is_empty() {
        log.push(&String::from_utf8_lossy(&line));
    }
    log.note("the process closed its output");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded_cut_redacted_and_shows_hidden_characters() {
        let log = ProcLog::default();
        crate::secrets::remember("log-secret-abcdef123");
        log.push("token=log-secret-abcdef123\n");
        log.push("evil\u{202E}txt");
        log.push(&"x".repeat(10_000));
        let lines = log.lines();
        assert_eq!(lines[0], "token=[redacted]");
        assert!(lines[1].contains("U+202E"));
        assert!(lines[2].ends_with("…[cut]") && lines[2].len() < 2100);
        for i in 0..1000 {
            log.push(&format!("{i} {}", "y".repeat(500)));
        }
        let lines = log.lines();
        assert!(
            lines[0].contains("earlier lines are not kept"),
            "{}",
            lines[0]
        );
        assert!(lines.iter().map(String::len).sum::<usize>() <= LOG_MAX + 100);
        assert!(lines.last().unwrap().starts_with("999 "));
        assert_eq!(log.tail(2).len(), 2);
    }
}
