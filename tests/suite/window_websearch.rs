//! Real window: web search is chosen in Settings → Web search and confirmed in the change card;
//! a chat without a workspace then has the web_search tool, asks before searching, and the
//! answer lists its sources as links (a hostile title shown as text, a `javascript:` result
//! dropped) that open only through the checked-link dialog.

use super::window::*;
use parley_tests::*;

fn call(id: &str, args: &str) -> Reply {
    let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": id, "type": "function", "function": {"name": "web_search", "arguments": args}}
    ]}}]});
    Reply::sse(vec![sse_data(&chunk), ev_finish("tool_calls"), ev_done()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_web_search_is_chosen_in_a_card_and_answers_show_sources() {
    let e = env();
    let searx = MockServer::start().await;
    searx.answer_gets(Reply::json(
        200,
        &serde_json::json!({"results": [
            {"title": "<img src=x onerror=alert(1)>Parley <b>release</b> notes", "url": "https://news.example/parley", "content": "Out today."},
            {"title": "Click me", "url": "javascript:alert(1)", "content": "dropped"},
            {"title": "Second \u{202E}source", "url": "https://other.example/a", "content": ""}
        ]})
        .to_string(),
    ));
    let (_data, server, s) = launch_with_local(&e).await;
    // Settings → Web search: SearXNG at the loopback server, confirmed in the change card.
    s.click_css("[data-testid=settings-button]").await;
    let url = s.wait_for("[data-testid=websearch-url]").await;
    s.script("document.querySelector('[data-testid=websearch-settings]').scrollIntoView()")
        .await;
    s.type_text(&url, &searx.base_url()).await;
    s.click_css("[data-testid=websearch-save]").await;
    answer_change(&s, "change-confirm").await;
    s.wait_attr("[data-testid=websearch-settings]", "data-on", 10, |v| {
        v == "searxng"
    })
    .await;
    s.click_css("[data-testid=websearch-test]").await;
    s.wait_text("[data-testid=websearch-hits]", 10, |t| {
        t.contains("Parley release notes")
    })
    .await;
    shot(&s, &e, "websearch-01-settings").await;
    s.click_css("[data-testid=settings-close]").await;

    // A chat without a workspace: the model searches after the person allows it.
    server.push(call("s1", r#"{"query":"parley release"}"#));
    server.push(Reply::sse(text_answer(&["Parley shipped today [1]."], 0)));
    s.click_css("[data-testid=new-session]").await;
    s.wait_text("[data-testid=workspace-status]", 5, |t| {
        t.contains("only web search")
    })
    .await;
    send(&s, "What's new with Parley?").await;
    enter_card_window(&s, "[data-testid=approval-dialog]").await;
    s.click(
        &s.wait_for("[data-testid=approval-allow-once]:not([disabled])")
            .await,
    )
    .await;
    s.to_main().await;
    s.wait_text("[data-testid=transcript]", 10, |t| {
        t.contains("Parley shipped today")
    })
    .await;
    let links = s.texts("[data-testid=source-link]").await;
    assert_eq!(
        links,
        vec!["Parley release notes", "Second ⟦U+202E⟧source"],
        "{links:?}"
    );
    assert_eq!(s.find_all("[data-testid=sources] img").await.len(), 0);
    shot(&s, &e, "websearch-02-sources").await;
    // A source opens only through the checked-link dialog, which names its host.
    s.wait_still("[data-testid=source-link]").await;
    s.click_css("[data-testid=source-link]").await;
    s.wait_text("[data-testid=link-host]", 5, |t| t == "news.example")
        .await;
    assert_eq!(searx.gets().len(), 2, "the test and the one allowed search");
    s.quit().await;
}
