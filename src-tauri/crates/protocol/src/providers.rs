//! Providers: wire formats, what the window may know of a configured provider (never its
//! key), model lists, presets, local servers, and the forms that add, edit and check one.

use crate::*;
use serde::{Deserialize, Serialize};

/// The result of a connection check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionReport {
    /// True when the provider answered with its model list.
    pub ok: bool,
    /// A sentence for the user: what worked, or what is wrong and what to do.
    pub message: String,
    /// The models found (empty on failure).
    pub models: Vec<ModelInfo>,
}

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI's own API (Chat Completions).
    Openai,
    /// Any server speaking OpenAI Chat Completions (llama.cpp, LM Studio, vLLM, OpenRouter, ...).
    OpenaiCompatible,
    /// The OpenAI Responses API (OpenAI itself, llama.cpp's `/v1/responses`): reasoning
    /// summaries, encrypted reasoning replayed statelessly.
    OpenaiResponses,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Ollama's native API.
    Ollama,
}

impl ProviderKind {
    /// The name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::OpenaiCompatible => "openai-compatible",
            ProviderKind::OpenaiResponses => "openai-responses",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
        }
    }

    /// The name in JSON and in the UI bindings (`openai_compatible`).
    pub fn wire_name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::OpenaiCompatible => "openai_compatible",
            ProviderKind::OpenaiResponses => "openai_responses",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
        }
    }

    /// Parses the name back.
    pub fn parse(s: &str) -> Option<ProviderKind> {
        match s {
            "openai" => Some(ProviderKind::Openai),
            "openai-compatible" => Some(ProviderKind::OpenaiCompatible),
            "openai-responses" => Some(ProviderKind::OpenaiResponses),
            "anthropic" => Some(ProviderKind::Anthropic),
            "gemini" => Some(ProviderKind::Gemini),
            "ollama" => Some(ProviderKind::Ollama),
            _ => None,
        }
    }

    /// Every kind, in the order the settings form lists them.
    pub const ALL: [ProviderKind; 6] = [
        ProviderKind::Openai,
        ProviderKind::OpenaiResponses,
        ProviderKind::OpenaiCompatible,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::Ollama,
    ];
}

/// A configured provider as the UI sees it. The key itself never appears here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderInfo {
    /// The user's name for it (unique).
    pub name: String,
    /// The wire format.
    pub kind: ProviderKind,
    /// Where requests go, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The model used when none is picked.
    pub default_model: Option<String>,
    /// True when a key for this provider is saved in the OS keychain.
    pub has_key: bool,
    /// Why its key is at risk, when it is (a key sent over plain http to another machine).
    #[serde(default)]
    pub key_warning: Option<String>,
}

/// A model a provider offers, with the capabilities the provider reports (`None` = the
/// provider does not say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelInfo {
    /// The id to send in requests.
    pub id: String,
    /// Who owns it, when the provider says.
    #[serde(default)]
    pub owned_by: Option<String>,
    /// A friendlier name, when the provider gives one.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Input context window in tokens.
    #[serde(default)]
    pub context_window: Option<u32>,
    /// Largest output in tokens.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Whether the model can call tools.
    #[serde(default)]
    pub tools: Option<bool>,
    /// Whether the model accepts images.
    #[serde(default)]
    pub vision: Option<bool>,
    /// Whether the model reasons (thinking / reasoning effort).
    #[serde(default)]
    pub reasoning: Option<bool>,
}

impl ModelInfo {
    /// A model known only by its id.
    pub fn named(id: impl Into<String>) -> Self {
        ModelInfo {
            id: id.into(),
            ..ModelInfo::default()
        }
    }
}

/// A provider's model list as cached by Parley.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelList {
    /// The provider.
    pub provider: String,
    /// Its models, sorted by id.
    pub models: Vec<ModelInfo>,
    /// When the list was fetched from the provider; `None` when it never was.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub fetched_at: Option<UnixMs>,
    /// Why the last refresh failed, if it did (the cached list is still returned).
    pub error: Option<ErrorInfo>,
}

/// A ready-made provider configuration: a base URL and sensible defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderPreset {
    /// Stable id, e.g. `openrouter`.
    pub id: String,
    /// What the user sees, e.g. `OpenRouter`.
    pub label: String,
    /// The wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// A sensible default model (the user can pick another once the list is fetched).
    pub default_model: Option<String>,
    /// True when the service needs an API key.
    pub needs_key: bool,
    /// True for servers that run on this machine.
    pub local: bool,
}

/// A model server found running on this machine (loopback only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LocalServer {
    /// Which preset it matches, e.g. `ollama`, `lmstudio`.
    pub preset: String,
    /// What the user sees.
    pub label: String,
    /// The wire format to talk to it.
    pub kind: ProviderKind,
    /// Its base URL (always `http://127.0.0.1:PORT...`).
    pub base_url: String,
    /// The models it serves.
    pub models: Vec<ModelInfo>,
    /// The configured provider already pointing at it, if any.
    pub configured_as: Option<String>,
}

/// A provider to add, as the settings form sends it. The key is written to the OS keychain
/// and never sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderDraft {
    /// Unique name.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
    /// API key to save, if any.
    pub api_key: Option<String>,
}

/// New settings for an existing provider (its name stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderEdit {
    /// Which provider.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL; moving to another host deletes the saved key.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
}

/// A proposed change to the providers, waiting for the person to confirm it in its card (the
/// page learns only the id it shows the card with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangeTicket {
    /// The id of the change; Parley shows its card in a window of its own.
    pub id: String,
}

/// How a proposed provider change ended, once the person answered its card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// Confirmed and made.
    Done,
    /// Cancelled in the card, its window closed, replaced by another change, or expired.
    Cancelled,
    /// Confirmed, but making it failed.
    Failed {
        /// Why, in a sentence.
        error: String,
    },
}

/// What to check before (or after) saving a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionDraft {
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL.
    pub base_url: String,
    /// A key typed into the form, used for this check only.
    pub api_key: Option<String>,
    /// A saved provider whose stored key may be used when none was typed.
    pub saved_provider: Option<String>,
}
