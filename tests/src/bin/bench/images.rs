//! The scale section `images`: a 4,000-message chat whose every 10th question holds a stored
//! 1200×800 image (200 images, four distinct PNGs and JPEGs, as attaching stores them: blob,
//! thumbnail and image part rows), next to the same chat without images: click → last message
//! visible, a fling to the first message, key → frame once scrolled through, and the reader's
//! place under continuous scrolling (every page load keeps the first visible message). Images
//! load lazily and decode off the main thread; their boxes are sized from the stored width and
//! height, so a late decode changes no row's height.

use super::desktop::{median, percentile};
use super::scale::{
    f, local_server, make_recent, row, start, type_keys, Row, OPEN_JS, SCROLL_UP_JS,
};
use super::*;
use parley_tests::data;
use parley_tests::scroll;
use parley_tests::webdriver::Session;

/// The chat `sid` (ids `ids`): open five times (against a small chat), fling to the first
/// message, type, then open again and scroll back continuously.
async fn measure(s: &Session, out: &mut Vec<Row>, sid: &str, ids: &[String], label: &str) {
    let (first, last) = (ids[0].clone(), ids[ids.len() - 1].clone());
    let mut opens = Vec::new();
    for _ in 0..5 {
        opens.push(f(&s
            .script_args(OPEN_JS, &[sid.into(), last.clone().into()])
            .await));
        s.script_args(OPEN_JS, &["small".into(), "small-m000003".into()])
            .await;
    }
    let worst = opens.iter().cloned().fold(0.0, f64::max);
    out.push(row(
        &format!("{label}: click → last message visible (median / worst of 5)"),
        format!(
            "{:.0} / {worst:.0} ms (each: {opens:.0?})",
            median(opens.clone())
        ),
        "≤ 300 ms",
        worst <= 300.0,
    ));
    s.script_args(OPEN_JS, &[sid.into(), last.clone().into()])
        .await;
    let v = s.script_args(SCROLL_UP_JS, &[first.clone().into()]).await;
    let (total, gap) = (f(&v[0]), f(&v[1]));
    out.push(row(
        &format!("{label}: scroll from the newest to the first message (ten screenfuls per frame)"),
        format!("{:.2} s, worst frame gap {gap:.0} ms", total / 1e3),
        "≤ 3 s, no gap > 50 ms",
        (0.0..=3000.0).contains(&total) && gap <= 50.0,
    ));
    let keys = type_keys(s, 60).await;
    let p95 = percentile(&keys, 0.95);
    out.push(row(
        &format!("{label}: key typed → next frame, scrolled through (p50 / p95)"),
        format!("{:.1} / {p95:.1} ms", percentile(&keys, 0.5)),
        "p95 ≤ 32 ms",
        p95 <= 32.0,
    ));
    s.script_args(OPEN_JS, &["small".into(), "small-m000003".into()])
        .await;
    s.script_args(OPEN_JS, &[sid.into(), last.clone().into()])
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let p = scroll::scroll_back(s, &first, 0.9, 0, Duration::from_secs(180)).await;
    let ok = p.reached.is_some() && p.loads_lost(4.0) == 0 && p.bad == 0 && p.lost == 0;
    out.push(row(
        &format!("{label}: scrolled back continuously (0.9 viewport a frame)"),
        p.summary(),
        "every page load: first visible message within 4 px",
        ok,
    ));
}

/// The same 4,000-message chat without and with images, in one window.
pub async fn images(out: &mut Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let plain = data::long_chat(dir.path(), "plain", "Plain rows", 4000, data::chat_line);
    let with = data::long_chat(
        dir.path(),
        "images",
        "Rows with images",
        4000,
        data::chat_line,
    );
    let n = data::images_in_chat(dir.path(), &with, 10, 4);
    data::long_chat(dir.path(), "small", "Small chat", 4, |i| {
        format!("Small {i}")
    });
    make_recent(dir.path(), "small");
    let _server = local_server(dir.path()).await;
    let s = start(dir.path()).await;
    s.wait_for("[data-row='small-m000003']").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    measure(
        &s,
        out,
        "plain",
        &plain,
        "4,000-message chat without images",
    )
    .await;
    let label = format!("same chat with {n} images (1200×800)");
    measure(&s, out, "images", &with, &label).await;
    s.quit().await;
}
