//! Providers as configured through the core: edits, keys, connection checks, cached model
//! lists, local servers, fallbacks, and a keychain that is not there.

use super::engine::*;
use parley_core::secrets::{MemoryStore, Secret};
use parley_core::{Core, CoreOptions};
use parley_protocol::ProviderDraft;
use parley_protocol::{ErrorCode, EventMsg, ProviderKind, SendOptions};
use parley_tests::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keychain_unavailable_fails_closed_and_keeps_nothing() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: Arc::new(MemoryStore::unavailable()),
        http: fast_http(),
    })
    .await
    .unwrap();
    let err = core
        .providers()
        .add_provider(ProviderDraft {
            name: "p".into(),
            kind: ProviderKind::Openai,
            base_url: server.base_url(),
            default_model: Some("m".into()),
            api_key: Some("sk-secret-value-123456".into()),
        })
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_info().code, ErrorCode::Keychain);
    assert!(err.to_string().contains("keychain"));
    assert!(
        core.providers().list_providers().await.unwrap().is_empty(),
        "no half-added provider"
    );
    let db = std::fs::read(dir.path().join("parley.db")).unwrap();
    assert!(
        !db.windows(12).any(|w| w == b"secret-value"),
        "key reached the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_provider_falls_back_and_no_provider_is_a_clear_error() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["ok"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    run_turn(&e.core, &s.id, "first").await;
    e.core
        .providers()
        .add_provider(ProviderDraft {
            name: "second".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: Some("other-model".into()),
            api_key: None,
        })
        .await
        .unwrap();
    e.core.providers().remove_provider("local").await.unwrap();
    let ev = run_turn(&e.core, &s.id, "after removal").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(
        h.messages.last().unwrap().provider.as_deref(),
        Some("second")
    );
    assert_eq!(
        h.messages.last().unwrap().model.as_deref(),
        Some("other-model")
    );

    e.core.providers().remove_provider("second").await.unwrap();
    let err = e
        .core
        .chats()
        .send_message(&s.id, "nobody home", SendOptions::default())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("No provider is configured"),
        "{err}"
    );
    assert_eq!(
        e.core
            .history()
            .full_history(&s.id)
            .await
            .unwrap()
            .messages
            .len(),
        4,
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_edits_keys_and_connection_checks() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::new());
    let core = Core::open(CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: secrets.clone(),
        http: fast_http(),
    })
    .await
    .unwrap();
    let info = core
        .providers()
        .add_provider(ProviderDraft {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: Some("m".into()),
            api_key: None,
        })
        .await
        .unwrap();
    assert!(!info.has_key);
    let info = core
        .providers()
        .set_provider_key("p", Secret::new("sk-first-key-000000"))
        .await
        .unwrap();
    assert!(info.has_key);
    use parley_core::secrets::SecretStore;
    assert!(secrets.get("provider:p").unwrap().is_some());

    // A connection check uses the saved key, and says plainly what is wrong.
    server.push(Reply::json(200, r#"{"data":[{"id":"m"},{"id":"n"}]}"#));
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Invalid API key"}}"#,
    ));
    let check = |key: Option<&str>| parley_protocol::ConnectionDraft {
        kind: ProviderKind::OpenaiCompatible,
        base_url: server.base_url(),
        api_key: key.map(str::to_owned),
        saved_provider: Some("p".into()),
    };
    let ok = core
        .providers()
        .check_connection(check(None))
        .await
        .unwrap();
    assert!(
        ok.ok && ok.message == "Connected: 2 models available.",
        "{ok:?}"
    );
    assert_eq!(
        server.received()[0].header("authorization"),
        Some("Bearer sk-first-key-000000")
    );
    let bad = core
        .providers()
        .check_connection(check(Some("sk-typed-in-form-111")))
        .await
        .unwrap();
    assert!(
        !bad.ok && bad.message.contains("rejected the API key"),
        "{bad:?}"
    );
    assert_eq!(
        server.received()[1].header("authorization"),
        Some("Bearer sk-typed-in-form-111")
    );
    assert_eq!(
        secrets.get("provider:p").unwrap().unwrap().expose(),
        "sk-first-key-000000",
        "a typed key is not saved by a check"
    );

    // Same host: the key stays. Another host: the key is deleted and must be entered again.
    let same = core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: format!("{}/", server.base_url()),
            default_model: Some("n".into()),
        })
        .await
        .unwrap();
    assert!(same.has_key);
    assert_eq!(same.default_model.as_deref(), Some("n"));
    let moved = core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "p".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: "https://elsewhere.example/v1".into(),
            default_model: None,
        })
        .await
        .unwrap();
    assert!(!moved.has_key);
    assert!(secrets.get("provider:p").unwrap().is_none());
    let cleared = core
        .providers()
        .set_provider_key("p", Secret::new("sk-second-000000"))
        .await
        .unwrap();
    assert!(cleared.has_key);
    assert!(
        !core
            .providers()
            .clear_provider_key("p")
            .await
            .unwrap()
            .has_key
    );
    assert!(core
        .providers()
        .set_provider_key("p", Secret::new("  "))
        .await
        .is_err());

    // Settings: validated, and the saved idle timeout is what providers use.
    let mut settings = core.settings().get_settings().await.unwrap();
    settings.idle_timeout_secs = 5;
    assert!(core
        .settings()
        .save_settings(settings.clone())
        .await
        .is_err());
    settings.idle_timeout_secs = 600;
    core.settings()
        .save_settings(settings.clone())
        .await
        .unwrap();
    assert_eq!(core.settings().get_settings().await.unwrap(), settings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_lists_are_cached_with_capabilities_and_refreshed_on_demand() {
    let server = MockServer::start().await;
    // OpenRouter's shape: context length, supported parameters, input modalities.
    server.push(Reply::json(200, r#"{"data":[
        {"id":"b/vision","name":"B Vision","context_length":128000,"supported_parameters":["tools","reasoning"],"architecture":{"input_modalities":["text","image"]},"top_provider":{"max_completion_tokens":16000}},
        {"id":"a/plain","context_length":8192,"supported_parameters":["temperature"],"architecture":{"input_modalities":["text"]}}
    ]}"#));
    let e = env(&server).await;
    let list = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert!(list.error.is_none());
    assert!(list.fetched_at.is_some());
    let ids: Vec<_> = list.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a/plain", "b/vision"]);
    let b = &list.models[1];
    assert_eq!(b.display_name.as_deref(), Some("B Vision"));
    assert_eq!(b.context_window, Some(128000));
    assert_eq!(b.max_output_tokens, Some(16000));
    assert_eq!(
        (b.tools, b.vision, b.reasoning),
        (Some(true), Some(true), Some(true))
    );
    let a = &list.models[0];
    assert_eq!(
        (a.tools, a.vision, a.reasoning),
        (Some(false), Some(false), Some(false))
    );

    // Cached: no second request.
    let again = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert_eq!(again.models, list.models);
    assert_eq!(server.received().len(), 1);

    // A failed refresh keeps the cached list and says why.
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let failed = e.core.providers().list_models("local", true).await.unwrap();
    assert_eq!(failed.models, list.models);
    let err = failed.error.unwrap();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert_eq!(server.received().len(), 2);

    // Pointing the provider elsewhere forgets the old server's models.
    e.core
        .providers()
        .update_provider(parley_protocol::ProviderEdit {
            name: "local".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url().replace("/v1", "/v2"),
            default_model: Some("test-model".into()),
        })
        .await
        .unwrap();
    server.push(Reply::json(200, r#"{"data":[{"id":"c"}]}"#));
    let moved = e
        .core
        .providers()
        .list_models("local", false)
        .await
        .unwrap();
    assert_eq!(moved.models.len(), 1);
    assert_eq!(moved.models[0].id, "c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_servers_are_found_on_loopback_only_and_matched_to_providers() {
    let llama = MockServer::start().await;
    let ollama = MockServer::start().await;
    llama.fallback(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"smollm2","meta":{"n_ctx_train":8192}}]}"#,
    ));
    ollama.fallback(Reply::json(
        200,
        r#"{"models":[{"name":"qwen3:0.6b","model":"qwen3:0.6b"}]}"#,
    ));
    let port = |s: &MockServer| {
        s.base_url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/v1")
            .parse::<u16>()
            .unwrap()
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = env(&llama).await; // "local" already points at the llama server
    let t = Instant::now();
    let found = e
        .core
        .providers()
        .discover_local_at(&[
            (port(&llama), "llamacpp"),
            (port(&ollama), "ollama"),
            (closed_port, "vllm"),
        ])
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(found.len(), 2, "{found:?}");
    let l = found.iter().find(|s| s.preset == "llamacpp").unwrap();
    assert_eq!(l.base_url, format!("http://127.0.0.1:{}/v1", port(&llama)));
    assert_eq!(l.models[0].id, "smollm2");
    assert_eq!(l.models[0].context_window, Some(8192));
    assert_eq!(l.configured_as.as_deref(), Some("local"));
    let o = found.iter().find(|s| s.preset == "ollama").unwrap();
    assert_eq!(o.kind, ProviderKind::Ollama);
    assert_eq!(o.base_url, format!("http://127.0.0.1:{}", port(&ollama)));
    assert_eq!(o.configured_as, None);
    assert_eq!(ollama.received()[0].path, "/api/tags");
    // Every address probed is loopback, by construction.
    for s in &found {
        assert!(s.base_url.starts_with("http://127.0.0.1:"));
    }
    let presets = e.core.providers().provider_presets();
    for id in [
        "openai",
        "anthropic",
        "gemini",
        "openrouter",
        "groq",
        "deepseek",
        "mistral",
        "xai",
        "together",
        "ollama",
        "lmstudio",
        "llamacpp",
        "vllm",
    ] {
        assert!(presets.iter().any(|p| p.id == id), "{id}");
    }
    for (port, preset) in parley_core::providers::presets::LOCAL_PORTS {
        let p = presets.iter().find(|p| p.id == *preset).unwrap();
        assert!(p.local && p.base_url.starts_with(&format!("http://127.0.0.1:{port}")));
    }
}

/// A model list or a discovery answer of gigabytes is refused once it passes its cap, whether
/// the server announces its size or streams without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_model_lists_and_discovery_answers_are_refused() {
    let big = format!(
        r#"{{"data":[{}{{"id":"last"}}]}}"#,
        r#"{"id":"m"},"#.repeat(17 * 1024 * 1024 / 11)
    );
    let streamed = || {
        let chunk = r#"{"id":"m"},"#.repeat(100_000).into_bytes();
        let mut steps = vec![Step::Bytes(br#"{"data":["#.to_vec())];
        steps.extend((0..20).map(|_| Step::Bytes(chunk.clone())));
        steps.push(Step::Bytes(br#"{"id":"last"}]}"#.to_vec()));
        Reply::sse(steps).content_type("application/json")
    };
    for reply in [Reply::json(200, &big), streamed()] {
        let server = MockServer::start().await;
        server.push(reply);
        let e = env(&server).await;
        let list = e.core.providers().list_models("local", true).await.unwrap();
        let err = list.error.expect("refused");
        assert!(
            err.message.contains("larger than 16 MiB"),
            "{}",
            err.message
        );
        assert!(list.models.is_empty());
    }
    // Discovery reads at most 1 MiB from whatever listens on a known port.
    let server = MockServer::start().await;
    server.answer_gets(Reply::json(
        200,
        &format!(
            r#"{{"data":[{}{{"id":"x"}}]}}"#,
            r#"{"id":"m"},"#.repeat(200_000)
        ),
    ));
    let e = env(&server).await;
    let found = e
        .core
        .providers()
        .discover_local_at(&[(server.port(), "llamacpp")])
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
}
