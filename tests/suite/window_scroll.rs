//! The transcript keeps the reader's place, in the real window: scrolling back continuously
//! (the position changing every frame, as a touchpad does) through a long chat while older
//! pages arrive, also when rows grow after they are shown (images decoding late: simulated by
//! the probe inserting a block into each row two frames after it mounts — see
//! `parley_tests::scroll`), also when rows hold real images (stored 1200×800 PNGs and JPEGs,
//! decoded lazily after their row shows: their boxes are sized from the stored width and
//! height, so decoding changes no row's height), and following an answer as it streams while
//! the window is resized.

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
    let images = data::long_chat(
        data.path(),
        "images",
        "Rows with images",
        2000,
        data::chat_line,
    );
    // An image in every 10th question: 100 images, four distinct pictures.
    let shown = data::images_in_chat(data.path(), &images, 10, 4);
    assert_eq!(shown, 100);
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
    let cases = [
        ("plain", &plain, 0),
        ("late", &late, 120),
        ("images", &images, 0),
    ];
    for (sid, ids, grow) in cases {
        // 0.9 of the viewport per frame: a fast touchpad swipe held down (2,000 messages
        // are about 400,000 px).
        let p = scroll::open_and_scroll_back(&s, sid, ids, grow, Duration::from_secs(90)).await;
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
        if sid == "images" {
            failures.extend(images_decoded(&s).await);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    s.quit().await;
}

/// At the first message, once the images there have loaded: each decoded at its stored size
/// and shown in exactly the box laid out before it loaded (what keeps rows from changing
/// height as images decode late). Returns what is wrong.
async fn images_decoded(s: &parley_tests::webdriver::Session) -> Vec<String> {
    scroll::wait_until(
        s,
        "const i = [...document.querySelectorAll('[data-testid=attachment-image] img')]; return i.length > 0 && i.every((x) => x.complete)",
        &[],
        20,
        "the images at the first message loaded",
    )
    .await;
    let v = s
        .script(
            "return [...document.querySelectorAll('[data-testid=attachment-image] img')].map((x) => [x.naturalWidth, x.naturalHeight, x.getAttribute('width'), x.getAttribute('height'), x.parentElement.getBoundingClientRect().width, x.parentElement.getBoundingClientRect().height])",
        )
        .await;
    let rows = v.as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    if rows.is_empty() {
        out.push("images: no image in the DOM at the first message".into());
    }
    for r in rows {
        let f = |i: usize| r[i].as_f64().unwrap_or(f64::NAN);
        let attr = |i: usize| {
            r[i].as_str()
                .and_then(|x| x.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        // The box (a button with a 1 px border) is the size the stored width and height gave.
        let fits = (f(4) - attr(2)).abs() <= 3.0 && (f(5) - attr(3)).abs() <= 3.0;
        if f(0) != 1200.0 || f(1) != 800.0 || !fits {
            out.push(format!("images: an image decoded or laid out wrong: {r}"));
        }
    }
    out
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
    // A chat of 1,000 messages no longer fits: the gauge may warn first.
    scroll::send_through_warning(&s, 10).await;
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
