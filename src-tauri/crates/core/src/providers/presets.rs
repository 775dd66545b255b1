//! Ready-made provider configurations, and the search for model servers on this machine.
//!
//! Discovery only ever talks to `127.0.0.1`: the address is a constant here, the ports come
//! from [`LOCAL_PORTS`] (or a test), redirects are not followed and no proxy is used.

use parley_protocol::{LocalServer, OutboundPurpose, ProviderKind, ProviderPreset};
use std::time::Duration;

struct P {
    id: &'static str,
    label: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    default_model: Option<&'static str>,
    needs_key: bool,
    local: bool,
}

const fn cloud(
    id: &'static str,
    label: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    model: &'static str,
) -> P {
    P {
        id,
        label,
        kind,
        base_url,
        default_model: Some(model),
        needs_key: true,
        local: false,
    }
}

const fn local(
    id: &'static str,
    label: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
) -> P {
    P {
        id,
        label,
        kind,
        base_url,
        default_model: None,
        needs_key: false,
        local: true,
    }
}

const PRESETS: &[P] = &[
    cloud(
        "openai",
        "OpenAI",
        ProviderKind::OpenaiResponses,
        "https://api.openai.com/v1",
        "gpt-5-mini",
    ),
    cloud(
        "anthropic",
        "Anthropic",
        ProviderKind::Anthropic,
        "https://api.anthropic.com/v1",
        "claude-sonnet-4-5",
    ),
    cloud(
        "gemini",
        "Google Gemini",
        ProviderKind::Gemini,
        "https://generativelanguage.googleapis.com/v1beta",
        "gemini-2.5-flash",
    ),
    cloud(
        "openrouter",
        "OpenRouter",
        ProviderKind::OpenaiCompatible,
        "https://openrouter.ai/api/v1",
        "openrouter/auto",
    ),
    cloud(
        "groq",
        "Groq",
        ProviderKind::OpenaiCompatible,
        "https://api.groq.com/openai/v1",
        "llama-3.3-70b-versatile",
    ),
    cloud(
        "deepseek",
        "DeepSeek",
        ProviderKind::OpenaiCompatible,
        "https://api.deepseek.com/v1",
        "deepseek-chat",
    ),
    cloud(
        "mistral",
        "Mistral",
        ProviderKind::OpenaiCompatible,
        "https://api.mistral.ai/v1",
        "mistral-large-latest",
    ),
    cloud(
        "xai",
        "xAI",
        ProviderKind::OpenaiCompatible,
        "https://api.x.ai/v1",
        "grok-4",
    ),
    cloud(
        "together",
        "Together AI",
        ProviderKind::OpenaiCompatible,
        "https://api.together.xyz/v1",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    ),
    local(
        "ollama",
        "Ollama",
        ProviderKind::Ollama,
        "http://127.0.0.1:11434",
    ),
    local(
        "lmstudio",
        "LM Studio",
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:1234/v1",
    ),
    local(
        "llamacpp",
        "llama.cpp server",
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:8080/v1",
    ),
    local(
        "vllm",
        "vLLM",
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:8000/v1",
    ),
    local(
        "jan",
        "Jan",
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:1337/v1",
    ),
    local(
        "koboldcpp",
        "KoboldCpp",
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:5001/v1",
    ),
];

/// Every preset, cloud services first.
/// The address the settings form fills in for each wire format (by its wire name): the
/// preset that speaks it (OpenAI's for both OpenAI APIs; the llama.cpp server for any other
/// OpenAI-compatible server). Generated into the UI bindings as `DEFAULT_BASE_URLS`, so the
/// form never carries its own copy of these addresses.
pub fn default_base_urls() -> std::collections::BTreeMap<&'static str, &'static str> {
    let by_id = |id: &str| PRESETS.iter().find(|p| p.id == id).map(|p| p.base_url);
    ProviderKind::ALL
        .iter()
        .filter_map(|&kind| {
            let url = match kind {
                ProviderKind::Openai => by_id("openai"),
                ProviderKind::OpenaiCompatible => by_id("llamacpp"),
                _ => PRESETS.iter().find(|p| p.kind == kind).map(|p| p.base_url),
            }?;
            Some((kind.wire_name(), url))
        })
        .collect()
}

pub fn all() -> Vec<ProviderPreset> {
    PRESETS
        .iter()
        .map(|p| ProviderPreset {
            id: p.id.into(),
            label: p.label.into(),
            kind: p.kind,
            base_url: p.base_url.into(),
            default_model: p.default_model.map(Into::into),
            needs_key: p.needs_key,
            local: p.local,
        })
        .collect()
}

/// The ports local servers usually listen on, with the preset each one suggests.
pub const LOCAL_PORTS: &[(u16, &str)] = &[
    (11434, "ollama"),
    (1234, "lmstudio"),
    (8080, "llamacpp"),
    (8000, "vllm"),
    (1337, "jan"),
    (5001, "koboldcpp"),
];

/// Probes `127.0.0.1` on each port (all at once, each within about a second) and returns the
/// servers that answered with a model list.
pub async fn probe_loopback(ports: &[(u16, &str)]) -> Vec<LocalServer> {
    let client = match reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_millis(1500))
        .build()
    {
        Ok(c) => c,
        Err(_) => return Vec::new(),
    };
    let probes = ports.iter().filter_map(|(port, preset)| {
        let p = PRESETS.iter().find(|p| p.id == *preset && p.local)?;
        let client = client.clone();
        let port = *port;
        Some(async move {
            let (base_url, list_path) = match p.kind {
                ProviderKind::Ollama => (format!("http://127.0.0.1:{port}"), "/api/tags"),
                _ => (format!("http://127.0.0.1:{port}/v1"), "/models"),
            };
            let resp = crate::ledger::send(
                client.get(format!("{base_url}{list_path}")),
                Some(OutboundPurpose::Discovery),
                Some("looking for model servers on this computer"),
            )
            .await
            .ok()?;
            if !resp.status().is_success() {
                return None;
            }
            // Whatever listens on a known port could send gigabytes: read 1 MiB at most.
            let body =
                super::http::read_limited(resp, super::http::MAX_DISCOVERY_BYTES, "the answer")
                    .await
                    .ok()?;
            let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
            if v.get("data").is_none() && v.get("models").is_none() {
                return None; // something else lives on this port
            }
            Some(LocalServer {
                preset: p.id.into(),
                label: p.label.into(),
                kind: p.kind,
                base_url,
                models: super::http::parse_model_list(&v),
                configured_as: None,
            })
        })
    });
    futures::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_format_has_a_default_address_from_the_presets() {
        let urls = default_base_urls();
        for kind in ProviderKind::ALL {
            let url = urls.get(kind.wire_name()).copied();
            assert!(
                url.is_some_and(|u| PRESETS.iter().any(|p| p.base_url == u)),
                "{kind:?}: {url:?}"
            );
        }
        assert_eq!(urls["anthropic"], "https://api.anthropic.com/v1");
        assert_eq!(urls["openai"], urls["openai_responses"]);
    }
}
