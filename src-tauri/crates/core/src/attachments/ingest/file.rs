//! Reading a chosen file without trusting it: only regular files (a folder, FIFO, socket or
//! device is refused from its metadata, before it is opened, and the file is opened
//! non-blocking so one swapped in after the check cannot block), never more than its kind's
//! limit, in chunks that check the cancel flag, and refused when it changes while read.

use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::error::Problem;

/// How many bytes are read at a time between two looks at the cancel flag.
const CHUNK: usize = 1024 * 1024;

/// An opened regular file and what its metadata said when it was opened.
pub(super) struct Opened {
    file: File,
    /// Its length when opened.
    pub len: u64,
    modified: Option<SystemTime>,
}

/// Opens `path` for reading if it is a regular file.
pub(super) fn open(path: &Path) -> Result<Opened, Problem> {
    let meta = std::fs::metadata(path).map_err(io_problem)?;
    check_regular(&meta)?;
    let file = open_non_blocking(path).map_err(io_problem)?;
    let meta = file.metadata().map_err(io_problem)?;
    check_regular(&meta)?;
    Ok(Opened {
        file,
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

#[cfg(unix)]
fn open_non_blocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_non_blocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn check_regular(meta: &Metadata) -> Result<(), Problem> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(Problem::NotAFile("a folder"));
    }
    Err(Problem::NotAFile(special_kind(&kind)))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_kind: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// The problem an I/O error means for the user.
pub(super) fn io_problem(error: std::io::Error) -> Problem {
    match error.kind() {
        ErrorKind::NotFound => Problem::Missing,
        ErrorKind::PermissionDenied => Problem::Unreadable("permission denied".into()),
        _ => Problem::Unreadable(error.to_string()),
    }
}

impl Opened {
    /// Reads up to `n` bytes from where the file is (the head, to sniff its type).
    pub fn read_head(&mut self, n: usize, cancel: &AtomicBool) -> Result<Vec<u8>, Problem> {
        let mut out = Vec::with_capacity(n.min(self.len as usize));
        self.read_into(&mut out, n as u64, cancel)?;
        Ok(out)
    }

    /// Reads the rest into `out` (which holds the head); refuses a file that turns out longer
    /// or shorter than its metadata said, or whose metadata changed meanwhile.
    pub fn read_rest(
        &mut self,
        out: &mut Vec<u8>,
        path: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), Problem> {
        out.reserve_exact((self.len as usize).saturating_sub(out.len()));
        // One byte past the length it had: a file still growing is caught here.
        self.read_into(out, self.len + 1, cancel)?;
        if out.len() as u64 != self.len {
            return Err(Problem::Changed);
        }
        let now = std::fs::metadata(path).map_err(|error| match error.kind() {
            ErrorKind::NotFound => Problem::Changed,
            _ => io_problem(error),
        })?;
        if now.len() != self.len || now.modified().ok() != self.modified {
            return Err(Problem::Changed);
        }
        Ok(())
    }

    fn read_into(
        &mut self,
        out: &mut Vec<u8>,
        upto: u64,
        cancel: &AtomicBool,
    ) -> Result<(), Problem> {
        let mut chunk = vec![0u8; CHUNK];
        while (out.len() as u64) < upto {
            if cancel.load(Ordering::Relaxed) {
                return Err(Problem::Cancelled);
            }
            let want = ((upto - out.len() as u64) as usize).min(CHUNK);
            match self.file.read(&mut chunk[..want]) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    return Err(Problem::NotAFile("a named pipe (FIFO)"))
                }
                Err(e) => return Err(io_problem(e)),
            }
        }
        Ok(())
    }
}
