//! Probes of the transcript's scrolling in the real window, shared by the real-window suite
//! (`suite::window_scroll`) and the bench (`parley-bench scale scroll`): does the reader's
//! place hold while older pages arrive under continuous scrolling (optionally with rows that
//! grow after they are shown, as images decoding late do), and does following the stream
//! survive resizing the window.

use crate::webdriver::Session;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Scrolls the transcript up every frame by `fraction` of its height, as a touchpad does,
/// until the first message is at the top. The page reads, once per frame after the app's own
/// ResizeObserver work (a ResizeObserver of its own, created later, on an element the probe
/// resizes each frame — so what it reads is what is painted), where the first visible message
/// is, and compares it with where the previous frame's scroll should have put it: `drift` is
/// the difference (0 = the reader's place held). Frames where older messages arrived are
/// `loads`. With `late` > 0, every row that mounts gets a block of `late` px (1×, 1.5× or 2×,
/// by its index) inserted at its start two frames later — a row whose height changes after it
/// is shown, as an image that decodes late; the block comes back each time the row mounts.
/// Runs in the background (`window.__place`), polled here; gives up after `limit`.
const PLACE_JS: &str = r#"
const [first, fraction, late, limit] = arguments;
const t = document.querySelector('[data-testid=transcript]');
const idOf = (el) => el.dataset.row ?? el.dataset.seek;
const num = (id) => Number(/(\d+)$/.exec(id ?? '')?.[1] ?? NaN);
const find = (id) => t.querySelector(`[data-row='${id}'],[data-seek='${id}']`);
let frame = 0, moved = null, prev = null, done = false;
const born = new Map();
const mo = new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes)
  if (n.nodeType === 1 && n.dataset && n.dataset.row) born.set(n, frame); });
if (late > 0) mo.observe(t, { childList: true, subtree: true });
const probe = document.createElement('div');
probe.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0';
document.body.append(probe);
const out = { loads: [], misses: [], worst: 0, bad: 0, frames: 0, lost: 0, reached: -1, late: 0, done: false };
window.__place = out;
const t0 = performance.now();
const finish = () => { done = true; mo.disconnect(); ro.disconnect(); probe.remove(); out.done = true; };
const ro = new ResizeObserver(() => {
  if (done) return;
  const top = t.getBoundingClientRect().top;
  const count = Number(t.dataset.messages);
  let R = null;
  for (const el of t.querySelectorAll('[data-row],[data-seek]')) {
    const b = el.getBoundingClientRect();
    if (b.bottom > top + 0.5) { R = { id: idOf(el), y: b.top - top }; break; }
  }
  if (prev && prev.R && moved) {
    const el = find(prev.R.id);
    const want = prev.R.y + (moved[0] - moved[1]);
    const drift = el ? el.getBoundingClientRect().top - top - want : null;
    out.frames++;
    if (drift === null) out.lost++;
    else { out.worst = Math.max(out.worst, Math.abs(drift)); if (Math.abs(drift) > 4) out.bad++; }
    if (count > prev.count) out.loads.push({ drift: drift === null ? null : Math.round(drift * 10) / 10,
      messages: count, jump: R ? num(R.id) - num(prev.R.id) : null });
    // What a frame that lost the place looked like (the first few), for the report.
    if ((drift === null || Math.abs(drift) > 4) && out.misses.length < 5)
      out.misses.push({ frame, drift, was: prev.R, now: R, top: t.scrollTop, moved: [...moved],
        messages: [prev.count, count], loading: !!t.querySelector('[data-testid=older] span') });
  }
  prev = { R, count };
  moved = null;
  if (find(first) && t.scrollTop === 0) { out.reached = performance.now() - t0; finish(); }
  else if (performance.now() - t0 > limit) finish();
});
ro.observe(probe);
const step = () => {
  if (done) return;
  frame++;
  for (const [el, f] of born) {
    if (frame - f < 2) continue;
    born.delete(el);
    if (!el.isConnected) continue;
    const d = document.createElement('div');
    d.dataset.late = '';
    d.style.height = `${late * (1 + (num(el.dataset.row) % 3) / 2)}px`;
    el.prepend(d);
    out.late++;
  }
  const s0 = t.scrollTop;
  t.scrollTop = Math.max(0, s0 - fraction * t.clientHeight);
  moved = [s0, t.scrollTop];
  probe.style.width = `${(frame % 2) + 1}px`;
  requestAnimationFrame(step);
};
requestAnimationFrame(step);
return true;"#;

/// What `scroll_back` measured.
#[derive(Debug)]
pub struct Place {
    /// Frames compared.
    pub frames: u64,
    /// Older pages that arrived: (drift in px, or None when the message left the DOM — the
    /// view went elsewhere; how many messages the first visible one moved by).
    pub loads: Vec<(Option<f64>, Option<i64>)>,
    /// The largest drift of any frame (px).
    pub worst: f64,
    /// Frames whose drift was over 4 px.
    pub bad: u64,
    /// Frames where the first visible message left the DOM.
    pub lost: u64,
    /// ms until the first message was at the top (None: not within the limit).
    pub reached: Option<f64>,
    /// Late height changes injected.
    pub late: u64,
    /// The page's own record.
    pub raw: Value,
}

impl Place {
    /// Page loads where the first visible message did not stay within `px`.
    pub fn loads_lost(&self, px: f64) -> usize {
        self.loads
            .iter()
            .filter(|(d, _)| d.is_none_or(|d| d.abs() > px))
            .count()
    }

    /// One line for a report.
    pub fn summary(&self) -> String {
        let drifts: Vec<String> = self
            .loads
            .iter()
            .map(|(d, j)| match (d, j) {
                (Some(d), _) => format!("{d:.0}"),
                (None, Some(j)) => format!("lost ({j:+} messages)"),
                (None, None) => "lost".into(),
            })
            .collect();
        let misses = match self.raw["misses"].as_array() {
            Some(m) if !m.is_empty() => {
                format!("; frames that lost it: {}", Value::Array(m.clone()))
            }
            _ => String::new(),
        };
        format!(
            "{} of {} page loads kept the first visible message within 4 px (drift per load, px: {}); worst frame {:.0} px, {} frames over 4 px, {} frames lost it, of {}; {} late resizes; reached the first message {}{misses}",
            self.loads.len() - self.loads_lost(4.0),
            self.loads.len(),
            drifts.join(", "),
            self.worst,
            self.bad,
            self.lost,
            self.frames,
            self.late,
            self.reached
                .map_or("never (gave up)".into(), |ms| format!("after {:.1} s", ms / 1e3)),
        )
    }
}

/// Opens chat `sid` (messages `ids`) from the sidebar, waits for its newest message, lets it
/// settle, and scrolls it back to its first message (`scroll_back`).
pub async fn open_and_scroll_back(
    s: &Session,
    sid: &str,
    ids: &[String],
    late: u32,
    limit: Duration,
) -> Place {
    s.click(
        &s.wait_for(&format!("[data-session-id='{sid}'] .open"))
            .await,
    )
    .await;
    s.wait_for(&format!("[data-row='{}']", ids[ids.len() - 1]))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    scroll_back(s, &ids[0], 0.9, late, limit).await
}

/// Runs PLACE_JS (see there) in the open chat until message `first` is at the top.
pub async fn scroll_back(
    s: &Session,
    first: &str,
    fraction: f64,
    late: u32,
    limit: Duration,
) -> Place {
    s.script_args(
        PLACE_JS,
        &[
            json!(first),
            json!(fraction),
            json!(late),
            json!(limit.as_millis() as u64),
        ],
    )
    .await;
    let deadline = Instant::now() + limit + Duration::from_secs(10);
    let raw = loop {
        let v = s
            .script("return window.__place?.done ? window.__place : null")
            .await;
        if !v.is_null() {
            break v;
        }
        assert!(Instant::now() < deadline, "the scroll probe never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let n = |k: &str| raw[k].as_u64().unwrap_or(0);
    let loads = raw["loads"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| (l["drift"].as_f64(), l["jump"].as_i64()))
                .collect()
        })
        .unwrap_or_default();
    Place {
        frames: n("frames"),
        loads,
        worst: raw["worst"].as_f64().unwrap_or(f64::NAN),
        bad: n("bad"),
        lost: n("lost"),
        reached: raw["reached"].as_f64().filter(|ms| *ms >= 0.0),
        late: n("late"),
        raw,
    }
}

/// Waits until `js` (a script returning a boolean, with `args`) is true in the page; a
/// failure says `what`.
pub async fn wait_until(s: &Session, js: &str, args: &[Value], secs: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while s.script_args(js, args).await != json!(true) {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the last assistant message in the DOM contains `marker` (asked in the page:
/// the streamed text is long, and a failure names the marker, not the text).
pub async fn wait_streamed(s: &Session, marker: &str, secs: u64) {
    wait_until(
        s,
        "const a = [...document.querySelectorAll('[data-testid=message-assistant] [data-testid=assistant-text]')].at(-1); return !!a && a.textContent.includes(arguments[0])",
        &[json!(marker)],
        secs,
        &format!("{marker:?} in the last answer"),
    )
    .await;
}

/// Waits until the running turn has ended (its Stop button is gone).
pub async fn wait_turn_end(s: &Session, secs: u64) {
    wait_until(
        s,
        "return !document.querySelector('[data-testid=stop-button]')",
        &[],
        secs,
        "the turn's end",
    )
    .await;
}

/// Where the transcript is: px from its bottom, whether "↓ Latest" shows.
pub async fn bottom_gap(s: &Session) -> (f64, bool) {
    let v = s
        .script("const t = document.querySelector('[data-testid=transcript]'); return [t.scrollHeight - t.scrollTop - t.clientHeight, !!document.querySelector('[data-testid=jump-latest]')]")
        .await;
    (v[0].as_f64().unwrap_or(f64::NAN), v[1] == json!(true))
}

/// The window sizes `follow_through_resizes` goes through: shrinking and growing, by little
/// and by much.
pub const SIZES: [(u32, u32); 6] = [
    (1100, 520),
    (1100, 900),
    (1100, 420),
    (1300, 760),
    (900, 600),
    (1100, 760),
];

/// While an answer streams and the view follows it, resizes the window through SIZES; after
/// each, 400 ms later, where the view is. Returns one (gap to the bottom px, "↓ Latest"
/// shown) per size.
pub async fn follow_through_resizes(s: &Session) -> Vec<(f64, bool)> {
    let mut out = Vec::new();
    for (w, h) in SIZES {
        s.set_size(w, h).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        out.push(bottom_gap(s).await);
    }
    out
}

/// The view follows at `gap`: at the bottom (within 80 px, the transcript's own rule) and no
/// "↓ Latest".
pub fn following(gap: &(f64, bool)) -> bool {
    gap.0 < 80.0 && !gap.1
}

/// After a send: the turn starts (its Stop button shows), or the context gauge warns first
/// that the chat no longer fits the model's window — then "Send anyway" is clicked, as a
/// person who has read it would. Fails when neither happens within `secs`.
pub async fn send_through_warning(s: &Session, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let state = s
            .script(
                "return document.querySelector('[data-testid=context-send-anyway]') ? 'warned' : document.querySelector('[data-testid=stop-button]') ? 'started' : null",
            )
            .await;
        match state.as_str() {
            Some("started") => return,
            Some("warned") => {
                let b = s.wait_for("[data-testid=context-send-anyway]").await;
                s.click(&b).await;
                return;
            }
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the send neither started nor warned within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
