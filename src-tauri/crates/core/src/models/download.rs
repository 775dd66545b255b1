//! Downloading a model from a Hugging Face hub (or a mirror: the hub's address is a setting):
//! `owner/repo:path/file.gguf`. The hub's API says the file's size and SHA-256 first; the disk
//! is checked for room; the file is fetched into `models/.partial/` with range requests, so a
//! cut, a pause or a restart resumes where it stopped; only a file whose SHA-256 matches the
//! hub's and whose header is a model Parley reads is moved into the models folder and offered.
//! Redirects are followed by hand: within the hub's own address, or to an https address (the
//! hub sends its files from a CDN); no credential is ever sent (Parley sends none to a hub).
//!
//! Why not the `hf-hub` crate: it builds its own HTTP client (Parley's requests leave from one
//! place, `providers::http`, where the user can see them), follows redirects its own way, and
//! keeps files in its own cache layout; what Parley needs of the hub is two requests.

use crate::ledger::origin;
use crate::util::lock;
use futures::StreamExt;
use parley_protocol::{DownloadInfo, DownloadState, OutboundPurpose};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Room kept free on the disk beyond the file.
const DISK_MARGIN: u64 = 64 * 1024 * 1024;

/// A file on a hub: `owner/repo` and the path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRef {
    pub repo: String,
    pub file: String,
}

impl HubRef {
    /// Reads `owner/repo:path/file.gguf`; a sentence saying what is wrong otherwise.
    pub fn parse(text: &str) -> Result<HubRef, String> {
        let text = text.trim();
        let (repo, file) = text.split_once(':').ok_or_else(|| {
            format!("\"{text}\" is not a hub file: write it as owner/repo:file.gguf")
        })?;
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 96
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || !parts.iter().all(|p| name_ok(p)) {
            return Err(format!(
                "\"{repo}\" is not a repository: write it as owner/repo"
            ));
        }
        let segments: Vec<&str> = file.split('/').collect();
        if file.len() > 400 || !segments.iter().all(|s| name_ok(s)) {
            return Err(format!("\"{file}\" is not a file name Parley downloads"));
        }
        if !file.to_ascii_lowercase().ends_with(".gguf") {
            return Err(format!(
                "\"{file}\" is not a GGUF file (its name ends otherwise)"
            ));
        }
        Ok(HubRef {
            repo: repo.to_owned(),
            file: file.to_owned(),
        })
    }

    /// `owner/repo:file`, as the user names it.
    pub fn id(&self) -> String {
        format!("{}:{}", self.repo, self.file)
    }

    /// The partial file's name (one flat folder): from the reference's SHA-256, so that no two
    /// references share one and no name is too long for the file system.
    pub fn part_name(&self) -> String {
        let sum = Sha256::digest(self.id().as_bytes());
        let hex: String = sum.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{hex}.part")
    }

    /// Where the finished file goes under the models folder: `owner/repo/path/file.gguf`, the
    /// hub's own layout (every part checked: no `..`, no empty part), so that two references
    /// never share a file.
    pub fn final_path(&self, models: &Path) -> PathBuf {
        let mut p = models.to_owned();
        for part in self.repo.split('/').chain(self.file.split('/')) {
            p.push(part);
        }
        p
    }
}

/// What the hub's API says of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub sha256: String,
}

/// The file `r`'s size and SHA-256 from the hub's tree listing of its folder.
pub async fn file_meta(
    client: &reqwest::Client,
    hub: &url::Url,
    r: &HubRef,
) -> Result<FileMeta, String> {
    let folder = r.file.rsplit_once('/').map_or("", |(d, _)| d);
    let url = under(hub, &format!("api/models/{}/tree/main/{folder}", r.repo));
    let body = capped_body(get_following(client, hub, url, None).await?).await?;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&body).map_err(|_| {
        "the hub's file list is not what a hub sends (is its address right?)".to_owned()
    })?;
    let entry = entries
        .iter()
        .find(|e| e["path"].as_str() == Some(r.file.as_str()))
        .ok_or_else(|| format!("{} has no file named {}", r.repo, r.file))?;
    let sha256 = entry["lfs"]["oid"]
        .as_str()
        .filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| {
            format!(
                "the hub does not give {}'s SHA-256, so it cannot be verified",
                r.file
            )
        })?
        .to_ascii_lowercase();
    let size = entry["lfs"]["size"]
        .as_u64()
        .or_else(|| entry["size"].as_u64())
        .ok_or_else(|| format!("the hub does not give {}'s size", r.file))?;
    Ok(FileMeta { size, sha256 })
}

/// The most bytes of a tree listing read (a folder of a repository lists its files).
const LISTING_MAX: usize = 8 * 1024 * 1024;

/// A listing's body, at most LISTING_MAX bytes.
async fn capped_body(resp: reqwest::Response) -> Result<String, String> {
    let over = || "the hub's file list is over 8 MB: not read (is its address right?)".to_owned();
    if resp
        .content_length()
        .is_some_and(|n| n > LISTING_MAX as u64)
    {
        return Err(over());
    }
    let mut body = Vec::new();
    let mut stream = crate::ledger::body(resp);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("the hub's file list could not be read: {e}"))?;
        if body.len() + chunk.len() > LISTING_MAX {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the hub's file list is not text".to_owned())
}

/// GETs `url` (with `range` when given), following redirects within the hub's address or to
/// https addresses, at most a few; an error status is a sentence.
async fn get_following(
    client: &reqwest::Client,
    hub: &url::Url,
    url: url::Url,
    range: Option<u64>,
) -> Result<reqwest::Response, String> {
    use crate::ledger::Followed;
    let range: Vec<_> = range
        .filter(|f| *f > 0)
        .map(|from| (reqwest::header::RANGE, format!("bytes={from}-")))
        .into_iter()
        .collect();
    let resp = match crate::ledger::get_following(client, hub, url, &range, OutboundPurpose::ModelDownload).await {
        Followed::Answered(r) => r,
        Followed::Unreachable { error, .. } => {
            return Err(format!(
                "the hub at {} could not be reached: {}",
                origin(hub),
                crate::providers::http::error_chain(&error)
            ))
        }
        Followed::NoLocation => return Err("the hub redirected without saying where".into()),
        Followed::Refused { to } => {
            return Err(format!(
                "the hub redirected to {}, which is neither the hub itself nor an https address: not followed",
                origin(&to)
            ))
        }
        Followed::TooMany => return Err("the hub redirected too many times".into()),
    };
    match resp.status().as_u16() {
        200..=299 | 416 => Ok(resp),
        401 | 403 => Err("the hub refused: the repository is private or gated (Parley downloads public files only)".into()),
        404 => Err("the hub has no such repository or file".into()),
        429 => Err("the hub asks to slow down (HTTP 429); try again in a while".into()),
        s => Err(format!("the hub answered HTTP {s}")),
    }
}

/// `path` under the hub's address, its own path kept (a mirror served under a prefix).
fn under(hub: &url::Url, path: &str) -> url::Url {
    let mut url = hub.clone();
    url.set_path(&format!("{}/{path}", hub.path().trim_end_matches('/')));
    url
}

/// A download's progress, shared with whoever shows it.
pub struct Progress {
    pub info: Mutex<DownloadInfo>,
    /// Bytes and when, a moment ago (the speed).
    mark: Mutex<(u64, Instant)>,
}

impl Progress {
    pub fn new(r: &HubRef) -> Arc<Progress> {
        Arc::new(Progress {
            info: Mutex::new(DownloadInfo {
                id: r.id(),
                total: 0,
                done: 0,
                speed: 0,
                eta_seconds: None,
                state: DownloadState::Running,
                message: None,
            }),
            mark: Mutex::new((0, Instant::now())),
        })
    }

    /// A progress for `reference`, when it is a hub file's reference.
    pub fn for_reference(reference: &str) -> Option<Arc<Progress>> {
        HubRef::parse(reference).ok().map(|r| Progress::new(&r))
    }

    pub fn snapshot(&self) -> DownloadInfo {
        lock(&self.info).clone()
    }

    pub fn set(&self, state: DownloadState, message: Option<String>) {
        let mut i = lock(&self.info);
        i.state = state;
        i.message = message;
        if state != DownloadState::Running {
            i.speed = 0;
            i.eta_seconds = None;
        }
    }

    fn sizes(&self, done: u64, total: u64) {
        let mut i = lock(&self.info);
        i.done = done;
        i.total = total;
        let mut m = lock(&self.mark);
        let took = m.1.elapsed();
        if took >= Duration::from_millis(500) {
            let speed = (done.saturating_sub(m.0) as f64 / took.as_secs_f64()) as u64;
            i.speed = speed;
            i.eta_seconds = (speed > 0)
                .then(|| u32::try_from(total.saturating_sub(done) / speed).unwrap_or(u32::MAX));
            *m = (done, Instant::now());
        }
    }
}

/// Why a download stopped without a file.
#[derive(Debug)]
pub enum Stopped {
    /// Paused or cancelled by the user: the partial file is kept (paused) or gone (cancelled).
    ByUser,
    /// Failed, with a sentence.
    Failed(String),
}

/// Fetches `r` from `hub` into `models` (its partial in `models/.partial`), reporting to
/// `progress`; returns the verified file's final path.
pub async fn fetch(
    client: &reqwest::Client,
    hub: &url::Url,
    r: &HubRef,
    models: &Path,
    progress: &Progress,
    cancel: &CancellationToken,
) -> Result<PathBuf, Stopped> {
    let failed = Stopped::Failed;
    let meta = file_meta(client, hub, r).await.map_err(failed)?;
    let partial = models.join(".partial");
    std::fs::create_dir_all(&partial).map_err(|e| failed(format!("{}: {e}", partial.display())))?;
    let part_path = partial.join(r.part_name());
    let mut part = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&part_path)
        .map_err(|e| failed(format!("{}: {e}", part_path.display())))?;
    // Two downloads of one file: the second finds it locked (released if a process dies).
    if part.try_lock().is_err() {
        return Err(failed(format!("{} is already being downloaded", r.id())));
    }
    note(&part_path, r, &meta);
    let mut have = part.metadata().map(|m| m.len()).unwrap_or(0);
    if have > meta.size {
        part.set_len(0).map_err(|e| failed(e.to_string()))?;
        have = 0;
    }
    check_room(models, meta.size - have).map_err(failed)?;
    progress.sizes(have, meta.size);
    if have < meta.size {
        let url = under(hub, &format!("{}/resolve/main/{}", r.repo, r.file));
        let resp = get_following(client, hub, url, Some(have))
            .await
            .map_err(failed)?;
        have = match (have, resp.status().as_u16()) {
            (_, 206) => have,
            (_, 416) => have,
            _ => {
                part.set_len(0).map_err(|e| failed(e.to_string()))?;
                0
            }
        };
        receive(resp, &mut part, have, &meta, progress, cancel).await?;
    }
    drop(part);
    progress.set(DownloadState::Verifying, None);
    verify(&part_path, &meta).await.map_err(failed)?;
    let dest = r.final_path(models);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    }
    std::fs::rename(&part_path, &dest).map_err(|e| failed(format!("{}: {e}", dest.display())))?;
    let _ = std::fs::remove_file(part_path.with_extension("json"));
    Ok(dest)
}

/// Writes the body into `part` from `have`, until the file is whole, the body ends early (a
/// cut: an error, the partial kept), or `cancel`.
async fn receive(
    resp: reqwest::Response,
    part: &mut std::fs::File,
    mut have: u64,
    meta: &FileMeta,
    progress: &Progress,
    cancel: &CancellationToken,
) -> Result<(), Stopped> {
    let mut body = crate::ledger::body(resp);
    while have < meta.size {
        let chunk = tokio::select! {
            () = cancel.cancelled() => return Err(Stopped::ByUser),
            c = body.next() => c,
        };
        let Some(chunk) = chunk else { break };
        let chunk = chunk.map_err(|e| {
            Stopped::Failed(format!(
                "the download broke off ({}); it resumes from here",
                crate::providers::http::error_chain(&e)
            ))
        })?;
        let room = (meta.size - have).min(chunk.len() as u64) as usize;
        part.write_all(&chunk[..room])
            .map_err(|e| Stopped::Failed(write_error(&e)))?;
        have += room as u64;
        progress.sizes(have, meta.size);
    }
    part.flush().map_err(|e| Stopped::Failed(write_error(&e)))?;
    if have < meta.size {
        return Err(Stopped::Failed(format!(
            "the download broke off at {} of {}; it resumes from there",
            super::memory::human(have),
            super::memory::human(meta.size)
        )));
    }
    Ok(())
}

fn write_error(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(28) {
        "the disk is full: free some space, then resume (what arrived is kept)".into()
    } else {
        format!("the file could not be written: {e}")
    }
}

/// The SHA-256 of the whole partial file against the hub's; a mismatch deletes it.
async fn verify(path: &Path, meta: &FileMeta) -> Result<(), String> {
    let p = path.to_owned();
    let sum = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut f = std::fs::File::open(&p)?;
        let mut h = Sha256::new();
        std::io::copy(&mut f, &mut h)?;
        Ok(format!("{:x}", h.finalize()))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("the file could not be read back: {e}"))?;
    if sum != meta.sha256 {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(path.with_extension("json"));
        return Err(format!(
            "the file received does not match the hub's checksum (SHA-256 {sum}, expected {}): it was deleted",
            meta.sha256
        ));
    }
    Ok(())
}

/// Notes a partial file's reference and size beside it: a restart lists it as paused.
fn note(part: &Path, r: &HubRef, meta: &FileMeta) {
    let body = serde_json::json!({"id": r.id(), "total": meta.size}).to_string();
    let _ = std::fs::write(part.with_extension("json"), body);
}

/// Deletes a partial file and its note.
pub fn discard(models: &Path, r: &HubRef) -> bool {
    let part = models.join(".partial").join(r.part_name());
    let _ = std::fs::remove_file(part.with_extension("json"));
    std::fs::remove_file(part).is_ok()
}

/// The partial files earlier runs left, as paused downloads.
pub fn left(models: &Path) -> Vec<DownloadInfo> {
    let Ok(dir) = std::fs::read_dir(models.join(".partial")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
            let r = HubRef::parse(v["id"].as_str()?).ok()?;
            let done = std::fs::metadata(e.path().with_extension("part"))
                .ok()?
                .len();
            Some(DownloadInfo {
                id: r.id(),
                total: v["total"].as_u64()?,
                done,
                speed: 0,
                eta_seconds: None,
                state: DownloadState::Paused,
                message: None,
            })
        })
        .collect()
}

/// Is there room for `need` more bytes (and a margin) where the models go?
fn check_room(models: &Path, need: u64) -> Result<(), String> {
    let Some(free) = free_space(models) else {
        return Ok(());
    };
    if free < need.saturating_add(DISK_MARGIN) {
        return Err(format!(
            "not enough disk space: the download needs {} more and {} is free at {}",
            super::memory::human(need),
            super::memory::human(free),
            models.display()
        ));
    }
    Ok(())
}

/// Bytes free to this user on the disk of `path` (Unix); `None` where unknown.
pub fn free_space(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let s = nix::sys::statvfs::statvfs(path).ok()?;
        // A u32 on some systems (macOS), a u64 on others.
        #[allow(clippy::useless_conversion)]
        let blocks = u64::from(s.blocks_available());
        Some(blocks.saturating_mul(s.fragment_size()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
#[path = "download_tests.rs"]
mod tests;
