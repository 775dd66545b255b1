//! The price table: shipped estimates for the presets' common models, and the user's own
//! figures, which replace a shipped one for the same model.

use parley_protocol::{Price, Usage};

/// When the shipped figures were taken from the providers' price pages.
pub const DEFAULTS_AS_OF: &str = "2025-08-01";

/// (model, input, output, cached input) in US dollars per 1M tokens. Estimates: providers
/// change their prices; the user's own figure for a model replaces the shipped one.
const DEFAULTS: &[(&str, f64, f64, Option<f64>)] = &[
    ("gpt-5", 1.25, 10.0, Some(0.125)),
    ("gpt-5-mini", 0.25, 2.0, Some(0.025)),
    ("gpt-5-nano", 0.05, 0.40, Some(0.005)),
    ("gpt-4.1", 2.0, 8.0, Some(0.50)),
    ("gpt-4.1-mini", 0.40, 1.60, Some(0.10)),
    ("gpt-4o", 2.50, 10.0, Some(1.25)),
    ("gpt-4o-mini", 0.15, 0.60, Some(0.075)),
    ("o3", 2.0, 8.0, Some(0.50)),
    ("o4-mini", 1.10, 4.40, Some(0.275)),
    ("claude-opus-4-1", 15.0, 75.0, Some(1.50)),
    ("claude-sonnet-4-5", 3.0, 15.0, Some(0.30)),
    ("claude-sonnet-4", 3.0, 15.0, Some(0.30)),
    ("claude-3-5-haiku", 0.80, 4.0, Some(0.08)),
    ("gemini-2.5-pro", 1.25, 10.0, Some(0.31)),
    ("gemini-2.5-flash", 0.30, 2.50, Some(0.075)),
    ("gemini-2.0-flash", 0.10, 0.40, Some(0.025)),
    ("deepseek-chat", 0.27, 1.10, Some(0.07)),
    ("deepseek-reasoner", 0.55, 2.19, Some(0.14)),
    ("mistral-large-latest", 2.0, 6.0, None),
    ("mistral-small-latest", 0.20, 0.60, None),
    ("llama-3.3-70b-versatile", 0.59, 0.79, None),
    ("grok-4", 3.0, 15.0, Some(0.75)),
];

/// The shipped estimates.
pub fn defaults() -> Vec<Price> {
    DEFAULTS
        .iter()
        .map(|&(model, input, output, cached)| Price {
            model: model.into(),
            input,
            output,
            cached_input: cached,
            reasoning: None,
            source: "default".into(),
            as_of: DEFAULTS_AS_OF.into(),
        })
        .collect()
}

/// The table in use: the user's figures, then the shipped ones for other models; by model.
pub fn merged(user: Vec<Price>) -> Vec<Price> {
    let mut all = user;
    for d in defaults() {
        if !all.iter().any(|p| p.model == d.model) {
            all.push(d);
        }
    }
    all.sort_by(|a, b| a.model.cmp(&b.model));
    all
}

/// The price for `model`: its own entry, else the longest entry it starts with followed by
/// `-` (a dated release, "gpt-4o-2024-08-06", is priced as "gpt-4o"); a provider's prefix
/// ("openai/gpt-4o") is ignored.
pub fn find<'a>(table: &'a [Price], model: &str) -> Option<&'a Price> {
    let bare = model.rsplit('/').next().unwrap_or(model);
    table
        .iter()
        .filter(|p| {
            bare == p.model
                || bare
                    .strip_prefix(p.model.as_str())
                    .is_some_and(|rest| rest.starts_with('-') || rest.starts_with(':'))
        })
        .max_by_key(|p| p.model.len())
}

/// What `usage` cost at `price`, in US dollars. `input_includes_cached`: whether the
/// provider counts cache reads inside `input_tokens` (OpenAI, Gemini) or beside them
/// (Anthropic). Reasoning is priced apart only when the price has its own figure (providers
/// count it inside the output).
pub fn cost(price: &Price, usage: &Usage, input_includes_cached: bool) -> f64 {
    let cached = usage.cached_input_tokens.unwrap_or(0);
    let fresh = if input_includes_cached {
        usage.input_tokens.saturating_sub(cached)
    } else {
        usage.input_tokens
    };
    let (output, reasoning) = match (price.reasoning, usage.reasoning_tokens) {
        (Some(_), Some(r)) => (usage.output_tokens.saturating_sub(r), r),
        _ => (usage.output_tokens, 0),
    };
    let m = 1_000_000.0;
    fresh as f64 * price.input / m
        + cached as f64 * price.cached_input.unwrap_or(price.input) / m
        + output as f64 * price.output / m
        + reasoning as f64 * price.reasoning.unwrap_or(price.output) / m
}

pub use crate::util::day_of;

/// Checks a user's price table: a model name, figures that are numbers of dollars.
pub fn validate(prices: &[Price]) -> Result<(), String> {
    for p in prices {
        if p.model.trim().is_empty() || p.model.len() > 200 {
            return Err("Each price needs the model's name (at most 200 characters).".into());
        }
        let figures = [Some(p.input), Some(p.output), p.cached_input, p.reasoning];
        if figures
            .iter()
            .flatten()
            .any(|f| !f.is_finite() || *f < 0.0 || *f > 100_000.0)
        {
            return Err(format!(
                "The prices for {} must be between 0 and 100,000 dollars per million tokens.",
                p.model
            ));
        }
        if prices.iter().filter(|q| q.model == p.model).count() > 1 {
            return Err(format!("{} is in the table twice.", p.model));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_is_priced_by_its_own_entry_or_its_family() {
        let t = merged(vec![]);
        assert_eq!(find(&t, "gpt-4o").unwrap().model, "gpt-4o");
        assert_eq!(find(&t, "gpt-4o-2024-08-06").unwrap().model, "gpt-4o");
        assert_eq!(
            find(&t, "gpt-4o-mini-2024-07-18").unwrap().model,
            "gpt-4o-mini"
        );
        assert_eq!(find(&t, "openai/gpt-5-mini").unwrap().model, "gpt-5-mini");
        assert!(find(&t, "gpt-4oo").is_none());
        assert!(find(&t, "llama3.2:1b").is_none());
        let mine = merged(vec![Price {
            model: "gpt-4o".into(),
            input: 1.0,
            output: 2.0,
            cached_input: None,
            reasoning: None,
            source: "user".into(),
            as_of: "2026-12-01".into(),
        }]);
        assert_eq!(find(&mine, "gpt-4o").unwrap().source, "user");
    }

    #[test]
    fn cost_counts_cached_and_reasoning_tokens_the_providers_way() {
        let p = Price {
            model: "m".into(),
            input: 2.0,
            output: 10.0,
            cached_input: Some(0.5),
            reasoning: Some(20.0),
            source: "user".into(),
            as_of: "x".into(),
        };
        let u = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            reasoning_tokens: Some(250_000),
            cached_input_tokens: Some(400_000),
        };
        // 600k fresh × 2 + 400k cached × 0.5 + 750k out × 10 + 250k reasoning × 20
        assert!((cost(&p, &u, true) - (1.2 + 0.2 + 7.5 + 5.0)).abs() < 1e-9);
        // Cache reads beside the input (Anthropic): all 1M input is fresh.
        assert!((cost(&p, &u, false) - (2.0 + 0.2 + 7.5 + 5.0)).abs() < 1e-9);
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_764_547_200_000), "2025-12-01");
        assert_eq!(day_of(1_709_164_800_000), "2024-02-29");
        assert_eq!(day_of(-1), "1969-12-31");
    }

    #[test]
    fn bad_tables_are_refused_with_a_sentence() {
        let ok = defaults();
        assert!(validate(&ok).is_ok());
        let mut bad = ok.clone();
        bad[0].input = f64::NAN;
        assert!(validate(&bad).unwrap_err().contains("between 0"));
        let mut bad = ok.clone();
        bad[0].output = -1.0;
        assert!(validate(&bad).is_err());
        let mut bad = ok.clone();
        bad[1].model = bad[0].model.clone();
        assert!(validate(&bad).unwrap_err().contains("twice"));
        let mut bad = ok;
        bad[0].model = " ".into();
        assert!(validate(&bad).is_err());
    }
}
