//! Real window: Settings → Data → Export all writes every chat to a file (the save dialog's
//! choice comes from `PARLEY_E2E_SAVE_FILE`), and Import… in a fresh data folder previews what
//! the file adds, imports it on confirmation, and the same chats are there.

use super::window::*;
use parley_protocol::ExportFile;
use parley_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_export_then_import_into_a_fresh_data_folder() {
    let e = env();
    let file = std::path::PathBuf::from(
        std::env::var("PARLEY_E2E_SAVE_FILE")
            .expect("PARLEY_E2E_SAVE_FILE is not set: run this through `cargo xtask test`"),
    );
    let _ = std::fs::remove_file(&file);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let from = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    server.push(Reply::sse(text_answer(&["Moved ", "intact."], 0)));
    add_provider_with_cli(from.path(), &server).await;
    cli(from.path(), &["ask", "A chat to take along"]);

    let s = launch(&e, from.path()).await;
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.click(&s.wait_for("[data-testid=data-export]").await)
        .await;
    s.wait_text("[data-testid=data-note]", 20, |t| {
        t.starts_with("Exported every chat")
    })
    .await;
    s.quit().await;
    let export: ExportFile =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(export.chats.len(), 1);
    assert_eq!(export.chats[0].messages.len(), 2);

    let to = tempfile::tempdir().unwrap();
    let s = launch(&e, to.path()).await;
    assert_eq!(s.find_all("[data-testid=session-item]").await.len(), 0);
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.click(&s.wait_for("[data-testid=data-import]").await)
        .await;
    let preview = s
        .wait_text("[data-testid=data-note]", 20, |t| {
            t.starts_with("The file holds")
        })
        .await;
    assert!(
        preview.contains("1 chat and 2 messages") && preview.contains("Importing adds 1 chat"),
        "{preview}"
    );
    // Nothing is written before the go-ahead.
    assert_eq!(cli(to.path(), &["sessions", "list", "--json"]).trim(), "[]");
    s.script("document.querySelector('[data-testid=data-note]').scrollIntoView({block: 'end'})")
        .await;
    shot(&s, &e, "transfer-01-preview").await;
    s.click(&s.wait_for("[data-testid=data-import-confirm]").await)
        .await;
    let done = s
        .wait_text("[data-testid=data-note]", 20, |t| t.starts_with("Added"))
        .await;
    assert!(done.contains("Added 1 chat and 2 messages"), "{done}");
    s.click(&s.wait_for("[data-testid=settings-close]").await)
        .await;
    s.wait_text("[data-testid=session-title]", 10, |t| {
        t == "A chat to take along"
    })
    .await;
    s.click(&s.wait_for("[data-testid=session-item] .open").await)
        .await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "Moved intact.")
        .await;
    shot(&s, &e, "transfer-02-imported").await;
    s.quit().await;
}
