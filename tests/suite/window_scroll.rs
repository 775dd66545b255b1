//! The transcript keeps the reader's place, in the real window: scrolling back continuously
//! (the position changing every frame, as a touchpad does) through a long chat while older
//! pages arrive, also when rows grow after they are shown (images decoding late: simulated by
//! the probe inserting a block into each row two frames after it mounts — see
//! `parley_tests::scroll`), and following an answer as it streams while the window is resized.

use super::window::*;
use parley_tests::scroll::{self, following};
use parley_tests::*;
use std::time::Duration;

/// Drift allowed for the first visible message (px): rounding of fractional positions.
const HOLD_PX: f64 = 4.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_scrolling_back_continuously_keeps_the_readers_place() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let plain = data::long_chat(data.path(), "plain", "Plain rows", 2000, data::chat_line);
    let late = data::long_chat(data.path(), "late", "Rows that grow", 2000, data::chat_line);
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let s = launch(&e, data.path()).await;
    s.set_size(1100, 760).await;
    // Whether this WebKit knows CSS scroll anchoring (the transcript does not rely on it).
    let native = s
        .script("return CSS.supports('overflow-anchor', 'auto')")
        .await;
    eprintln!("CSS overflow-anchor supported: {native}");
    let mut failures = Vec::new();
    for (sid, ids, grow) in [("plain", &plain, 0), ("late", &late, 120)] {
        s.click(
            &s.wait_for(&format!("[data-session-id='{sid}'] .open"))
                .await,
        )
        .await;
        s.wait_for(&format!("[data-row='{}']", ids[ids.len() - 1]))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        // 0.9 of the viewport per frame: a fast touchpad swipe held down (2,000 messages
        // are about 400,000 px).
        let p = scroll::scroll_back(&s, &ids[0], 0.9, grow, Duration::from_secs(90)).await;
        eprintln!("{sid}: {}", p.summary());
        shot(&s, &e, &format!("scroll-01-{sid}-first-message")).await;
        if p.reached.is_none() {
            failures.push(format!("{sid}: never reached the first message: {}", p.raw));
        }
        // Pages of 400 after the first 60.
        if p.loads.len() < 4 {
            failures.push(format!("{sid}: only {} page loads seen", p.loads.len()));
        }
        if p.loads_lost(HOLD_PX) > 0 || p.lost > 0 || p.bad > 0 {
            failures.push(format!("{sid}: {}", p.summary()));
        }
        if grow > 0 && p.late < 100 {
            failures.push(format!("{sid}: only {} rows grew late", p.late));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_following_the_stream_survives_resizing_the_window() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    data::long_chat(data.path(), "long", "A long chat", 1000, data::chat_line);
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    // ~5,000 tokens at ~500 tokens/s (10 s), ending in a marker.
    let mut pieces: Vec<String> = (0..5000).map(|i| format!("token{i} ")).collect();
    pieces.push("THE-END".into());
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    server.push(Reply::sse(text_answer(&refs, 2)));
    add_provider_with_cli(data.path(), &server).await;
    let s = launch(&e, data.path()).await;
    s.set_size(1100, 760).await;
    s.wait_for("[data-row='long-m000999']").await;
    send(&s, "write a long answer").await;
    scroll::wait_streamed(&s, "token300", 10).await;
    let gaps = scroll::follow_through_resizes(&s).await;
    shot(&s, &e, "scroll-02-following-after-resizes").await;
    // The turn ends (its Stop button goes); then the view is at its end.
    scroll::wait_turn_end(&s, 60).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = scroll::bottom_gap(&s).await;
    shot(&s, &e, "scroll-03-following-at-the-end").await;
    let report: Vec<String> = scroll::SIZES
        .iter()
        .zip(&gaps)
        .map(|((w, h), (gap, latest))| {
            format!("{w}×{h}: {gap:.0} px from the bottom, ↓ Latest {latest}")
        })
        .collect();
    eprintln!("{}; at the end: {end:?}", report.join("; "));
    assert!(
        gaps.iter().all(following) && following(&end),
        "the view stopped following the stream: {}; at the end: {end:?}",
        report.join("; ")
    );
    s.quit().await;
}
