//! Real window: an answer's SVG, HTML and Mermaid blocks open in the preview panel — shown in a
//! window of its own laid over the panel, in a frame sandboxed to scripts, on an origin of its
//! own, its page served once by Rust under a policy with no network — with their versions
//! across the chat and Save. A hostile preview
//! tries to fetch, load images, submit a form, navigate itself and the window, open windows,
//! read storage and cookies, reach the app's commands and flood the page with messages: each is
//! refused, checked from the outside (a bait server that must hear nothing, the chat's title, the
//! window's address, the page still answering) as well as by what the frame saw. A preview that
//! loops forever is stopped by closing its panel.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;
use std::time::{Duration, Instant};

fn svg(color: &str) -> String {
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"120\"><rect id=\"box\" width=\"200\" height=\"120\" fill=\"{color}\"/><text x=\"20\" y=\"70\">{color}</text></svg>")
}

/// The hostile page: every escape it tries is written into its own `#report` as JSON.
fn hostile(bait: u16) -> String {
    format!(
        r#"<!doctype html><html><body><h1>Hostile</h1><pre id="report">running</pre>
<form id="f" action="http://127.0.0.1:{bait}/form" method="post"><input name="x" value="1"></form>
<script>
const r = {{}};
const tryIt = (k, f) => {{ try {{ r[k] = String(f()); }} catch (e) {{ r[k] = "refused: " + e.name; }} }};
tryIt("storage", () => localStorage.setItem("k", "v"));
tryIt("cookie", () => (document.cookie = "a=b", document.cookie));
tryIt("internals", () => typeof window.__TAURI_INTERNALS__);
tryIt("parentInternals", () => typeof parent.__TAURI_INTERNALS__);
tryIt("parentDocument", () => parent.document.title);
tryIt("topInternals", () => typeof top.__TAURI_INTERNALS__);
tryIt("channel", () => typeof (window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.ipc));
tryIt("ipc", () => window.webkit.messageHandlers.ipc.postMessage(JSON.stringify({{cmd: "rename_chat", callback: 1, error: 2, payload: {{}}}})));
tryIt("top", () => {{ window.top.location = "http://127.0.0.1:{bait}/top"; return "navigated?"; }});
tryIt("open", () => window.open("http://127.0.0.1:{bait}/open"));
tryIt("image", () => {{ const i = new Image(); i.src = "http://127.0.0.1:{bait}/img"; document.body.appendChild(i); return "set"; }});
tryIt("form", () => {{ document.getElementById("f").submit(); return "submitted?"; }});
for (let i = 0; i < 20000; i++) parent.postMessage({{flood: i}}, "*");
r.flood = "sent";
fetch("http://127.0.0.1:{bait}/fetch").then(() => "fetched?", (e) => "refused: " + e.name).then((v) => {{
  r.fetch = v;
  document.getElementById("report").textContent = JSON.stringify(r);
  setTimeout(() => {{ location.href = "http://127.0.0.1:{bait}/nav"; }}, 50);
}});
</script></body></html>"#
    )
}

/// Opens the preview of the `from_end`-th block of `kind` counted from the last one shown (the
/// transcript draws only the rows near the screen: the newest answer is).
async fn open_preview(s: &Session, kind: &str, from_end: usize) {
    // (In a window this size the panel covers the chat: it is closed first.)
    if !s.find_all("[data-testid=artifact-close]").await.is_empty() {
        s.click_css("[data-testid=artifact-close]").await;
    }
    let css = format!("[data-testid=transcript] [data-preview={kind}]");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.find_all(&css).await.len() <= from_end {
        if Instant::now() > deadline {
            let html = s.script("return document.querySelector('[data-testid=transcript]').innerHTML.slice(0, 3000)").await;
            panic!("no {kind} block {from_end} from the end: {html}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Clicked once the transcript stands still (it may still be settling on its newest rows).
    s.wait_still(&css).await;
    let buttons = s.find_all(&css).await;
    s.click(&buttons[buttons.len() - 1 - from_end]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while s
        .find_all("[data-testid=artifact-body][data-ready=true]")
        .await
        .is_empty()
    {
        if Instant::now() > deadline {
            let panel = s
                .script("return document.querySelector('[data-testid=artifact-panel]')?.outerHTML ?? 'no panel'")
                .await;
            let windows = s.window_handles().await.len();
            panic!("the {kind} preview is not shown ({windows} windows): {panel}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Makes the preview's frame, in the preview's own window, the context of later calls.
async fn enter_preview(s: &Session) {
    enter_card_window(s, "iframe").await;
    let frame = s.wait_for("iframe").await;
    s.enter_frame(&frame).await;
}

/// Back to the main window's page.
async fn leave_preview(s: &Session) {
    s.leave_frames().await;
    s.to_main().await;
}

/// Reads `js` in the preview's frame until it gives `want` (10 s).
async fn preview_reads(s: &Session, js: &str, want: serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        enter_preview(s).await;
        let got = s.script(js).await;
        leave_preview(s).await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{js}: {got}, not {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The whole screen (the preview is a window of its own, which the driver's screenshot of the
/// main page leaves out), when ImageMagick's `import` is there.
fn screen_shot(e: &Env, name: &str) {
    let out = e.shots.join(format!("{name}.png"));
    let _ = std::process::Command::new("import")
        .args(["-window", "root"])
        .arg(out)
        .status();
}

/// Whether the page answers a script within `within`.
async fn answers(s: &Session, within: Duration) -> bool {
    tokio::time::timeout(within, s.script("return 1"))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_previews_are_sandboxed_versioned_and_stoppable() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let bait = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let first = format!("Here:\n\n```svg\n{}\n```\n", svg("tomato"));
    let second = format!(
        "Better:\n\n```svg\n{}\n```\n\nAnd a page:\n\n```html\n{}\n```\n\n```mermaid\ngraph TD; A-->B\n```\n\n```html\n<script>while (true) {{}}</script>\n```\n",
        svg("steelblue"),
        hostile(bait.port())
    );
    for text in [&first, &second] {
        server.push(Reply::sse(text_answer(&[text], 0)));
    }
    let out = cli(data.path(), &["ask", "--json", "draw a box"]);
    let chat = out.lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        v["session_id"].as_str().map(str::to_owned)
    });
    let chat = chat.unwrap();
    cli(data.path(), &["ask", "--chat", &chat, "now better"]);

    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=session-item]").await;
    // The newest SVG opens as version 2 of 2; ‹ shows the first.
    open_preview(&s, "svg", 0).await;
    assert_eq!(
        s.text(&s.wait_for("[data-testid=artifact-version]").await)
            .await,
        "2/2"
    );
    let fill = "return document.getElementById('box')?.getAttribute('fill') ?? null";
    preview_reads(&s, fill, "steelblue".into()).await;
    enter_card_window(&s, "iframe").await;
    let sandbox = s
        .script("return document.querySelector('iframe').getAttribute('sandbox')")
        .await;
    assert_eq!(sandbox, "allow-scripts");
    s.to_main().await;
    screen_shot(&e, "artifacts-01-svg");
    // Wide enough, the panel sits beside the chat, and the preview follows the panel's size.
    s.set_size(1500, 900).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    screen_shot(&e, "artifacts-01-svg-wide");
    let (mx, my, _, _) = s.window_rect().await;
    let body = s
        .script("const r = document.querySelector('[data-testid=artifact-body]').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]")
        .await;
    let body: Vec<f64> = serde_json::from_value(body).unwrap();
    enter_card_window(&s, "iframe").await;
    let (px, py, pw, ph) = s.window_rect().await;
    s.to_main().await;
    let want = [mx as f64 + body[0], my as f64 + body[1], body[2], body[3]];
    let got = [px as f64, py as f64, pw as f64, ph as f64];
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 2.0,
            "the preview lies over the panel's body: {got:?}, not {want:?}"
        );
    }
    s.set_size(1100, 720).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.click_css("[data-testid=artifact-prev]").await;
    s.wait_text("[data-testid=artifact-version]", 10, |t| t == "1/2")
        .await;
    s.wait_for("[data-testid=artifact-body][data-ready=true]")
        .await;
    preview_reads(&s, fill, "tomato".into()).await;

    // The hostile page: refused everything, as it saw it and as seen from the outside.
    open_preview(&s, "html", 1).await;
    let mut report = serde_json::Value::Null;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        enter_preview(&s).await;
        let t = s
            .script("return document.getElementById('report')?.textContent ?? ''")
            .await;
        leave_preview(&s).await;
        if let Some(v) = t
            .as_str()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        {
            report = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("the hostile preview saw: {report}");
    for key in ["storage", "cookie", "parentDocument", "top", "fetch"] {
        let v = report[key].as_str().unwrap_or_default();
        assert!(
            v.starts_with("refused") || v.is_empty(),
            "{key}: {v} ({report})"
        );
    }
    assert_eq!(report["internals"], "undefined", "{report}");
    assert_eq!(
        report["channel"], "undefined",
        "Tauri's message channel is out of the preview: {report}"
    );
    for key in ["parentInternals", "topInternals"] {
        assert!(
            report[key]
                .as_str()
                .unwrap_or("refused")
                .starts_with("refused"),
            "{key}: {report}"
        );
    }
    assert_eq!(report["open"], "null", "{report}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        answers(&s, Duration::from_secs(2)).await,
        "the window answers after the flood"
    );
    let url = s.script("return location.href").await;
    assert!(
        url.as_str().unwrap().starts_with("tauri://localhost"),
        "{url}"
    );
    assert!(
        bait.received().is_empty() && bait.gets().is_empty(),
        "nothing reached the bait: {:?}",
        bait.received()
            .iter()
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    );
    let title = cli(data.path(), &["chats", "list", "--json"]);
    assert!(!title.contains("pwned"), "{title}");
    screen_shot(&e, "artifacts-02-hostile");

    // The Mermaid block is drawn (safely, by the window) and previewed as a picture.
    open_preview(&s, "mermaid", 0).await;
    preview_reads(
        &s,
        "return document.querySelectorAll('body > svg').length",
        1.into(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    screen_shot(&e, "artifacts-03-mermaid");
    // Save writes the block's own text (the dialog's answer is set by `cargo xtask test`).
    let saved = std::env::var("PARLEY_E2E_SAVE_FILE")
        .expect("PARLEY_E2E_SAVE_FILE is not set: run this through `cargo xtask test`");
    let _ = std::fs::remove_file(&saved);
    s.click_css("[data-testid=artifact-save]").await;
    s.wait_text("[data-testid=artifact-note]", 10, |t| {
        t.starts_with("Saved to")
    })
    .await;
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "graph TD; A-->B");
    s.click_css("[data-testid=artifact-close]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.window_handles().await.len() > 1 {
        assert!(
            Instant::now() < deadline,
            "the preview's window closes with its panel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A preview that loops forever: closing its panel stops it; the window answers again.
    open_preview(&s, "html", 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // It runs in a process of its own: the chat answers meanwhile.
    assert!(
        answers(&s, Duration::from_secs(3)).await,
        "the window answers while a preview loops"
    );
    s.click_css("[data-testid=artifact-close]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.window_handles().await.len() > 1 {
        assert!(
            Instant::now() < deadline,
            "the looping preview's window is closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answers(&s, Duration::from_secs(3)).await);
    assert!(s.find_all("[data-testid=artifact-panel]").await.is_empty());
    s.quit().await;
}
