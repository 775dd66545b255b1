//! The context gauge in the real window: beside the composer it shows the next request against
//! the model's window and where that figure came from; a message too big for the model is
//! warned about before anything is sent, and goes out only on "Send anyway".

use super::window::{env, launch_with_local, send, shot, wait_users};
use parley_tests::*;
use serde_json::json;

/// Requests the scripted server got to answer (model lists are GETs).
fn posts(server: &MockServer) -> usize {
    server
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

/// Puts `text` in the composer as if pasted (one input event, not a key per character).
async fn paste(s: &parley_tests::webdriver::Session, text: &str) {
    let done = s
        .script_args(
            "const t = document.querySelector('[data-testid=composer-input]'); t.focus(); t.value = arguments[0]; t.dispatchEvent(new Event('input', { bubbles: true })); return t.value.length;",
            &[json!(text)],
        )
        .await;
    assert_eq!(done, json!(text.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_gauge_warns_before_a_message_too_big_for_the_model() {
    let e = env();
    let (_data, server, s) = launch_with_local(&e).await;
    server.push(Reply::sse(text_answer(&["Short answer."], 0)));
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    send(&s, "A short question").await;
    wait_users(&s, 1).await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t.contains("Short answer")
    })
    .await;

    // The model list states no window and Parley does not know "test-model": the default,
    // and the gauge says so.
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "next").await;
    let gauge = s
        .wait_text("[data-testid=context-gauge]", 10, |t| t.contains("/ 8.2k"))
        .await;
    assert!(!gauge.contains("left out"), "{gauge}");
    let title = s
        .script("return document.querySelector('[data-testid=context-gauge]').title")
        .await;
    let title = title.as_str().unwrap_or_default().to_owned();
    assert!(title.contains("cautious default"), "{title}");
    assert!(title.contains("8,192-token context window"), "{title}");
    shot(&s, &e, "gauge-01-default-window").await;

    // A pasted 60 KB text: far over what the model takes. Enter warns; nothing is sent.
    let before = posts(&server);
    paste(&s, &"All work and no play. ".repeat(2_800)).await;
    s.wait_text("[data-testid=context-gauge]", 10, |t| {
        t.contains("left out")
    })
    .await;
    s.type_text(&input, "\u{E007}").await;
    let warning = s
        .wait_text("[data-testid=context-warning]", 10, |t| t.contains("alone"))
        .await;
    assert!(warning.contains("Shorten it"), "{warning}");
    shot(&s, &e, "gauge-02-too-big-warned").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(posts(&server), before, "nothing went to the provider");
    wait_users(&s, 1).await;

    // Keep editing: the warning goes, the text stays.
    s.click(&s.wait_for("[data-testid=context-keep-editing]").await)
        .await;
    s.wait_count("[data-testid=context-warning]", 0).await;
    let kept = s
        .script("return document.querySelector('[data-testid=composer-input]').value.length")
        .await;
    assert_eq!(kept, json!(61_600));

    // Send anyway: it goes out (and the turn fits the rest around it).
    server.push(Reply::sse(text_answer(&["Read it all."], 0)));
    s.click(&s.wait_for("[data-testid=send-button]").await)
        .await;
    s.click(&s.wait_for("[data-testid=context-send-anyway]").await)
        .await;
    wait_users(&s, 2).await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t.contains("Read it all")
    })
    .await;
    assert_eq!(posts(&server), before + 1);
    s.wait_count("[data-testid=context-warning]", 0).await;
    shot(&s, &e, "gauge-03-sent-anyway").await;

    // The model's window set in Settings → Usage → Context windows: the gauge takes it and
    // says it is the person's own figure.
    s.click_css("[data-testid=settings-button]").await;
    s.click_css("[data-testid=window-table] summary").await;
    s.click_css("[data-testid=window-add]").await;
    s.script(
        "const row = [...document.querySelectorAll('[data-testid=window-row]')].at(-1);
         const put = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); };
         put(row.querySelector('input[type=text]'), 'test-model');
         put(row.querySelector('[data-field=context_window]'), '100000');",
    )
    .await;
    s.click_css("[data-testid=window-save]").await;
    s.wait_text("[data-testid=window-note]", 10, |t| t.starts_with("Saved"))
        .await;
    shot(&s, &e, "gauge-04-window-table").await;
    s.click_css("[data-testid=settings-close]").await;
    s.type_text(
        &s.wait_for("[data-testid=composer-input]").await,
        "one more",
    )
    .await;
    s.wait_attr("[data-testid=context-gauge]", "data-source", 10, |v| {
        v == "settings"
    })
    .await;
    let gauge = s
        .wait_text("[data-testid=context-gauge]", 10, |t| t.contains("/ 100k"))
        .await;
    assert!(!gauge.contains("left out"), "{gauge}");
}
