//! Real window: while an answer streams the composer stays usable — Enter queues the message as
//! a chip (editable, removable), the queue outlives a restart, "Send now" on a chip sends it and
//! the rest follows when that answer ends; the composer's "Send now" ends a streaming answer
//! (what arrived kept) and sends at once.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;

/// A long, slow answer (about `n` × 100 ms).
fn slow(n: usize) -> Reply {
    let pieces: Vec<String> = (0..n).map(|i| format!("word{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    Reply::sse(text_answer(&refs, 100))
}

async fn chips(s: &Session) -> Vec<String> {
    s.texts("[data-testid=queued-text]").await
}

/// Waits (10 s) until the chips read `want`.
async fn wait_chips(s: &Session, want: &[&str]) {
    for _ in 0..100 {
        if chips(s).await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(chips(s).await, want);
}

async fn users(s: &Session) -> Vec<String> {
    s.texts("[data-testid=user-text]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_messages_typed_while_answering_are_queued_kept_and_sent() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    server.push(slow(300));
    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=new-session]").await;
    send(&s, "first").await;
    s.wait_for("[data-testid=stop-button]").await;
    // Enter queues while the answer streams; the composer empties and stays usable.
    send(&s, "second").await;
    wait_chips(&s, &["second"]).await;
    send(&s, "third").await;
    wait_chips(&s, &["second", "third"]).await;
    let input = s.wait_for("[data-testid=composer-input]").await;
    assert_eq!(
        s.script("return document.querySelector('[data-testid=composer-input]').value")
            .await,
        ""
    );
    drop(input);
    // A chip is edited in place.
    s.click_css("[data-testid=queued]:nth-child(2) [data-testid=queued-text]")
        .await;
    let edit = s.wait_for("[data-testid=queued-edit]").await;
    s.clear(&edit).await;
    s.type_text(&edit, "third, edited").await;
    s.click_css("[data-testid=queued-save]").await;
    wait_chips(&s, &["second", "third, edited"]).await;
    shot(&s, &e, "queue-01-chips-while-streaming").await;
    // Quit in the middle of the answer: the queue is in the database.
    s.quit().await;
    assert_eq!(server.received().len(), 1);

    server.push(Reply::sse(text_answer(&["second answer"], 0)));
    server.push(Reply::sse(text_answer(&["third answer"], 0)));
    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=session-item]").await;
    wait_chips(&s, &["second", "third, edited"]).await;
    shot(&s, &e, "queue-02-after-restart").await;
    // "Send now" on the first chip; once its answer completes, the next one follows by itself.
    s.click_css("[data-testid=queued]:nth-child(1) [data-testid=queued-send-now]")
        .await;
    wait_users(&s, 3).await;
    wait_chips(&s, &[]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while users(&s).await != ["first", "second", "third, edited"] {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            users(&s).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.wait_text("[data-testid=transcript]", 10, |t| {
        t.contains("third answer")
    })
    .await;

    // The composer's "Send now" ends a streaming answer where it is and sends at once.
    server.push(slow(300));
    server.push(Reply::sse(text_answer(&["steered answer"], 0)));
    send(&s, "fourth").await;
    wait_users(&s, 4).await;
    s.wait_for("[data-testid=stop-button]").await;
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "fifth, now").await;
    s.click_css("[data-testid=send-now-button]").await;
    s.wait_for("[data-testid=steered]").await;
    s.wait_text("[data-testid=transcript]", 10, |t| {
        t.contains("steered answer")
    })
    .await;
    wait_users(&s, 5).await;
    // (The transcript draws the rows on screen: the last ones are.)
    let shown = users(&s).await;
    assert_eq!(
        shown[shown.len() - 2..],
        ["fourth", "fifth, now"],
        "the steered message follows the cut answer: {shown:?}"
    );
    let text = s.text(&s.wait_for("[data-testid=transcript]").await).await;
    assert!(
        text.contains("word0") && !text.contains("word299"),
        "what arrived is kept, the rest never came"
    );
    shot(&s, &e, "queue-03-steered").await;
    assert_eq!(server.received().len(), 5);
    s.quit().await;
}
