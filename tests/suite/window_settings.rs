//! Real window: providers change only when the person confirms the change in the change card
//! (served by Rust on its own origin, in a window of its own). Script injected into the page can
//! propose changes but cannot make one: it cannot fetch or frame the card's origin, read the card
//! or press its buttons, and
//! the command that saved keys directly is gone. A database that cannot be read at start is
//! reported in a banner that names where it was moved, and Settings → Data → Restore… brings
//! back a deleted chat from a backup.

use super::window::*;
use parley_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_provider_changes_only_through_the_change_card() {
    let e = env();
    let (_data, server, s) = launch_with_local(&e).await;
    s.wait_for("[data-testid=new-session]").await;

    // The attack: script in the page proposes every kind of provider change and tries to make
    // them without the person.
    let attack = s
        .script_async(
            "const done = arguments[0]; const inv = window.__TAURI_INTERNALS__.invoke; const out = {}; \
             const key = 'sk-attacker-000000000000000000'; \
             const tries = [ \
               ['add_provider', { draft: { name: 'evil', kind: 'openai_compatible', base_url: 'https://evil.example/v1', default_model: null, api_key: key } }], \
               ['update_provider', { edit: { name: 'local', kind: 'openai_compatible', base_url: 'https://evil.example/v1', default_model: 'x' }, key }], \
               ['remove_provider', { name: 'local' }], \
               ['set_provider_key', { name: 'local', key }], \
               ['decide_approval', { sessionId: 'x', callId: 'y', decision: { type: 'allow_once' } }], \
             ]; \
             (async () => { \
               for (const [cmd, args] of tries) { \
                 try { out[cmd] = { ticket: await inv(cmd, args) }; } catch (err) { out[cmd] = { refused: JSON.stringify(err) }; } \
               } \
               const id = out.remove_provider.ticket ? out.remove_provider.ticket.id : ''; \
               const origin = navigator.userAgent.includes('Windows') ? 'http://parley-approve.localhost' : 'parley-approve://localhost'; \
               try { const r = await fetch(origin + '/apply?id=' + id + '&nonce=x&answer=confirm'); out.fetch = 'fetched ' + r.status; } catch (err) { out.fetch = 'blocked'; } \
               const f = document.createElement('iframe'); f.src = origin + '/change?id=' + id; document.body.appendChild(f); \
               await new Promise((r) => { f.onload = r; setTimeout(r, 3000); }); \
               try { out.read = f.contentDocument && f.contentDocument.querySelector('[data-testid=change-dialog]') ? 'readable' : 'absent'; } catch (err) { out.read = 'blocked'; } \
               try { f.contentWindow.document.querySelector('[data-testid=change-confirm]').click(); out.click = 'clicked'; } catch (err) { out.click = 'blocked'; } \
               await new Promise((r) => setTimeout(r, 1500)); \
               f.remove(); \
               out.providers = await inv('list_providers'); \
               done(out); \
             })();",
        )
        .await;
    for cmd in ["add_provider", "update_provider", "remove_provider"] {
        assert!(
            attack[cmd]["ticket"]["id"].is_string(),
            "{cmd} only proposes: {attack}"
        );
    }
    for cmd in ["set_provider_key", "decide_approval"] {
        assert!(attack[cmd]["refused"].is_string(), "{cmd}: {attack}");
    }
    assert_eq!(attack["fetch"], "blocked", "{attack}");
    assert_ne!(attack["read"], "readable", "{attack}");
    assert_eq!(attack["click"], "blocked", "{attack}");
    let providers = attack["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1, "nothing was added or removed: {attack}");
    assert_eq!(providers[0]["name"], "local");
    assert_eq!(providers[0]["base_url"], json!(server.base_url()));
    assert_eq!(providers[0]["default_model"], "test-model");

    // The person: Remove shows the card; Cancel keeps the provider.
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.click(&s.wait_for("[data-testid=provider-remove]").await)
        .await;
    let title = card_text(&s, "change-title").await;
    assert_eq!(title, "Remove the provider “local”");
    shot(&s, &e, "40-settings-remove-card").await;
    answer_change(&s, "change-cancel").await;
    assert_eq!(s.find_all("[data-testid=provider-item]").await.len(), 1);

    // Editing shows exactly what changes; Confirm makes it.
    s.click(&s.wait_for("[data-testid=provider-edit]").await)
        .await;
    let model = s.wait_for("[data-testid=provider-model]").await;
    s.clear(&model).await;
    s.type_text(&model, "other-model").await;
    s.click(&s.wait_for("[data-testid=provider-save]").await)
        .await;
    let rows = card_text(&s, "change-rows").await;
    assert!(rows.contains("test-model → other-model"), "{rows}");
    shot(&s, &e, "41-settings-edit-card").await;
    answer_change(&s, "change-confirm").await;
    s.wait_text("[data-testid=provider-item]", 10, |t| {
        t.contains("model: other-model")
    })
    .await;
    assert_eq!(s.find_all("[data-testid=provider-form]").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_an_unreadable_database_is_moved_aside_and_the_window_says_where() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let garbage = b"years of chats, but not a database SQLite can read ".repeat(200);
    std::fs::write(data.path().join("parley.db"), &garbage).unwrap();
    let s = launch(&e, data.path()).await;
    let banner = s.wait_for("[data-testid=data-moved]").await;
    let shown = s
        .text(&s.wait_for("[data-testid=data-moved-path]").await)
        .await;
    shot(&s, &e, "data-moved-aside").await;
    let text = s.text(&banner).await;
    assert!(text.contains("was not deleted"), "{text}");
    assert!(text.contains("backups"), "{text}");
    // The banner names the file, which holds exactly what was there.
    assert!(
        shown.starts_with(
            &data
                .path()
                .join("parley.db.unreadable-")
                .display()
                .to_string()
        ),
        "{shown}"
    );
    assert!(
        std::fs::read(&shown).unwrap() == garbage,
        "the moved file changed"
    );
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_restore_from_settings_brings_back_a_deleted_chat() {
    let e = env();
    // The file the native dialog would return (the app reads the same variable).
    let pick = std::path::PathBuf::from(
        std::env::var("PARLEY_E2E_PICK_FILE")
            .expect("PARLEY_E2E_PICK_FILE is not set: run this through `cargo xtask test`"),
    );
    let _ = std::fs::remove_file(&pick);
    std::fs::create_dir_all(pick.parent().unwrap()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    server.push(Reply::sse(text_answer(&["Kept ", "in the backup"], 0)));
    add_provider_with_cli(data.path(), &server).await;
    let cli = |args: &[&str]| cli(data.path(), args);
    cli(&["ask", "A chat worth keeping"]);
    cli(&["backup", &pick.display().to_string()]);
    let list: serde_json::Value =
        serde_json::from_str(&cli(&["sessions", "list", "--json"])).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    cli(&["sessions", "delete", &id]);

    let s = launch(&e, data.path()).await;
    assert_eq!(s.find_all("[data-testid=session-item]").await.len(), 0);
    super::window_transfer::open_settings(&s).await;
    s.click(&s.wait_for("[data-testid=data-restore]").await)
        .await;
    let note = s
        .wait_text("[data-testid=data-note]", 20, |t| t.starts_with("Added"))
        .await;
    assert!(
        note.contains("Added 1 chat and 2 messages")
            && note.contains("Nothing here was changed or removed"),
        "{note}"
    );
    s.script("document.querySelector('[data-testid=data-note]').scrollIntoView({block: 'end'})")
        .await;
    shot(&s, &e, "data-restored").await;
    s.click(&s.wait_for("[data-testid=settings-close]").await)
        .await;
    let title = s
        .wait_text("[data-testid=session-title]", 10, |t| {
            t.contains("A chat worth keeping")
        })
        .await;
    assert!(title.contains("A chat worth keeping"), "{title}");
    // The backup itself is never written to.
    let c =
        rusqlite::Connection::open_with_flags(&pick, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    s.quit().await;
}
