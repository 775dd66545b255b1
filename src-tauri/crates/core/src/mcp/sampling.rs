//! What a server asks the model (sampling): declined unless the user allowed it (Settings, or
//! `parley ask --allow-sampling` for one run); when allowed, shown to the person first — the
//! messages, the system prompt, the most tokens, and which model would answer (the chat's
//! model of the call running) — and answered only once they allow it. The answer is the
//! model's text, cut at MAX_TOKENS, within SAMPLE_TIMEOUT; images and tool use in the
//! request are not passed on (they are named in what the person sees).

// Sampling is deprecated by the 2026 revision (SEP-2577) and still sent by servers of the
// handshake era: Parley answers it.
#![allow(deprecated)]

use crate::providers::{ChatRequest, ProviderService, StreamEvent};
use crate::settings::SettingsService;
use futures::StreamExt;
use parley_protocol::{ChatId, Message, MessageId, Part, Role};
use rmcp::model::{CreateMessageRequestParams, SamplingMessageContentBlock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The most tokens a server may have the model write for it.
pub const MAX_TOKENS: u32 = 4096;
/// How long the model may take.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The most messages and characters of a request shown and sent.
const MESSAGES_MAX: usize = 50;
const CHARS_MAX: usize = 100_000;

/// Runs what servers ask the model, when allowed.
pub struct Sampler {
    providers: ProviderService,
    settings: SettingsService,
    /// Allowed for this process whatever the settings say (`parley ask --allow-sampling`).
    here: AtomicBool,
    /// Where the model's request is recorded (as an MCP server's).
    ledger: crate::ledger::Ledger,
}

/// A request as the person sees it and the model gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub system: Option<String>,
    /// Each message: "user" or "assistant", and its text.
    pub messages: Vec<(String, String)>,
    pub max_tokens: u32,
}

impl Sampler {
    pub(crate) fn new(
        providers: ProviderService,
        settings: SettingsService,
        ledger: crate::ledger::Ledger,
    ) -> Self {
        Sampler {
            providers,
            settings,
            here: AtomicBool::new(false),
            ledger,
        }
    }

    /// Allows sampling requests (each still asks) for the rest of this process.
    pub fn allow_here(&self) {
        self.here.store(true, Ordering::SeqCst);
    }

    /// Whether servers may ask the model at all.
    pub async fn allowed(&self) -> bool {
        self.here.load(Ordering::SeqCst)
            || matches!(self.settings.saved().await, Ok(Some(s)) if s.mcp_sampling)
    }

    /// Asks `model` of `provider`; its text, or why there is none.
    pub async fn answer(&self, provider: &str, model: &str, r: &Request) -> Result<String, String> {
        let row = self
            .providers
            .answering_row(provider)
            .await
            .map_err(|e| e.to_string())?;
        let p = self
            .providers
            .build_provider(&row)
            .await
            .map_err(|e| e.to_string())?;
        let request = chat_request(model, r);
        let cancel = tokio_util::sync::CancellationToken::new();
        // (The stream's requests are recorded in the scope it starts in.)
        let purpose = parley_protocol::OutboundPurpose::Mcp;
        let mut stream = crate::ledger::within_sync(&self.ledger, purpose, "MCP sampling", || {
            p.stream(request, cancel.clone())
        });
        let mut text = String::new();
        let collect = async {
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(StreamEvent::TextDelta(d)) => text.push_str(&d),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            Ok(())
        };
        let outcome = tokio::time::timeout(SAMPLE_TIMEOUT, collect).await;
        cancel.cancel();
        match outcome {
            Err(_) => Err(format!(
                "the model did not answer within {} s",
                SAMPLE_TIMEOUT.as_secs()
            )),
            Ok(r) => r.map(|()| text),
        }
    }
}

/// What the server sent, as the person sees it (what Parley cannot pass on named in place).
pub fn request_of(p: &CreateMessageRequestParams) -> Request {
    let mut left = CHARS_MAX;
    let mut cut = |s: &str| -> String {
        let t: String = s.chars().take(left).collect();
        left -= t.chars().count();
        t
    };
    // The newest messages (the request itself is the last).
    let from = p.messages.len().saturating_sub(MESSAGES_MAX);
    let messages = p.messages[from..]
        .iter()
        .map(|m| {
            let role = match m.role {
                rmcp::model::Role::Assistant => "assistant",
                _ => "user",
            };
            let text: Vec<String> = m
                .content
                .clone()
                .into_vec()
                .iter()
                .map(|b| match b {
                    SamplingMessageContentBlock::Text(t) => t.text.clone(),
                    SamplingMessageContentBlock::Image(_) => "[an image: not passed on]".into(),
                    SamplingMessageContentBlock::Audio(_) => "[audio: not passed on]".into(),
                    _ => "[tool use: not passed on]".into(),
                })
                .collect();
            (role.to_owned(), cut(&text.join("\n")))
        })
        .collect();
    Request {
        system: p.system_prompt.as_deref().map(&mut cut),
        messages,
        max_tokens: p.max_tokens.clamp(1, MAX_TOKENS),
    }
}

fn chat_request(model: &str, r: &Request) -> ChatRequest {
    let chat_id = ChatId("mcp-sampling".into());
    let messages = r
        .messages
        .iter()
        .enumerate()
        .map(|(i, (role, text))| Message {
            id: MessageId(format!("sample-{i}")),
            chat_id: chat_id.clone(),
            parent_id: None,
            role: if role == "assistant" {
                Role::Assistant
            } else {
                Role::User
            },
            parts: vec![Part::Text { text: text.clone() }],
            turn_id: None,
            provider: None,
            model: None,
            created_at: crate::now_ms(),
        })
        .collect();
    ChatRequest {
        model: model.to_owned(),
        system: r.system.clone(),
        messages,
        max_output_tokens: Some(r.max_tokens),
        ..ChatRequest::default()
    }
}
