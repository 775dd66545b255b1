//! The cards' own windows: each approval card and each change card is shown in a small native
//! window of its own, owned by the main window (transient for it), which Rust opens, places,
//! sizes and closes. Script in the main page has no handle on it: the page's capability grants
//! no window or webview command, the page's CSP cannot load the card's scheme, and a window is
//! not part of the page's DOM — so the page cannot restyle, move, cover, shrink or make the
//! card transparent, nor put it under the user's next click. The card's scheme also answers
//! `/decide` and `/apply` only to the window opened for that very request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tauri::{Manager, Runtime};

/// The label prefix of card windows (the main window's capability never names them).
pub const PREFIX: &str = "card-";
/// The width of a card window, in logical pixels.
const WIDTH: f64 = 560.0;
/// The card's height before it reports its own, and the bounds of what it may ask for.
const FIRST_HEIGHT: f64 = 300.0;
const MIN_HEIGHT: f64 = 100.0;
const MAX_HEIGHT: f64 = 640.0;

/// What a card window shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Card {
    /// The approval card of a pending tool call.
    Approval { session: String, call: String },
    /// The change card of a proposed provider change.
    Change { id: String },
    /// The question card of what an MCP server asks the person.
    Ask { id: String },
}

impl Card {
    fn title(&self) -> &'static str {
        match self {
            Card::Approval { .. } => "Parley: approve a tool call?",
            Card::Change { .. } => "Parley: confirm this change",
            Card::Ask { .. } => "Parley: an MCP server asks",
        }
    }

    /// The card's page on the card scheme, with the window's theme.
    pub fn url(&self, theme: &str) -> Option<url::Url> {
        let base = if cfg!(windows) {
            format!("http://{}.localhost", super::SCHEME)
        } else {
            format!("{}://localhost", super::SCHEME)
        };
        let mut u = url::Url::parse(&base).ok()?;
        match self {
            Card::Approval { session, call } => {
                u.set_path("/card");
                u.query_pairs_mut()
                    .append_pair("session", session)
                    .append_pair("call", call);
            }
            Card::Change { id } => {
                u.set_path("/change");
                u.query_pairs_mut().append_pair("id", id);
            }
            Card::Ask { id } => {
                u.set_path("/ask");
                u.query_pairs_mut().append_pair("id", id);
            }
        }
        u.query_pairs_mut().append_pair("theme", theme);
        Some(u)
    }
}

/// The open card windows: which card each label shows.
#[derive(Default)]
pub struct Windows {
    open: Mutex<HashMap<String, Card>>,
    next: AtomicU64,
}

impl Windows {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Card>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The card the window `label` was opened for.
    pub fn card_of(&self, label: &str) -> Option<Card> {
        self.map().get(label).cloned()
    }

    /// True when `label` is the window opened for `card` (a decision counts only from there).
    pub fn is_window_of(&self, label: &str, card: &Card) -> bool {
        self.map().get(label) == Some(card)
    }

    fn label_of(&self, card: &Card) -> Option<String> {
        self.map()
            .iter()
            .find(|(_, c)| *c == card)
            .map(|(l, _)| l.clone())
    }

    /// Reserves a new label for `card`, unless a window already shows it (then `None`).
    fn reserve(&self, card: &Card) -> Option<(String, usize)> {
        let mut map = self.map();
        if map.values().any(|c| c == card) {
            return None;
        }
        let label = format!("{PREFIX}{}", self.next.fetch_add(1, Ordering::SeqCst) + 1);
        let shown = map.len();
        map.insert(label.clone(), card.clone());
        Some((label, shown))
    }

    fn forget(&self, label: &str) -> Option<Card> {
        self.map().remove(label)
    }

    /// The cards that satisfy `pred`.
    pub fn cards_where(&self, pred: impl Fn(&Card) -> bool) -> Vec<Card> {
        self.map().values().filter(|c| pred(c)).cloned().collect()
    }

    /// The labels whose card satisfies `pred`.
    fn labels_where(&self, pred: impl Fn(&Card) -> bool) -> Vec<String> {
        self.map()
            .iter()
            .filter(|(_, c)| pred(c))
            .map(|(l, _)| l.clone())
            .collect()
    }
}

/// The height a card may ask for: its content, within bounds (garbage means the first height).
pub fn fit_height(asked: &str) -> f64 {
    match asked.trim().parse::<f64>() {
        Ok(h) if h.is_finite() => h.clamp(MIN_HEIGHT, MAX_HEIGHT),
        _ => FIRST_HEIGHT,
    }
}

/// Where a card window goes: centred over the main window, each further card a step lower.
fn place<R: Runtime>(app: &tauri::AppHandle<R>, height: f64, shown: usize) -> Option<(f64, f64)> {
    let main = app.get_webview_window("main")?;
    let scale = main.scale_factor().ok()?;
    let pos = main.outer_position().ok()?.to_logical::<f64>(scale);
    let size = main.outer_size().ok()?.to_logical::<f64>(scale);
    let step = 28.0 * shown as f64;
    Some((
        pos.x + ((size.width - WIDTH) / 2.0).max(0.0) + step,
        pos.y + ((size.height - height) / 3.0).max(0.0) + step,
    ))
}

/// Only the card's own origin may load in a card window.
pub fn card_origin(url: &url::Url) -> bool {
    let host = format!("{}.localhost", super::SCHEME);
    match (url.scheme(), url.host_str()) {
        (s, Some("localhost")) => s == super::SCHEME,
        ("http" | "https", Some(h)) => h == host,
        _ => false,
    }
}

/// The theme name the cards take from the settings.
async fn theme<R: Runtime>(app: &tauri::AppHandle<R>) -> &'static str {
    use parley_protocol::Theme;
    let Some(state) = app.try_state::<crate::AppState>() else {
        return "system";
    };
    match state.core.settings().get_settings().await.map(|s| s.theme) {
        Ok(Theme::Light) => "light",
        Ok(Theme::Dark) => "dark",
        _ => "system",
    }
}

/// Opens the window of `card`, unless it is open already.
pub async fn open<R: Runtime>(app: &tauri::AppHandle<R>, card: Card) {
    let Some(windows) = app.try_state::<Windows>() else {
        return;
    };
    let Some(url) = card.url(theme(app).await) else {
        return;
    };
    let Some((label, shown)) = windows.reserve(&card) else {
        return;
    };
    // A card never shares the screen with a preview (artifact_window.rs).
    crate::artifact_window::close(app);
    let mut b =
        tauri::WebviewWindowBuilder::new(app, &label, tauri::WebviewUrl::CustomProtocol(url))
            .title(card.title())
            .inner_size(WIDTH, FIRST_HEIGHT)
            .min_inner_size(360.0, MIN_HEIGHT)
            .minimizable(false)
            .maximizable(false)
            .skip_taskbar(true)
            .focused(false)
            .on_navigation(|u| {
                let ok = card_origin(u);
                if !ok {
                    tracing::warn!("blocked navigation of a card window to {u}");
                }
                ok
            });
    if let Some(main) = app.get_webview_window("main") {
        b = match b.parent(&main) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("a card window could not be owned by the main window: {e}");
                windows.forget(&label);
                return;
            }
        };
    }
    b = match place(app, FIRST_HEIGHT, shown) {
        Some((x, y)) => b.position(x, y),
        None => b.center(),
    };
    match b.build() {
        Ok(w) => watch_close(app, &w, &label),
        Err(e) => {
            tracing::warn!("could not open a card window: {e}");
            windows.forget(&label);
        }
    }
}

/// A card window closed by the person (its close button) answers "no": the call is denied,
/// the change cancelled. Closed by Rust (`destroy`), it only leaves the list.
fn watch_close<R: Runtime>(app: &tauri::AppHandle<R>, w: &tauri::WebviewWindow<R>, label: &str) {
    let (app, label) = (app.clone(), label.to_owned());
    w.on_window_event(move |event| match event {
        tauri::WindowEvent::CloseRequested { .. } => {
            if let Some(windows) = app.try_state::<Windows>() {
                if let Some(card) = windows.forget(&label) {
                    super::closed_unanswered(&app, &card);
                }
            }
        }
        tauri::WindowEvent::Destroyed => {
            if let Some(windows) = app.try_state::<Windows>() {
                windows.forget(&label);
            }
        }
        _ => {}
    });
}

/// Closes the window of `card`, if one is open.
pub fn close<R: Runtime>(app: &tauri::AppHandle<R>, card: &Card) {
    let Some(windows) = app.try_state::<Windows>() else {
        return;
    };
    if let Some(label) = windows.label_of(card) {
        destroy(app, &windows, &label);
    }
}

fn destroy<R: Runtime>(app: &tauri::AppHandle<R>, windows: &Windows, label: &str) {
    windows.forget(label);
    if let Some(w) = app.get_webview_window(label) {
        if let Err(e) = w.destroy() {
            tracing::warn!("could not close the card window {label}: {e}");
        }
    }
}

/// Closes every card window whose card is `gone` (answered elsewhere, stopped, timed out,
/// replaced).
pub fn close_where<R: Runtime>(app: &tauri::AppHandle<R>, gone: impl Fn(&Card) -> bool) {
    let Some(windows) = app.try_state::<Windows>() else {
        return;
    };
    for label in windows.labels_where(gone) {
        destroy(app, &windows, &label);
    }
}

/// Resizes the window `label` to the height its card asked for.
pub fn fit<R: Runtime>(app: &tauri::AppHandle<R>, label: &str, asked: &str) {
    let Some(windows) = app.try_state::<Windows>() else {
        return;
    };
    if windows.card_of(label).is_none() {
        return;
    }
    if let Some(w) = app.get_webview_window(label) {
        let size = tauri::LogicalSize::new(WIDTH, fit_height(asked));
        if let Err(e) = w.set_size(size) {
            tracing::warn!("could not size the card window {label}: {e}");
        }
    }
}

/// Opens an approval card for every request the core asks about, and closes the cards of
/// requests that no longer wait. Runs for the life of the app, whatever the main page does.
pub fn watch_requests<R: Runtime>(app: &tauri::AppHandle<R>) {
    let Some(state) = app.try_state::<crate::AppState>() else {
        return;
    };
    let mut events = state.core.chats().attach_events();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tokio::select! {
                ev = events.recv() => {
                    let Some(ev) = ev else { break };
                    if let parley_protocol::EventMsg::ApprovalRequested { call_id, .. } = ev.msg {
                        open(&app, Card::Approval { session: ev.chat_id.0, call: call_id }).await;
                    }
                }
                _ = tick.tick() => sweep(&app),
            }
        }
    });
}

/// Closes the approval and question cards of requests that no longer wait.
fn sweep<R: Runtime>(app: &tauri::AppHandle<R>) {
    let Some(state) = app.try_state::<crate::AppState>() else {
        return;
    };
    let approvals = state.core.approvals();
    let asks = state.core.mcp().asks();
    close_where(app, |c| match c {
        Card::Approval { session, call } => approvals
            .pending_request(&parley_protocol::ChatId(session.clone()), call)
            .is_none(),
        Card::Change { .. } => false,
        Card::Ask { id } => asks.get(id).is_none(),
    });
}

/// Closes every card window (the main window is going away).
pub fn close_all<R: Runtime>(app: &tauri::AppHandle<R>) {
    close_where(app, |_| true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_asks_for_a_height_within_bounds() {
        for (asked, want) in [
            ("240", 240.0),
            ("0", MIN_HEIGHT),
            ("-5", MIN_HEIGHT),
            ("1e9", MAX_HEIGHT),
            ("inf", FIRST_HEIGHT),
            ("NaN", FIRST_HEIGHT),
            ("", FIRST_HEIGHT),
            ("12px", FIRST_HEIGHT),
        ] {
            assert_eq!(fit_height(asked), want, "{asked:?}");
        }
    }

    #[test]
    fn a_card_window_loads_only_the_cards_origin() {
        let ok = |u: &str| card_origin(&url::Url::parse(u).unwrap());
        assert!(ok("parley-approve://localhost/card?session=s&call=c"));
        assert!(ok("http://parley-approve.localhost/change?id=x"));
        for bad in [
            "tauri://localhost/index.html",
            "http://tauri.localhost/",
            "parley-approve://evil.example/card",
            "http://parley-approve.localhost.evil.example/",
            "https://example.com/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<p>hi",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }

    #[test]
    fn only_the_window_opened_for_a_card_is_its_window() {
        let w = Windows::default();
        let a = Card::Approval {
            session: "s".into(),
            call: "c".into(),
        };
        let b = Card::Change { id: "x".into() };
        let (la, _) = w.reserve(&a).unwrap();
        assert!(w.reserve(&a).is_none(), "one window per card");
        let (lb, shown) = w.reserve(&b).unwrap();
        assert_eq!(shown, 1);
        assert!(la.starts_with(PREFIX) && la != lb);
        assert!(w.is_window_of(&la, &a));
        for (label, card) in [(&lb, &a), (&la, &b), (&"main".to_owned(), &a)] {
            assert!(!w.is_window_of(label, card), "{label}");
        }
        assert_eq!(w.forget(&la), Some(a.clone()));
        assert!(!w.is_window_of(&la, &a), "a closed window decides nothing");
        assert_eq!(
            w.labels_where(|c| matches!(c, Card::Change { .. })),
            vec![lb]
        );
    }

    #[test]
    fn a_cards_address_carries_its_request_escaped() {
        let a = Card::Approval {
            session: "s&call=x".into(),
            call: "c#1 ?".into(),
        };
        let u = a.url("dark").unwrap();
        let q: HashMap<String, String> = u.query_pairs().into_owned().collect();
        assert_eq!(q["session"], "s&call=x");
        assert_eq!(q["call"], "c#1 ?");
        assert_eq!(q["theme"], "dark");
        assert!(card_origin(&u));
        assert_eq!(u.path(), "/card");
        assert_eq!(
            Card::Change { id: "i".into() }
                .url("system")
                .unwrap()
                .path(),
            "/change"
        );
    }
}
