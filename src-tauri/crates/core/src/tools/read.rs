//! How `read_file` reads: only regular files (a FIFO or device is refused without blocking on
//! it), in one pass of fixed-size chunks, keeping only the lines asked for — memory stays small
//! whatever the file's size — and stopping when the turn is stopped.

use std::io::Read;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// The most text one read returns; the notice says how to read on.
pub const MAX_READ_BYTES: usize = 256 * 1024;
/// The most of one line that is shown; the rest is counted.
pub const MAX_LINE_BYTES: usize = 4000;
/// Files up to this size are counted to the end (the notice gives the total of lines).
pub const COUNT_LINES_UP_TO: u64 = 64 * 1024 * 1024;
/// Lines returned when no limit is given.
pub const DEFAULT_LINES: usize = 2000;

const CHUNK: usize = 64 * 1024;

/// Opens `rel` beneath `dir` for reading, refusing anything but a regular file. On Unix the
/// open never blocks (a FIFO with no writer would) and cannot take a controlling terminal.
pub fn open_regular(dir: &cap_std::fs::Dir, rel: &Path) -> std::io::Result<cap_std::fs::File> {
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY);
    }
    #[cfg(not(unix))]
    {
        let meta = dir.metadata(rel)?;
        if !meta.is_file() {
            return Err(not_regular(&meta.file_type()));
        }
    }
    let file = dir.open_with(rel, &options)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    Ok(file)
}

/// How many names (hard links) a file has. Where the platform does not say (Windows, for
/// now), 1.
pub fn link_count(meta: &cap_std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use cap_std::fs::MetadataExt;
        meta.nlink()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        1
    }
}

/// The sentence a call that touches a file with `links` names asks with (`doing`: "reading",
/// "writing", "editing").
pub fn hard_link_sentence(path: &str, links: u64, doing: &str) -> String {
    format!(
        "{path} is a hard link: this file has {links} names, and it may be a file outside the workspace, so {doing} it always asks a person and is never allowed in advance."
    )
}

/// Why touching `given` always asks a person, if it does: it is a regular file with more than
/// one name, so the workspace's name for it may be a door to a file elsewhere (`~/.ssh/id_rsa`
/// linked in). Links beneath the root are followed; nothing outside is looked up.
pub fn hard_link_reason(
    workspace: &super::paths::Workspace,
    given: &str,
    doing: &str,
) -> Option<String> {
    let rel = workspace.relative_path(given).ok()?;
    let meta = workspace.dir().ok()?.metadata(&rel).ok()?;
    let links = link_count(&meta);
    (meta.is_file() && links > 1).then(|| hard_link_sentence(given, links, doing))
}

/// Refuses an open file with more than one name when no person was asked about this call as
/// such (it became a hard link after the call was prepared).
pub fn refuse_unasked_link(
    file: &cap_std::fs::File,
    path: &str,
    doing: &str,
    asked_in_person: bool,
) -> Result<(), String> {
    let links = file.metadata().map(|m| link_count(&m)).unwrap_or(1);
    if links > 1 && !asked_in_person {
        return Err(format!(
            "Nothing was done: {} It was not asked about as such; call again to ask.",
            hard_link_sentence(path, links, doing)
        ));
    }
    Ok(())
}

fn not_regular(t: &cap_std::fs::FileType) -> std::io::Error {
    let what = if t.is_dir() {
        "a folder (use list_dir)"
    } else {
        "not a regular file (a pipe, socket or device); only files are read"
    };
    std::io::Error::other(format!("it is {what}"))
}

/// Why a read ended without lines.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The first bytes hold NUL: not text.
    Binary(u64),
    /// The offset is past the last line.
    PastEnd { lines: u64, offset: usize },
    /// The turn was stopped.
    Stopped,
    /// Reading failed.
    Io(String),
}

/// Lines `first..first+limit` (1-based) of `input`, numbered, within [`MAX_READ_BYTES`], with a
/// notice when more follow. `size` is the file's size (for the notice).
pub fn read_lines(
    mut input: impl Read,
    size: u64,
    first: usize,
    limit: usize,
    cancel: &CancellationToken,
) -> Result<String, ReadError> {
    let mut window = Window::new(first.max(1), limit.max(1));
    let mut buf = vec![0u8; CHUNK];
    let mut seen_any = false;
    let mut checked_binary = false;
    let mut more_after = false;
    loop {
        if cancel.is_cancelled() {
            return Err(ReadError::Stopped);
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e.to_string())),
        };
        let chunk = &buf[..n];
        if !checked_binary {
            checked_binary = true;
            if chunk.iter().take(8192).any(|b| *b == 0) {
                return Err(ReadError::Binary(size));
            }
        }
        seen_any = true;
        if window.full && size > COUNT_LINES_UP_TO {
            more_after = true;
            break;
        }
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            window.take(part);
        }
    }
    window.end_without_break();
    if !seen_any {
        return Ok(String::new());
    }
    window.finish(size, more_after)
}

/// The lines [`read_lines`] shows, and where it stands in the file.
struct Window {
    /// The first line wanted (1-based).
    first: usize,
    /// How many lines are wanted.
    limit: usize,
    /// The numbered lines shown so far.
    out: String,
    /// The current line's kept bytes.
    line: Vec<u8>,
    /// Bytes of the current line not kept.
    cut: u64,
    /// Lines completed.
    number: usize,
    /// The number of the last line shown (0: none yet).
    last_shown: usize,
    /// The output is complete (limit or size reached).
    full: bool,
}

impl Window {
    /// Nothing read yet, lines `first..first+limit` wanted.
    fn new(first: usize, limit: usize) -> Self {
        Self {
            first,
            limit,
            out: String::new(),
            line: Vec::new(),
            cut: 0,
            number: 0,
            last_shown: 0,
            full: false,
        }
    }

    /// Takes one piece of a chunk (up to and with its line break, if it has one): keeps what
    /// fits of a wanted line, and shows the line when it ends.
    fn take(&mut self, part: &[u8]) {
        let ends = part.last() == Some(&b'\n');
        let body = if ends { &part[..part.len() - 1] } else { part };
        let wanted = !self.full && self.number + 1 >= self.first;
        if wanted {
            let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
            let keep = body.len().min(room);
            self.line.extend_from_slice(&body[..keep]);
            self.cut += (body.len() - keep) as u64;
        }
        if ends {
            self.number += 1;
            if wanted {
                let body = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
                if emit(self.number, body, self.cut, &mut self.out) {
                    self.last_shown = self.number;
                    if self.number + 1 >= self.first + self.limit {
                        self.full = true;
                    }
                } else {
                    self.full = true;
                }
            }
            self.line.clear();
            self.cut = 0;
        }
    }

    /// Counts (and shows, if wanted and it fits) a last line without a line break.
    fn end_without_break(&mut self) {
        let trailing = !self.line.is_empty() || self.cut > 0;
        if trailing {
            self.number += 1;
            if !self.full
                && self.number >= self.first
                && emit(self.number, &self.line, self.cut, &mut self.out)
            {
                self.last_shown = self.number;
            }
        }
    }

    /// The lines shown, with a notice when more follow, or why none could be shown.
    fn finish(mut self, size: u64, more_after: bool) -> Result<String, ReadError> {
        let (first, last_shown, number) = (self.first, self.last_shown, self.number);
        if last_shown == 0 {
            if more_after {
                return Err(ReadError::Io("no line fits in one read".into()));
            }
            return Err(ReadError::PastEnd {
                lines: number as u64,
                offset: first,
            });
        }
        if more_after {
            self.out.push_str(&format!(
                "[lines {first}–{last_shown}; the file has {size} bytes and more lines follow; read on with offset {}]\n",
                last_shown + 1
            ));
        } else if last_shown < number {
            self.out.push_str(&format!(
                "[lines {first}–{last_shown} of {number}; read on with offset {}]\n",
                last_shown + 1
            ));
        }
        Ok(self.out)
    }
}

/// Appends line `number` to `out`, numbered and with a note of the bytes `cut`, unless `out`
/// would then pass [`MAX_READ_BYTES`]; whether it did.
fn emit(number: usize, line: &[u8], cut: u64, out: &mut String) -> bool {
    let text = String::from_utf8_lossy(line);
    let mut numbered = format!("{number:>6}\t{text}");
    if cut > 0 {
        numbered.push_str(&format!(" … [line cut: {cut} more bytes]"));
    }
    numbered.push('\n');
    if out.len() + numbered.len() > MAX_READ_BYTES {
        return false;
    }
    out.push_str(&numbered);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8], first: usize, limit: usize) -> Result<String, ReadError> {
        read_lines(
            text,
            text.len() as u64,
            first,
            limit,
            &CancellationToken::new(),
        )
    }

    #[test]
    fn lines_offsets_limits_and_notices() {
        let text = (1..=10).map(|i| format!("l{i}\n")).collect::<String>();
        let cases: &[(usize, usize, &[&str], Option<&str>)] = &[
            (1, 100, &["1\tl1", "10\tl10"], None),
            (
                1,
                3,
                &["1\tl1", "3\tl3"],
                Some("[lines 1–3 of 10; read on with offset 4]"),
            ),
            (9, 5, &["9\tl9", "10\tl10"], None),
            (10, 1, &["10\tl10"], None),
            (0, 1, &["1\tl1"], Some("offset 2")),
        ];
        for (first, limit, has, notice) in cases {
            let out = read(text.as_bytes(), *first, *limit).unwrap();
            for h in *has {
                assert!(out.contains(h), "{first}/{limit}: {out}");
            }
            match notice {
                Some(n) => assert!(out.contains(n), "{first}/{limit}: {out}"),
                None => assert!(!out.contains("read on"), "{first}/{limit}: {out}"),
            }
        }
        assert_eq!(
            read(text.as_bytes(), 11, 5),
            Err(ReadError::PastEnd {
                lines: 10,
                offset: 11
            })
        );
        // No final line break, CRLF, empty file.
        assert!(read(b"a\r\nb", 1, 10).unwrap().contains("     2\tb\n"));
        assert!(!read(b"a\r\nb", 1, 10).unwrap().contains('\r'));
        assert_eq!(read(b"", 1, 10).unwrap(), "");
        assert_eq!(read(b"ab\0cd", 1, 10), Err(ReadError::Binary(5)));
    }

    #[test]
    fn huge_lines_and_files_stay_small() {
        // One 3 MB line: shown cut, with the count of what was left out.
        let long = vec![b'x'; 3_000_000];
        let out = read(&long, 1, 10).unwrap();
        assert!(out.len() < MAX_LINE_BYTES + 200, "{}", out.len());
        assert!(out.contains("line cut: 2996000 more bytes"), "{out}");
        // Many lines: the output stops at the byte cap and says how to go on.
        let many = "y".repeat(100) + "\n";
        let many = many.repeat(20_000);
        let out = read(many.as_bytes(), 1, 1_000_000).unwrap();
        assert!(out.len() <= MAX_READ_BYTES + 200);
        assert!(
            out.contains("of 20000; read on with offset"),
            "{}",
            &out[out.len() - 100..]
        );
    }

    #[test]
    fn a_huge_file_is_read_without_holding_it_and_stopping_works() {
        // An endless reader stands for a huge file: reading the first lines returns at once.
        struct Endless;
        impl Read for Endless {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                for (i, x) in b.iter_mut().enumerate() {
                    *x = if i % 50 == 49 { b'\n' } else { b'z' };
                }
                Ok(b.len())
            }
        }
        let out = read_lines(Endless, 1 << 40, 1, 5, &CancellationToken::new()).unwrap();
        assert!(
            out.contains("more lines follow; read on with offset 6"),
            "{out}"
        );
        let stopped = CancellationToken::new();
        stopped.cancel();
        assert_eq!(
            read_lines(Endless, 1 << 40, 1_000_000_000, 5, &stopped),
            Err(ReadError::Stopped)
        );
    }
}
