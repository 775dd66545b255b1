//! Whether what answers on the engine's port is the engine Parley started. A free port is
//! chosen a moment before the engine binds it, and another program can take it meanwhile; it
//! would then answer the health check, and the chats (and the engine's key) would go to it.
//! So before anything is sent with the key, the engine is checked: where the OS says which
//! process listens on a port (Linux: `/proc/net/tcp` and the processes' sockets), the listener
//! must be in the engine's process group; where it cannot tell (macOS, Windows, a sandbox that
//! hides `/proc`), the server must refuse a wrong key (llama-server does; a program that answers
//! anything does not, though one written to pass this check could).

use std::collections::HashSet;
use std::time::Duration;

/// The listening sockets (their inodes) on loopback port `port`, from the text of
/// `/proc/net/tcp` or `/proc/net/tcp6`.
pub fn listening_inodes(table: &str, port: u16) -> HashSet<u64> {
    let mut found = HashSet::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
            continue;
        };
        let Some((_, p)) = local.rsplit_once(':') else {
            continue;
        };
        // 0A: LISTEN.
        if *state != "0A" || u16::from_str_radix(p, 16) != Ok(port) {
            continue;
        }
        if let Ok(n) = inode.parse::<u64>() {
            if n != 0 {
                found.insert(n);
            }
        }
    }
    found
}

/// The process group in the text of `/proc/PID/stat` (its fifth field; the name, second, is
/// in parentheses and may hold spaces and parentheses itself).
pub fn stat_group(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// Whether a process of group `group` listens on loopback port `port`: `Some` where this OS
/// tells (Linux), `None` where Parley cannot tell.
pub fn group_listens(group: u32, port: u16) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        // What cannot be read (a sandbox hiding the tables, the engine's descriptors closed to
        // this process) leaves the question open: the wrong-key check decides.
        let mut inodes = HashSet::new();
        let mut read = false;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let Ok(text) = std::fs::read_to_string(table) {
                read = true;
                inodes.extend(listening_inodes(&text, port));
            }
        }
        if !read || inodes.is_empty() {
            return None;
        }
        // The group's leader (the engine itself) first: the other processes only when it is not.
        match holds(group, &inodes) {
            Some(true) => return Some(true),
            None => return None,
            Some(false) => {}
        }
        let procs = std::fs::read_dir("/proc").ok()?;
        for p in procs.flatten() {
            let name = p.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let in_group = std::fs::read_to_string(p.path().join("stat"))
                .ok()
                .and_then(|s| stat_group(&s))
                == Some(group);
            if in_group && holds(pid, &inodes) == Some(true) {
                return Some(true);
            }
        }
        Some(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (group, port);
        None
    }
}

/// Whether process `pid` has one of the sockets `inodes` open (`None`: its descriptors cannot
/// be read).
#[cfg(target_os = "linux")]
fn holds(pid: u32, inodes: &HashSet<u64>) -> Option<bool> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).ok().is_some_and(|link| {
            link.to_str()
                .and_then(|s| s.strip_prefix("socket:["))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|n| inodes.contains(&n))
        })
    }))
}

/// Whether the server on loopback `port` refuses a key that is not the engine's (a random one:
/// the engine's own key is never sent to find out). Asked of the chat endpoint, which every
/// llama-server keeps behind its key (newer ones leave `/v1/models` open, like `/health`); an
/// empty request, so a server that took it would answer nothing of use.
pub async fn refuses_wrong_key(client: &reqwest::Client, port: u16) -> Result<bool, String> {
    let wrong = super::spawn::new_key()?;
    let resp = client
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}")
        .bearer_auth(wrong)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(resp.status() == reqwest::StatusCode::UNAUTHORIZED)
}

#[cfg(test)]
#[path = "port_tests.rs"]
mod tests;
