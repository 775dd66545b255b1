//! A disk that fills while a model downloads (a small tmpfs as the models' folder, where this
//! machine allows mounting one): the download stops with a sentence saying so, what arrived is
//! kept and never offered as a model, and once there is room again the next pull resumes from
//! where it stopped and verifies the whole file.

use super::cli::{parley, run};
use super::durability::Mount;
use super::models_pull::{model_file, ranges, Hub};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn partial(models: &Path) -> Option<(PathBuf, u64)> {
    let dir = std::fs::read_dir(models.join(".partial")).ok()?;
    dir.flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "part"))
        .map(|p| {
            let n = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            (p, n)
        })
}

/// Writes `path` until the disk refuses; returns how much went in.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5au8; 256 * 1024];
    let mut n = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(k) => n += k as u64,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "{e}");
                break;
            }
        }
    }
    n
}

#[tokio::test]
async fn a_disk_that_fills_during_a_download_stops_it_keeps_what_arrived_and_resumes() {
    let files = tempfile::tempdir().unwrap();
    let size = 4 * 1024 * 1024;
    let source = model_file(files.path(), size);
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let models = d.join("models");
    // Room for the file and the margin the download keeps free (64 MB), and little more.
    std::fs::create_dir_all(&models).unwrap();
    let Some(_disk) = Mount::tmpfs(&models, "72m") else {
        return;
    };
    let hub = Hub::start(files.path(), &source, &["--slow"]);
    assert_eq!(run(d, &["models", "hub", &hub.url]).await.code, 0);

    let mut pull = parley(d);
    pull.args(["models", "pull", "test/tiny:tiny.gguf"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let pull = pull.spawn().unwrap();
    // Some of it arrived: then something else takes the rest of the disk.
    let deadline = Instant::now() + Duration::from_secs(20);
    while partial(&models).is_none_or(|(_, n)| n < 256 * 1024) {
        assert!(Instant::now() < deadline, "the download never began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let filler = models.join("filler");
    assert!(fill(&filler) > 0);
    let out = pull.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the disk is full"), "{stderr}");
    assert!(stderr.contains("what arrived is kept"), "{stderr}");
    let (_, kept) = partial(&models).expect("what arrived is kept");
    assert!(kept > 0 && kept < size as u64, "{kept}");
    let listed = run(d, &["models", "list", "--json"]).await.stdout;
    assert!(!listed.contains("\"tiny\""), "not a model: {listed}");

    // A pull while the disk is still full is refused before anything is fetched.
    let before = hub.requests().len();
    let r = run(d, &["models", "pull", "test/tiny:tiny.gguf"]).await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("not enough disk space"), "{}", r.stderr);
    assert!(
        hub.requests()[before..]
            .iter()
            .all(|q| !q["path"].as_str().unwrap_or("").contains("/resolve/")),
        "nothing downloaded"
    );

    // Room again: it resumes from what was kept, and the whole file is verified.
    std::fs::remove_file(&filler).unwrap();
    let (_, kept) = partial(&models).expect("still kept");
    let r = run(d, &["models", "pull", "test/tiny:tiny.gguf"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ranges(&hub),
        vec![format!("bytes={kept}-")],
        "resumed where it stopped"
    );
    assert_eq!(
        std::fs::read(models.join("test/tiny/tiny.gguf")).unwrap(),
        std::fs::read(&source).unwrap()
    );
    assert!(partial(&models).is_none());
}
