//! The window table: known models' context windows and output limits, shipped with Parley and
//! editable by the user, and the one decision of which window a model has — the user's figure,
//! else the provider's model list, else the shipped table, else a conservative default — so
//! every request is fitted to a window (`chats/context.rs`) and the composer's gauge can say
//! where its figure came from.

use parley_protocol::{ModelInfo, ModelWindow, WindowSource};

/// When the shipped figures were taken from the providers' model documentation.
pub const DEFAULTS_AS_OF: &str = "2025-12-01";

/// The window of a model nothing knows: small enough for any chat model served today.
pub const DEFAULT_WINDOW: u32 = 8_192;

/// The largest window a figure may state (a typo of a few more zeros is refused).
const MOST: u32 = 100_000_000;

/// (model, context window, largest output) in tokens, from the providers' model pages. A
/// model is matched by its own entry or the longest entry it extends (`-`, `:`, `@`, `.`, `/`
/// after it), so dated releases and local tags fall to their family.
const DEFAULTS: &[(&str, u32, Option<u32>)] = &[
    // OpenAI (platform.openai.com/docs/models)
    ("gpt-5", 400_000, Some(128_000)),
    ("gpt-5-mini", 400_000, Some(128_000)),
    ("gpt-5-nano", 400_000, Some(128_000)),
    ("gpt-5-chat", 128_000, Some(16_384)),
    ("gpt-5.1", 400_000, Some(128_000)),
    ("gpt-4.1", 1_047_576, Some(32_768)),
    ("gpt-4.1-mini", 1_047_576, Some(32_768)),
    ("gpt-4.1-nano", 1_047_576, Some(32_768)),
    ("gpt-4o", 128_000, Some(16_384)),
    ("gpt-4o-mini", 128_000, Some(16_384)),
    ("chatgpt-4o", 128_000, Some(16_384)),
    ("gpt-4-turbo", 128_000, Some(4_096)),
    ("gpt-4", 8_192, Some(8_192)),
    ("gpt-3.5-turbo", 16_385, Some(4_096)),
    ("o1", 200_000, Some(100_000)),
    ("o1-mini", 128_000, Some(65_536)),
    ("o3", 200_000, Some(100_000)),
    ("o3-mini", 200_000, Some(100_000)),
    ("o3-pro", 200_000, Some(100_000)),
    ("o4-mini", 200_000, Some(100_000)),
    ("gpt-oss-120b", 131_072, Some(131_072)),
    ("gpt-oss-20b", 131_072, Some(131_072)),
    ("gpt-oss", 131_072, None),
    // Anthropic (docs.anthropic.com, models overview)
    ("claude-opus-4-5", 200_000, Some(64_000)),
    ("claude-opus-4-1", 200_000, Some(32_000)),
    ("claude-opus-4", 200_000, Some(32_000)),
    ("claude-sonnet-4-5", 200_000, Some(64_000)),
    ("claude-sonnet-4", 200_000, Some(64_000)),
    ("claude-haiku-4-5", 200_000, Some(64_000)),
    ("claude-3-7-sonnet", 200_000, Some(64_000)),
    ("claude-3-5-sonnet", 200_000, Some(8_192)),
    ("claude-3-5-haiku", 200_000, Some(8_192)),
    ("claude-3-opus", 200_000, Some(4_096)),
    ("claude-3-haiku", 200_000, Some(4_096)),
    // Google Gemini (ai.google.dev/gemini-api/docs/models)
    ("gemini-3-pro", 1_048_576, Some(65_536)),
    ("gemini-2.5-pro", 1_048_576, Some(65_536)),
    ("gemini-2.5-flash", 1_048_576, Some(65_536)),
    ("gemini-2.5-flash-lite", 1_048_576, Some(65_536)),
    ("gemini-2.0-flash", 1_048_576, Some(8_192)),
    ("gemini-2.0-flash-lite", 1_048_576, Some(8_192)),
    ("gemini-1.5-pro", 2_097_152, Some(8_192)),
    ("gemini-1.5-flash", 1_048_576, Some(8_192)),
    // Mistral (docs.mistral.ai, models)
    ("mistral-large", 128_000, None),
    ("mistral-medium", 128_000, None),
    ("mistral-small", 128_000, None),
    ("magistral-medium", 40_000, None),
    ("magistral-small", 40_000, None),
    ("codestral", 256_000, None),
    ("devstral", 128_000, None),
    ("ministral-8b", 128_000, None),
    ("ministral-3b", 128_000, None),
    ("pixtral-large", 128_000, None),
    ("open-mistral-nemo", 128_000, None),
    ("mistral-nemo", 128_000, None),
    ("mistral", 32_768, None),
    ("mixtral", 32_768, None),
    // DeepSeek (api-docs.deepseek.com, models & pricing)
    ("deepseek-chat", 128_000, Some(8_192)),
    ("deepseek-reasoner", 128_000, Some(65_536)),
    ("deepseek-r1", 128_000, None),
    ("deepseek-v3", 128_000, None),
    // xAI
    ("grok-4", 256_000, None),
    ("grok-3", 131_072, None),
    // Meta Llama: hosted names (llama-3.3-70b-versatile) and Ollama's (llama3.1:8b)
    ("llama-3.1", 131_072, None),
    ("llama-3.2", 131_072, None),
    ("llama-3.3", 131_072, None),
    ("llama-4", 131_072, None),
    ("llama-3", 8_192, None),
    ("llama3.1", 131_072, None),
    ("llama3.2", 131_072, None),
    ("llama3.3", 131_072, None),
    ("llama4", 131_072, None),
    ("llama3", 8_192, None),
    ("llama2", 4_096, None),
    // Qwen (native windows; longer ones need YaRN set up by the server)
    ("qwen3", 32_768, None),
    ("qwen3-coder", 262_144, None),
    ("qwen2.5", 32_768, None),
    ("qwen2.5-coder", 32_768, None),
    ("qwq", 131_072, None),
    ("qwen-max", 32_768, Some(8_192)),
    ("qwen-plus", 131_072, Some(8_192)),
    ("qwen-turbo", 1_000_000, Some(8_192)),
    // Google Gemma
    ("gemma3", 131_072, None),
    ("gemma-3", 131_072, None),
    ("gemma3:1b", 32_768, None),
    ("gemma-3-1b", 32_768, None),
    ("gemma3n", 32_768, None),
    ("gemma2", 8_192, None),
    ("gemma-2", 8_192, None),
    ("gemma", 8_192, None),
    // Microsoft Phi
    ("phi4", 16_384, None),
    ("phi-4", 16_384, None),
    ("phi3", 4_096, None),
];

/// The shipped figures.
pub fn defaults() -> Vec<ModelWindow> {
    DEFAULTS
        .iter()
        .map(|&(model, window, output)| ModelWindow {
            model: model.into(),
            context_window: window,
            max_output_tokens: output,
            source: "default".into(),
            as_of: DEFAULTS_AS_OF.into(),
        })
        .collect()
}

/// The table in use: the user's figures, then the shipped ones for other models; by model.
pub fn merged(user: Vec<ModelWindow>) -> Vec<ModelWindow> {
    let mut all = user;
    for d in defaults() {
        if !all.iter().any(|w| w.model.eq_ignore_ascii_case(&d.model)) {
            all.push(d);
        }
    }
    all.sort_by(|a, b| a.model.cmp(&b.model));
    all
}

/// Whether `model` (a provider's id, any case) is `entry` or a release of it: the entry
/// followed by `-`, `:`, `@`, `.` or `_`. A provider's prefix (`openai/gpt-4o`,
/// `meta-llama/Llama-3.3-70B-Instruct`) is ignored.
fn matches(entry: &str, model: &str) -> bool {
    let bare = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let entry = entry.to_ascii_lowercase();
    bare == entry
        || bare
            .strip_prefix(entry.as_str())
            .is_some_and(|rest| rest.starts_with(['-', ':', '@', '.', '_']))
}

/// The entry of `table` for `model`: its own, else the longest one it is a release of.
pub fn find<'a>(table: &'a [ModelWindow], model: &str) -> Option<&'a ModelWindow> {
    table
        .iter()
        .filter(|w| matches(&w.model, model))
        .max_by_key(|w| w.model.len())
}

/// A model's window as decided, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Tokens the model takes in one request.
    pub tokens: u32,
    /// Its largest answer, when known.
    pub max_output: Option<u32>,
    /// Where the figure came from.
    pub source: WindowSource,
}

/// The window of `model`: the user's figure, else what the provider's model list says
/// (`listed`), else the shipped table, else [`DEFAULT_WINDOW`]. `table` is the merged table
/// (the user's rows are those marked `"user"`).
pub fn resolve(table: &[ModelWindow], listed: Option<&ModelInfo>, model: &str) -> Window {
    // The most specific row names the model: the user's "gpt-4o" is not "gpt-4o-mini",
    // which has a row of its own.
    let row = find(table, model);
    let from = |w: &ModelWindow, source| Window {
        tokens: w.context_window,
        max_output: w.max_output_tokens,
        source,
    };
    if let Some(w) = row.filter(|w| w.source == "user") {
        return from(w, WindowSource::Settings);
    }
    if let Some(info) = listed.filter(|i| i.context_window.is_some_and(|w| w > 0)) {
        return Window {
            tokens: info.context_window.unwrap_or(DEFAULT_WINDOW),
            max_output: info.max_output_tokens,
            source: WindowSource::Provider,
        };
    }
    match row {
        Some(w) => from(w, WindowSource::Table),
        None => Window {
            tokens: DEFAULT_WINDOW,
            max_output: None,
            source: WindowSource::Default,
        },
    }
}

/// Checks a user's window table: a model name, figures of tokens that make sense.
pub fn validate(table: &[ModelWindow]) -> Result<(), String> {
    for w in table {
        if w.model.trim().is_empty() || w.model.len() > 200 {
            return Err("Each window needs the model's name (at most 200 characters).".into());
        }
        if !(1_024..=MOST).contains(&w.context_window) {
            return Err(format!(
                "The context window of {} must be between 1,024 and 100,000,000 tokens.",
                w.model
            ));
        }
        if w.max_output_tokens
            .is_some_and(|o| o == 0 || o > w.context_window)
        {
            return Err(format!(
                "The output limit of {} must be at least 1 token and at most its window.",
                w.model
            ));
        }
        let same = |v: &&ModelWindow| v.model.eq_ignore_ascii_case(&w.model);
        if table.iter().filter(same).count() > 1 {
            return Err(format!("{} is in the table twice.", w.model));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "windows_tests.rs"]
mod tests;
