//! The approval card: where a person decides a tool call, out of reach of the main page.
//!
//! The card is served by Rust on its own scheme (`parley-approve://localhost`, on Windows
//! `http://parley-approve.localhost`) and shown in a small native window of its own, owned by the
//! main window (`window.rs`): Rust opens it when the core asks for a decision and closes it when
//! the request ends. Script in the main page (say, injected through model output) has no handle
//! on that window — it cannot restyle, move, cover or make it transparent — cannot load or fetch
//! the scheme (the main page's CSP) and has no command to decide with (the main window's
//! capability does not include `decide_approval`). The card carries a random nonce for its
//! request, and `/decide` accepts a decision only with that nonce and only from the window
//! opened for that request.
//!
//! The card renders only escaped text (hidden characters marked by the shared table) and keeps
//! the keyjacking rules: it never takes the focus, ignores clicks and keys for 0.5 s, takes keys
//! only after the user entered it, and "always" needs a confirmation.

pub mod ask;
mod change;
pub mod window;

pub use change::{propose as propose_change, Change, Changes};
pub use window::Windows;

use crate::AppState;
use parley_protocol::{visible, ApprovalDecision, ChatId};
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::http::{Request, Response};
use tauri::Manager;

/// The scheme the card is served on.
pub const SCHEME: &str = "parley-approve";

/// The nonce of each request whose card was served, by (session, call).
#[derive(Default)]
pub struct Nonces(Mutex<HashMap<(String, String), String>>);

impl Nonces {
    fn get_or_make(&self, key: (String, String)) -> Option<String> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get(&key) {
            return Some(n.clone());
        }
        let n = random_hex(16)?;
        map.insert(key, n.clone());
        Some(n)
    }

    /// Drops the nonces of requests that no longer wait (answered elsewhere, stopped, timed out).
    fn retain(&self, waiting: impl Fn(&(String, String)) -> bool) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| waiting(k));
    }

    /// Whether `nonce` is the nonce of `key` (which keeps it).
    fn check(&self, key: &(String, String), nonce: &str) -> bool {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        matches!(map.get(key), Some(n) if !nonce.is_empty() && n == nonce)
    }

    fn take_if(&self, key: &(String, String), nonce: &str) -> bool {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(key) {
            Some(n) if !nonce.is_empty() && n == nonce => {
                map.remove(key);
                true
            }
            _ => false,
        }
    }
}

/// `bytes` random bytes as hex; `None` when the OS has no randomness to give.
pub(crate) fn random_hex(bytes: usize) -> Option<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).ok()?;
    Some(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Only the window's own theme names pass; anything else means "the system's".
fn theme_name(theme: &str) -> &'static str {
    match theme {
        "light" => "light",
        "dark" => "dark",
        _ => "system",
    }
}

const SCRIPT: &str = include_str!("card.js");
const CHANGE_SCRIPT: &str = include_str!("change.js");
const ASK_SCRIPT: &str = include_str!("ask.js");
const GONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\"></head><body><div class=\"status\" data-testid=\"approval-gone\">This request was already answered, stopped or timed out.</div><script src=\"/card.js\"></script></body></html>";
const STYLE: &str = include_str!("card.css");

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .header(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; form-action 'none'; base-uri 'none'",
        )
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

/// Text for HTML: escaped, hidden characters marked.
fn esc(s: &str) -> String {
    let marked = visible::mark_hidden(s);
    let mut out = String::with_capacity(marked.len());
    for c in marked.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Label and value pairs as the cards' rows, escaped.
fn field_rows(rows: &[(String, String)]) -> String {
    rows.iter()
        .map(|(k, v)| {
            format!(
                "<div class=\"field\"><span class=\"key\">{}</span><pre>{}</pre></div>",
                esc(k),
                esc(v)
            )
        })
        .collect()
}

/// The arguments as key/value rows when they are a flat JSON object, else `None`.
fn fields(arguments: &str) -> Option<Vec<(String, String)>> {
    let v: serde_json::Value = serde_json::from_str(arguments).ok()?;
    let o = v.as_object()?;
    Some(
        o.iter()
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), shown)
            })
            .collect(),
    )
}

fn risk_label(risk: parley_protocol::ToolRisk) -> &'static str {
    use parley_protocol::ToolRisk::*;
    match risk {
        ReadOnly => "Reads files",
        Mutating => "Changes files",
        Network => "Uses the network",
        Destructive => "Can delete or run anything",
        RunsCode => "Runs code",
    }
}

/// The card's page for one pending request.
pub fn card_html(
    session: &str,
    call: &str,
    nonce: &str,
    theme: &str,
    info: &parley_core::approvals::RequestInfo,
) -> String {
    let theme = theme_name(theme);
    let rows = match fields(&info.arguments) {
        Some(f) => field_rows(&f),
        None => format!("<pre>{}</pre>", esc(&info.arguments)),
    };
    let hidden = if visible::has_hidden(&info.arguments) {
        "<div class=\"warn\">These arguments contain invisible or direction-changing characters (shown as ⟦U+…⟧). Look closely before allowing.</div>"
    } else {
        ""
    };
    // What the core would never grant is never offered (it would only run once anyway).
    let grant = if info.can_grant && info.risk != parley_protocol::ToolRisk::RunsCode {
        "<button type=\"button\" data-decision=\"allow_session\" data-testid=\"approval-allow-session\" disabled>Allow for this chat <kbd>S</kbd></button>\
         <button type=\"button\" data-confirm-always data-testid=\"approval-allow-always\" disabled>Always allow… <kbd>A</kbd></button>"
    } else {
        ""
    };
    let once_only = if info.in_person {
        "<div class=\"hint\">Only you can allow this, here and now: it writes protected files or touches a file with more than one name (a hard link). It is never allowed in advance.</div>"
    } else if info.risk == parley_protocol::ToolRisk::RunsCode {
        "<div class=\"hint\">This call runs code, which can do anything you can: it can only be allowed once, never for this chat or always.</div>"
    } else if !info.can_grant {
        "<div class=\"hint\">This call can only be allowed once: it is a compound command, uses a wrapper, or runs other programs.</div>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html data-theme=\"{theme}\"><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\">\
<title>Approve {name}?</title></head><body>\
<div class=\"approval risk-{risk_class}\" role=\"dialog\" aria-label=\"Approve {name}?\" tabindex=\"-1\" data-testid=\"approval-dialog\" data-armed=\"false\" data-entered=\"false\" \
data-session=\"{session}\" data-call=\"{call}\" data-nonce=\"{nonce}\" data-can-grant=\"{can_grant}\">\
<div class=\"why\"><span class=\"risk\">{risk}</span> {reason}</div>\
<div class=\"exact-label\">It will run exactly this:</div>\
<div class=\"args\" data-testid=\"approval-arguments\">{rows}</div>{hidden}\
<details class=\"raw\"><summary>Exact JSON</summary><pre>{raw}</pre></details>\
<div class=\"choices\" data-testid=\"approval-choices\">\
<button type=\"button\" class=\"primary\" data-decision=\"allow_once\" data-testid=\"approval-allow-once\" disabled>Allow once <kbd>Y</kbd></button>{grant}\
<input class=\"note\" placeholder=\"Note for the model (optional)\" data-testid=\"approval-note\" maxlength=\"2000\">\
<button type=\"button\" class=\"danger\" data-decision=\"deny\" data-testid=\"approval-deny\" disabled>Deny <kbd>N</kbd></button></div>\
<div class=\"confirm\" hidden data-testid=\"approval-always-confirm\"><span>Run exactly this call without asking, in this workspace folder, from now on? You can revoke it in Settings.</span>\
<button type=\"button\" class=\"primary\" data-decision=\"allow_always\" data-testid=\"approval-always-yes\" disabled>Yes, always allow</button>\
<button type=\"button\" data-back data-testid=\"approval-always-back\">Back</button></div>\
{once_only}<div class=\"status\" role=\"status\" data-testid=\"approval-status\"></div></div>\
<script src=\"/card.js\"></script></body></html>",
        name = esc(&info.name),
        risk_class = format!("{:?}", info.risk).to_lowercase(),
        session = esc(session),
        call = esc(call),
        nonce = nonce,
        can_grant = info.can_grant,
        risk = risk_label(info.risk),
        reason = esc(&info.reason),
        raw = esc(&info.arguments),
    )
}

fn query(uri: &str) -> HashMap<String, String> {
    let full = if uri.contains("://") {
        uri.to_owned()
    } else {
        format!("{SCHEME}://localhost{uri}")
    };
    url::Url::parse(&full)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn decision(kind: &str, note: Option<String>) -> Option<ApprovalDecision> {
    Some(match kind {
        "allow_once" => ApprovalDecision::AllowOnce,
        "allow_session" => ApprovalDecision::AllowSession,
        "allow_always" => ApprovalDecision::AllowAlways,
        "deny" => ApprovalDecision::Deny { note },
        _ => return None,
    })
}

/// Serves the card's scheme to the webview `label`: the approval card (`/card`, `/decide`), the
/// change card (`/change`, `/apply`, in `change.rs`), the question card (`/ask`, `/answer`, in
/// `ask.rs`) and `/fit` (a card window takes its
/// content's height).
pub async fn serve<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    label: &str,
    request: &Request<Vec<u8>>,
) -> Response<Vec<u8>> {
    let uri = request.uri().to_string();
    let path = request.uri().path().to_owned();
    let q = query(&uri);
    let Some(state) = app.try_state::<AppState>() else {
        return respond(503, "text/plain", b"starting".to_vec());
    };
    let (Some(nonces), Some(windows)) = (app.try_state::<Nonces>(), app.try_state::<Windows>())
    else {
        return respond(503, "text/plain", b"starting".to_vec());
    };
    let arg = |k: &str| q.get(k).cloned().unwrap_or_default();
    match path.as_str() {
        "/card.js" => respond(200, "text/javascript", SCRIPT.as_bytes().to_vec()),
        "/card.css" => respond(200, "text/css", STYLE.as_bytes().to_vec()),
        "/change.js" => respond(200, "text/javascript", CHANGE_SCRIPT.as_bytes().to_vec()),
        "/ask.js" => respond(200, "text/javascript", ASK_SCRIPT.as_bytes().to_vec()),
        "/ask" | "/answer" => match ask::serve(app, label, &path, arg).await {
            Some((status, kind, body)) => respond(status, kind, body),
            None => respond(503, "text/plain", b"starting".to_vec()),
        },
        "/fit" => {
            window::fit(app, label, &arg("h"));
            respond(200, "application/json", br#"{"ok":true}"#.to_vec())
        }
        "/change" | "/apply" => match change::serve(app, label, &path, arg).await {
            Some((status, kind, body)) => respond(status, kind, body),
            None => respond(503, "text/plain", b"starting".to_vec()),
        },
        "/card" => {
            let (session, call) = (arg("session"), arg("call"));
            let approvals = state.core.approvals();
            nonces.retain(|(s, c)| approvals.pending_request(&ChatId(s.clone()), c).is_some());
            // Only the window opened for this request gets its card (and so its nonce).
            let card = window::Card::Approval {
                session: session.clone(),
                call: call.clone(),
            };
            let info = state
                .core
                .approvals()
                .pending_request(&ChatId(session.clone()), &call)
                .filter(|_| windows.is_window_of(label, &card));
            match (info, nonces.get_or_make((session.clone(), call.clone()))) {
                (Some(info), Some(nonce)) => respond(
                    200,
                    "text/html; charset=utf-8",
                    card_html(&session, &call, &nonce, &arg("theme"), &info).into_bytes(),
                ),
                (None, _) => respond(200, "text/html; charset=utf-8", GONE.as_bytes().to_vec()),
                (_, None) => respond(500, "text/plain", b"no randomness".to_vec()),
            }
        }
        "/decide" => decide(app, &state, &nonces, &windows, label, &q),
        _ => respond(404, "text/plain", b"not found".to_vec()),
    }
}

/// `/decide`: the decision of the approval card in the window `label`, with its nonce, once.
fn decide<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    state: &AppState,
    nonces: &Nonces,
    windows: &Windows,
    label: &str,
    q: &HashMap<String, String>,
) -> Response<Vec<u8>> {
    let arg = |k: &str| q.get(k).cloned().unwrap_or_default();
    let key = (arg("session"), arg("call"));
    let card = window::Card::Approval {
        session: key.0.clone(),
        call: key.1.clone(),
    };
    if !windows.is_window_of(label, &card) || !nonces.take_if(&key, &arg("nonce")) {
        return respond(
            403,
            "application/json",
            br#"{"error":"This decision did not come from the approval card."}"#.to_vec(),
        );
    }
    let note = q.get("note").filter(|n| !n.trim().is_empty()).cloned();
    let Some(d) = decision(&arg("decision"), note) else {
        return respond(
            400,
            "application/json",
            br#"{"error":"Unknown decision."}"#.to_vec(),
        );
    };
    match state
        .core
        .approvals()
        .decide_approval(&ChatId(key.0.clone()), &key.1, d)
    {
        Ok(()) => {
            window::close(app, &card);
            respond(200, "application/json", br#"{"ok":true}"#.to_vec())
        }
        Err(e) => respond(
            409,
            "application/json",
            serde_json::json!({"error": e.to_info().message})
                .to_string()
                .into_bytes(),
        ),
    }
}

/// The person closed a card's window without answering: the call is denied, the change
/// cancelled.
fn closed_unanswered<R: tauri::Runtime>(app: &tauri::AppHandle<R>, card: &window::Card) {
    match card {
        window::Card::Approval { session, call } => {
            let key = (session.clone(), call.clone());
            if let Some(nonces) = app.try_state::<Nonces>() {
                nonces.retain(|k| *k != key);
            }
            if let Some(state) = app.try_state::<AppState>() {
                let deny = ApprovalDecision::Deny { note: None };
                // Already answered, stopped or timed out: nothing waits any more.
                let _ = state
                    .core
                    .approvals()
                    .decide_approval(&ChatId(key.0), &key.1, deny);
            }
        }
        window::Card::Change { id } => change::cancel(app, id),
        window::Card::Ask { id } => ask::closed_unanswered(app, id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_shows_only_escaped_text() {
        let info = parley_core::approvals::RequestInfo {
            name: "run_shell<script>".into(),
            arguments: r#"{"command":"echo \"<img src=x onerror=alert(1)>\" \u202e && curl x|sh"}"#
                .into(),
            risk: parley_protocol::ToolRisk::Destructive,
            reason: "It <b>runs</b> things".into(),
            can_grant: false,
            in_person: false,
        };
        let html = card_html("s\"><script>", "c'1", "n", "\"><script>", &info);
        assert!(
            html.contains("data-theme=\"system\""),
            "an unknown theme is not echoed"
        );
        for bad in ["<script>", "<img", "<b>", "c'1"] {
            let body = &html[html.find("<body>").unwrap()..html.rfind("<script src").unwrap()];
            assert!(!body.contains(bad), "{bad} leaked: {body}");
        }
        assert!(html.contains("⟦U+202E⟧"));
        assert!(!html.contains("approval-allow-always"), "cannot be granted");
    }

    #[test]
    fn a_call_that_runs_code_offers_allow_once_and_deny_only() {
        for can_grant in [false, true] {
            let info = parley_core::approvals::RequestInfo {
                name: "run_shell".into(),
                arguments: r#"{"command":"python3.12 -c 'import os'"}"#.into(),
                risk: parley_protocol::ToolRisk::RunsCode,
                reason: "It runs code.".into(),
                can_grant,
                in_person: false,
            };
            let html = card_html("s", "c", "n", "dark", &info);
            assert!(html.contains("approval-allow-once") && html.contains("approval-deny"));
            assert!(
                !html.contains("approval-allow-session") && !html.contains("approval-allow-always")
            );
            assert!(html.contains(">Runs code<") && html.contains("risk-runscode"));
            assert!(html.contains("can only be allowed once"));
        }
    }

    #[test]
    fn a_decision_needs_the_cards_nonce_once() {
        let n = Nonces::default();
        let key = ("s".to_owned(), "c".to_owned());
        let nonce = n.get_or_make(key.clone()).unwrap();
        assert_eq!(nonce.len(), 32);
        assert_eq!(
            n.get_or_make(key.clone()).unwrap(),
            nonce,
            "the same card, the same nonce"
        );
        for wrong in ["", "0", &nonce[..31], &nonce.to_uppercase()] {
            assert!(!n.take_if(&key, wrong), "{wrong:?}");
        }
        assert!(!n.take_if(&("s".into(), "other".into()), &nonce));
        assert!(n.take_if(&key, &nonce));
        assert!(!n.take_if(&key, &nonce), "used once");
        // Requests that stopped waiting lose their nonce.
        let a = n.get_or_make(("s".into(), "a".into())).unwrap();
        n.get_or_make(("s".into(), "b".into())).unwrap();
        n.retain(|(_, c)| c == "a");
        assert!(n.take_if(&("s".into(), "a".into()), &a));
        assert_eq!(n.0.lock().unwrap().len(), 0);
    }
}
