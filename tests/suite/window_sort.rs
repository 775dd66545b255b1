//! Real window: the chat list's order is chosen in the sidebar — recent activity, newest first
//! or title A–Z, grouped to match — and remembered after a relaunch.

use super::window::*;
use parley_tests::*;

async fn titles(s: &parley_tests::webdriver::Session) -> Vec<String> {
    s.texts("[data-testid=session-title]").await
}

/// Waits (5 s) until the list shows `want`, in that order.
async fn wait_titles(s: &parley_tests::webdriver::Session, want: &[&str]) {
    for _ in 0..50 {
        if titles(s).await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(titles(s).await, want);
}

async fn choose(s: &parley_tests::webdriver::Session, sort: &str) {
    s.wait_for("[data-testid=chat-sort]").await;
    s.script(&format!(
        "const el = document.querySelector('[data-testid=chat-sort]'); el.value = '{sort}'; el.dispatchEvent(new Event('change', {{ bubbles: true }}));"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_the_list_is_sorted_as_chosen_and_the_order_is_remembered() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    for q in ["cherry", "apple", "Banana"] {
        server.push(Reply::sse(text_answer(&["ok"], 0)));
        cli(data.path(), &["ask", q]);
    }
    let s = launch(&e, data.path()).await;
    s.wait_count("[data-testid=session-item]", 3).await;
    wait_titles(&s, &["Banana", "apple", "cherry"]).await;

    choose(&s, "title").await;
    wait_titles(&s, &["apple", "Banana", "cherry"]).await;
    let groups = s.texts("[data-testid=chat-group]").await;
    assert_eq!(groups, ["A", "B", "C"]);
    shot(&s, &e, "sort-01-title").await;
    s.quit().await;

    // Remembered: the next start lists them by title at once.
    let s = launch(&e, data.path()).await;
    s.wait_count("[data-testid=session-item]", 3).await;
    wait_titles(&s, &["apple", "Banana", "cherry"]).await;
    let chosen = s
        .script("return document.querySelector('[data-testid=chat-sort]').value")
        .await;
    assert_eq!(chosen, serde_json::json!("title"));
    choose(&s, "created").await;
    wait_titles(&s, &["Banana", "apple", "cherry"]).await;
    s.quit().await;
}
