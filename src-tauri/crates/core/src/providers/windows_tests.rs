use super::*;

fn user(model: &str, window: u32) -> ModelWindow {
    ModelWindow {
        model: model.into(),
        context_window: window,
        max_output_tokens: None,
        source: "user".into(),
        as_of: "2026-12-01".into(),
    }
}

fn listed(window: Option<u32>) -> ModelInfo {
    ModelInfo {
        context_window: window,
        max_output_tokens: window.map(|w| w / 8),
        ..ModelInfo::named("x")
    }
}

#[test]
fn dated_tagged_and_prefixed_ids_fall_to_their_family() {
    let t = merged(vec![]);
    let table = [
        ("gpt-4o", Some(("gpt-4o", 128_000))),
        ("gpt-4o-2024-08-06", Some(("gpt-4o", 128_000))),
        ("gpt-4o-mini-2024-07-18", Some(("gpt-4o-mini", 128_000))),
        ("openai/gpt-5-mini", Some(("gpt-5-mini", 400_000))),
        ("gpt-4-0613", Some(("gpt-4", 8_192))),
        ("gpt-4.1-2025-04-14", Some(("gpt-4.1", 1_047_576))),
        ("o3-mini-2025-01-31", Some(("o3-mini", 200_000))),
        (
            "claude-sonnet-4-5-20250929",
            Some(("claude-sonnet-4-5", 200_000)),
        ),
        (
            "claude-sonnet-4-20250514",
            Some(("claude-sonnet-4", 200_000)),
        ),
        (
            "claude-3-5-haiku-latest",
            Some(("claude-3-5-haiku", 200_000)),
        ),
        (
            "claude-opus-4-1@20250805",
            Some(("claude-opus-4-1", 200_000)),
        ),
        (
            "models/gemini-2.5-flash",
            Some(("gemini-2.5-flash", 1_048_576)),
        ),
        (
            "gemini-2.5-flash-lite-preview-06-17",
            Some(("gemini-2.5-flash-lite", 1_048_576)),
        ),
        ("gemini-1.5-pro-002", Some(("gemini-1.5-pro", 2_097_152))),
        ("mistral-large-latest", Some(("mistral-large", 128_000))),
        ("codestral-2508", Some(("codestral", 256_000))),
        ("deepseek-chat", Some(("deepseek-chat", 128_000))),
        ("deepseek-r1:8b", Some(("deepseek-r1", 128_000))),
        ("llama-3.3-70b-versatile", Some(("llama-3.3", 131_072))),
        (
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            Some(("llama-3.3", 131_072)),
        ),
        ("llama3.1:8b", Some(("llama3.1", 131_072))),
        ("llama3:latest", Some(("llama3", 8_192))),
        ("qwen2.5:7b-instruct", Some(("qwen2.5", 32_768))),
        ("qwen2.5-coder:14b", Some(("qwen2.5-coder", 32_768))),
        ("Qwen/Qwen3-235B-A22B", Some(("qwen3", 32_768))),
        ("gemma3:27b", Some(("gemma3", 131_072))),
        ("gemma3:1b", Some(("gemma3:1b", 32_768))),
        ("gemma3:12b", Some(("gemma3", 131_072))),
        ("gemma2:9b", Some(("gemma2", 8_192))),
        // Not a release of anything: nothing matches.
        ("gpt-4oo", None),
        ("o10", None),
        ("llama", None),
        ("my-finetune", None),
        ("", None),
    ];
    for (model, want) in table {
        let got = find(&t, model).map(|w| (w.model.as_str(), w.context_window));
        assert_eq!(got, want, "{model}");
    }
}

#[test]
fn the_users_figure_wins_then_the_providers_list_then_the_table_then_the_default() {
    let mine = merged(vec![user("gpt-4o", 50_000)]);
    let plain = merged(vec![]);
    type Case<'a> = (
        &'a [ModelWindow],
        Option<ModelInfo>,
        &'a str,
        u32,
        WindowSource,
    );
    let cases: &[Case] = &[
        (
            &mine,
            Some(listed(Some(64_000))),
            "gpt-4o-2024-08-06",
            50_000,
            WindowSource::Settings,
        ),
        (&mine, None, "gpt-4o", 50_000, WindowSource::Settings),
        (
            &plain,
            Some(listed(Some(64_000))),
            "gpt-4o",
            64_000,
            WindowSource::Provider,
        ),
        (
            &plain,
            Some(listed(Some(64_000))),
            "unknown-model",
            64_000,
            WindowSource::Provider,
        ),
        // A list that states no window (OpenAI-style /v1/models) or zero says nothing.
        (
            &plain,
            Some(listed(None)),
            "gpt-4o",
            128_000,
            WindowSource::Table,
        ),
        (
            &plain,
            Some(listed(Some(0))),
            "gpt-4o",
            128_000,
            WindowSource::Table,
        ),
        (&plain, None, "gpt-4o", 128_000, WindowSource::Table),
        (&mine, None, "gpt-4o-mini", 128_000, WindowSource::Table),
        (
            &plain,
            Some(listed(None)),
            "unknown-model",
            DEFAULT_WINDOW,
            WindowSource::Default,
        ),
        (&plain, None, "", DEFAULT_WINDOW, WindowSource::Default),
    ];
    for (i, (table, info, model, tokens, source)) in cases.iter().enumerate() {
        let w = resolve(table, info.as_ref(), model);
        assert_eq!(
            (w.tokens, w.source),
            (*tokens, *source),
            "case {i}: {model}"
        );
    }
    // The output limit comes with the figure chosen.
    let w = resolve(&plain, None, "claude-3-5-haiku-20241022");
    assert_eq!(w.max_output, Some(8_192));
    let w = resolve(&plain, Some(&listed(Some(64_000))), "x");
    assert_eq!(w.max_output, Some(8_000));
}

#[test]
fn the_users_rows_replace_shipped_ones_of_the_same_model_in_any_case() {
    let t = merged(vec![user("GPT-4o", 50_000)]);
    assert_eq!(
        t.iter()
            .filter(|w| w.model.eq_ignore_ascii_case("gpt-4o"))
            .count(),
        1
    );
    assert_eq!(find(&t, "gpt-4o").unwrap().context_window, 50_000);
    assert_eq!(t.len(), defaults().len());
}

#[test]
fn bad_tables_are_refused_with_a_sentence() {
    assert!(validate(&defaults()).is_ok());
    let bad: &[(ModelWindow, &str)] = &[
        (user(" ", 8_192), "name"),
        (user(&"m".repeat(201), 8_192), "name"),
        (user("m", 0), "between"),
        (user("m", 1_023), "between"),
        (user("m", 100_000_001), "between"),
        (
            ModelWindow {
                max_output_tokens: Some(0),
                ..user("m", 8_192)
            },
            "output limit",
        ),
        (
            ModelWindow {
                max_output_tokens: Some(9_000),
                ..user("m", 8_192)
            },
            "output limit",
        ),
    ];
    for (w, why) in bad {
        let e = validate(std::slice::from_ref(w)).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
    let twice = [user("m", 8_192), user("M", 16_384)];
    assert!(validate(&twice).unwrap_err().contains("twice"));
}
