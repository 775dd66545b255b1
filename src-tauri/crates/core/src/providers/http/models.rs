//! Model lists: fetched like any other request and read from every shape providers use.

use super::{classify_http, connect_error, read_limited, MAX_MODEL_LIST_BYTES};
use crate::error::{ProviderError, ProviderErrorKind};
use crate::providers::HttpSettings;
use parley_protocol::ModelInfo;
use serde_json::Value;

/// Sends a model-list request and reads `{"data": [...]}` / `{"models": [...]}` (ids from `id`,
/// `name` or `model`), sorted by id. Errors are classified like any other request.
pub async fn fetch_model_list(
    rb: reqwest::RequestBuilder,
    settings: &HttpSettings,
    key: Option<&str>,
) -> Result<Vec<ModelInfo>, ProviderError> {
    let resp = crate::ledger::send(
        rb.timeout(settings.response_timeout),
        Some(parley_protocol::OutboundPurpose::ModelList),
        None,
    )
    .await
    .map_err(|e| connect_error(&e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = read_limited(resp, MAX_MODEL_LIST_BYTES, "the model list").await?;
    let body = String::from_utf8_lossy(&body);
    if !(200..300).contains(&status) {
        return Err(classify_http(status, &headers, &body, key));
    }
    let v: Value = serde_json::from_str(&body).map_err(|_| {
        ProviderError::new(
            ProviderErrorKind::Protocol,
            "the model list is not JSON; check the base URL",
        )
    })?;
    Ok(parse_model_list(&v))
}

/// Reads a model list in any of the shapes providers use — OpenAI and compatibles
/// (`data[].id`, OpenRouter's `context_length` / `supported_parameters` / `architecture`,
/// vLLM's `max_model_len`, llama.cpp's `meta.n_ctx_train`, LM Studio's `max_context_length` /
/// `type` / `capabilities`), Anthropic (`display_name`, `max_input_tokens`), Gemini
/// (`models[].name` = `models/ID`, token limits, `supportedGenerationMethods`, `thinking`) and
/// Ollama (`models[].name`) — sorted by id, without duplicates.
pub fn parse_model_list(v: &Value) -> Vec<ModelInfo> {
    let list = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut models: Vec<ModelInfo> = list.iter().filter_map(model_info).collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models.dedup_by(|a, b| a.id == b.id);
    models
}

/// The first of `keys` (dotted paths) that holds a count, capped to `u32`.
fn num(m: &Value, keys: &[&str]) -> Option<u32> {
    keys.iter().find_map(|k| {
        let mut cur = m;
        for seg in k.split('.') {
            cur = cur.get(seg)?;
        }
        cur.as_u64().map(|n| n.min(u32::MAX as u64) as u32)
    })
}

/// A list of words, lowercased (strings only).
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &[String], words: &[&str]) -> bool {
    list.iter().any(|x| words.contains(&x.as_str()))
}

/// One model of a list, or `None` for an entry without an id or a model that cannot chat.
fn model_info(m: &Value) -> Option<ModelInfo> {
    let raw_id = m
        .get("id")
        .or_else(|| m.get("model"))
        .or_else(|| m.get("name"))
        .and_then(Value::as_str)?;
    let methods = strings(m.get("supportedGenerationMethods"));
    if !methods.is_empty() && !methods.iter().any(|x| x.contains("generatecontent")) {
        return None; // a Gemini embedding model, say
    }
    let id = raw_id.strip_prefix("models/").unwrap_or(raw_id).to_owned();
    let (tools, vision, reasoning) = abilities(m);
    let display_name = m
        .get("display_name")
        .or_else(|| m.get("displayName"))
        .or_else(|| m.get("name").filter(|_| m.get("id").is_some()))
        .and_then(Value::as_str)
        .filter(|n| *n != id)
        .map(str::to_owned);
    Some(ModelInfo {
        owned_by: m.get("owned_by").and_then(Value::as_str).map(str::to_owned),
        display_name,
        context_window: num(
            m,
            &[
                "context_length",
                "context_window",
                "max_context_length",
                "max_model_len",
                "inputTokenLimit",
                "max_input_tokens",
                "meta.n_ctx_train",
                "top_provider.context_length",
            ],
        ),
        max_output_tokens: num(
            m,
            &[
                "outputTokenLimit",
                "max_output_tokens",
                "max_tokens",
                "top_provider.max_completion_tokens",
            ],
        ),
        tools,
        vision,
        reasoning,
        id,
    })
}

/// Whether a model calls tools, sees images and reasons, where its entry says: OpenRouter's
/// `supported_parameters` and `architecture`, LM Studio's `capabilities` and `type`, Gemini's
/// `thinking`.
fn abilities(m: &Value) -> (Option<bool>, Option<bool>, Option<bool>) {
    let params = strings(m.get("supported_parameters"));
    let caps = strings(m.get("capabilities"));
    let inputs = strings(
        m.get("architecture")
            .and_then(|a| a.get("input_modalities")),
    );
    let tools = if !params.is_empty() {
        Some(has(&params, &["tools"]))
    } else if !caps.is_empty() {
        Some(has(&caps, &["tools", "tool_use", "function_calling"]))
    } else {
        None
    };
    let vision = if !inputs.is_empty() {
        Some(has(&inputs, &["image"]))
    } else if m.get("type").and_then(Value::as_str) == Some("vlm") {
        Some(true)
    } else if !caps.is_empty() {
        Some(has(&caps, &["vision"]))
    } else {
        None
    };
    let reasoning = m
        .get("thinking")
        .and_then(Value::as_bool)
        .or_else(|| (!params.is_empty()).then(|| has(&params, &["reasoning", "include_reasoning"])))
        .or_else(|| (!caps.is_empty()).then(|| has(&caps, &["thinking", "reasoning"])));
    (tools, vision, reasoning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_lists_of_every_shape_keep_what_the_provider_says() {
        let gemini = serde_json::json!({"models": [
            {"name": "models/gemini-2.5-pro", "displayName": "Gemini 2.5 Pro", "inputTokenLimit": 1048576,
             "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "countTokens"], "thinking": true},
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}
        ]});
        let g = parse_model_list(&gemini);
        assert_eq!(g.len(), 1, "embedding models are not chat models");
        assert_eq!(g[0].id, "gemini-2.5-pro");
        assert_eq!(g[0].display_name.as_deref(), Some("Gemini 2.5 Pro"));
        assert_eq!(
            (g[0].context_window, g[0].max_output_tokens),
            (Some(1048576), Some(65536))
        );
        assert_eq!(g[0].reasoning, Some(true));

        let anthropic = serde_json::json!({"data": [{"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "type": "model"}]});
        let a = parse_model_list(&anthropic);
        assert_eq!(a[0].display_name.as_deref(), Some("Claude Sonnet 4.5"));
        assert_eq!(
            (a[0].tools, a[0].vision),
            (None, None),
            "not said, not guessed"
        );

        let lmstudio = serde_json::json!({"data": [{"id": "qwen2-vl", "type": "vlm", "max_context_length": 32768, "capabilities": ["tool_use"]}]});
        let l = parse_model_list(&lmstudio);
        assert_eq!(
            (l[0].vision, l[0].tools, l[0].context_window),
            (Some(true), Some(true), Some(32768))
        );

        let ollama = serde_json::json!({"models": [{"name": "qwen3:0.6b", "model": "qwen3:0.6b"}, {"name": "llama3.2:1b", "model": "llama3.2:1b"}]});
        let o: Vec<String> = parse_model_list(&ollama)
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(o, ["llama3.2:1b", "qwen3:0.6b"]);

        let vllm = serde_json::json!({"data": [{"id": "m", "max_model_len": 4096}, {"id": "m"}]});
        let v = parse_model_list(&vllm);
        assert_eq!(v.len(), 1, "duplicates removed");
        assert_eq!(v[0].context_window, Some(4096));
    }
}
