//! Real window: Settings → Privacy lists the requests Parley made (the chat's, with its host
//! and cause, not its text); Settings → About names the version and the real folders, copies diagnostics
//! that carry no address, key or message, and shows the licenses (or says where they come
//! from); the log file beside the data folder records what happened without message text until
//! "Log details" is turned on, and then with it.

use super::window::*;
use parley_tests::*;

fn log(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("logs/parley.log")).unwrap_or_default()
}

/// Waits (up to 10 s) until the log holds `text`.
async fn wait_log(data: &std::path::Path, text: &str) -> String {
    for _ in 0..100 {
        let l = log(data);
        if l.contains(text) {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the log never said {text:?}:\n{}", log(data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_about_shows_the_folders_and_the_log_keeps_messages_out_until_asked() {
    let e = env();
    let (data, server, s) = launch_with_local(&e).await;
    let data = data.path();
    wait_log(data, "window painted").await;

    // A message: the log says a turn completed, never what was said.
    server.push(Reply::sse(text_answer(&["Noted."], 0)));
    s.click_css("[data-testid=new-session]").await;
    send(&s, "MARKER-one-4f2a").await;
    let l = wait_log(data, "completed").await;
    assert!(!l.contains("MARKER-one-4f2a"), "{l}");

    // About: the real folders, and diagnostics with kinds and counts only.
    s.click_css("[data-testid=settings-button]").await;
    let version = s
        .wait_text("[data-testid=about-version]", 10, |t| !t.is_empty())
        .await;
    assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
    let shown = s
        .wait_text("[data-testid=about-data-dir]", 10, |t| !t.is_empty())
        .await;
    assert_eq!(shown, data.display().to_string());
    let logs = s
        .wait_text("[data-testid=about-log-dir]", 10, |t| !t.is_empty())
        .await;
    assert_eq!(logs, data.join("logs").display().to_string());
    s.click_css("[data-testid=copy-diagnostics]").await;
    let diag = s
        .wait_text("[data-testid=diagnostics]", 10, |t| t.contains("Providers"))
        .await;
    assert!(diag.contains("OpenaiCompatible × 1"), "{diag}");
    let port = server.base_url();
    for leak in [port.as_str(), "local", "MARKER", "test-model"] {
        assert!(!diag.contains(leak), "diagnostics leak {leak:?}: {diag}");
    }
    // Privacy: the chat's request, with its host and cause; never what was said.
    let row = "[data-testid=ledger-row][data-purpose=chat]";
    s.wait_for(row).await;
    let table = s
        .wait_text("[data-testid=ledger-table]", 10, |t| {
            t.contains("chat answer")
        })
        .await;
    assert!(
        table.contains(&format!("127.0.0.1:{}", server.port())),
        "{table}"
    );
    assert!(!table.contains("MARKER"), "{table}");
    let summary = s
        .wait_text("[data-testid=ledger-summary]", 10, |t| !t.is_empty())
        .await;
    assert!(summary.contains("request"), "{summary}");
    s.click_css("[data-testid=show-notices]").await;
    s.wait_for("[data-testid=notices], [data-testid=about-note]")
        .await;
    shot(&s, &e, "about-01-settings").await;

    // Log details on (General → Save): the next message's text is in the log, and About says so.
    s.click_css("[data-testid=log-details]").await;
    s.click_css("[data-testid=general-save]").await;
    s.wait_text("[data-testid=general-note]", 10, |t| t == "Saved.")
        .await;
    s.click_css("[data-testid=settings-close]").await;
    server.push(Reply::sse(text_answer(&["Noted again."], 0)));
    send(&s, "MARKER-two-9b3c").await;
    wait_log(data, "MARKER-two-9b3c").await;
    assert!(
        !log(data).contains("MARKER-one-4f2a"),
        "what was sent before stays out"
    );
    s.quit().await;
}
