//! The change card: where a person confirms a change to the providers (add, edit, new key,
//! delete key, remove), out of reach of the main page.
//!
//! The main page's provider commands only *propose* a change: Rust checks it, describes it
//! ([`ProviderService::preview`](parley_core::providers::ProviderService::preview)) and keeps it
//! under a random id. The Settings panel then shows `/change?id=…` — a page served on the card's
//! own origin — and only that page's Confirm (with its random nonce, once) makes the change.
//! Script in the main page can propose, but it cannot read or press the card, so nothing about
//! the providers changes unless the person confirms exactly what the card says.

use parley_core::providers::{ChangePreview, ProviderChange};
use parley_protocol::ChangeTicket;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a proposed change waits for its confirmation.
const TTL: Duration = Duration::from_secs(600);
/// The most changes waiting at once (the oldest is dropped first).
const MAX_WAITING: usize = 8;

struct Waiting {
    change: ProviderChange,
    preview: ChangePreview,
    nonce: String,
    at: Instant,
}

/// Proposed provider changes, waiting for a confirmation in their card.
#[derive(Default)]
pub struct Changes(Mutex<HashMap<String, Waiting>>);

impl Changes {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a checked change until it is confirmed, cancelled or expires; `None` without
    /// randomness.
    pub fn propose(&self, change: ProviderChange, preview: ChangePreview) -> Option<ChangeTicket> {
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
    fn take(&self, id: &str, nonce: &str) -> Option<ProviderChange> {
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

/// `/change` and `/apply` of the card's scheme.
pub async fn serve<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    path: &str,
    arg: impl Fn(&str) -> String,
) -> Option<(u16, &'static str, Vec<u8>)> {
    use tauri::Manager;
    let changes = app.try_state::<Changes>()?;
    let state = app.try_state::<crate::AppState>()?;
    let json = |status: u16, v: serde_json::Value| {
        Some((status, "application/json", v.to_string().into_bytes()))
    };
    match path {
        "/change" => Some(match changes.shown(&arg("id")) {
            Some((preview, nonce)) => (
                200,
                "text/html; charset=utf-8",
                change_html(&arg("id"), &nonce, &arg("theme"), &preview).into_bytes(),
            ),
            None => (200, "text/html; charset=utf-8", GONE.as_bytes().to_vec()),
        }),
        "/apply" => {
            let Some(change) = changes.take(&arg("id"), &arg("nonce")) else {
                return json(
                    403,
                    serde_json::json!({"error": "This change was not confirmed in its card, or it expired. Make it again."}),
                );
            };
            if arg("answer") != "confirm" {
                return json(200, serde_json::json!({"ok": false, "cancelled": true}));
            }
            match state.core.providers().apply(change).await {
                Ok(_) => json(200, serde_json::json!({"ok": true})),
                Err(e) => json(409, serde_json::json!({"error": e.to_info().message})),
            }
        }
        _ => None,
    }
}

const GONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/card.css\"></head><body><div class=\"status\" data-testid=\"change-gone\">This change was already confirmed, cancelled or expired.</div><script src=\"/change.js\"></script></body></html>";

#[cfg(test)]
#[path = "change_tests.rs"]
mod tests;
