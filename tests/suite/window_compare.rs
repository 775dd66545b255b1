//! Real window: two models side by side — picked in the composer's Compare menu, answering in
//! two columns at once, one stopped alone while the other goes on, each with its tokens, then
//! "Continue with this one" makes the second the chat's path (the first stays a version) and
//! the next message goes to its model with its answer.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;
use std::time::Duration;

/// A long, slow answer (about `n` × 100 ms).
fn slow(word: &str, n: usize) -> Reply {
    let pieces: Vec<String> = (0..n).map(|i| format!("{word}{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    Reply::sse(text_answer(&refs, 100))
}

/// Ticks the Compare menu's box for `provider`'s `model` (leaves it ticked).
async fn pick(s: &Session, provider: &str, model: &str) {
    let css = format!("[data-testid=compare-model][data-provider={provider}][data-model={model}]");
    s.wait_for(&css).await;
    let checked = s
        .script(&format!("return document.querySelector('{css}').checked"))
        .await;
    if checked != serde_json::Value::Bool(true) {
        s.click_css(&css).await;
    }
}

async fn column_status(s: &Session, n: usize) -> String {
    s.script(&format!(
        "const c = document.querySelectorAll('[data-testid=column]')[{n}]; return c ? c.dataset.status : null"
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_two_models_side_by_side_then_continue_with_one() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let (one, two) = (MockServer::start().await, MockServer::start().await);
    one.answer_gets(models_reply());
    two.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &one).await;
    cli(
        data.path(),
        &[
            "providers",
            "add",
            "other",
            "--kind",
            "openai-compatible",
            "--base-url",
            &two.base_url(),
            "--model",
            "other-model",
        ],
    );
    one.push(slow("left", 200));
    two.push(slow("right", 15));
    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=new-session]").await;
    s.click_css("[data-testid=compare-button]").await;
    pick(&s, "local", "test-model").await;
    pick(&s, "other", "other-model").await;
    s.click_css("[data-testid=compare-done]").await;
    s.wait_text("[data-testid=compare-button]", 5, |t| {
        t.contains("2 models")
    })
    .await;
    send(&s, "Which is better?").await;
    // Two columns streaming at once, each with its own Stop.
    s.wait_attr("[data-testid=side-by-side]", "data-columns", 10, |v| {
        v == "2"
    })
    .await;
    s.wait_text("[data-testid=side-by-side]", 10, |t| {
        t.contains("left0") && t.contains("right0")
    })
    .await;
    assert_eq!(s.find_all("[data-testid=column-stop]").await.len(), 2);
    shot(&s, &e, "compare-01-streaming").await;
    // Stop the left one alone: it ends, the right one goes on to its end.
    s.wait_still("[data-testid=column-stop]").await;
    s.click_css("[data-testid=column]:nth-child(1) [data-testid=column-stop]")
        .await;
    for _ in 0..100 {
        if column_status(&s, 0).await == "stopped" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(column_status(&s, 0).await, "stopped");
    s.wait_attr("[data-testid=side-by-side]", "data-running", 15, |v| {
        v == "false"
    })
    .await;
    assert_eq!(column_status(&s, 1).await, "completed");
    // Tokens per column with its answer, and what it cost (this model has no price).
    let tokens = s.texts("[data-testid=column] [data-testid=usage]").await;
    assert!(tokens.iter().any(|u| u.contains("15 out")), "{tokens:?}");
    let cost = s.texts("[data-testid=column-usage]").await;
    assert!(cost.iter().any(|c| c.contains("no price")), "{cost:?}");
    shot(&s, &e, "compare-02-ended").await;
    // Continue with the right one: the columns give way to the chat, on the right answer.
    s.wait_still("[data-testid=column-continue]").await;
    s.click_css("[data-testid=column]:nth-child(2) [data-testid=column-continue]")
        .await;
    s.wait_count("[data-testid=side-by-side]", 0).await;
    s.wait_text("[data-testid=transcript]", 10, |t| {
        t.contains("right14") && !t.contains("left0")
    })
    .await;
    s.wait_text("[data-testid=version-label]", 5, |t| t == "2/2")
        .await;
    s.wait_text("[data-testid=compare-button]", 5, |t| t.contains("Compare"))
        .await;
    // The next message goes to the right column's model, with its answer.
    two.push(Reply::sse(text_answer(&["on we go"], 0)));
    send(&s, "Go on").await;
    s.wait_text("[data-testid=transcript]", 10, |t| t.contains("on we go"))
        .await;
    let sent = two.received().last().unwrap().json().to_string();
    assert!(
        sent.contains("right14") && !sent.contains("left0"),
        "{sent}"
    );
    assert_eq!(one.received().len(), 1);
    shot(&s, &e, "compare-03-continued").await;
    s.quit().await;
}
