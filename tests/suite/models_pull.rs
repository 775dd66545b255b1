//! Downloading a model from a hub (tests/hub/fake_hub.py stands in for Hugging Face: its tree
//! listing and its files, with range requests and faults): a whole download verified and
//! added; a cut resumed from where it stopped; a file that differs from its checksum refused
//! and deleted; redirects followed within the hub or to https only; a disk too small said
//! before anything is fetched; two downloads of one file; pause and cancel; bad references.

use super::cli::{parley, run, run_command, Run};
use parley_protocol::{DownloadInfo, DownloadState};
use parley_tests::open_core;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tiny model file: a sound GGUF header and `payload` bytes of weights.
pub(super) fn model_file(dir: &Path, payload: usize) -> PathBuf {
    let mut b = super::cli_models::gguf("llama");
    b.extend((0..payload).map(|i| (i * 7 % 251) as u8));
    let path = dir.join("source.gguf");
    std::fs::write(&path, b).unwrap();
    path
}

pub(super) struct Hub {
    child: Child,
    pub(super) url: String,
    log: PathBuf,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hub {
    pub(super) fn start(dir: &Path, file: &Path, faults: &[&str]) -> Hub {
        let log = tempfile::Builder::new()
            .prefix("hub-")
            .suffix(".log")
            .tempfile_in(dir)
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hub/fake_hub.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--file")
            .arg(format!("test/tiny:tiny.gguf={}", file.display()))
            .arg("--file")
            .arg(format!("test/tiny:deep/er.gguf={}", file.display()))
            .arg("--log")
            .arg(&log)
            .args(faults)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the fake hub");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(
            port.parse::<u16>().is_ok(),
            "the hub did not start: {line:?}"
        );
        Hub {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub(super) fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

async fn pull(data: &Path, hub: &Hub, reference: &str) -> Run {
    let r = run(data, &["models", "hub", &hub.url]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    run(data, &["models", "pull", reference]).await
}

/// The Range headers the hub was sent, in order.
pub(super) fn ranges(hub: &Hub) -> Vec<String> {
    hub.requests()
        .iter()
        .filter_map(|q| q["range"].as_str().map(str::to_owned))
        .collect()
}

fn partials(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data.join("models/.partial"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "part"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_download_is_verified_added_resumed_after_a_cut_and_removed() {
    let files = tempfile::tempdir().unwrap();
    let source = model_file(files.path(), 3 * 1024 * 1024);
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    let hub = Hub::start(files.path(), &source, &[]);
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let dest = d.join("models/test/tiny/tiny.gguf");
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(&source).unwrap()
    );
    let v: serde_json::Value =
        serde_json::from_str(&run(d, &["models", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(v["installed"][0]["name"], "tiny");
    assert_eq!(v["installed"][0]["source"], "download");
    assert!(
        hub.requests().iter().all(|q| q["authorization"].is_null()),
        "no credential is sent"
    );
    // Pulled again: refused before anything is fetched, the installed file kept.
    let before = hub.requests().len();
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert!(
        r.stderr.contains("already downloaded, as \"tiny\""),
        "{}",
        r.stderr
    );
    assert_eq!(hub.requests().len(), before, "nothing fetched");
    assert!(dest.is_file());
    // A file in a folder of the repository, its name taken: refused before it is fetched, then
    // named otherwise.
    let r = run(
        d,
        &["models", "pull", "test/tiny:deep/er.gguf", "--name", "TINY"],
    )
    .await;
    assert!(
        r.stderr.contains("already installed. Pick another name"),
        "{}",
        r.stderr
    );
    assert_eq!(hub.requests().len(), before);
    let r = pull(d, &hub, "test/tiny:deep/er.gguf").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(d.join("models/test/tiny/deep/er.gguf").is_file());
    // Removing a downloaded model deletes its file.
    let r = run(d, &["models", "remove", "tiny"]).await;
    assert!(r.stdout.contains("deleted"), "{}", r.stdout);
    assert!(!dest.exists());
    drop(hub);

    // Cut halfway: the partial is kept and never offered; the next pull resumes from it.
    let hub = Hub::start(files.path(), &source, &["--cut-once"]);
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("broke off"), "{}", r.stderr);
    let kept = partials(d);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let half = std::fs::metadata(&kept[0]).unwrap().len();
    assert!(half > 0 && half < 3 * 1024 * 1024, "{half}");
    let listed = run(d, &["models", "list", "--json"]).await.stdout;
    assert!(
        !listed.contains("\"tiny\""),
        "a partial file is not a model: {listed}"
    );
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ranges(&hub),
        vec![format!("bytes={half}-")],
        "resumed where it stopped"
    );
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(&source).unwrap()
    );
    assert!(partials(d).is_empty());
}

#[tokio::test]
async fn wrong_bytes_redirects_room_and_references_are_refused_with_a_sentence() {
    let files = tempfile::tempdir().unwrap();
    let source = model_file(files.path(), 256 * 1024);
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    // The bytes differ from the hub's checksum: refused, deleted, nothing installed.
    let hub = Hub::start(files.path(), &source, &["--wrong"]);
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert!(
        r.stderr.contains("does not match the hub's checksum"),
        "{}",
        r.stderr
    );
    assert!(partials(d).is_empty());
    assert!(!d.join("models/test/tiny/tiny.gguf").exists());
    drop(hub);

    // Redirected to plain http elsewhere: not followed. Within the hub: followed.
    let other = Hub::start(files.path(), &source, &[]);
    let hub = Hub::start(files.path(), &source, &["--redirect", &other.url]);
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert!(
        r.stderr
            .contains("neither the hub itself nor an https address"),
        "{}",
        r.stderr
    );
    assert!(other.requests().is_empty(), "nothing was sent there");
    drop(hub);
    let hub = Hub::start(files.path(), &source, &["--redirect", "self"]);
    let r = pull(d, &hub, "test/tiny:tiny.gguf").await;
    assert_eq!(
        r.code, 0,
        "a redirect within the hub is followed: {}",
        r.stderr
    );
    assert!(hub
        .requests()
        .iter()
        .any(|q| q["path"].as_str().unwrap().starts_with("/files/")));
    assert_eq!(run(d, &["models", "remove", "tiny"]).await.code, 0);

    // A file larger than the disk's free space: said before anything is fetched.
    let huge = Hub::start(files.path(), &source, &["--lie-size", "9000000000000000"]);
    let r = pull(d, &huge, "test/tiny:tiny.gguf").await;
    assert!(r.stderr.contains("not enough disk space"), "{}", r.stderr);
    assert!(huge
        .requests()
        .iter()
        .all(|q| !q["path"].as_str().unwrap().contains("resolve")));

    // References that are not a hub file, and a repository or file the hub does not have.
    for (reference, says) in [
        ("nope", "owner/repo:file.gguf"),
        ("a/b", "owner/repo:file.gguf"),
        ("a/b/c:x.gguf", "not a repository"),
        ("../b:x.gguf", "not a repository"),
        ("a b/c:x.gguf", "not a repository"),
        ("a/b:../x.gguf", "not a file name"),
        ("a/b:/etc/x.gguf", "not a file name"),
        ("a/b:x.bin", "not a GGUF file"),
        ("test/none:x.gguf", "no such repository"),
        ("test/tiny:missing.gguf", "has no file named"),
    ] {
        let r = pull(d, &hub, reference).await;
        assert_eq!(r.code, 1, "{reference}");
        assert!(r.stderr.contains(says), "{reference}: {}", r.stderr);
    }
    for (address, says) in [
        ("ftp://mirror.example", "not an http or https address"),
        ("http://u:pw@127.0.0.1:9/hub", "user name or password"),
        ("https://mirror.example/hf?token=x", "without ? or #"),
        ("not a url", "not an http or https address"),
    ] {
        let r = run(d, &["models", "hub", address]).await;
        assert!(r.stderr.contains(says), "{address}: {}", r.stderr);
    }
    let v: serde_json::Value =
        serde_json::from_str(&run(d, &["models", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(v["installed"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_downloads_of_a_file_pause_resume_and_cancel() {
    let files = tempfile::tempdir().unwrap();
    let source = model_file(files.path(), 4 * 1024 * 1024);
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let hub = Hub::start(files.path(), &source, &["--slow"]);
    assert_eq!(run(d, &["models", "hub", &hub.url]).await.code, 0);

    // A second process asking for the file while the first downloads it is told so.
    let mut first = parley(d);
    first
        .args(["models", "pull", "test/tiny:tiny.gguf"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut first = first.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while partials(d).is_empty() {
        assert!(Instant::now() < deadline, "the first download never began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = run_command(parley(d), &["models", "pull", "test/tiny:tiny.gguf"]).await;
    assert!(
        r.stderr.contains("already being downloaded"),
        "{}",
        r.stderr
    );
    first.kill().await.unwrap();
    let _ = first.wait().await;

    // In the window's way: started, paused (kept), resumed to the end; then one cancelled.
    let core = open_core(d, Default::default()).await;
    let models = core.models();
    models.start_download("test/tiny:tiny.gguf").await.unwrap();
    let err = models
        .start_download("test/tiny:tiny.gguf")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already being downloaded"),
        "{err}"
    );
    // Waits until the download `id` is in a state `ok` accepts; returns it.
    let until = |id: &'static str, ok: fn(&DownloadInfo) -> bool| {
        let m = models.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let all = m.downloads();
                if let Some(d) = all.iter().find(|x| x.id == id && ok(x)) {
                    return d.clone();
                }
                assert!(Instant::now() < deadline, "{id} never got there: {all:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    const TINY: &str = "test/tiny:tiny.gguf";
    let running = until(TINY, |d| d.state == DownloadState::Running && d.done > 0).await;
    assert!(running.total > running.done, "{running:?}");
    assert!(models.pause_download("test/tiny:tiny.gguf"));
    let paused = until(TINY, |d| d.state == DownloadState::Paused).await;
    assert!(paused.done < paused.total, "{paused:?}");
    assert_eq!(partials(d).len(), 1, "what arrived is kept");
    models.start_download("test/tiny:tiny.gguf").await.unwrap();
    let done = until(TINY, |d| d.state == DownloadState::Done).await;
    assert_eq!(done.message.as_deref(), Some("tiny"));
    assert_eq!(models.list().await.unwrap().installed.len(), 1);

    models
        .start_download("test/tiny:deep/er.gguf")
        .await
        .unwrap();
    until("test/tiny:deep/er.gguf", |d| d.done > 0).await;
    assert!(models.cancel_download("test/tiny:deep/er.gguf"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !partials(d).is_empty() || models.downloads().iter().any(|x| x.id.contains("deep")) {
        assert!(
            Instant::now() < deadline,
            "a cancelled download left {:?}",
            partials(d)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
