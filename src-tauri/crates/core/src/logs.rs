//! The log file: what Parley did, for the person who has to find out why something failed.
//!
//! In the OS's log folder (`~/.local/state/parley/logs`, `~/Library/Logs/Parley`,
//! `%LOCALAPPDATA%\Parley\logs`), or `logs/` in a data folder given with `--data-dir` or
//! `PARLEY_DATA_DIR` (a second profile keeps its own), or `$PARLEY_LOG_DIR`. Bounded: the file
//! is rotated at 1 MiB and four older ones are kept. Every line passes through the secret
//! registry (`secrets::redact_known`) on its way to disk. Message text is never written unless
//! the user turns on "Log details" (Settings), which says so: it is logged only under the
//! `parley::content` target, which the ordinary filter turns off.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// The log target of message text (logged only with details on).
pub const CONTENT: &str = "parley::content";
/// The environment variable that overrides the log folder.
pub const LOG_DIR_ENV: &str = "PARLEY_LOG_DIR";
/// The current log file's name.
pub const FILE: &str = "parley.log";
const MAX_BYTES: u64 = 1 << 20;
const KEEP: usize = 4;

/// Where the log goes: `$PARLEY_LOG_DIR`; else beside a data folder chosen explicitly; else the
/// OS's log folder.
pub fn log_dir(explicit_data_dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(LOG_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let data_env = std::env::var_os(crate::paths::DATA_DIR_ENV).filter(|v| !v.is_empty());
    if let Some(d) = explicit_data_dir
        .map(Path::to_path_buf)
        .or(data_env.map(PathBuf::from))
    {
        return Some(d.join("logs"));
    }
    os_log_dir()
}

fn os_log_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library/Logs/Parley"))
    } else if cfg!(windows) {
        dirs::data_local_dir().map(|d| d.join("Parley").join("logs"))
    } else {
        dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .map(|d| d.join("parley").join("logs"))
    }
}

/// The filter: Parley's own records from `info`, others' from `warn`; message text only with
/// details on (and then everything of Parley's from `debug`).
fn filter(details: bool) -> EnvFilter {
    let spec = if details {
        format!("warn,parley=debug,parley_core=debug,{CONTENT}=debug")
    } else {
        format!("warn,parley=info,parley_core=info,{CONTENT}=off")
    };
    EnvFilter::new(spec)
}

/// The running log: turn details on or off without a restart.
#[derive(Clone)]
pub struct LogHandle {
    reload: reload::Handle<EnvFilter, Registry>,
    pub dir: PathBuf,
}

impl LogHandle {
    pub fn set_details(&self, on: bool) {
        let _ = self.reload.modify(|f| *f = filter(on));
    }
}

/// The log this process writes, once started.
static RUNNING: std::sync::OnceLock<LogHandle> = std::sync::OnceLock::new();

/// Turns details (message text included) on or off in the running log, if there is one.
pub fn set_details(on: bool) {
    if let Some(h) = RUNNING.get() {
        h.set_details(on);
    }
}

/// The folder of the running log (About shows it).
pub fn running_dir() -> Option<PathBuf> {
    RUNNING.get().map(|h| h.dir.clone())
}

/// Starts writing the log into `dir` for this process (once).
pub fn init(dir: &Path, details: bool) -> Result<LogHandle, String> {
    let file = LogFile::open(dir)?;
    let (layer, reload) = reload::Layer::new(filter(details));
    tracing_subscriber::registry()
        .with(layer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file),
        )
        .try_init()
        .map_err(|e| format!("the log could not be started: {e}"))?;
    let handle = LogHandle {
        reload,
        dir: dir.to_path_buf(),
    };
    let _ = RUNNING.set(handle.clone());
    Ok(handle)
}

/// The log file, rotated by size; shared by every thread that logs.
#[derive(Clone)]
pub struct LogFile(Arc<Mutex<Rotating>>);

struct Rotating {
    dir: PathBuf,
    file: std::fs::File,
    written: u64,
}

impl LogFile {
    pub fn open(dir: &Path) -> Result<LogFile, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let _ = crate::util::private_dir(dir);
        let file = open_append(&dir.join(FILE))?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogFile(Arc::new(Mutex::new(Rotating {
            dir: dir.to_path_buf(),
            file,
            written,
        }))))
    }

    /// Writes one record, redacted, rotating first when the file is full.
    fn write_record(&self, record: &[u8]) {
        let text = String::from_utf8_lossy(record);
        let text = crate::secrets::redact_known(&text);
        let mut r = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if r.written + text.len() as u64 > MAX_BYTES {
            r.rotate();
        }
        if r.file.write_all(text.as_bytes()).is_ok() {
            r.written += text.len() as u64;
        }
    }
}

fn open_append(path: &Path) -> Result<std::fs::File, String> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| format!("{}: {e}", path.display()))
}

impl Rotating {
    /// parley.log → parley.1.log → … → parley.KEEP.log (the oldest dropped).
    fn rotate(&mut self) {
        let name = |i: usize| self.dir.join(format!("parley.{i}.log"));
        let _ = std::fs::remove_file(name(KEEP));
        for i in (1..KEEP).rev() {
            let _ = std::fs::rename(name(i), name(i + 1));
        }
        let _ = std::fs::rename(self.dir.join(FILE), name(1));
        if let Ok(f) = open_append(&self.dir.join(FILE)) {
            self.file = f;
            self.written = 0;
        }
    }
}

/// One record being formatted: written whole when done.
pub struct Record {
    file: LogFile,
    buf: Vec<u8>,
}

impl Write for Record {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.file.write_record(&self.buf);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = Record;
    fn make_writer(&'a self) -> Record {
        Record {
            file: self.clone(),
            buf: Vec::new(),
        }
    }
}

/// The subscriber `init` installs, for a test to use in its own scope.
#[cfg(test)]
pub(crate) fn subscriber(dir: &Path, details: bool) -> impl tracing::Subscriber {
    let file = LogFile::open(dir).expect("log folder");
    tracing_subscriber::registry().with(filter(details)).with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(file),
    )
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
