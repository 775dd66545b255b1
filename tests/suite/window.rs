//! The real window: the built desktop app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver against a local scripted OpenAI-compatible server. `cargo xtask test` starts
//! Xvfb and the driver and sets the environment; in a plain `cargo test` these are ignored.
//! Every step saves a screenshot under target/e2e-shots/.

use parley_tests::webdriver::Session;
use parley_tests::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Env {
    pub(super) driver: String,
    pub(super) app: PathBuf,
    pub(super) shots: PathBuf,
}

pub(super) fn env() -> Env {
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

/// Starts the app on `data`. Background titles are off: a scripted server answers requests in
/// order, and a title request would take a reply meant for a turn (see `launch_titled`).
pub(super) async fn launch(e: &Env, data: &Path) -> Session {
    launch_with(e, data, &[]).await
}

/// [`launch`] with more arguments (the tests' hooks of an `e2e` build).
pub(super) async fn launch_with(e: &Env, data: &Path, more: &[String]) -> Session {
    let mut args = vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--e2e-no-titles".into(),
    ];
    args.extend_from_slice(more);
    Session::start(&e.driver, &e.app, &args).await
}

/// Starts the app on `data` with chats titled after their first answer, as users have it.
pub(super) async fn launch_titled(e: &Env, data: &Path) -> Session {
    Session::start(
        &e.driver,
        &e.app,
        &["--data-dir".into(), data.display().to_string()],
    )
    .await
}

/// Waits until the open chat holds `n` user messages. Counted from the transcript's own total:
/// the transcript is virtualized, so rows far off screen are not in the DOM.
pub(super) async fn wait_users(s: &Session, n: usize) {
    let want = n.to_string();
    s.wait_attr("[data-testid=transcript]", "data-user-messages", 10, |v| {
        v == want
    })
    .await;
}

pub(super) async fn shot(s: &Session, e: &Env, name: &str) {
    s.screenshot(&e.shots.join(format!("{name}.png"))).await;
}

/// Types a message into the composer and presses Enter.
pub(super) async fn send(s: &Session, text: &str) {
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, text).await;
    s.type_text(&input, "\u{E007}").await;
}

/// Makes the card window whose page shows `inner` the context of later calls. Rust opens each
/// approval and change card in a native window of its own (src-tauri/src/card/window.rs); the
/// driver sees it as another window. Returns its handle.
pub(super) async fn enter_card_window(s: &Session, inner: &str) -> String {
    for _ in 0..100 {
        for h in s.window_handles().await {
            if h == s.main_window() || !s.switch_window(&h).await {
                continue;
            }
            if !s.find_all(inner).await.is_empty() {
                return h;
            }
        }
        s.to_main().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let handles = s.window_handles().await;
    s.screenshot(&env().shots.join("no-card-window.png")).await;
    let waiting = s
        .texts("[data-testid=approval-waiting], [data-testid=change-waiting], [role=alert]")
        .await;
    panic!("no card window shows {inner}; windows: {handles:?}; the page says {waiting:?}");
}

/// Waits until no card window is open any more (only the main window is left).
pub(super) async fn wait_no_card_window(s: &Session) {
    for _ in 0..100 {
        if s.window_handles().await.len() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a card window stayed open: {:?}", s.window_handles().await);
}

/// The text of `testid` in the change card, read from inside its window.
pub(super) async fn card_text(s: &Session, testid: &str) -> String {
    enter_card_window(s, "[data-testid=change-dialog]").await;
    s.screenshot(&env().shots.join(format!("42-change-card-{testid}.png")))
        .await;
    let t = s
        .text(&s.wait_for(&format!("[data-testid={testid}]")).await)
        .await;
    s.to_main().await;
    t
}

/// Presses `change-confirm` or `change-cancel` in the change card of a provider change once it
/// is armed; back in the main window, waits until the card and its placeholder are gone.
pub(super) async fn answer_change(s: &Session, testid: &str) {
    enter_card_window(s, "[data-testid=change-dialog]").await;
    s.click(
        &s.wait_for(&format!("[data-testid={testid}]:not([disabled])"))
            .await,
    )
    .await;
    s.to_main().await;
    wait_no_card_window(s).await;
    s.wait_count("[data-testid=change-waiting]", 0).await;
}

pub(super) fn models_reply() -> Reply {
    Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"test-model","object":"model"}]}"#,
    )
}

/// A scripted server answering model lists, the provider "local" pointing at it (added through
/// the CLI), and the app started on that data folder.
pub(super) async fn launch_with_local(e: &Env) -> (tempfile::TempDir, MockServer, Session) {
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let s = launch(e, data.path()).await;
    (data, server, s)
}

/// Runs `parley` on the app's data folder (a second process on the same database); its stdout.
pub(super) fn cli(data: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(parley_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "parley {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Adds the provider through the CLI (same database), for scenarios that are not about settings.
pub(super) async fn add_provider_with_cli(data: &Path, server: &MockServer) {
    let out = tokio::process::Command::new(parley_bin())
        .args(["--data-dir"])
        .arg(data)
        .args([
            "providers",
            "add",
            "local",
            "--kind",
            "openai-compatible",
            "--base-url",
            &server.base_url(),
            "--model",
            "test-model",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_first_run_stream_stop_rename_and_relaunch() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    let mut answer = vec![
        ev_reasoning("Let me "),
        sleep_ms(300),
        ev_reasoning("think about it."),
    ];
    answer.extend(text_answer(&["Hello", " from", " Parley", "!"], 400));
    server.push(Reply::sse(answer));

    let s = launch(&e, data.path()).await;
    let empty = s.wait_for("[data-testid=empty-state]").await;
    assert!(s.text(&empty).await.contains("add a provider"));
    // The welcome says where the chats and the keys live: this data folder, the keychain.
    let dir = s
        .wait_text("[data-testid=welcome-data-dir]", 10, |t| !t.is_empty())
        .await;
    assert_eq!(dir, data.path().display().to_string());
    let where_ = s
        .wait_text("[data-testid=welcome-where]", 10, |t| {
            t.contains("keychain")
        })
        .await;
    assert!(where_.contains("never to a file"), "{where_}");
    shot(&s, &e, "01-first-start-empty-state").await;
    // The strict CSP is in force: an injected inline script does not run.
    let blocked = s
        .script("const el = document.createElement('script'); el.textContent = 'window.__inline = 1'; document.body.appendChild(el); return window.__inline === undefined;")
        .await;
    assert_eq!(blocked, json!(true), "inline script ran despite the CSP");

    // Add a provider in settings, check the connection, save.
    s.click(&s.wait_for("[data-testid=empty-add-provider]").await)
        .await;
    s.wait_for("[data-testid=provider-form]").await;
    s.type_text(&s.wait_for("[data-testid=provider-name]").await, "local")
        .await;
    let url = s.wait_for("[data-testid=provider-base-url]").await;
    s.clear(&url).await;
    s.type_text(&url, &server.base_url()).await;
    s.click(&s.wait_for("[data-testid=provider-test]").await)
        .await;
    s.wait_text("[data-testid=connection-result]", 10, |t| {
        t.contains("Connected: 1 model available.")
    })
    .await;
    let model = s.wait_for("[data-testid=provider-model]").await;
    assert_eq!(
        s.script("return document.querySelector('[data-testid=provider-model]').value")
            .await,
        json!("test-model")
    );
    let _ = model;
    shot(&s, &e, "02-settings-provider-added").await;
    s.click(&s.wait_for("[data-testid=provider-save]").await)
        .await;
    // Saving only proposes the change: it is made once confirmed in the change card.
    s.wait_for("[data-testid=change-waiting]").await;
    shot(&s, &e, "02b-settings-confirm-card").await;
    assert!(s.find_all("[data-testid=provider-item]").await.is_empty());
    answer_change(&s, "change-confirm").await;
    s.wait_for("[data-testid=provider-item]").await;
    s.click(&s.wait_for("[data-testid=settings-close]").await)
        .await;

    // A new chat; the answer streams in, reasoning first.
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    send(&s, "Say hello").await;
    s.wait_text("[data-testid=user-text]", 5, |t| t == "Say hello")
        .await;
    s.wait_text("[data-testid=reasoning]", 10, |t| t.contains("Let me"))
        .await;
    let partial = s
        .wait_text("[data-testid=assistant-text]", 10, |t| {
            t.starts_with("Hello")
        })
        .await;
    assert!(
        !partial.contains("Parley!"),
        "no intermediate state seen: {partial:?}"
    );
    shot(&s, &e, "03-streaming").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "Hello from Parley!"
    })
    .await;
    s.wait_text("[data-testid=usage]", 5, |t| {
        t.contains("10 in · 4 out tokens")
    })
    .await;
    // Reasoning ends collapsed but kept.
    assert_eq!(
        s.script("return document.querySelector('[data-testid=reasoning]').open")
            .await,
        json!(false)
    );
    s.wait_text("[data-testid=session-title]", 5, |t| t == "Say hello")
        .await;
    shot(&s, &e, "04-answer-complete").await;
    // Readable small and large.
    s.set_size(800, 600).await;
    let fits = s.script("return document.documentElement.scrollWidth <= window.innerWidth && !!document.querySelector('[data-testid=composer-input]').getBoundingClientRect().height").await;
    assert_eq!(fits, json!(true), "the layout overflows at 800x600");
    shot(&s, &e, "04b-800x600").await;
    s.set_size(1920, 1080).await;
    shot(&s, &e, "04c-1920x1080").await;
    // The size the user leaves the window at is remembered across restarts.
    s.set_size(1000, 700).await;
    tokio::time::sleep(Duration::from_millis(800)).await; // the app saves its layout after 400 ms

    // Stop mid-stream: the partial text stays, the status says stopped, sending again works.
    server.push(Reply::sse(vec![
        ev_text("Once upon a time"),
        sleep_ms(30_000),
        ev_text(" never"),
    ]));
    server.push(Reply::sse(text_answer(&["Fine."], 0)));
    send(&s, "Tell me a long story").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "Once upon a time"
    })
    .await;
    s.click(&s.wait_for("[data-testid=stop-button]").await)
        .await;
    s.wait_text("[data-testid=turn-status]", 5, |t| t.contains("Stopped"))
        .await;
    assert_eq!(
        s.wait_text("[data-testid=assistant-text]", 1, |_| true)
            .await,
        "Once upon a time"
    );
    shot(&s, &e, "05-stopped").await;
    send(&s, "Short one, please").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "Fine.")
        .await;

    // Rename inline.
    s.click(&s.wait_for("[data-testid=session-rename]").await)
        .await;
    // The input opens with the old title selected: typing replaces it, Enter saves.
    let input = s.wait_for("[data-testid=session-rename-input]").await;
    s.type_text(&input, "Story time\u{E007}").await;
    s.wait_text("[data-testid=session-title]", 5, |t| t == "Story time")
        .await;
    s.quit().await;

    // Relaunch: the chat, its name and the stopped partial answer are all there.
    let s = launch(&e, data.path()).await;
    s.wait_text("[data-testid=session-title]", 10, |t| t == "Story time")
        .await;
    assert_eq!(
        s.window_size().await,
        (1000, 700),
        "window size not remembered"
    );
    wait_users(&s, 3).await;
    let texts = s
        .script("return [...document.querySelectorAll('[data-testid=message-assistant]')].map(m => [m.dataset.status, m.querySelector('[data-testid=assistant-text]')?.textContent.trim()])")
        .await;
    assert_eq!(
        texts,
        json!([
            ["completed", "Hello from Parley!"],
            ["stopped", "Once upon a time"],
            ["completed", "Fine."]
        ])
    );
    shot(&s, &e, "06-after-relaunch").await;

    // Single instance: a second launch hands over to the running window and exits.
    let second = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::process::Command::new(&e.app)
            .arg("--data-dir")
            .arg(data.path())
            .kill_on_drop(true)
            .status(),
    )
    .await
    .expect("a second launch kept running instead of handing over to the first window")
    .unwrap();
    assert!(second.success(), "{second:?}");
    s.wait_text("[data-testid=session-title]", 5, |t| t == "Story time")
        .await;
    s.quit().await;
}
