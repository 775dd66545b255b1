//! The scale sections `scroll` and `follow`: does the transcript keep the reader's place — a 4,000-message
//! chat scrolled back continuously (the position changing every frame, as a touchpad does)
//! while its older pages arrive, with plain rows and with rows that grow after they are shown
//! (as images decoding late; simulated, see `parley_tests::scroll`); following an answer while
//! the window is resized; and typing while a 5,000-token answer streams at 500 tokens/s
//! (three runs, each its own figure).

use super::desktop::percentile;
use super::scale::{local_server, make_recent, row, start, type_keys, Row};
use super::*;
use parley_tests::data;
use parley_tests::scroll::{self, following};

/// 4,000 messages scrolled back to the first, plain then with rows growing late.
pub async fn place(out: &mut Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let plain = data::long_chat(dir.path(), "plain", "Plain rows", 4000, data::chat_line);
    let late = data::long_chat(dir.path(), "late", "Rows that grow", 4000, data::chat_line);
    make_recent(dir.path(), "plain");
    let _server = local_server(dir.path()).await;
    let s = start(dir.path()).await;
    for (sid, ids, grow) in [("plain", &plain, 0), ("late", &late, 120)] {
        let p = scroll::open_and_scroll_back(&s, sid, ids, grow, Duration::from_secs(180)).await;
        let what = if grow > 0 {
            "4,000-message chat scrolled back continuously (0.9 viewport a frame), rows growing 120–240 px two frames after they show"
        } else {
            "4,000-message chat scrolled back continuously (0.9 viewport a frame)"
        };
        let ok = p.reached.is_some() && p.loads_lost(4.0) == 0 && p.bad == 0 && p.lost == 0;
        out.push(row(
            what,
            p.summary(),
            "every page load: first visible message within 4 px",
            ok,
        ));
    }
    s.quit().await;
}

/// A 5,000-token answer at 500 tokens/s ending in "THE-END".
fn answer(server: &MockServer) {
    let mut steps = Vec::new();
    for w in data::long_markdown(25_000).split_inclusive(' ') {
        steps.push(parley_tests::ev_text(w));
        steps.push(Step::Sleep(Duration::from_millis(2)));
    }
    steps.push(parley_tests::ev_text(" THE-END"));
    steps.push(parley_tests::ev_finish("stop"));
    steps.push(parley_tests::ev_done());
    server.push(Reply::sse(steps));
}

async fn send(s: &parley_tests::webdriver::Session, text: &str) {
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, text).await;
    s.type_text(&input, "\u{E007}").await;
    // A long chat that no longer fits the window: the gauge may warn first.
    parley_tests::scroll::send_through_warning(s, 10).await;
}

/// Following the answer in a 4,000-message chat while the window is resized; then typing
/// while three more answers stream into it.
pub async fn follow_and_type(out: &mut Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    data::long_chat(dir.path(), "long", "Long chat", 4000, data::chat_line);
    make_recent(dir.path(), "long");
    let server = local_server(dir.path()).await;
    let s = start(dir.path()).await;
    s.wait_for("[data-row='long-m003999']").await;
    answer(&server);
    send(&s, "a long answer").await;
    scroll::wait_streamed(&s, "Section", 10).await;
    let gaps = scroll::follow_through_resizes(&s).await;
    scroll::wait_turn_end(&s, 60).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let end = scroll::bottom_gap(&s).await;
    let kept = gaps.iter().filter(|g| following(g)).count();
    out.push(row(
        "answer streaming in a 4,000-message chat, window resized 6 times (smaller and larger): still following after each / at the end",
        format!(
            "{kept} of {} / {} (px from the bottom: {})",
            gaps.len(),
            if following(&end) { "yes" } else { "no" },
            gaps.iter().map(|g| format!("{:.0}", g.0)).collect::<Vec<_>>().join(", ")
        ),
        "all",
        kept == gaps.len() && following(&end),
    ));
    // Typing while three more answers stream into the same chat (4,000 messages and more).
    s.set_size(1280, 800).await;
    for run in 1..=3 {
        answer(&server);
        send(&s, "another long answer").await;
        scroll::wait_streamed(&s, "Section", 10).await;
        let keys = type_keys(&s, 60).await;
        scroll::wait_turn_end(&s, 60).await;
        let p95 = percentile(&keys, 0.95);
        out.push(row(
            &format!("5,000-token answer at 500 tokens/s into the 4,000-message chat: key typed → next frame while it streams, run {run} of 3 (p50 / p95 / max)"),
            format!(
                "{:.1} / {p95:.1} / {:.1} ms",
                percentile(&keys, 0.5),
                keys.iter().cloned().fold(0.0, f64::max)
            ),
            "p95 ≤ 50 ms in every run",
            p95 <= 50.0,
        ));
    }
    s.quit().await;
}
