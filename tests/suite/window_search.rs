//! Real window: the search palette finds an answer in another version of a chat, opens that
//! version and marks the message; filters and CJK; then Settings → Usage (reached from the
//! palette) shows what the provider reported, and a price typed into the table turns it into
//! a cost.

use super::window::*;
use parley_protocol::{ChatHistory, ChatSummary};
use parley_tests::webdriver::Session;
use parley_tests::*;

async fn click(s: &Session, css: &str) {
    s.click_css(css).await;
}

/// Opens the palette with Ctrl+K from the message box and types `query`.
async fn search(s: &Session, query: &str) {
    if s.find_all("[data-testid=palette]").await.is_empty() {
        let input = s.wait_for("[data-testid=composer-input]").await;
        s.type_text(&input, "\u{E009}k").await;
    }
    let input = s.wait_for("[data-testid=palette-input]").await;
    s.clear(&input).await;
    s.type_text(&input, query).await;
}

/// The palette's results as (kind, snippet text), once the status says the search is done.
async fn results(s: &Session) -> Vec<(String, String)> {
    s.wait_text("[data-testid=palette-status]", 20, |t| t.contains("result"))
        .await;
    let v = s
        .script(
            "return [...document.querySelectorAll('[data-testid=palette-item]')].map(e => [e.dataset.kind, e.querySelector('[data-testid=palette-snippet]')?.textContent ?? e.textContent.trim()])",
        )
        .await;
    serde_json::from_value(v).unwrap()
}

async fn set(s: &Session, css: &str, value: &str) {
    let js = format!(
        "const f = document.querySelector('{css}'); f.value = {}; f.dispatchEvent(new Event('change', {{ bubbles: true }})); f.dispatchEvent(new Event('input', {{ bubbles: true }}))",
        serde_json::to_string(value).unwrap()
    );
    s.script(&js).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_search_opens_a_result_in_its_branch_and_usage_shows_the_cost() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(d, &server).await;
    for a in [
        "Pangolins live in Africa and Asia.",
        "Mostly ants and termites.",
        "Aardwolves live in East Africa.",
        "It is red and white.",
    ] {
        server.push(Reply::sse(text_answer(&[a], 0)));
    }
    cli(d, &["ask", "Where do pangolins live?"]);
    let list: Vec<ChatSummary> =
        serde_json::from_str(&cli(d, &["sessions", "list", "--json"])).unwrap();
    let chat = list[0].id.0.clone();
    cli(d, &["ask", "--session", &chat, "What do they eat?"]);
    let h: ChatHistory =
        serde_json::from_str(&cli(d, &["sessions", "show", &chat, "--json"])).unwrap();
    let first_question = h.messages[0].id.0.clone();
    // A new version of the first question: the pangolin answers are now another branch.
    cli(
        d,
        &[
            "ask",
            "--session",
            &chat,
            "--edit",
            &first_question,
            "Where do aardwolves live?",
        ],
    );
    cli(d, &["ask", "東京タワーは何色ですか"]);

    let s = launch(&e, d).await;
    // The Tokyo chat is the newest and opens; the search reaches into the other chat's
    // other version.
    s.wait_text("[data-testid=assistant-text]", 20, |t| {
        t.contains("red and white")
    })
    .await;
    search(&s, "termites").await;
    let found = results(&s).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "message");
    assert!(
        found[0].1.contains("Mostly ants and termites."),
        "{found:?}"
    );
    let marked = s
        .script("return [...document.querySelectorAll('[data-testid=palette-snippet] mark')].map(m => m.textContent)")
        .await;
    assert_eq!(marked, serde_json::json!(["termites"]));
    let badge = s.texts("[data-testid=palette-item] .badge").await;
    assert_eq!(badge, vec!["another version".to_owned()]);
    let target = s
        .wait_attr("[data-testid=palette-item]", "data-message-id", 5, |v| {
            !v.is_empty()
        })
        .await;
    shot(&s, &e, "search-01-palette").await;
    let input = s.wait_for("[data-testid=palette-input]").await;
    s.type_text(&input, "\u{E007}").await;
    s.wait_count("[data-testid=palette]", 0).await;
    // The chat opens on the pangolin version, and the answer found is marked.
    s.wait_attr("[data-found=true]", "data-row", 20, |v| v == target)
        .await;
    let shown: Vec<String> = s
        .texts("[data-testid=user-text], [data-testid=assistant-text]")
        .await
        .into_iter()
        .map(|t| t.trim().to_owned())
        .collect();
    assert_eq!(
        shown,
        vec![
            "Where do pangolins live?",
            "Pangolins live in Africa and Asia.",
            "What do they eat?",
            "Mostly ants and termites."
        ],
        "the branch that holds the answer is shown"
    );
    shot(&s, &e, "search-02-opened").await;

    // Filters: only the assistant's words; this chat only; CJK; syntax is never an error.
    search(&s, "live").await;
    let found = results(&s).await;
    assert_eq!(
        found.len(),
        5,
        "the title, two questions, two answers: {found:?}"
    );
    assert_eq!(found[0].0, "chat");
    click(&s, "[data-testid=palette-filters]").await;
    set(&s, "[data-testid=palette-role]", "assistant").await;
    let found = results(&s).await;
    assert!(found.iter().all(|(k, _)| k == "message"), "{found:?}");
    assert_eq!(found.len(), 2, "{found:?}");
    set(&s, "[data-testid=palette-role]", "").await;
    search(&s, "東京").await;
    let found = results(&s).await;
    assert!(
        found
            .iter()
            .any(|(k, t)| k == "message" && t.contains("東京タワー")),
        "{found:?}"
    );
    set(&s, "[data-testid=palette-scope]", "chat").await;
    s.wait_count("[data-testid=palette-item]", 0).await;
    s.wait_for("[data-testid=palette-none]").await;
    set(&s, "[data-testid=palette-scope]", "all").await;
    for odd in ["\"", "NEAR(", "a OR", "-", "*"] {
        search(&s, odd).await;
        let status = s
            .wait_text("[data-testid=palette-status]", 20, |t| {
                !t.contains("Searching")
            })
            .await;
        assert!(!status.to_lowercase().contains("error"), "{odd}: {status}");
    }

    // A small window: the palette still fits, its filters wrap.
    let (w, h) = s.window_size().await;
    s.set_size(640, 480).await;
    search(&s, "live").await;
    results(&s).await;
    shot(&s, &e, "search-04-small-window").await;
    let fits = s
        .script("const r = document.querySelector('[data-testid=palette]').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight")
        .await;
    assert_eq!(
        fits,
        serde_json::json!(true),
        "the palette overflows a small window"
    );
    s.set_size(w as u32, h as u32).await;

    // Usage, from the palette's command.
    search(&s, "usage").await;
    s.wait_attr("[data-testid=palette-item]", "data-command", 10, |v| {
        v == "usage"
    })
    .await;
    let input = s.wait_for("[data-testid=palette-input]").await;
    s.type_text(&input, "\u{E007}").await;
    s.wait_for("[data-testid=usage-settings]").await;
    let total = s
        .wait_text("[data-testid=usage-total]", 20, |t| t.contains("4 answers"))
        .await;
    assert!(total.contains("$0") && total.contains("40 in"), "{total}");
    s.wait_text("[data-testid=usage-settings]", 10, |t| {
        t.contains("4 answers of a model without a price")
    })
    .await;
    assert_eq!(s.find_all("[data-testid=usage-day]").await.len(), 1);
    s.wait_attr("[data-testid=usage-model]", "data-model", 5, |v| {
        v == "test-model"
    })
    .await;
    // A price for the model: $1,000 in and $2,000 out per million tokens → 40 in, 4 out.
    click(&s, "[data-testid=price-table] summary").await;
    click(&s, "[data-testid=price-add]").await;
    s.script(
        "const row = [...document.querySelectorAll('[data-testid=price-row]')].at(-1);
         const put = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); };
         put(row.querySelector('input[type=text]'), 'test-model');
         put(row.querySelector('[data-field=input]'), '1000');
         put(row.querySelector('[data-field=output]'), '2000');",
    )
    .await;
    click(&s, "[data-testid=price-save]").await;
    s.wait_text("[data-testid=usage-cost]", 20, |t| t == "$0.05")
        .await;
    s.script("document.querySelector('[data-testid=usage-settings]').scrollIntoView()")
        .await;
    shot(&s, &e, "search-03-usage").await;
    s.quit().await;
    let usage = cli(d, &["usage", "--json"]);
    let usage: parley_protocol::UsageReport = serde_json::from_str(&usage).unwrap();
    assert!(
        (usage.total.cost - 0.048).abs() < 1e-9,
        "the saved price is used: {}",
        usage.total.cost
    );
}
