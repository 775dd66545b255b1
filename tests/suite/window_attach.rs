//! Attachments in the real window: an image pasted from the clipboard (a PNG the page draws)
//! and a PDF the test writes, picked through the attach dialog's test substitute
//! (`--e2e-pick-attachments`), are sent to the scripted provider, shown in the transcript (the
//! image loaded from the `attachment` scheme, the PDF as a card whose text has its page
//! markers) and shown again after a relaunch.

use super::window::{add_provider_with_cli, env, launch, models_reply, send, shot, Env};
use parley_tests::webdriver::Session;
use parley_tests::*;
use serde_json::{json, Value};
use std::path::Path;

/// A small PDF with a text layer: one page per string (Helvetica, plain ASCII).
fn text_pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    for (i, text) in pages.iter().enumerate() {
        let content = format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET");
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Pastes a 64×48 PNG the page draws into the composer, as a paste from the clipboard does.
const PASTE_PNG: &str = r#"
const done = arguments[0];
const c = document.createElement('canvas');
c.width = 64; c.height = 48;
const g = c.getContext('2d');
g.fillStyle = '#d33'; g.fillRect(0, 0, 64, 48);
g.fillStyle = '#33d'; g.fillRect(16, 12, 32, 24);
c.toBlob((blob) => {
  const dt = new DataTransfer();
  dt.items.add(new File([blob], 'image.png', { type: 'image/png' }));
  const ta = document.querySelector('[data-testid=composer-input]');
  ta.focus();
  const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
  ta.dispatchEvent(ev);
  done({ items: ev.clipboardData ? ev.clipboardData.items.length : -1, taken: ev.defaultPrevented });
}, 'image/png');
"#;

/// The transcript's image once loaded: [src, naturalWidth, naturalHeight, loading, alt].
const LOADED_IMAGE: &str = r#"
const done = arguments[0];
const img = document.querySelector('[data-testid=attachment-image] img');
if (!img) return done(null);
img.scrollIntoView({ block: 'center' });
const report = () => done([img.getAttribute('src'), img.naturalWidth, img.naturalHeight, img.getAttribute('loading'), img.alt]);
if (img.complete && img.naturalWidth > 0) return report();
img.addEventListener('load', report, { once: true });
img.addEventListener('error', report, { once: true });
setTimeout(report, 5000);
"#;

/// Checks what the transcript shows of the sent message: the image from the attachment scheme,
/// decoded, and the PDF's card, whose text opens with its page markers.
async fn check_transcript(s: &Session, e: &Env, name: &str) {
    s.wait_for("[data-testid=message-user] [data-testid=attachment-image]")
        .await;
    let img = s.script_async(LOADED_IMAGE).await;
    let src = img[0].as_str().unwrap_or_default();
    assert!(
        src.starts_with("attachment://localhost/")
            || src.starts_with("http://attachment.localhost/"),
        "{img}"
    );
    assert_eq!(img[1], json!(64), "the image did not load: {img}");
    assert_eq!(img[2], json!(48), "{img}");
    assert_eq!(img[3], json!("lazy"), "{img}");
    let card = s
        .wait_text("[data-testid=attachment-file]", 10, |t| {
            t.contains("report.pdf")
        })
        .await;
    assert!(card.contains("2 pages"), "{card}");
    shot(s, e, &format!("{name}-transcript")).await;
    s.click_css("[data-testid=attachment-file]").await;
    let text = s
        .wait_text("[data-testid=attachment-text-body]", 10, |t| {
            t.contains("Page 2")
        })
        .await;
    assert!(text.contains("--- Page 1 ---"), "{text}");
    assert!(text.contains("Quarterly totals"), "{text}");
    assert!(text.contains("Second page here"), "{text}");
    shot(s, e, &format!("{name}-pdf-text")).await;
    s.click_css("[data-testid=attachment-text-close]").await;
    s.wait_count("[data-testid=attachment-text]", 0).await;
    // The image enlarges from the keyboard, and Escape closes it.
    s.script("document.querySelector('[data-testid=attachment-image]').focus()")
        .await;
    let focused = s.wait_for("[data-testid=attachment-image]").await;
    s.type_text(&focused, "\u{E007}").await;
    s.wait_for("[data-testid=image-lightbox] img").await;
    shot(s, e, &format!("{name}-lightbox")).await;
    let close = s.wait_for("[data-testid=image-lightbox-close]").await;
    s.type_text(&close, "\u{E00C}").await;
    s.wait_count("[data-testid=image-lightbox]", 0).await;
}

/// The launch arguments with the attach dialog's answer.
fn args(data: &Path, pick: &Path) -> Vec<String> {
    vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--e2e-no-titles".into(),
        "--e2e-pick-attachments".into(),
        pick.display().to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_paste_an_image_attach_a_pdf_send_and_see_both_after_a_relaunch() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let pdf = files.path().join("report.pdf");
    std::fs::write(&pdf, text_pdf(&["Quarterly totals", "Second page here"])).unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    server.push(Reply::sse(text_answer(&["I see ", "both."], 0)));
    add_provider_with_cli(data.path(), &server).await;

    let s = Session::start(&e.driver, &e.app, &args(data.path(), &pdf)).await;
    s.click_css("[data-testid=new-session]").await;
    s.wait_for("[data-testid=composer-input]").await;
    let pasted = s.script_async(PASTE_PNG).await;
    assert_eq!(pasted, json!({"items": 1, "taken": true}), "the paste");
    s.click_css("[data-testid=attach-button]").await;
    wait_ready_chips(&s, &e, 2).await;
    let names = s.texts("[data-testid=attachment-name]").await;
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[1].contains("report.pdf"), "{names:?}");
    shot(&s, &e, "attach-01-composer-chips").await;
    // The PDF's text can be checked before sending.
    s.click_css("[data-testid=attachment-view]").await;
    s.wait_text("[data-testid=attachment-text-body]", 10, |t| {
        t.contains("--- Page 2 ---")
    })
    .await;
    shot(&s, &e, "attach-02-pdf-text-before-sending").await;
    s.click_css("[data-testid=attachment-text-close]").await;

    send(&s, "What is in these?").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "I see both.")
        .await;
    s.wait_count("[data-testid=attachment-chip]", 0).await;
    check_transcript(&s, &e, "attach-03").await;
    s.set_size(800, 600).await;
    let fits: Value = s
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, json!(true), "the layout overflows at 800x600");
    shot(&s, &e, "attach-04-800x600").await;
    s.set_size(1920, 1080).await;
    shot(&s, &e, "attach-05-1920x1080").await;
    s.quit().await;
    assert_request_carries_both(&server);
    wait_ended(data.path()).await;

    // After a relaunch both are still there, from the data folder.
    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=session-item] button.open").await;
    check_transcript(&s, &e, "attach-06-relaunched").await;
    s.quit().await;
}

/// The request the message went out in carries the PDF's text and the image's bytes (in the
/// OpenAI Chat shape the scripted server speaks).
fn assert_request_carries_both(server: &MockServer) {
    let request = server
        .received()
        .into_iter()
        .map(|r| r.json())
        .find(|j| j.get("messages").is_some())
        .expect("a chat request");
    let body = request.to_string();
    assert!(
        body.contains("Quarterly totals"),
        "the PDF's text was not sent: {body:.2000}"
    );
    assert!(
        body.contains("data:image/"),
        "the image was not sent: {body:.2000}"
    );
}

/// Waits until the app that had `data` open has ended (no process runs with it as its data
/// folder), so the next start is not handed to it as a second instance. The window suite runs
/// on Linux only: /proc tells.
async fn wait_ended(data: &Path) {
    let needle = data.display().to_string();
    let running = || {
        std::fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(Result::ok).any(|e| {
                    std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                        let c = String::from_utf8_lossy(&c);
                        c.contains("parley-desktop") && c.contains(&needle)
                    })
                })
            })
            .unwrap_or(false)
    };
    for _ in 0..150 {
        if !running() {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the app did not end within 15 s");
}

/// Waits until `n` chips are attached (ready); a failed chip fails the test with its sentence.
async fn wait_ready_chips(s: &Session, e: &Env, n: usize) {
    for _ in 0..200 {
        let errors = s.texts("[data-testid=attachment-error]").await;
        if !errors.is_empty() {
            shot(s, e, "attach-failed-chips").await;
            panic!("attaching failed: {errors:?}");
        }
        let ready = s
            .find_all("[data-testid=attachment-chip][data-state=ready]")
            .await;
        if ready.len() == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{n} chips did not become ready");
}
