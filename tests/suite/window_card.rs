//! Real window: the approval card cannot be hidden, from the page's side. Rust shows each card in
//! a native window of its own (src-tauri/src/card/window.rs). Script in the main page (as model
//! output that got in would run) tries every way to restyle, move, shrink, cover or make the
//! card transparent, or to put something under the user's next click: window and webview
//! commands, frames and pop-ups of the card's address, a transparent overlay that forwards
//! clicks, a fake card in the placeholder's place. None of it reaches the card: it stays where
//! it was, whole and visible, nothing is decided by a click in the page, and the person's own
//! click in the card still decides.

use super::window::*;
use super::window_agent::tool_call_reply;
use parley_tests::webdriver::Session;
use parley_tests::*;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Everything script in the main page can try against the card, as one asynchronous script;
/// it reports what each attempt did.
const ATTACK: &str = r#"
const done = arguments[0];
const inv = window.__TAURI_INTERNALS__.invoke;
const out = { accepted: [], refused: 0 };
const origin = navigator.userAgent.includes('Windows') ? 'http://parley-approve.localhost' : 'parley-approve://localhost';
const cid = document.querySelector('[data-testid=tool-card][data-status=awaiting_approval]').dataset.callId;
const off = { Logical: { x: -5000, y: -5000 } };
const tiny = { Logical: { width: 1, height: 1 } };
const over = { label: 'overlay', url: 'index.html', transparent: true, alwaysOnTop: true, decorations: false, focus: false, x: 0, y: 0, width: 4000, height: 4000 };
const tries = (l) => [
  ['plugin:window|set_position', { label: l, value: off }],
  ['plugin:window|set_size', { label: l, value: tiny }],
  ['plugin:window|set_min_size', { label: l, value: tiny }],
  ['plugin:window|set_max_size', { label: l, value: tiny }],
  ['plugin:window|hide', { label: l }],
  ['plugin:window|minimize', { label: l }],
  ['plugin:window|close', { label: l }],
  ['plugin:window|destroy', { label: l }],
  ['plugin:window|set_always_on_bottom', { label: l, value: true }],
  ['plugin:window|set_always_on_top', { label: l, value: true }],
  ['plugin:window|set_ignore_cursor_events', { label: l, value: true }],
  ['plugin:window|set_decorations', { label: l, value: false }],
  ['plugin:window|set_focus', { label: l }],
  ['plugin:window|set_visible_on_all_workspaces', { label: l, value: false }],
  ['plugin:window|start_dragging', { label: l }],
  ['plugin:webview|set_webview_position', { label: l, value: off }],
  ['plugin:webview|set_webview_size', { label: l, value: tiny }],
  ['plugin:webview|webview_hide', { label: l }],
  ['plugin:webview|webview_close', { label: l }],
  ['plugin:webview|set_webview_zoom', { label: l, value: 0.01 }],
  ['plugin:webview|reparent', { label: l, window: 'main' }],
  ['plugin:event|emit_to', { target: { kind: 'Any' }, event: 'tauri://close-requested', payload: null }],
];
(async () => {
  const all = ['card-1', 'card-2', 'card-3', 'main'].flatMap(tries);
  all.push(['plugin:webview|create_webview_window', { options: over }]);
  all.push(['plugin:webview|create_webview', { windowLabel: 'main', options: over }]);
  all.push(['plugin:window|create', { options: over }]);
  all.push(['decide_approval', { sessionId: 'x', callId: cid, decision: { type: 'allow_once' } }]);
  for (const [cmd, args] of all) {
    try { await inv(cmd, args); out.accepted.push(cmd + ' ' + (args.label || '')); } catch (e) { out.refused += 1; }
  }
  // The page's own elements: restyle, move off-screen, shrink and hide whatever stands for
  // the card; there is no frame of it to find.
  out.frames = document.querySelectorAll('iframe').length;
  const w = document.querySelector('[data-testid=approval-waiting]');
  out.placeholder = w !== null;
  for (const el of document.querySelectorAll('iframe, [data-testid=approval-waiting], [data-testid=tool-card]')) {
    el.style.opacity = '0';
    el.style.transform = 'translate(-9999px, 0) scale(0.01)';
    el.style.position = 'fixed';
    el.style.pointerEvents = 'none';
  }
  // A fake card in its place, then the placeholder removed.
  const fake = document.createElement('div');
  fake.innerHTML = '<button data-testid="fake-allow" style="position:fixed;left:40%;top:40%;z-index:10">Allow once</button>';
  document.body.appendChild(fake);
  if (w) w.remove();
  // A transparent overlay over everything that forwards each click to what lies under it.
  const o = document.createElement('div');
  o.dataset.testid = 'overlay';
  o.style.cssText = 'position:fixed;inset:0;z-index:2147483647;background:transparent;opacity:0';
  o.addEventListener('click', (ev) => {
    o.style.pointerEvents = 'none';
    const t = document.elementFromPoint(ev.clientX, ev.clientY);
    o.style.pointerEvents = '';
    out.forwarded = (out.forwarded || 0) + 1;
    if (t && t !== o && t.click) t.click();
  });
  document.body.appendChild(o);
  // The card's own address: framed, popped up, fetched.
  const f = document.createElement('iframe');
  f.src = origin + '/card?session=x&call=' + cid;
  f.style.cssText = 'position:fixed;inset:0;opacity:0';
  document.body.appendChild(f);
  await new Promise((r) => { f.onload = r; setTimeout(r, 1500); });
  try { out.frame = f.contentDocument && f.contentDocument.querySelector('[data-testid=approval-dialog]') ? 'readable' : 'absent'; } catch (e) { out.frame = 'blocked'; }
  try { const p = window.open(origin + '/card?session=x&call=' + cid, '_blank'); out.popup = p ? 'opened' : 'none'; } catch (e) { out.popup = 'blocked'; }
  try { const r = await fetch(origin + '/decide?session=x&call=' + cid + '&decision=allow_once&nonce=x'); out.fetch = 'fetched ' + r.status; } catch (e) { out.fetch = 'blocked'; }
  done(out);
})();
"#;

/// What the card window's own document says about itself.
const CARD_STATE: &str = r#"
const d = document.querySelector('[data-testid=approval-dialog]');
const b = document.querySelector('[data-testid=approval-allow-once]');
const r = b ? b.getBoundingClientRect() : null;
return {
  dialog: d !== null,
  armed: d ? d.dataset.armed : null,
  visibility: document.visibilityState,
  opacity: getComputedStyle(document.body).opacity + '/' + (d ? getComputedStyle(d).opacity : ''),
  button: r ? { w: Math.round(r.width), h: Math.round(r.height), inside: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth } : null,
  enabled: b ? !b.disabled : false,
};
"#;

/// A picture of the whole X screen (both windows), when `import` is there to take it.
fn screen_shot(e: &Env, name: &str) {
    let Some(display) = std::env::var_os("DISPLAY") else {
        return;
    };
    let path = e.shots.join(format!("{name}.png"));
    let _ = std::fs::create_dir_all(&e.shots);
    match std::process::Command::new("import")
        .env("DISPLAY", display)
        .args(["-window", "root"])
        .arg(&path)
        .output()
    {
        Ok(o) if !o.status.success() => {
            eprintln!("import failed: {}", String::from_utf8_lossy(&o.stderr));
        }
        Ok(_) => {}
        Err(err) => eprintln!("no screen shot ({err})"),
    }
}

/// The window's size is saved across launches: back to the size the other tests start from.
async fn leave_at_the_usual_size(s: &Session) {
    s.set_size(1100, 760).await;
    // The size is saved 0.4 s after the last change (src-tauri/src/lib.rs).
    tokio::time::sleep(Duration::from_millis(700)).await;
}

/// Starts the app with a chat whose tools work in `ws`.
async fn launch_with_workspace(e: &Env, data: &Path, ws: &Path) -> Session {
    let s = Session::start(
        &e.driver,
        &e.app,
        &[
            "--data-dir".into(),
            data.display().to_string(),
            "--e2e-pick-folder".into(),
            ws.display().to_string(),
            "--e2e-no-titles".into(),
        ],
    )
    .await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    s.click(&s.wait_for("[data-testid=workspace-choose]").await)
        .await;
    let root = ws.canonicalize().unwrap().display().to_string();
    s.wait_text("[data-testid=workspace-status]", 10, |t| t.contains(&root))
        .await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_card_cannot_be_hidden_moved_or_covered_from_the_page() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let args = r#"{"path":"a.txt","content":"allowed\n"}"#;
    server.push(tool_call_reply("c1", "write_file", args));
    server.push(Reply::sse(text_answer(&["Wrote a.txt."], 0)));
    let s = launch_with_workspace(&e, data.path(), ws.path()).await;
    s.set_size(1280, 860).await;

    // The card opens in its own window; the transcript only says where to decide.
    send(&s, "Write a.txt").await;
    let card = enter_card_window(&s, "[data-testid=approval-dialog]").await;
    s.wait_attr("[data-testid=approval-dialog]", "data-armed", 5, |v| {
        v == "true"
    })
    .await;
    let rect = s.window_rect().await;
    let before = s.script(CARD_STATE).await;
    shot(&s, &e, "60-card-window").await;
    s.to_main().await;
    s.wait_for("[data-testid=approval-waiting]").await;
    screen_shot(&e, "61-card-over-the-window-large");

    // The attack, from the page.
    let attack = s.script_async(ATTACK).await;
    assert_eq!(attack["accepted"], serde_json::json!([]), "{attack}");
    assert!(attack["refused"].as_u64().unwrap_or(0) > 80, "{attack}");
    assert_eq!(
        attack["frames"], 0,
        "the card is no frame of the page: {attack}"
    );
    assert_eq!(attack["placeholder"], true, "{attack}");
    assert_ne!(attack["frame"], "readable", "{attack}");
    assert!(
        attack["fetch"]
            .as_str()
            .unwrap_or("")
            .starts_with("blocked"),
        "{attack}"
    );
    // The click where the person would click: on the overlay, and on the fake card under it.
    s.click(&s.wait_for("[data-testid=overlay]").await).await;
    // The fake card is under the page's overlay: the click lands on the overlay (WebDriver
    // says so) or on the fake card; neither is the card.
    let fake = s.wait_for("[data-testid=fake-allow]").await;
    if let Err(err) = s.try_click(&fake).await {
        assert!(err.starts_with("element click intercepted"), "{err}");
    }
    screen_shot(&e, "62-after-the-attack");
    tokio::time::sleep(Duration::from_millis(800)).await;
    s.wait_count("[data-testid=tool-card][data-status=awaiting_approval]", 1)
        .await;
    assert!(!ws.path().join("a.txt").exists(), "nothing ran");
    assert_eq!(server.received().len(), 1, "the model heard of no decision");

    // The card is where it was, whole, visible and the only other window.
    let handles = s.window_handles().await;
    assert_eq!(handles.len(), 2, "no other window appeared: {handles:?}");
    assert!(handles.contains(&card), "{handles:?}");
    assert!(s.switch_window(&card).await);
    assert_eq!(
        s.window_rect().await,
        rect,
        "the card did not move or shrink"
    );
    let after = s.script(CARD_STATE).await;
    assert_eq!(after, before, "the card's document is as it was");
    assert_eq!(after["visibility"], "visible", "{after}");
    assert_eq!(after["opacity"], "1/1", "{after}");
    assert_eq!(after["button"]["inside"], true, "{after}");
    assert_eq!(after["enabled"], true, "{after}");

    // The person's own click in the card still decides.
    s.click(
        &s.wait_for("[data-testid=approval-allow-once]:not([disabled])")
            .await,
    )
    .await;
    s.to_main().await;
    wait_no_card_window(&s).await;
    s.wait_count("[data-testid=tool-card][data-status=completed]", 1)
        .await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "Wrote a.txt.")
        .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "allowed\n"
    );
    leave_at_the_usual_size(&s).await;
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_card_in_a_small_window_denied_with_a_note_and_gone_on_stop() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let long = "x".repeat(3000);
    let args = format!(r#"{{"path":"b.txt","content":"{long}"}}"#);
    server.push(tool_call_reply("c1", "write_file", &args));
    server.push(Reply::sse(text_answer(&["Not written."], 0)));
    let s = launch_with_workspace(&e, data.path(), ws.path()).await;
    s.set_size(640, 480).await;

    send(&s, "Write b.txt").await;
    enter_card_window(&s, "[data-testid=approval-dialog]").await;
    let state: Value = s.script(CARD_STATE).await;
    assert_eq!(
        state["button"]["inside"], true,
        "a long call still shows its buttons: {state}"
    );
    shot(&s, &e, "63-card-window-long").await;
    s.to_main().await;
    screen_shot(&e, "64-card-over-the-window-small");

    enter_card_window(&s, "[data-testid=approval-dialog]").await;
    let note = s.wait_for("[data-testid=approval-note]").await;
    s.click(&note).await;
    s.type_text(&note, "not now").await;
    s.click(
        &s.wait_for("[data-testid=approval-deny]:not([disabled])")
            .await,
    )
    .await;
    s.to_main().await;
    wait_no_card_window(&s).await;
    s.wait_count("[data-testid=tool-card][data-status=denied]", 1)
        .await;
    s.wait_count("[data-testid=approval-waiting]", 0).await;
    let told = server.received().last().unwrap().json()["messages"].to_string();
    assert!(told.contains("not now"), "{told}");
    assert!(!ws.path().join("b.txt").exists());

    // A request that ends without the card (the person stops the turn) takes its card along.
    server.push(tool_call_reply(
        "c2",
        "write_file",
        r#"{"path":"c.txt","content":"c"}"#,
    ));
    send(&s, "Write c.txt").await;
    enter_card_window(&s, "[data-testid=approval-dialog]").await;
    s.to_main().await;
    s.click(&s.wait_for("[data-testid=stop-button]").await)
        .await;
    wait_no_card_window(&s).await;
    s.wait_count("[data-testid=approval-waiting]", 0).await;
    assert!(!ws.path().join("c.txt").exists());
    leave_at_the_usual_size(&s).await;
    s.quit().await;
}
