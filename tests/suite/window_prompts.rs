//! Real window: a prompt saved in Settings → Prompts (an unbalanced `{{` refused with a
//! sentence) is reached with `/` in the message box, keyboard only: filtered as typed, its
//! variables asked in a small form (an empty one named), the filled text put in the box to read,
//! then sent as written. A prompt added from the CLI meanwhile is offered too.

use super::window::*;
use parley_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_prompts_saved_in_settings_are_filled_from_slash_and_sent() {
    let e = env();
    let (data, server, s) = launch_with_local(&e).await;

    // Settings → Prompts: an unbalanced one is refused, a sound one saved.
    s.click_css("[data-testid=settings-button]").await;
    // Clicked once the sections above it have loaded and stopped moving, so the click lands on
    // it (the same race window_mcp's "New assistant" had).
    let new = "[data-testid=prompt-new]";
    s.wait_for("[data-testid=engine-status]").await;
    s.wait_for("[data-testid=assistant-new]:not([disabled])")
        .await;
    s.wait_still(new).await;
    s.click_css(new).await;
    let name = s.wait_for("[data-testid=prompt-name]").await;
    s.type_text(&name, "Summarise").await;
    let body = s.wait_for("[data-testid=prompt-body]").await;
    s.type_text(&body, "Summarise {{text} in bullets.").await;
    s.click_css("[data-testid=prompt-save]").await;
    s.wait_text("[data-testid=prompts-note]", 10, |t| {
        t.contains("not closed")
    })
    .await;
    s.clear(&body).await;
    s.type_text(&body, "Summarise {{text}} in {{count}} bullets.")
        .await;
    s.click_css("[data-testid=prompt-save]").await;
    s.wait_text("[data-testid=prompts-note]", 10, |t| {
        t.contains("variables: text, count")
    })
    .await;
    s.wait_count("[data-testid=prompt-row]", 1).await;
    shot(&s, &e, "prompts-01-settings").await;
    s.click_css("[data-testid=settings-close]").await;
    // One more, from the CLI (same database): the menu reads them as it opens.
    cli(
        data.path(),
        &[
            "prompts",
            "add",
            "Translate",
            "Translate into {{language}}: {{text}}",
        ],
    );

    // `/` in a new chat: filtered as typed, Enter takes it, the form asks for each variable.
    s.click_css("[data-testid=new-session]").await;
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "/").await;
    s.wait_count("[data-testid=prompt-item][data-kind=prompt]", 2)
        .await;
    s.type_text(&input, "sum").await;
    s.wait_count("[data-testid=prompt-item][data-kind=prompt]", 1)
        .await;
    shot(&s, &e, "prompts-02-menu").await;
    s.type_text(&input, "\u{E007}").await;
    let text = s.wait_for("[data-testid=prompt-arg][data-arg=text]").await;
    s.type_text(&text, "the quarterly report").await;
    s.type_text(&text, "\u{E007}").await;
    s.wait_text("[data-testid=prompt-error]", 10, |t| t.contains("count"))
        .await;
    let count = s.wait_for("[data-testid=prompt-arg][data-arg=count]").await;
    s.type_text(&count, "3").await;
    s.type_text(&count, "\u{E007}").await;
    s.wait_count("[data-testid=prompt-menu]", 0).await;
    let value = s
        .script("return document.querySelector('[data-testid=composer-input]').value")
        .await;
    assert_eq!(
        value,
        serde_json::json!("Summarise the quarterly report in 3 bullets.")
    );

    // Sent as it stands in the box.
    server.push(Reply::sse(text_answer(&["- One\n- Two\n- Three"], 0)));
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "\u{E007}").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t.contains("Three"))
        .await;
    let sent = server.received();
    let body = sent.last().unwrap().json();
    let last = body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["content"], "Summarise the quarterly report in 3 bullets.",
        "{body}"
    );
    shot(&s, &e, "prompts-03-sent").await;
    s.quit().await;
}
