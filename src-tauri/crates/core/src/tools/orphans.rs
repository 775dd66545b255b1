//! No command outlives Parley. Each command runs in its own process group; on Unix a small
//! watchdog (`/bin/sh`, in a group of its own) ends that group as soon as Parley's process is
//! gone — killed, crashed or exited — and ends itself when the group ends first. Every group is
//! also recorded in `locks/<instance>.groups` with its leader's start stamp; at start, Parley
//! ends the recorded groups of owners that are no longer alive (when the watchdog was killed
//! too), checking the stamp so that a reused process id is never hit.
//!
//! On Windows, Parley joins a Job Object with kill-on-close on its first command: every
//! process it starts is in the job and ends when Parley's process does.
//!
//! Linux's parent-death signal is not used: it fires when the *thread* that spawned the child
//! exits, and the runtime's threads come and go.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The watchdog: `$1` is Parley's pid, `$2` the command's process group.
#[cfg(unix)]
const WATCHDOG: &str = r#"while kill -s 0 -- "-$2" 2>/dev/null; do
  if ! kill -s 0 "$1" 2>/dev/null; then kill -s KILL -- "-$2" 2>/dev/null; exit 0; fi
  sleep 1
done"#;

/// Starts the watchdog of process group `pgid` (Unix; elsewhere nothing).
pub fn watch(pgid: u32) {
    #[cfg(unix)]
    {
        let mut w = tokio::process::Command::new("/bin/sh");
        w.args(["-c", WATCHDOG, "parley-watchdog"])
            .arg(std::process::id().to_string())
            .arg(pgid.to_string())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(false);
        if let Err(e) = w.spawn() {
            tracing::warn!("could not start the watchdog of process group {pgid}: {e}");
        }
    }
    #[cfg(windows)]
    {
        let _ = pgid;
        contain_children();
    }
    #[cfg(not(any(unix, windows)))]
    let _ = pgid;
}

/// Windows: Parley joins a Job Object that kills everything in it when its last handle
/// closes — when Parley exits or is killed, every command it started ends with it.
#[cfg(windows)]
fn contain_children() {
    static JOB: std::sync::OnceLock<Option<win32job::Job>> = std::sync::OnceLock::new();
    JOB.get_or_init(|| {
        let made = (|| -> Result<win32job::Job, win32job::JobError> {
            let job = win32job::Job::create()?;
            let mut info = job.query_extended_limit_info()?;
            info.limit_kill_on_job_close();
            job.set_extended_limit_info(&mut info)?;
            job.assign_current_process()?;
            Ok(job)
        })();
        match made {
            Ok(job) => Some(job),
            Err(e) => {
                tracing::warn!("commands may outlive Parley: no job object ({e})");
                None
            }
        }
    });
}

/// What identifies a process beyond its id: on Linux the boot and the start time in clock
/// ticks; elsewhere on Unix the start time `ps` reports.
pub fn stamp(pid: u32) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let after = stat.rsplit_once(')')?.1;
        let start = after.split_whitespace().nth(19)?;
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        Some(format!("{}:{start}", boot.trim()))
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        let out = std::process::Command::new("ps")
            .args(["-o", "lstart=", "-p", &pid.to_string()])
            .output()
            .ok()?;
        let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (!s.is_empty()).then_some(s)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        None
    }
}

/// The groups this process has running, as recorded on disk.
static RUNNING: Mutex<Vec<(PathBuf, u32, String)>> = Mutex::new(Vec::new());

fn write_log(log: &Path, all: &[(PathBuf, u32, String)]) {
    let text: String = all
        .iter()
        .filter(|(p, _, _)| p == log)
        .map(|(_, g, s)| format!("{g} {s}\n"))
        .collect();
    if let Err(e) = std::fs::write(log, text) {
        tracing::warn!(
            "could not record running commands in {}: {e}",
            log.display()
        );
    }
}

/// Records a running group in `log` (until [`forget`]).
pub fn record(log: &Path, pgid: u32) {
    let Some(s) = stamp(pgid) else { return };
    let mut all = crate::util::lock(&RUNNING);
    all.push((log.to_owned(), pgid, s));
    write_log(log, &all);
}

/// Forgets a group that ended.
pub fn forget(log: &Path, pgid: u32) {
    let mut all = crate::util::lock(&RUNNING);
    all.retain(|(p, g, _)| !(p == log && *g == pgid));
    write_log(log, &all);
}

/// Ends the groups recorded in a dead owner's `file` whose leader is still the process that was
/// recorded, then removes the file. Returns how many groups were ended.
pub fn reap(file: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(file) else {
        return 0;
    };
    let mut ended = 0;
    for line in text.lines() {
        let Some((g, s)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pgid) = g.parse::<u32>() else { continue };
        if stamp(pgid).as_deref() == Some(s) && end_group(pgid) {
            ended += 1;
        }
    }
    let _ = std::fs::remove_file(file);
    ended
}

fn end_group(pgid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pgid) else {
            return false;
        };
        if pid <= 1 || pgid == std::process::id() {
            return false;
        }
        nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = pgid;
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn stamps_tell_a_reused_id_apart_and_reaping_checks_them() {
        let me = std::process::id();
        assert_eq!(stamp(me), stamp(me));
        assert!(stamp(u32::MAX - 7).is_none());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dead.groups");
        // A recorded group whose leader is now another process (another stamp): left alone.
        std::fs::write(&file, format!("{me} 0:1\n1 x\nnot a line\n")).unwrap();
        assert_eq!(reap(&file), 0);
        assert!(!file.exists(), "the record is removed");
    }
}

/// [`reap`], and a warning when it ended anything.
pub(crate) fn reap_and_report(file: &Path) {
    let n = reap(file);
    if n > 0 {
        tracing::warn!("ended {n} command(s) left running by a Parley that is gone");
    }
}
