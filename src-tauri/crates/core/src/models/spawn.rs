//! Starting the engine's process: llama-server bound to loopback on a free port, its key in its
//! environment (never on its command line, where any program on this computer could read it),
//! nothing else of Parley's environment passed on (no proxy, no tokens: the engine makes no
//! request of its own), in a process group of its own watched by the orphan machinery, its
//! output read into the engine's bounded log.

use crate::proclog::ProcLog;
use process_wrap::tokio::{ChildWrapper, CommandWrap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The variables of Parley's environment the engine inherits.
const INHERITED: [&str; 9] = [
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
    "USERPROFILE",
];

/// What the engine is started with: which model, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub binary: PathBuf,
    /// The model's name (the alias it answers to).
    pub name: String,
    pub model: PathBuf,
    pub context: u32,
    pub threads: Option<u32>,
    pub gpu_layers: Option<u32>,
}

/// The engine's command-line arguments for `launch` on `port` (the key is not among them).
pub fn arguments(launch: &Launch, port: u16) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--model".into(),
        launch.model.display().to_string(),
        "--alias".into(),
        launch.name.clone(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--ctx-size".into(),
        launch.context.to_string(),
        // One conversation at a time gets the whole context; others wait their turn.
        "--parallel".into(),
        "1".into(),
        "--jinja".into(),
        "--no-webui".into(),
        "--offline".into(),
    ];
    if let Some(t) = launch.threads {
        args.extend(["--threads".into(), t.to_string()]);
    }
    if let Some(n) = launch.gpu_layers {
        args.extend(["--n-gpu-layers".into(), n.to_string()]);
    }
    args
}

/// A port on loopback free a moment ago (the engine may still lose it to another program: it
/// then fails to bind and is started again on another).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A new random key: 32 bytes from the OS, as hex.
pub fn new_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("no random numbers for the engine's key: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A started engine: its process, its process group (recorded for the orphan machinery).
pub struct Child {
    pub process: Box<dyn ChildWrapper>,
    pub group: Option<(PathBuf, u32)>,
}

/// Starts the engine for `launch` on `port` with `key`, its output read into `log`; its group
/// recorded in `process_log`.
pub fn start(
    launch: &Launch,
    port: u16,
    key: &str,
    log: &Arc<ProcLog>,
    process_log: &Path,
) -> Result<Child, String> {
    let mut cmd = tokio::process::Command::new(&launch.binary);
    cmd.args(arguments(launch, port))
        .env_clear()
        .env("LLAMA_API_KEY", key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for name in INHERITED {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    let mut cmd = CommandWrap::from(cmd);
    #[cfg(unix)]
    cmd.wrap(process_wrap::tokio::ProcessGroup::leader());
    let mut process = cmd.spawn().map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (the file is missing)"
        } else {
            ""
        };
        format!(
            "The built-in engine ({}) could not be started{hint}: {e}.",
            launch.binary.display()
        )
    })?;
    let pid = process.id();
    log.note(&format!(
        "started {} for {} on port {port} (process {})",
        launch.binary.display(),
        launch.name,
        pid.map_or("?".into(), |p| p.to_string())
    ));
    if let Some(out) = process.stdout().take() {
        tokio::spawn(crate::proclog::read_into(out, log.clone()));
    }
    if let Some(err) = process.stderr().take() {
        tokio::spawn(crate::proclog::read_into(err, log.clone()));
    }
    let group = pid.map(|pid| {
        crate::tools::orphans::record(process_log, pid);
        crate::tools::orphans::watch(pid);
        (process_log.to_owned(), pid)
    });
    Ok(Child { process, group })
}

/// Ends the engine: SIGTERM, a moment to exit, then its whole group killed; its group no longer
/// recorded.
pub async fn stop(mut child: Child) {
    #[cfg(unix)]
    if child.process.signal(libc::SIGTERM).is_ok()
        && tokio::time::timeout(std::time::Duration::from_secs(3), child.process.wait())
            .await
            .is_ok()
    {
        forget(&mut child);
        return;
    }
    let _ = Box::into_pin(child.process.kill()).await;
    forget(&mut child);
}

fn forget(child: &mut Child) {
    if let Some((log, pgid)) = child.group.take() {
        crate::tools::orphans::forget(&log, pgid);
    }
}
