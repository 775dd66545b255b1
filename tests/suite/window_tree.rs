//! Real window: a conversation steered as a tree. Edit a question (a new version), switch
//! versions, regenerate with another model, branch into a new chat, rewind and find the later
//! turns again, copy, answer details, pin and archive, the shortcuts sheet and ↑ to edit, a
//! change made by `parley` meanwhile refused as a conflict that the window re-syncs after, and
//! a generated title arriving in the list.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;

fn two_models() -> Reply {
    Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"test-model","object":"model"},{"id":"other-model","object":"model"}]}"#,
    )
}

async fn click(s: &Session, css: &str) {
    s.click_css(css).await;
}

/// The `n`th (0-based) message of `role` on screen: its id.
async fn message_id(s: &Session, role: &str, n: usize) -> String {
    let js = format!(
        "return document.querySelectorAll('[data-testid=message-{role}]')[{n}]?.dataset.messageId ?? null"
    );
    for _ in 0..200 {
        if let Some(id) = s.script(&js).await.as_str() {
            return id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {role} message #{n}");
}

/// The texts of the shown path, in order.
async fn shown(s: &Session) -> Vec<String> {
    let v = s
        .script(
            "return [...document.querySelectorAll('[data-testid=user-text], [data-testid=assistant-text]')].map(e => e.textContent.trim())",
        )
        .await;
    serde_json::from_value(v).unwrap_or_default()
}

async fn wait_shown(s: &Session, want: &[&str]) {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = shown(s).await;
        if last.iter().map(String::as_str).eq(want.iter().copied()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the chat shows {last:?}, wanted {want:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_a_conversation_is_steered_as_a_tree() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(two_models());
    add_provider_with_cli(data.path(), &server).await;
    for a in [
        "First answer",
        "Second answer",
        "Edited answer",
        "Other model answer",
    ] {
        server.push(Reply::sse(text_answer(&[a], 0)));
    }
    let s = launch(&e, data.path()).await;
    click(&s, "[data-testid=new-session]").await;
    send(&s, "q1").await;
    wait_shown(&s, &["q1", "First answer"]).await;
    send(&s, "q2").await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;

    // Edit q2: a new version with a fresh answer; the switcher says 2/2.
    let q2 = message_id(&s, "user", 1).await;
    click(
        &s,
        &format!("[data-message-id='{q2}'] [data-testid=edit-message]"),
    )
    .await;
    let input = s.wait_for("[data-testid=edit-input]").await;
    s.clear(&input).await;
    s.type_text(&input, "q2 edited").await;
    click(&s, "[data-testid=edit-send]:not([disabled])").await;
    wait_shown(&s, &["q1", "First answer", "q2 edited", "Edited answer"]).await;
    let q2b = message_id(&s, "user", 1).await;
    let label = format!("[data-message-id='{q2b}'] [data-testid=version-label]");
    s.wait_text(&label, 10, |t| t == "2/2").await;
    shot(&s, &e, "tree-01-edited").await;

    // Switch back to the first version and forward again: what is shown below follows.
    click(
        &s,
        &format!("[data-message-id='{q2b}'] [data-testid=version-prev]"),
    )
    .await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;
    s.wait_text(
        &format!("[data-message-id='{q2}'] [data-testid=version-label]"),
        10,
        |t| t == "1/2",
    )
    .await;
    click(
        &s,
        &format!("[data-message-id='{q2}'] [data-testid=version-next]"),
    )
    .await;
    wait_shown(&s, &["q1", "First answer", "q2 edited", "Edited answer"]).await;

    // Regenerate the last answer with the other model.
    let a = message_id(&s, "assistant", 1).await;
    click(
        &s,
        &format!("[data-message-id='{a}'] [data-testid=regenerate-with]"),
    )
    .await;
    click(&s, "[data-testid=regenerate-model][data-model=other-model]").await;
    wait_shown(
        &s,
        &["q1", "First answer", "q2 edited", "Other model answer"],
    )
    .await;
    let asked = server.received().last().unwrap().json();
    assert_eq!(asked["model"], "other-model");
    // What went to the model is the selected path: the edited question, not the first one.
    let sent = asked["messages"].to_string();
    assert!(
        sent.contains("q2 edited") && !sent.contains("Second answer"),
        "{sent}"
    );
    let a2 = message_id(&s, "assistant", 1).await;
    s.wait_text(
        &format!("[data-message-id='{a2}'] [data-testid=version-label]"),
        10,
        |t| t == "2/2",
    )
    .await;
    // Its details: model, provider, tokens, duration, finish reason.
    click(
        &s,
        &format!("[data-message-id='{a2}'] [data-testid=details-toggle]"),
    )
    .await;
    let details = s
        .wait_text("[data-testid=answer-details]", 10, |t| {
            t.contains("other-model")
        })
        .await;
    for k in ["Provider", "local", "Tokens", "Finish", "finished"] {
        assert!(details.contains(k), "{details}");
    }
    // Copy as markdown: the clipboard takes it and the window says so.
    click(
        &s,
        &format!("[data-message-id='{a2}'] [data-testid=copy-markdown]"),
    )
    .await;
    s.wait_text("[data-testid=toast]", 10, |t| t.starts_with("Copied"))
        .await;
    shot(&s, &e, "tree-02-regenerated").await;

    // Rewind to the first answer: the later turns stay reachable.
    let a1 = message_id(&s, "assistant", 0).await;
    click(
        &s,
        &format!("[data-message-id='{a1}'] [data-testid=rewind]"),
    )
    .await;
    wait_shown(&s, &["q1", "First answer"]).await;
    s.wait_for("[data-testid=rewound]").await;
    shot(&s, &e, "tree-03-rewound").await;
    click(&s, "[data-testid=rewound-show]").await;
    wait_shown(
        &s,
        &["q1", "First answer", "q2 edited", "Other model answer"],
    )
    .await;

    // A change by `parley` meanwhile: the window's next change is refused as a conflict, it
    // says what changed, loads the chat again, and the change then goes through.
    let list: serde_json::Value =
        serde_json::from_str(&cli(data.path(), &["sessions", "list", "--json"])).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    cli(
        data.path(),
        &["sessions", "rename", &id, "Renamed elsewhere"],
    );
    let q2b = message_id(&s, "user", 1).await;
    click(
        &s,
        &format!("[data-message-id='{q2b}'] [data-testid=version-prev]"),
    )
    .await;
    let notice = s
        .wait_text("[data-testid=notice]", 10, |t| {
            t.contains("now shows the chat")
        })
        .await;
    assert!(notice.contains("Renamed elsewhere"), "{notice}");
    s.wait_text("[data-testid=session-title]", 10, |t| {
        t == "Renamed elsewhere"
    })
    .await;
    wait_shown(
        &s,
        &["q1", "First answer", "q2 edited", "Other model answer"],
    )
    .await;
    shot(&s, &e, "tree-04-conflict").await;
    let q2b = message_id(&s, "user", 1).await;
    click(
        &s,
        &format!("[data-message-id='{q2b}'] [data-testid=version-prev]"),
    )
    .await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;

    // Branch into a new chat from the first answer: a chat of its own with that path.
    let a1 = message_id(&s, "assistant", 0).await;
    click(&s, &format!("[data-message-id='{a1}'] [data-testid=fork]")).await;
    s.wait_count("[data-testid=session-item]", 2).await;
    wait_shown(&s, &["q1", "First answer"]).await;
    // It links back to where it came from.
    click(&s, "[data-testid=forked-open]").await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;

    // Pin the original (first in the list, under "Pinned"), archive the branch.
    click(&s, &format!("[data-session-id='{id}'] .open")).await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;
    click(
        &s,
        &format!("[data-session-id='{id}'] [data-testid=session-more]"),
    )
    .await;
    click(&s, "[data-testid=session-pin]").await;
    s.wait_attr("[data-testid=session-item]", "data-pinned", 10, |v| {
        v == "true"
    })
    .await;
    let groups = s.texts("[data-testid=chat-group]").await;
    assert_eq!(
        groups.first().map(String::as_str),
        Some("Pinned"),
        "{groups:?}"
    );
    let fork_id = s
        .script(
            "return document.querySelectorAll('[data-testid=session-item]')[1].dataset.sessionId",
        )
        .await
        .as_str()
        .unwrap()
        .to_owned();
    click(&s, &format!("[data-session-id='{fork_id}'] .open")).await;
    wait_shown(&s, &["q1", "First answer"]).await;
    click(
        &s,
        &format!("[data-session-id='{fork_id}'] [data-testid=session-more]"),
    )
    .await;
    click(&s, "[data-testid=session-archive]").await;
    s.wait_count("[data-testid=session-item]", 1).await;
    s.script(
        "const f = document.querySelector('[data-testid=chat-filter]'); f.value = 'archived'; f.dispatchEvent(new Event('change', { bubbles: true }))",
    )
    .await;
    s.wait_attr("[data-testid=session-item]", "data-session-id", 10, |v| {
        v == fork_id
    })
    .await;
    shot(&s, &e, "tree-05-archived").await;
    s.script(
        "const f = document.querySelector('[data-testid=chat-filter]'); f.value = ''; f.dispatchEvent(new Event('change', { bubbles: true }))",
    )
    .await;
    s.wait_attr("[data-testid=session-item]", "data-session-id", 10, |v| {
        v == id
    })
    .await;

    // The keyboard: the shortcuts sheet, and ↑ in the empty composer edits the last question.
    click(&s, &format!("[data-session-id='{id}'] .open")).await;
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "\u{E009}/").await;
    s.wait_for("[data-testid=shortcuts]").await;
    shot(&s, &e, "tree-06-shortcuts").await;
    click(&s, "[data-testid=shortcuts-close]").await;
    s.wait_count("[data-testid=shortcuts]", 0).await;
    let input = s.wait_for("[data-testid=composer-input]").await;
    s.type_text(&input, "\u{E013}").await;
    let edit = s.wait_for("[data-testid=edit-input]").await;
    assert_eq!(
        s.script("return document.querySelector('[data-testid=edit-input]').value")
            .await,
        "q2"
    );
    s.type_text(&edit, "\u{E00C}").await;
    s.wait_count("[data-testid=edit-input]", 0).await;

    // Delete the last answer (it asks first): the question stays, unanswered, and can be
    // answered again.
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;
    let a = message_id(&s, "assistant", 1).await;
    click(
        &s,
        &format!("[data-message-id='{a}'] [data-testid=delete-branch]"),
    )
    .await;
    click(&s, "[data-testid=delete-branch-cancel]").await;
    wait_shown(&s, &["q1", "First answer", "q2", "Second answer"]).await;
    click(
        &s,
        &format!("[data-message-id='{a}'] [data-testid=delete-branch]"),
    )
    .await;
    click(&s, "[data-testid=delete-branch-confirm]").await;
    wait_shown(&s, &["q1", "First answer", "q2"]).await;
    server.push(Reply::sse(text_answer(&["Answered again"], 0)));
    click(&s, "[data-testid=answer-now]").await;
    wait_shown(&s, &["q1", "First answer", "q2", "Answered again"]).await;
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_a_generated_title_arrives_in_the_list() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    let mut slow = vec![sleep_ms(500)];
    slow.extend(text_answer(&["Greeting in Spanish"], 0));
    server.push(Reply::sse(text_answer(&["¡Hola! ¿Qué tal?"], 0)));
    server.push(Reply::sse(slow));
    let s = launch_titled(&e, data.path()).await;
    click(&s, "[data-testid=new-session]").await;
    send(&s, "Hola, ¿cómo estás?").await;
    // The first words first, then the generated title.
    s.wait_text("[data-testid=session-title]", 10, |t| {
        t == "Hola, ¿cómo estás?"
    })
    .await;
    s.wait_text("[data-testid=session-title]", 15, |t| {
        t == "Greeting in Spanish"
    })
    .await;
    shot(&s, &e, "tree-07-titled").await;
    s.quit().await;
}
