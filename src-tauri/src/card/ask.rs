//! The question card: what an MCP server asks the person (elicitation), out of reach of the
//! main page like an approval. The core keeps each question (`parley_core::mcp::asks`); the
//! desktop is attached as its answerer for the life of the app and opens `/ask?id=…` — a form
//! rendered from the server's schema, or an address shown whole — in a card window of its own.
//! Only that page, with its nonce, from that window, answers (`/answer`): script in the main
//! page can neither read the question nor answer it. An address is opened in the browser only
//! when the person presses Open, by Rust, and only an http(s) one. A form's answer is checked
//! in Rust against the schema; a wrong one is refused with what is wrong and the card stays.
//! Closing the window answers "cancel".

use super::{esc, window::Card, Nonces};

/// Text for an attribute value the card sends back (a field's name, an option's value, a
/// default): HTML-escaped only, so it stays exactly what the server gave (shown text is `esc`).
fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
use parley_core::mcp::asks::{Answer, Ask, AskKind, Asks};
use parley_core::mcp::form::{Field, Kind};
use std::sync::Arc;
use tauri::Manager;

const GONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\"></head><body><div class=\"status\" data-testid=\"ask-gone\">This question was already answered, stopped or timed out.</div><script src=\"/ask.js\"></script></body></html>";

fn key(id: &str) -> (String, String) {
    ("ask".to_owned(), id.to_owned())
}

/// A field's default as the text of an input.
fn text_default(f: &Field) -> String {
    match &f.default {
        Some(serde_json::Value::String(s)) => attr(s),
        Some(v @ serde_json::Value::Number(_)) => attr(&v.to_string()),
        _ => String::new(),
    }
}

/// What a text or number field takes, as its placeholder.
fn placeholder(kind: &Kind) -> String {
    let span = |a: Option<String>, b: Option<String>, unit: &str| match (a, b) {
        (Some(a), Some(b)) => format!("{a} to {b}{unit}"),
        (Some(a), None) => format!("at least {a}{unit}"),
        (None, Some(b)) => format!("at most {b}{unit}"),
        (None, None) => String::new(),
    };
    let (hint, range) = match kind {
        Kind::Text {
            min_len,
            max_len,
            format,
        } => (
            match format.as_deref() {
                Some("email") => "name@example.com",
                Some("uri") => "https://…",
                Some("date") => "YYYY-MM-DD",
                Some("date-time") => "YYYY-MM-DDThh:mm:ssZ",
                _ => "",
            },
            span(
                min_len.map(|x| x.to_string()),
                max_len.map(|x| x.to_string()),
                " characters",
            ),
        ),
        Kind::Number { integer, min, max } => (
            if *integer {
                "a whole number"
            } else {
                "a number"
            },
            span(min.map(|x| x.to_string()), max.map(|x| x.to_string()), ""),
        ),
        _ => ("", String::new()),
    };
    [hint, range.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The input of a choice field: a list for one value, boxes for several.
fn choice_input(f: &Field, options: &[(String, String)], multi: bool) -> String {
    let name = attr(&f.name);
    if !multi {
        let mut s = format!("<select data-field=\"{name}\" data-kind=\"text\" data-testid=\"ask-input\"><option value=\"\">—</option>");
        for (v, label) in options {
            let sel = if f.default.as_ref().and_then(|d| d.as_str()) == Some(v) {
                " selected"
            } else {
                ""
            };
            s.push_str(&format!(
                "<option value=\"{}\"{sel}>{}</option>",
                attr(v),
                esc(label)
            ));
        }
        return s + "</select>";
    }
    let chosen: Vec<&str> = f
        .default
        .as_ref()
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let mut s = format!(
        "<div class=\"multi\" data-field=\"{name}\" data-kind=\"multi\" data-testid=\"ask-input\">"
    );
    for (v, label) in options {
        let on = if chosen.contains(&v.as_str()) {
            " checked"
        } else {
            ""
        };
        s.push_str(&format!(
            "<label><input type=\"checkbox\" value=\"{}\"{on}> {}</label>",
            attr(v),
            esc(label)
        ));
    }
    s + "</div>"
}

/// One field of the form, as inputs the card reads back by `data-field`.
fn field_html(f: &Field) -> String {
    let name = attr(&f.name);
    let input = match &f.kind {
        Kind::Text { .. } | Kind::Number { .. } => {
            let mode = if matches!(f.kind, Kind::Number { .. }) {
                " inputmode=\"decimal\""
            } else {
                ""
            };
            format!(
                "<input type=\"text\"{mode} data-field=\"{name}\" data-kind=\"text\" value=\"{}\" placeholder=\"{}\" data-testid=\"ask-input\">",
                text_default(f),
                esc(&placeholder(&f.kind))
            )
        }
        Kind::Boolean => {
            let on = if f.default == Some(serde_json::Value::Bool(true)) {
                " checked"
            } else {
                ""
            };
            format!("<input type=\"checkbox\" data-field=\"{name}\" data-kind=\"boolean\"{on} data-testid=\"ask-input\">")
        }
        Kind::Choice { options, multi, .. } => choice_input(f, options, *multi),
    };
    format!(
        "<label class=\"ask-field\" data-testid=\"ask-field\" data-name=\"{name}\"><span class=\"key\">{}{}</span>{}{input}</label>",
        esc(&f.title),
        if f.required { " <span class=\"req\">(required)</span>" } else { "" },
        if f.description.is_empty() { String::new() } else { format!("<span class=\"hint\">{}</span>", esc(&f.description)) },
    )
}

/// A sampling request as the card shows it: which model would answer, the system prompt,
/// each message, the most tokens.
fn sampling_html(model: &(String, String), r: &parley_core::mcp::sampling::Request) -> String {
    let mut s = format!(
        "<div class=\"exact-label\">The model <b data-testid=\"ask-model\">{} · {}</b> would answer this, at most {} tokens; the server gets the answer:</div>",
        esc(&model.1),
        esc(&model.0),
        r.max_tokens
    );
    if let Some(system) = &r.system {
        s.push_str(&super::field_rows(&[(
            "System prompt".to_owned(),
            system.clone(),
        )]));
    }
    let rows: Vec<(String, String)> = r
        .messages
        .iter()
        .map(|(role, text)| (role.clone(), text.clone()))
        .collect();
    s.push_str(&format!(
        "<div data-testid=\"ask-messages\">{}</div>",
        super::field_rows(&rows)
    ));
    s
}

/// The card's page for question `ask`.
pub fn ask_html(nonce: &str, theme: &str, ask: &Ask) -> String {
    let theme = super::theme_name(theme);
    let (body, accept) = match &ask.kind {
        AskKind::Form { fields } => (
            fields.iter().map(field_html).collect::<String>(),
            "<button type=\"button\" class=\"primary\" data-action=\"accept\" data-testid=\"ask-send\" disabled>Send</button>",
        ),
        AskKind::Sampling { model, request } => (
            sampling_html(model, request),
            "<button type=\"button\" class=\"primary\" data-action=\"accept\" data-testid=\"ask-allow\" disabled>Let the model answer</button>",
        ),
        AskKind::Url { url } => {
            let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            (
                format!("<div class=\"exact-label\">It wants you to open this address in your browser (at <b data-testid=\"ask-host\">{}</b>):</div><pre data-testid=\"ask-url\">{}</pre>", esc(&host), esc(url)),
                "<button type=\"button\" class=\"primary\" data-action=\"open\" data-testid=\"ask-open\" disabled>Open in browser</button>",
            )
        }
    };
    let hidden = if parley_protocol::visible::has_hidden(&ask.message)
        || matches!(&ask.kind, AskKind::Url { url } if parley_protocol::visible::has_hidden(url))
    {
        "<div class=\"warn\">This question contains invisible or direction-changing characters (shown as ⟦U+…⟧).</div>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html data-theme=\"{theme}\"><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\">\
<title>{server} asks</title></head><body>\
<div class=\"approval ask\" role=\"dialog\" aria-label=\"The MCP server {server} asks\" data-testid=\"ask-dialog\" data-armed=\"false\" data-id=\"{id}\" data-nonce=\"{nonce}\">\
<div class=\"why\"><span class=\"risk\">MCP server “{server}” asks</span></div>\
<pre class=\"message\" data-testid=\"ask-message\">{message}</pre>{hidden}\
<form class=\"ask-form\" data-testid=\"ask-form\">{body}</form>\
<div class=\"hint\">Only the server “{server}” gets your answer; the model does not see it unless the server passes it on.</div>\
<div class=\"choices\">{accept}\
<button type=\"button\" data-action=\"decline\" data-testid=\"ask-decline\" disabled>Decline</button>\
<button type=\"button\" class=\"danger\" data-action=\"cancel\" data-testid=\"ask-cancel\" disabled>Stop the call</button></div>\
<div class=\"status\" role=\"status\" data-testid=\"ask-status\"></div></div>\
<script src=\"/ask.js\"></script></body></html>",
        server = esc(&ask.server),
        id = esc(&ask.id),
        message = esc(&ask.message),
    )
}

/// Serves `/ask` and `/answer` to the window `label`; `None` while the app is starting.
pub async fn serve<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    label: &str,
    path: &str,
    arg: impl Fn(&str) -> String,
) -> Option<(u16, &'static str, Vec<u8>)> {
    let state = app.try_state::<crate::AppState>()?;
    let nonces = app.try_state::<Nonces>()?;
    let windows = app.try_state::<super::Windows>()?;
    let asks = state.core.mcp().asks().clone();
    let id = arg("id");
    let card = Card::Ask { id: id.clone() };
    let json = |status: u16, v: serde_json::Value| {
        Some((status, "application/json", v.to_string().into_bytes()))
    };
    match path {
        "/ask" => {
            nonces.retain(|(kind, i)| kind != "ask" || asks.get(i).is_some());
            let ask = asks.get(&id).filter(|_| windows.is_window_of(label, &card));
            Some(match (ask, nonces.get_or_make(key(&id))) {
                (Some(ask), Some(nonce)) => (
                    200,
                    "text/html; charset=utf-8",
                    ask_html(&nonce, &arg("theme"), &ask).into_bytes(),
                ),
                (None, _) => (200, "text/html; charset=utf-8", GONE.as_bytes().to_vec()),
                (_, None) => (500, "text/plain", b"no randomness".to_vec()),
            })
        }
        "/answer" => {
            if !windows.is_window_of(label, &card) || !nonces.check(&key(&id), &arg("nonce")) {
                return json(
                    403,
                    serde_json::json!({"error": "This answer did not come from the question's card."}),
                );
            }
            match answer(app, &asks, &id, &arg("action"), &arg("content")) {
                Ok(()) => {
                    nonces.retain(|k| *k != key(&id));
                    super::window::close(app, &card);
                    json(200, serde_json::json!({"ok": true}))
                }
                Err(e) => json(400, serde_json::json!({"error": e})),
            }
        }
        _ => None,
    }
}

/// Gives question `id` the card's answer; an address is opened first (Open).
fn answer<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    asks: &Asks,
    id: &str,
    action: &str,
    content: &str,
) -> Result<(), String> {
    let a = match action {
        "accept" => match serde_json::from_str::<serde_json::Value>(content) {
            Ok(serde_json::Value::Object(m)) => Answer::Accept(m),
            _ => return Err("The answer could not be read.".into()),
        },
        "open" => {
            let Some(Ask {
                kind: AskKind::Url { url },
                ..
            }) = asks.get(id)
            else {
                return Err("This question was already answered, stopped or timed out.".into());
            };
            if !parley_core::mcp::asks::openable(&url) {
                return Err("Parley opens only web addresses.".into());
            }
            use tauri_plugin_opener::OpenerExt;
            app.opener()
                .open_url(&url, None::<&str>)
                .map_err(|e| format!("The address could not be opened: {e}"))?;
            Answer::Accept(serde_json::Map::new())
        }
        "decline" => Answer::Decline,
        "cancel" => Answer::Cancel,
        _ => return Err("Unknown answer.".into()),
    };
    asks.answer(id, a)
}

/// The person closed a question's window without answering: the call is told "cancel".
pub fn closed_unanswered<R: tauri::Runtime>(app: &tauri::AppHandle<R>, id: &str) {
    if let Some(nonces) = app.try_state::<Nonces>() {
        nonces.retain(|k| *k != key(id));
    }
    if let Some(state) = app.try_state::<crate::AppState>() {
        let _ = state.core.mcp().asks().answer(id, Answer::Cancel);
    }
}

/// Attaches the window as the answerer of what MCP servers ask, for the life of the app, and
/// opens a question card for each question.
pub fn watch<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let Some(state) = app.try_state::<crate::AppState>() else {
        return;
    };
    let asks: Arc<Asks> = state.core.mcp().asks().clone();
    let mut answerer = asks.attach();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match answerer.news.recv().await {
                Ok(id) => super::window::open(&app, Card::Ask { id }).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    for ask in asks.all() {
                        super::window::open(&app, Card::Ask { id: ask.id }).await;
                    }
                }
                Err(_) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_question_card_shows_only_escaped_text() {
        let schema = json!({"properties": {
            "a\"><script>x</script>": {"type": "string", "title": "<b>T</b>", "description": "<img src=x onerror=alert(1)>", "default": "\"><script>"},
            "c": {"type": "string", "oneOf": [{"const": "v\"><script>", "title": "<i>L</i>"}]},
            "m": {"type": "array", "items": {"enum": ["<u>x</u>"]}, "default": ["<u>x</u>"]}
        }});
        let fields = parley_core::mcp::form::fields(&schema).unwrap();
        for (message, kind) in [
            (
                "Hi <script>alert(1)</script> \u{202E}",
                AskKind::Form { fields },
            ),
            (
                "Open <b>",
                AskKind::Url {
                    url: "https://ex.example/<script>?a=\"b\"\u{200B}".into(),
                },
            ),
            (
                "Model <i>",
                AskKind::Sampling {
                    model: ("p<script>".into(), "m<img src=x>".into()),
                    request: parley_core::mcp::sampling::Request {
                        system: Some("<b>sys</b>\u{202E}".into()),
                        messages: vec![("user".into(), "<script>alert(1)</script>".into())],
                        max_tokens: 5,
                    },
                },
            ),
        ] {
            let ask = Ask {
                id: "i\"d".into(),
                server: "s<script>".into(),
                message: message.into(),
                kind,
            };
            let html = ask_html("n", "\"><script>", &ask);
            let body = &html[html.find("<body>").unwrap()..html.rfind("<script src").unwrap()];
            for bad in [
                "<script>", "<img", "<b>", "<i>", "<u>", "\u{202E}", "\u{200B}",
            ] {
                assert!(!body.contains(bad), "{bad} leaked: {body}");
            }
            assert!(body.contains("⟦U+"), "hidden characters marked: {body}");
            assert!(html.contains("data-theme=\"system\""));
        }
    }
}
