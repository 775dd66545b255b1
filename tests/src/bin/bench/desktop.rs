//! The desktop figures: cold start to first paint and idle memory, next to a bare Tauri window
//! built the same way; provider byte → DOM latency while streaming. Needs a display and
//! tauri-driver (`cargo xtask bench` provides both).

use super::*;
use parley_tests::webdriver::Session;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

pub(crate) fn var(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run `cargo xtask bench`"))
}

/// PSS (kB) of a process and all its descendants (the app plus its WebKit processes).
pub(crate) fn pss_tree(root: u32) -> u64 {
    let mut parent = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name may contain spaces: fields after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.to_owned()) else {
            continue;
        };
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        parent.insert(pid, ppid);
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// Launches `bin`, waits for its first-paint signal, idles, measures memory, then ends it.
pub(crate) async fn launch(bin: &Path, args: &[String], idle: Duration) -> (Duration, u64, usize) {
    let ready = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    std::fs::remove_file(&ready).ok();
    let t0 = Instant::now();
    let mut child = std::process::Command::new(bin)
        .args(args)
        .env("PARLEY_READY_FILE", &ready)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while !ready.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{} never painted",
            bin.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let paint = t0.elapsed();
    tokio::time::sleep(idle).await;
    let pss = pss_tree(child.id());
    let procs = {
        let out = std::process::Command::new("pgrep")
            .arg("-g")
            .arg(child.id().to_string())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let _ = std::process::Command::new("kill")
        .arg("--")
        .arg(format!("-{}", child.id()))
        .status();
    let _ = child.wait();
    (paint, pss, procs)
}

/// Records when each stamped delta (⟦ms since the epoch⟧, `Step::StampedText`) reaches the
/// DOM, in `window.__lat` (same clock as the server's).
pub(crate) const STAMPS_JS: &str = r#"
window.__lat = []; const seen = new Set();
new MutationObserver(() => {
  const t = performance.timeOrigin + performance.now();
  const els = document.querySelectorAll('[data-testid=assistant-text]');
  const el = els[els.length - 1]; if (!el) return;
  for (const m of el.textContent.matchAll(/⟦([0-9.]+)⟧/g)) {
    if (!seen.has(m[1])) { seen.add(m[1]); window.__lat.push(t - parseFloat(m[1])); }
  }
}).observe(document.body, { subtree: true, childList: true, characterData: true });
return true;"#;

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub(crate) fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn data_dir_with_chats(server: Option<&MockServer>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let core = bench_core(dir.path()).await;
    for i in 0..50 {
        core.chats()
            .create_chat(Some(format!("Benchmark chat {i}")))
            .await
            .unwrap();
    }
    if let Some(server) = server {
        add_bench_provider(&core, server).await;
    }
    dir
}

async fn latency(app: &Path) -> Vec<f64> {
    let server = MockServer::start().await;
    let mut steps = Vec::new();
    for _ in 0..200 {
        steps.push(Step::StampedText);
        steps.push(Step::Sleep(Duration::from_millis(20)));
    }
    steps.push(parley_tests::ev_finish("stop"));
    steps.push(parley_tests::ev_done());
    // The window fetches model lists when it likes: answer those outside the script.
    server.answer_gets(Reply::json(200, r#"{"data":[{"id":"bench-model"}]}"#));
    server.push(Reply::sse(steps));
    let dir = data_dir_with_chats(Some(&server)).await;
    let s = Session::start(
        &var("PARLEY_WEBDRIVER_URL"),
        app,
        &["--data-dir".into(), dir.path().display().to_string()],
    )
    .await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    s.wait_for("[data-testid=composer-input]").await;
    s.script(STAMPS_JS).await;
    s.script(
        "const t = document.querySelector('[data-testid=composer-input]'); t.value = 'stream please'; t.dispatchEvent(new Event('input', { bubbles: true })); return true;",
    )
    .await;
    s.click(&s.wait_for("[data-testid=send-button]").await)
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = s
            .script("return window.__lat.length")
            .await
            .as_u64()
            .unwrap_or(0);
        if n >= 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of 200 deltas reached the DOM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lat: Vec<f64> = serde_json::from_value(s.script("return window.__lat").await).unwrap();
    s.quit().await;
    lat
}

pub async fn run() {
    let app = PathBuf::from(var("PARLEY_DESKTOP_BIN"));
    let bare = PathBuf::from(var("PARLEY_BARE_BIN"));
    let runs = 5;
    let (mut app_paint, mut app_pss, mut bare_paint, mut bare_pss) =
        (vec![], vec![], vec![], vec![]);
    let mut procs = (0, 0);
    for _ in 0..runs {
        let (p, m, n) = launch(&bare, &[], Duration::from_secs(5)).await;
        bare_paint.push(p.as_secs_f64() * 1e3);
        bare_pss.push(m as f64 / 1024.0);
        procs.0 = n;
        let dir = data_dir_with_chats(None).await;
        let (p, m, n) = launch(
            &app,
            &["--data-dir".into(), dir.path().display().to_string()],
            Duration::from_secs(5),
        )
        .await;
        app_paint.push(p.as_secs_f64() * 1e3);
        app_pss.push(m as f64 / 1024.0);
        procs.1 = n;
    }
    let lat = latency(&app).await;
    let (bp, ap) = (median(bare_paint), median(app_paint));
    let (bm, am) = (median(bare_pss), median(app_pss));
    println!();
    println!("| desktop ({runs} runs, medians) | bare Tauri window | Parley | ratio |");
    println!("|---|---:|---:|---:|");
    println!("| start → first paint (Parley: of a 50-chat session list) | {bp:.0} ms | {ap:.0} ms | {:.2}× |", ap / bp);
    println!("| idle memory, PSS of all processes ({} / {} processes), 5 s after paint | {bm:.0} MiB | {am:.0} MiB | {:.2}× |", procs.0, procs.1, am / bm);
    println!();
    println!("| streaming, 200 deltas 20 ms apart | p50 | p95 | max |");
    println!("|---|---:|---:|---:|");
    println!(
        "| provider byte → DOM (server write → MutationObserver) | {:.1} ms | {:.1} ms | {:.1} ms |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        percentile(&lat, 1.0)
    );
}
