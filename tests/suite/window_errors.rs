//! The real window when things go wrong: a provider's errors and a retry, hostile Markdown in
//! an answer, bad input in the forms (the helpers are in `window.rs`).

use super::window::*;
use parley_tests::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_errors_retry_hostile_markdown_and_bad_input() {
    let e = env();
    let (_data, server, s) = launch_with_local(&e).await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;

    // A 401 with an error body: a clear banner; Retry after the server recovers succeeds.
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided.","code":"invalid_api_key"}}"#,
    ));
    server.push(Reply::sse(text_answer(&["Recovered answer"], 0)));
    send(&s, "Are you there?").await;
    let banner = s
        .wait_text("[data-testid=error-banner]", 10, |t| {
            t.contains("rejected the API key")
        })
        .await;
    assert!(banner.contains("Incorrect API key provided."), "{banner}");
    shot(&s, &e, "07-error-banner").await;
    s.click(&s.wait_for("[data-testid=retry-button]").await)
        .await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "Recovered answer"
    })
    .await;
    s.wait_count("[data-testid=error-banner]", 0).await;
    wait_users(&s, 1).await;
    assert_eq!(
        s.wait_text("[data-testid=user-text]", 1, |_| true).await,
        "Are you there?"
    );

    // Hostile markdown renders inert.
    let hostile = "Look: <img src=x onerror=\"window.__pwned=1\"> <script>window.__pwned=2</script>\n\n[click me](javascript:window.__pwned=3)\n\n<iframe src=\"https://example.com\"></iframe>\n\n![pixel](https://example.com/p.png)";
    server.push(Reply::sse(text_answer(&[hostile], 0)));
    send(&s, "Show me something").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t.contains("Look:"))
        .await;
    let check = s
        .script("const m = [...document.querySelectorAll('[data-testid=message-assistant]')].pop(); return { bad: m.querySelectorAll('img, script, iframe').length, pwned: window.__pwned ?? null, hrefs: [...m.querySelectorAll('a')].map(a => a.getAttribute('href')) }")
        .await;
    assert_eq!(check["bad"], json!(0), "{check}");
    assert_eq!(check["pwned"], Value::Null, "a script ran: {check}");
    assert_eq!(
        check["hrefs"],
        json!([null, "https://example.com/p.png"]),
        "{check}"
    );
    shot(&s, &e, "08-hostile-markdown-inert").await;

    // A 200 KB paste is sent intact; emoji, RTL and zero-width characters round-trip.
    let big: String = "lorem ipsum dolor sit amet ".repeat(200 * 1024 / 27);
    server.push(Reply::sse(text_answer(&["Got it."], 0)));
    let set = format!(
        "const t = document.querySelector('[data-testid=composer-input]'); t.value = {}; t.dispatchEvent(new Event('input', {{bubbles: true}}));",
        serde_json::to_string(&big).unwrap()
    );
    s.script(&set).await;
    s.click(&s.wait_for("[data-testid=send-button]").await)
        .await;
    // ~70k tokens against the mock model's default window: the gauge warns first, and the
    // person sends it anyway.
    s.click(&s.wait_for("[data-testid=context-send-anyway]").await)
        .await;
    s.wait_text("[data-testid=assistant-text]", 15, |t| t == "Got it.")
        .await;
    // The turn has ended (Send is enabled again) before the next message.
    s.wait_count("[data-testid=stop-button]", 0).await;
    let received = server.received();
    let last = received.last().unwrap().json();
    let sent = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap();
    assert_eq!(sent["content"].as_str().unwrap(), big);

    let tricky = "👩‍👩‍👧 مرحبا بالعالم \u{200b}\u{200d}x\u{202e}abc\u{202c} 🇺🇦";
    server.push(Reply::sse(text_answer(&["ok"], 0)));
    // Double-clicking Send stores exactly one message.
    let set = format!(
        "const t = document.querySelector('[data-testid=composer-input]'); t.value = {}; t.dispatchEvent(new Event('input', {{bubbles: true}})); return true;",
        serde_json::to_string(tricky).unwrap()
    );
    s.script(&set).await;
    s.script("const b = document.querySelector('[data-testid=send-button]'); b.click(); b.click(); return true;").await;
    wait_users(&s, 4).await;
    s.wait_text(
        "[data-testid=message-assistant]:last-child [data-testid=assistant-text]",
        10,
        |t| t == "ok",
    )
    .await;
    let users = s.script("return [...document.querySelectorAll('[data-testid=user-text]')].map(m => m.textContent)").await;
    assert_eq!(users.as_array().unwrap().last().unwrap(), &json!(tricky));
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_users(&s, 4).await;
    assert_eq!(
        server.received().len(),
        5,
        "the double click sent one request"
    );
    let body = server.received().last().unwrap().json();
    let sent = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()
        .clone();
    assert_eq!(sent["content"], json!(tricky));
    shot(&s, &e, "09-unicode-and-big-paste").await;

    // Reloading the window mid-answer re-syncs: the answer completes once, nothing doubled.
    let pieces = ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta"];
    server.push(Reply::sse(text_answer(&pieces, 300)));
    send(&s, "count in greek").await;
    s.wait_text(
        "[data-testid=message-assistant]:last-child [data-testid=assistant-text]",
        10,
        |t| t.starts_with("alpha beta"),
    )
    .await;
    s.script("location.reload(); return true;").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.wait_text(
        "[data-testid=message-assistant]:last-child [data-testid=assistant-text]",
        10,
        |t| t == "alpha beta gamma delta epsilon zeta",
    )
    .await;
    wait_users(&s, 5).await;
    // The turn's end reached the reloaded window too: no Stop button, Send is back.
    s.wait_count("[data-testid=stop-button]", 0).await;
    shot(&s, &e, "09b-after-reload").await;

    // A code answer, then the dark theme chosen in settings (saved, applied at once).
    server.push(Reply::sse(text_answer(
        &["Here:\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n"],
        0,
    )));
    send(&s, "show code").await;
    s.wait_for("[data-testid=message-assistant]:last-child .code-block [data-copy]")
        .await;
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.script("const t = document.querySelector('[data-testid=theme-select]'); t.value = 'dark'; t.dispatchEvent(new Event('change', { bubbles: true })); return true;").await;
    s.click(&s.wait_for("[data-testid=general-save]").await)
        .await;
    s.wait_text("[data-testid=general-note]", 5, |t| t == "Saved.")
        .await;
    s.click(&s.wait_for("[data-testid=settings-close]").await)
        .await;
    let bg = s
        .script("return getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()")
        .await;
    assert_eq!(bg, json!("#1c1c1e"), "dark theme not applied");
    shot(&s, &e, "09c-dark-theme-code").await;

    // A link shows its whole destination before it opens, with a warning when its text names
    // another address; Cancel opens nothing.
    server.push(Reply::sse(text_answer(
        &["Log in at [https://bank.com/login](https://evil.example/steal?u=1) now."],
        0,
    )));
    send(&s, "Where do I log in?").await;
    // Once the answer is final: its last formatting replaces the streamed one (and its link),
    // and a click on the link being replaced opened nothing.
    s.wait_count("[data-testid=stop-button]", 0).await;
    s.wait_for("[data-testid=message-assistant]:last-child [data-testid=usage]")
        .await;
    // The final rendering replaces the streamed one's blocks (a finished text may first show
    // plain while it waits for its frame): the link is clicked once that has happened.
    let link = s
        .wait_for(
            "[data-testid=message-assistant]:last-child [data-testid=assistant-text][data-rendered=final] a",
        )
        .await;
    s.click(&link).await;
    let url = s
        .wait_text("[data-testid=link-url]", 5, |t| !t.is_empty())
        .await;
    assert_eq!(url, "https://evil.example/steal?u=1");
    assert_eq!(
        s.wait_text("[data-testid=link-host]", 5, |_| true).await,
        "evil.example"
    );
    let warn = s
        .wait_text("[data-testid=link-mismatch]", 5, |_| true)
        .await;
    assert!(
        warn.contains("bank.com") && warn.contains("evil.example"),
        "{warn}"
    );
    shot(&s, &e, "08b-link-confirm").await;
    s.click(&s.wait_for("[data-testid=link-cancel]").await)
        .await;
    s.wait_count("[data-testid=link-confirm]", 0).await;

    // Deleting the chat that is streaming stops the answer first, then deletes.
    server.push(Reply::sse(vec![ev_text("streaming…"), sleep_ms(30_000)]));
    send(&s, "one more").await;
    s.wait_text(
        "[data-testid=message-assistant]:last-child [data-testid=assistant-text]",
        10,
        |t| t == "streaming…",
    )
    .await;
    s.click(
        &s.wait_for("[data-testid=session-item] [data-testid=session-delete]")
            .await,
    )
    .await;
    s.click(&s.wait_for("[data-testid=session-delete-confirm]").await)
        .await;
    s.wait_count("[data-testid=session-item]", 0).await;
    s.wait_for("[data-testid=empty-state]").await;
    let gone = server.received().last().unwrap().client_went_away.clone();
    for _ in 0..40 {
        if gone.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone.load(std::sync::atomic::Ordering::SeqCst),
        "the stream was not stopped"
    );
    shot(&s, &e, "10-deleted-while-streaming").await;
    s.quit().await;
}
