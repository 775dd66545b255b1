//! A keychain for the real-window suite: gnome-keyring's Secret Service on the suite's private
//! session bus, its keyring in a folder of its own (never the user's), unlocked with a test
//! password, and stopped with the suite. The app then keeps secrets (an MCP server's OAuth
//! tokens) as it does on a desktop. Started only when gnome-keyring is installed (`cargo xtask
//! test` installs it for the keychain step); the app says so when a test needs it and it is not.

use crate::setup::{which, Guard};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts gnome-keyring on `bus` with its files under `dir`; waits until it owns the Secret
/// Service's name. `None` when gnome-keyring is not installed.
pub fn start(bus: &str, dir: &Path) -> Result<Option<Guard>, String> {
    if which("gnome-keyring-daemon").is_none() {
        eprintln!("note: gnome-keyring is not installed: the window suite has no keychain");
        return Ok(None);
    }
    std::fs::create_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_RUNTIME_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start gnome-keyring-daemon: {e}"))?;
    // A non-empty password: an empty one creates no login keyring (RECIPES.md).
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"parley-test-keyring")
            .map_err(|e| format!("could not unlock the test keyring: {e}"))?;
    }
    let guard = Guard(child, "gnome-keyring-daemon");
    let started = Instant::now();
    while !owns_secrets(bus) {
        if started.elapsed() > Duration::from_secs(15) {
            return Err("gnome-keyring-daemon did not take the Secret Service's name on the window suite's bus within 15 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Some(guard))
}

/// Whether `org.freedesktop.secrets` has an owner on `bus`.
fn owns_secrets(bus: &str) -> bool {
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stderr(Stdio::inherit())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
}
