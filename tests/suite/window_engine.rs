//! Real window, real engine: a first run with no provider chooses "Chat privately on this
//! computer", adds the starter model (SmolLM2-135M) through the file dialog in Settings →
//! Models on this computer, and chats with it through the built-in engine; the answer's details
//! say where it ran, and Settings shows the engine running, then stopped on request.

use super::window::*;
use std::path::PathBuf;

fn starter_model() -> PathBuf {
    PathBuf::from(
        std::env::var_os("PARLEY_LLAMA_MODEL").expect(
            "PARLEY_LLAMA_MODEL names the starter model: run this through `cargo xtask test`",
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver + llama-server: run by `cargo xtask test`"]
async fn window_engine_first_run_adds_a_model_and_chats_on_this_computer() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let model = starter_model();
    let s = parley_tests::webdriver::Session::start(
        &e.driver,
        &e.app,
        &[
            "--data-dir".into(),
            data.path().display().to_string(),
            "--e2e-no-titles".into(),
            "--e2e-pick-model".into(),
            model.display().to_string(),
        ],
    )
    .await;

    // The welcome offers the private way first.
    s.wait_for("[data-testid=empty-local]").await;
    shot(&s, &e, "engine-01-welcome").await;
    s.click_css("[data-testid=empty-local]").await;
    s.wait_for("[data-testid=local-models-empty]").await;
    s.wait_text("[data-testid=engine-line]", 10, |t| {
        t.contains("Not running")
    })
    .await;
    s.click_css("[data-testid=local-model-add-file]").await;
    let row = "[data-testid=local-model][data-model='SmolLM2-135M-Instruct.Q4_1']";
    let line = s.wait_text(row, 10, |t| t.contains("llama")).await;
    assert!(line.contains("135M") && line.contains("Q4_1"), "{line}");
    s.script(&format!(
        "document.querySelector(\"{row}\").scrollIntoView({{ block: 'center' }})"
    ))
    .await;
    shot(&s, &e, "engine-02-model-added").await;
    s.click_css("[data-testid=settings-close]").await;

    // A chat answered by the built-in engine, on this computer.
    s.click_css("[data-testid=new-session]").await;
    s.wait_text("[data-testid=model-picker]", 10, |t| {
        t.contains("SmolLM2-135M-Instruct.Q4_1")
    })
    .await;
    send(&s, "Say hello in one short sentence.").await;
    s.wait_text("[data-testid=assistant-text]", 60, |t| !t.is_empty())
        .await;
    s.wait_for("[data-testid=message-assistant] [data-testid=usage]")
        .await;
    let meta = s
        .script("return document.querySelector('[data-testid=message-assistant] .meta').textContent.trim()")
        .await;
    assert_eq!(
        meta.as_str(),
        Some("SmolLM2-135M-Instruct.Q4_1 · On this computer (built in)")
    );
    shot(&s, &e, "engine-03-answered").await;

    // Settings shows it running; Stop ends it.
    s.click_css("[data-testid=settings-button]").await;
    s.wait_attr("[data-testid=engine-status]", "data-state", 10, |v| {
        v == "ready"
    })
    .await;
    s.script(
        "document.querySelector('[data-testid=local-models]').scrollIntoView({ block: 'start' })",
    )
    .await;
    shot(&s, &e, "engine-04-running").await;
    s.click_css("[data-testid=engine-stop]").await;
    s.wait_attr("[data-testid=engine-status]", "data-state", 10, |v| {
        v == "stopped"
    })
    .await;
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_models_download_shows_progress_pauses_resumes_and_adds() {
    use super::models_pull::{model_file, Hub};
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let source = model_file(files.path(), 6 * 1024 * 1024);
    let hub = Hub::start(files.path(), &source, &["--slow"]);
    cli(data.path(), &["models", "hub", &hub.url]);
    let s = launch(&e, data.path()).await;
    s.click_css("[data-testid=empty-local]").await;
    let input = s.wait_for("[data-testid=model-download-ref]").await;
    s.type_text(&input, "test/tiny:tiny.gguf").await;
    s.click_css("[data-testid=model-download-go]").await;
    let item = "[data-testid=model-download][data-id='test/tiny:tiny.gguf']";
    s.wait_text(
        &format!("{item} [data-testid=model-download-line]"),
        20,
        |t| t.contains(" of 6.0 MB") && t.contains("/s"),
    )
    .await;
    s.script(&format!(
        "document.querySelector(\"{item}\").scrollIntoView({{ block: 'center' }})"
    ))
    .await;
    shot(&s, &e, "engine-05-downloading").await;
    s.click_css(&format!("{item} [data-testid=model-download-pause]"))
        .await;
    s.wait_attr(item, "data-state", 10, |v| v == "paused").await;
    s.click_css(&format!("{item} [data-testid=model-download-resume]"))
        .await;
    s.wait_attr(item, "data-state", 60, |v| v == "done").await;
    s.wait_for("[data-testid=local-model][data-model=tiny]")
        .await;
    shot(&s, &e, "engine-06-downloaded").await;
    s.quit().await;
}
