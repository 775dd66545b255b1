//! The real window: the built desktop app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver. `cargo xtask test` starts both and sets the environment; in a plain
//! `cargo test` these are `#[ignore]`d.

use parley_tests::webdriver::Session;
use std::path::PathBuf;

struct Env {
    driver: String,
    app: PathBuf,
    shots: PathBuf,
}

fn env() -> Env {
    let var = |k: &str| {
        std::env::var(k)
            .unwrap_or_else(|_| panic!("{k} is not set: run this through `cargo xtask test`"))
    };
    Env {
        driver: var("PARLEY_WEBDRIVER_URL"),
        app: PathBuf::from(var("PARLEY_DESKTOP_BIN")),
        shots: PathBuf::from(var("PARLEY_E2E_SHOTS")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_first_start_shows_the_empty_state() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let s = Session::start(
        &e.driver,
        &e.app,
        &["--data-dir".into(), data.path().display().to_string()],
    )
    .await;
    let h1 = s.wait_for("h1").await;
    assert_eq!(s.text(&h1).await, "Parley");
    let hint = s.wait_for("[data-testid=cli-hint]").await;
    assert!(s.text(&hint).await.contains("parley ask"));
    assert_eq!(s.find_all("li").await.len(), 3);
    // The strict CSP is in force: inline script is refused.
    let blocked = s
        .script("const el = document.createElement('script'); el.textContent = 'window.__inline = 1'; document.body.appendChild(el); return window.__inline === undefined;")
        .await;
    assert_eq!(
        blocked,
        serde_json::Value::Bool(true),
        "inline script ran despite the CSP"
    );
    s.screenshot(&e.shots.join("01-first-start.png")).await;
    s.quit().await;
    // The app opened its database in the data dir it was given.
    assert!(data.path().join("parley.db").exists());
}
