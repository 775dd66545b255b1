//! Real window: an answer with inline and display math and a mermaid diagram renders — KaTeX
//! and the drawn picture — while it streams (each block once it closes) and again from
//! history after a relaunch; hostile LaTeX in the same answer stays inert.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;
use serde_json::json;
use std::time::Duration;

const INLINE: &str = "Euler's identity $e^{i\\pi} + 1 = 0$ links five constants, and \\(a^2 + b^2 = c^2\\) is Pythagoras. It costs $5 and $10, not math.\n\n";
const DISPLAY: &str = "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}, \\qquad \\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}, \\qquad \\left(\\sum_{i=1}^{n} a_i b_i\\right)^2 \\le \\left(\\sum_{i=1}^{n} a_i^2\\right)\\left(\\sum_{i=1}^{n} b_i^2\\right) \\qquad \\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx = \\sqrt{\\pi}\n$$\n\n";
const HOSTILE: &str =
    "Hostile: $\\href{javascript:window.__pwned=1}{click}$ and $\\def\\a{\\a}\\a$.\n\n";
const DIAGRAM: &str =
    "```mermaid\ngraph TD\n  A[Question] --> B{Known?}\n  B -->|yes| C[Answer]\n  B -->|no| D[Search]\n  D --> C\n  click A href \"javascript:window.__pwned=1\"\n```\n\n";

/// What the open chat's answer shows: formulas rendered, formulas left as source, pictures.
async fn shown(s: &Session) -> serde_json::Value {
    s.script(
        "const a = [...document.querySelectorAll('[data-testid=assistant-text]')].pop(); \
         return a ? { katex: a.querySelectorAll('.katex').length, display: a.querySelectorAll('.math-display .katex-display').length, \
         source: a.querySelectorAll('.math-source').length, pending: a.querySelectorAll('.math-pending').length, \
         svg: a.querySelectorAll('.code-block[data-diagram=drawn] .diagram svg').length, \
         code: a.querySelector('.code-block.mermaid pre code')?.textContent.includes('A[Question]') ?? false, \
         diagram: a.querySelector('.code-block.mermaid')?.dataset.diagram ?? null, \
         note: a.querySelector('.diagram-note')?.title ?? null, \
         links: [...a.querySelectorAll('a[href]')].map(l => l.getAttribute('href')), \
         handlers: [...a.querySelectorAll('*')].filter(e => [...e.attributes].some(x => x.name.startsWith('on'))).length, \
         foreign: a.querySelectorAll('foreignObject, script, iframe').length, pwned: window.__pwned ?? null, \
         text: a.textContent } : null",
    )
    .await
}

async fn wait_shown(
    s: &Session,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..200 {
        let v = shown(s).await;
        if ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: never shown; the answer shows {}", shown(s).await);
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

/// Everything in the answer is inert: no handlers, no script or foreign content, no links.
fn assert_inert(v: &serde_json::Value) {
    assert_eq!(v["handlers"], json!(0), "{v}");
    assert_eq!(v["foreign"], json!(0), "{v}");
    assert_eq!(v["links"], json!([]), "{v}");
    assert_eq!(v["pwned"], json!(null), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_math_and_diagrams_render_streaming_and_from_history() {
    let e = env();
    let (data, server, s) = launch_with_local(&e).await;
    server.push(Reply::sse(vec![
        ev_text(INLINE),
        ev_text(DISPLAY),
        ev_text(HOSTILE),
        ev_text("While this paragraph is still being written,\n$x^2$ shows as written"),
        sleep_ms(2500),
        ev_text(".\n\n"),
        ev_text(DIAGRAM),
        ev_text("That is all"),
        sleep_ms(4000),
        ev_text("."),
        ev_finish("stop"),
        ev_usage(10, 8),
        ev_done(),
    ]));
    s.set_size(1000, 760).await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    send(&s, "Show me some math").await;

    // Streaming: the finished blocks show KaTeX (inline, display), the hostile formulas as
    // source or inert, the paragraph still being written its formula as written.
    let v = wait_shown(&s, "math while streaming", |v| {
        n(v, "katex") >= 3 && n(v, "source") >= 1 && n(v, "pending") == 1
    })
    .await;
    assert!(
        !s.find_all("[data-testid=stop-button]").await.is_empty(),
        "the answer ended before it was checked: {v}"
    );
    assert_eq!(n(&v, "display"), 1, "{v}");
    assert!(
        n(&v, "source") >= 1,
        "the \\def loop shows as its source: {v}"
    );
    assert!(
        v["text"].as_str().unwrap_or("").contains("$5 and $10"),
        "{v}"
    );
    assert_inert(&v);
    shot(&s, &e, "math-01-streaming").await;

    // The diagram's block closes while the answer still streams: it is drawn then.
    let v = wait_shown(&s, "diagram while streaming", |v| n(v, "svg") == 1).await;
    assert!(
        !s.find_all("[data-testid=stop-button]").await.is_empty(),
        "the answer ended before the diagram was checked: {v}"
    );
    assert_eq!(
        v["code"],
        json!(true),
        "the code stays (hidden) for copying: {v}"
    );
    assert_inert(&v);
    shot(&s, &e, "math-02-diagram-streaming").await;

    s.wait_text("[data-testid=assistant-text]", 15, |t| {
        t.ends_with("That is all.")
    })
    .await;
    let streamed = wait_shown(&s, "the finished answer", |v| {
        n(v, "katex") >= 4 && n(v, "svg") == 1 && n(v, "pending") == 0
    })
    .await;
    assert_inert(&streamed);
    // Wide display math scrolls inside its own box; the page does not widen.
    let wide = s
        .script("const d = document.querySelector('.math-display'); return [d.scrollWidth > d.clientWidth, getComputedStyle(d).overflowX, document.documentElement.scrollWidth <= window.innerWidth]")
        .await;
    assert_eq!(wide, json!([true, "auto", true]), "wide display math");
    // KaTeX's fonts loaded from the app (the CSP allows 'self' fonts only).
    let fonts = s
        .script_async("document.fonts.ready.then(() => arguments[0]([...document.fonts].filter(f => f.family.includes('KaTeX') && f.status === 'loaded').length))")
        .await;
    assert!(
        fonts.as_u64().unwrap_or(0) >= 1,
        "KaTeX fonts not loaded: {fonts}"
    );
    shot(&s, &e, "math-03-complete").await;
    s.quit().await;

    // From history after a relaunch: the same formulas and the same picture.
    let s = launch(&e, data.path()).await;
    s.set_size(1000, 760).await;
    wait_users(&s, 1).await;
    let history = wait_shown(&s, "math from history", |v| {
        n(v, "katex") >= 4 && n(v, "svg") == 1
    })
    .await;
    for k in ["katex", "display", "source", "svg"] {
        assert_eq!(
            history[k], streamed[k],
            "{k}: streamed {streamed}, history {history}"
        );
    }
    assert_eq!(history["text"], streamed["text"]);
    assert_inert(&history);
    shot(&s, &e, "math-04-after-relaunch").await;
    // The dark theme: formulas take the text colour; the diagram is drawn again, dark.
    s.script("document.documentElement.dataset.theme = 'dark'")
        .await;
    s.wait_for(".code-block[data-diagram=drawn] > .diagram[data-theme=dark] svg")
        .await;
    shot(&s, &e, "math-05-dark-diagram").await;
    s.script("document.querySelector('.math-display').scrollIntoView({ block: 'center' })")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot(&s, &e, "math-06-dark-math").await;
    s.quit().await;
}
