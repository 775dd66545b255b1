//! The change card: where a person confirms a change to the providers (add, edit, new key,
//! delete key, remove) or to the MCP servers (add, remove, turn on, accept a changed tool,
//! import), out of reach of the main page.
//!
//! The main page's provider commands only *propose* a change: Rust checks it, describes it
//! ([`ProviderService::preview`](parley_core::providers::ProviderService::preview)) and keeps it
//! under a random id, and opens `/change?id=…` — a page served on the card's own origin — in a
//! card window of its own (`window.rs`; one change card at a time). Only that page's Confirm
//! (with its random nonce, once, from that window) makes the change; the Settings panel only
//! waits for how it ended (`wait_change`). Script in the main page can propose, but it cannot
//! read, press, hide or cover the card, so nothing about the providers changes unless the
//! person confirms exactly what the card says.

use super::window::Card;
use parley_core::mcp::change::McpChange;
use parley_core::providers::{ChangePreview, ProviderChange};
use parley_protocol::{ChangeOutcome, ChangeTicket};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a proposed change waits for its confirmation.
const TTL: Duration = Duration::from_secs(600);
/// The most changes waiting at once (the oldest is dropped first).
const MAX_WAITING: usize = 8;

/// A change a card confirms.
#[derive(Debug)]
pub enum Change {
    Provider(ProviderChange),
    Mcp(McpChange),
    WebSearch(parley_core::websearch::WebSearchChange),
}

impl From<parley_core::websearch::WebSearchChange> for Change {
    fn from(c: parley_core::websearch::WebSearchChange) -> Self {
        Change::WebSearch(c)
    }
}

impl From<ProviderChange> for Change {
    fn from(c: ProviderChange) -> Self {
        Change::Provider(c)
    }
}

impl From<McpChange> for Change {
    fn from(c: McpChange) -> Self {
        Change::Mcp(c)
    }
}

struct Waiting {
    change: Change,
    preview: ChangePreview,
    nonce: String,
    at: Instant,
}

/// Proposed provider changes, waiting for a confirmation in their card, and how the last ones
/// ended (until the Settings panel learns it).
#[derive(Default)]
pub struct Changes {
    waiting: Mutex<HashMap<String, Waiting>>,
    ended: Mutex<HashMap<String, ChangeOutcome>>,
    news: tokio::sync::Notify,
}

impl Changes {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ended(&self) -> std::sync::MutexGuard<'_, HashMap<String, ChangeOutcome>> {
        self.ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records how the change `id` ended and wakes whoever waits for it.
    fn end(&self, id: &str, outcome: ChangeOutcome) {
        self.map().remove(id);
        let mut ended = self.ended();
        while ended.len() >= MAX_WAITING {
            let Some(k) = ended.keys().next().cloned() else {
                break;
            };
            ended.remove(&k);
        }
        ended.insert(id.to_owned(), outcome);
        drop(ended);
        self.news.notify_waiters();
    }

    /// How the change `id` ended, once it has (an unknown or expired id ends cancelled).
    pub async fn wait(&self, id: &str) -> ChangeOutcome {
        loop {
            let news = self.news.notified();
            tokio::pin!(news);
            news.as_mut().enable();
            if let Some(o) = self.ended().remove(id) {
                return o;
            }
            if self.shown(id).is_none() {
                return ChangeOutcome::Cancelled;
            }
            // Also wake up now and then: a change that expires sends no news.
            let _ = tokio::time::timeout(Duration::from_secs(5), news).await;
        }
    }

    /// Keeps a checked change until it is confirmed, cancelled or expires; `None` without
    /// randomness.
    pub fn propose(
        &self,
        change: impl Into<Change>,
        preview: ChangePreview,
    ) -> Option<ChangeTicket> {
        let change = change.into();
        let (id, nonce) = (super::random_hex(12)?, super::random_hex(16)?);
        let mut map = self.map();
        map.retain(|_, w| w.at.elapsed() < TTL);
        while map.len() >= MAX_WAITING {
            let Some(oldest) = map.iter().min_by_key(|(_, w)| w.at).map(|(k, _)| k.clone()) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            id.clone(),
            Waiting {
                change,
                preview,
                nonce,
                at: Instant::now(),
            },
        );
        Some(ChangeTicket { id })
    }

    /// The preview and nonce of a waiting change.
    fn shown(&self, id: &str) -> Option<(ChangePreview, String)> {
        let map = self.map();
        map.get(id)
            .filter(|w| w.at.elapsed() < TTL)
            .map(|w| (w.preview.clone(), w.nonce.clone()))
    }

    /// Takes a waiting change out, if `nonce` is its card's.
    fn take(&self, id: &str, nonce: &str) -> Option<Change> {
        let mut map = self.map();
        match map.get(id) {
            Some(w) if !nonce.is_empty() && w.nonce == nonce && w.at.elapsed() < TTL => {
                map.remove(id).map(|w| w.change)
            }
            _ => None,
        }
    }
}

/// The card's page for one waiting change.
pub fn change_html(id: &str, nonce: &str, theme: &str, p: &ChangePreview) -> String {
    use super::esc;
    let theme = super::theme_name(theme);
    let rows = super::field_rows(&p.rows);
    let warnings: String = p
        .warnings
        .iter()
        .map(|w| format!("<div class=\"warn\">{}</div>", esc(w)))
        .collect();
    let class = if p.destructive { "danger" } else { "primary" };
    format!(
        "<!doctype html><html data-theme=\"{theme}\"><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\">\
<title>{title}</title></head><body>\
<div class=\"approval change\" role=\"dialog\" aria-label=\"{title}\" data-testid=\"change-dialog\" data-armed=\"false\" data-id=\"{id}\" data-nonce=\"{nonce}\">\
<div class=\"why\"><strong data-testid=\"change-title\">{title}</strong></div>\
<div class=\"args\" data-testid=\"change-rows\">{rows}</div>{warnings}\
<div class=\"choices\"><button type=\"button\" class=\"{class}\" data-answer=\"confirm\" data-testid=\"change-confirm\" disabled>Confirm</button>\
<button type=\"button\" data-answer=\"cancel\" data-testid=\"change-cancel\" disabled>Cancel</button></div>\
<div class=\"status\" role=\"status\" data-testid=\"change-status\"></div></div>\
<script src=\"/change.js\"></script></body></html>",
        title = esc(&p.title),
        id = esc(id),
    )
}

/// Keeps a checked change and opens its card in a window of its own (closing the card of any
/// earlier change, which ends cancelled); `None` without randomness.
pub async fn propose<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    change: impl Into<Change>,
    preview: ChangePreview,
) -> Option<ChangeTicket> {
    use tauri::Manager;
    let changes = app.try_state::<Changes>()?;
    let ticket = changes.propose(change, preview)?;
    let earlier = |c: &Card| matches!(c, Card::Change { id } if *id != ticket.id);
    if let Some(windows) = app.try_state::<super::Windows>() {
        for card in windows.cards_where(earlier) {
            if let Card::Change { id } = card {
                changes.end(&id, ChangeOutcome::Cancelled);
            }
        }
    }
    super::window::close_where(app, earlier);
    super::window::open(
        app,
        Card::Change {
            id: ticket.id.clone(),
        },
    )
    .await;
    Some(ticket)
}

/// The person closed the change's window without answering: it ends cancelled.
pub fn cancel<R: tauri::Runtime>(app: &tauri::AppHandle<R>, id: &str) {
    use tauri::Manager;
    if let Some(changes) = app.try_state::<Changes>() {
        changes.end(id, ChangeOutcome::Cancelled);
    }
}

/// `/change` and `/apply` of the card's scheme, for the webview `label`.
pub async fn serve<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    label: &str,
    path: &str,
    arg: impl Fn(&str) -> String,
) -> Option<(u16, &'static str, Vec<u8>)> {
    use tauri::Manager;
    let changes = app.try_state::<Changes>()?;
    let state = app.try_state::<crate::AppState>()?;
    let windows = app.try_state::<super::Windows>()?;
    let json = |status: u16, v: serde_json::Value| {
        Some((status, "application/json", v.to_string().into_bytes()))
    };
    match path {
        // Only the window opened for this change gets its card (and so its nonce).
        "/change" => Some(
            match changes
                .shown(&arg("id"))
                .filter(|_| windows.is_window_of(label, &Card::Change { id: arg("id") }))
            {
                Some((preview, nonce)) => (
                    200,
                    "text/html; charset=utf-8",
                    change_html(&arg("id"), &nonce, &arg("theme"), &preview).into_bytes(),
                ),
                None => (200, "text/html; charset=utf-8", GONE.as_bytes().to_vec()),
            },
        ),
        "/apply" => {
            let id = arg("id");
            let card = Card::Change { id: id.clone() };
            let from_its_window = windows.is_window_of(label, &card);
            let taken = if from_its_window {
                changes.take(&id, &arg("nonce"))
            } else {
                None
            };
            let Some(change) = taken else {
                return json(
                    403,
                    serde_json::json!({"error": "This change was not confirmed in its card, or it expired. Make it again."}),
                );
            };
            if arg("answer") != "confirm" {
                changes.end(&id, ChangeOutcome::Cancelled);
                super::window::close(app, &card);
                return json(200, serde_json::json!({"ok": false, "cancelled": true}));
            }
            let applied = match change {
                Change::Provider(c) => state.core.providers().apply(c).await.map(|_| ()),
                Change::Mcp(c) => state.core.mcp().apply(c).await,
                Change::WebSearch(c) => state.core.websearch().apply(c).await,
            };
            let reply = match applied {
                Ok(()) => {
                    changes.end(&id, ChangeOutcome::Done);
                    json(200, serde_json::json!({"ok": true}))
                }
                Err(e) => {
                    let error = e.to_info().message;
                    changes.end(
                        &id,
                        ChangeOutcome::Failed {
                            error: error.clone(),
                        },
                    );
                    json(409, serde_json::json!({"error": error}))
                }
            };
            super::window::close(app, &card);
            reply
        }
        _ => None,
    }
}

const GONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\"></head><body><div class=\"status\" data-testid=\"change-gone\">This change was already confirmed, cancelled or expired.</div><script src=\"/change.js\"></script></body></html>";

#[cfg(test)]
#[path = "change_tests.rs"]
mod tests;
