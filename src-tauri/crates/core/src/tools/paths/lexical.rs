//! The checks a path the model gave goes through before anything touches the file system:
//! pure string rules, the same on every OS (Windows forms are refused on every OS, so a
//! Windows-only hole shows up in the tests run anywhere).

use super::PathError;
use std::path::{Path, PathBuf};

/// Names Windows maps to devices whatever the folder or extension (`nul.txt` is `NUL`).
const DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$", "COM0", "COM1", "COM2", "COM3",
    "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// The root's parts, for comparing an absolute path the model gave against it. Windows'
/// verbatim prefix (`\\?\C:\…`, what canonicalising gives) is dropped.
fn root_parts(root: &Path) -> Vec<String> {
    let s = root.to_string_lossy().replace('\\', "/");
    let s = s
        .strip_prefix("//?/UNC/")
        .map(|r| format!("//{r}"))
        .or_else(|| s.strip_prefix("//?/").map(str::to_owned))
        .unwrap_or(s);
    s.split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_drive(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// The parts of `given` below the workspace root, `..` and `.` applied — or why it is refused.
/// `windows` also refuses names Windows treats specially (devices, reserved characters,
/// trailing dots and spaces); colons, drive letters, UNC and device paths are refused always.
pub fn relative_parts(root: &Path, given: &str, windows: bool) -> Result<Vec<String>, PathError> {
    let shown = || given.to_owned();
    if given.trim().is_empty() {
        return Err(PathError::Invalid(shown(), "it is empty".into()));
    }
    if given.chars().any(|c| c.is_control()) {
        return Err(PathError::Invalid(
            shown(),
            "it contains control characters".into(),
        ));
    }
    // Both slashes separate on Windows; a backslash in a model's path means the same anywhere.
    let s = given.replace('\\', "/");
    if s.starts_with("//") {
        return Err(PathError::Outside(
            shown(),
            "network (UNC) and device paths are never used".into(),
        ));
    }
    let (absolute, rest) = if is_drive(&s) {
        (true, s.as_str())
    } else if let Some(r) = s.strip_prefix('/') {
        (true, r)
    } else {
        (false, s.as_str())
    };
    let mut parts: Vec<&str> = rest.split('/').collect();
    if absolute {
        // Inside the root only, compared as text: nothing outside is ever looked up.
        let root = root_parts(root);
        let same = |a: &str, b: &str| {
            if windows {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let head: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        let inside = head.len() >= root.len()
            && root.iter().zip(&head).all(|(r, h)| same(r, h))
            && !head
                .iter()
                .take(root.len())
                .any(|p| *p == "." || *p == "..");
        if !inside {
            return Err(PathError::Outside(
                shown(),
                "absolute paths must lie in the workspace folder".into(),
            ));
        }
        parts = head[root.len()..].to_vec();
    }
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        match p {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(PathError::Outside(
                        shown(),
                        "it climbs above the workspace folder".into(),
                    ));
                }
            }
            name => {
                if let Some(why) = refused_name(name, windows) {
                    return Err(PathError::Invalid(shown(), why));
                }
                out.push(name.to_owned());
            }
        }
    }
    Ok(out)
}

/// Why one file name is refused, if it is.
fn refused_name(name: &str, windows: bool) -> Option<String> {
    if name.contains(':') {
        return Some(format!(
            "{name:?} has a colon, which Windows reads as a drive or an alternate data stream"
        ));
    }
    if !windows {
        return None;
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some(format!(
            "{name:?} ends with a dot or a space, which Windows drops"
        ));
    }
    if let Some(c) = name.chars().find(|c| "<>\"|?*".contains(*c)) {
        return Some(format!("{name:?} has {c:?}, which Windows does not allow"));
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    if DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Some(format!("{name:?} is a Windows device name"));
    }
    None
}

/// The parts as a relative path (`.` when empty).
pub fn to_path(parts: &[String]) -> PathBuf {
    if parts.is_empty() {
        PathBuf::from(".")
    } else {
        parts.iter().collect()
    }
}

/// Why a folder cannot be a workspace: the top of a file system, the home folder itself or a
/// folder above it, system folders. `home` is the user's home folder, when known.
pub fn refused_root(root: &Path, home: Option<&Path>, windows: bool) -> Option<String> {
    let lower = folded(&root_parts(root), windows);
    let is_top = if windows {
        lower.len() <= 1
    } else {
        lower.is_empty()
    };
    if is_top {
        return Some("it is the top of a drive or file system".into());
    }
    if let Some(home) = home {
        let home = folded(&root_parts(home), windows);
        if lower == home {
            return Some("it is your whole home folder; choose a project folder in it".into());
        }
        if home.starts_with(&lower) {
            return Some("it contains your home folder".into());
        }
    }
    if is_system_folder(&lower, windows) {
        return Some("it is a system folder".into());
    }
    None
}

/// A path's parts as compared: without case on Windows, as they are elsewhere.
fn folded(parts: &[String], windows: bool) -> Vec<String> {
    parts
        .iter()
        .map(|p| if windows { p.to_lowercase() } else { p.clone() })
        .collect()
}

/// Unix and macOS folders refused themselves (a project may live below them).
const EXACT: &[&str] = &[
    "/tmp",
    "/var",
    "/var/tmp",
    "/opt",
    "/srv",
    "/mnt",
    "/media",
    "/home",
    "/users",
    "/Users",
    "/Volumes",
    "/private",
    "/private/tmp",
    "/private/var",
    "/snap",
    "/root",
    "/nix",
];
/// Unix and macOS folders refused with everything in them.
const WHOLE: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/System",
    "/Library",
    "/Applications",
    "/private/etc",
    "/cores",
    "/nix/store",
];
/// Windows folders (below the drive, lower case) refused themselves.
const WIN_EXACT: &[&str] = &["users", "users/public"];
/// Windows folders (below the drive, lower case) refused with everything in them.
const WIN_WHOLE: &[&str] = &[
    "windows",
    "program files",
    "program files (x86)",
    "programdata",
    "$recycle.bin",
    "system volume information",
];

/// Whether the folder of `lower` (its [`folded`] parts, below the top) is a system folder or
/// inside one.
fn is_system_folder(lower: &[String], windows: bool) -> bool {
    let joined = format!("/{}", lower.join("/"));
    if windows {
        let below_drive = lower[1..].join("/");
        return WIN_EXACT.contains(&below_drive.as_str())
            || WIN_WHOLE
                .iter()
                .any(|w| below_drive == *w || below_drive.starts_with(&format!("{w}/")));
    }
    EXACT.contains(&joined.as_str())
        || WHOLE
            .iter()
            .any(|w| joined == *w || joined.starts_with(&format!("{w}/")))
}

/// Why writing to `rel` (the real path, relative to the root) always asks a person: it
/// changes what other programs run or trust (version control, editors, CI, hooks) or holds
/// secrets. Compared without case: macOS and Windows file systems ignore it.
pub fn protected_reason(rel: &Path) -> Option<&'static str> {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().to_lowercase()),
            _ => None,
        })
        .collect();
    for (i, p) in parts.iter().enumerate() {
        match p.as_str() {
            ".git" => return Some("version-control internals (.git)"),
            ".vscode" | ".idea" => return Some("editor settings that can run commands"),
            ".husky" | ".githooks" => return Some("git hooks"),
            ".github" if parts.get(i + 1).is_some_and(|n| n == "workflows") => {
                return Some("CI workflows (.github/workflows)")
            }
            ".envrc" => return Some("an .envrc (direnv runs it)"),
            p if p.starts_with(".env") => return Some("an environment file (.env*)"),
            _ => {}
        }
    }
    None
}
