//! Real-window scenarios (Xvfb + tauri-driver + WebKitWebDriver): two providers in one chat,
//! and the agent asking first.

use super::window::*;
use parley_tests::webdriver::Session;
use parley_tests::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_two_providers_switch_model_mid_conversation() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let local = MockServer::start().await;
    local.answer_gets(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"test-model","context_length":32768},{"id":"other-model"}]}"#,
    ));
    let claude = MockServer::start().await;
    claude.answer_gets(Reply::json(
        200,
        r#"{"data":[{"id":"claude-test","display_name":"Claude Test","type":"model"}]}"#,
    ));
    add_provider_with_cli(data.path(), &local).await;
    let out = tokio::process::Command::new(parley_bin())
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "providers",
            "add",
            "claude",
            "--kind",
            "anthropic",
            "--base-url",
        ])
        .arg(claude.base_url())
        .args(["--model", "claude-test"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    local.push(Reply::sse(text_answer(&["Answer ", "from local."], 50)));
    claude.push(anthropic_answer("Answer from Claude."));

    let s = launch(&e, data.path()).await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;

    // Per-chat settings: a system prompt and a temperature, used with whichever model is picked.
    s.click(&s.wait_for("[data-testid=chat-settings-button]").await)
        .await;
    s.wait_for("[data-testid=chat-settings]").await;
    s.type_text(&s.wait_for("[data-testid=param-system]").await, "Be brief.")
        .await;
    s.type_text(&s.wait_for("[data-testid=param-temperature]").await, "0.3")
        .await;
    shot(&s, &e, "20-chat-settings").await;
    s.click(&s.wait_for("[data-testid=param-save]").await).await;
    s.wait_count("[data-testid=chat-settings]", 0).await;
    s.wait_text("[data-testid=chat-settings-button]", 5, |t| {
        t.contains("system prompt · temp 0.3")
    })
    .await;

    // The picker lists both providers' fetched models.
    let options = s
        .script("return (async () => { for (let i = 0; i < 50; i++) { if (document.querySelectorAll('[data-testid=model-picker] option').length >= 3) break; await new Promise(r => setTimeout(r, 100)); } return [...document.querySelectorAll('[data-testid=model-picker] optgroup')].map(g => [g.label, [...g.querySelectorAll('option')].map(o => o.textContent.split(' · ')[0])]); })()")
        .await;
    assert_eq!(
        options,
        json!([
            ["local", ["other-model", "test-model"]],
            ["claude", ["claude-test"]]
        ]),
    );
    send(&s, "First question").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "Answer from local."
    })
    .await;

    // Switch to the other provider mid-conversation.
    s.script("const sel = document.querySelector('[data-testid=model-picker]'); sel.value = 'claude\\u0000claude-test'; sel.dispatchEvent(new Event('change', {bubbles: true})); return true;")
        .await;
    shot(&s, &e, "21-picker-switched").await;
    send(&s, "Second question").await;
    s.wait_count("[data-testid=message-assistant]", 2).await;
    s.wait_text(
        "[data-testid=message-assistant]:last-child [data-testid=assistant-text]",
        10,
        |t| t == "Answer from Claude.",
    )
    .await;
    let metas = s
        .script("return [...document.querySelectorAll('[data-testid=message-assistant] .meta')].map(m => m.textContent.trim())")
        .await;
    assert_eq!(metas, json!(["test-model · local", "claude-test · claude"]));
    shot(&s, &e, "22-two-providers").await;

    // What each provider was sent: the chat's settings, and for the second the whole
    // conversation so far.
    let first = local.received()[0].json();
    assert_eq!(first["model"], "test-model");
    assert_eq!(
        first["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert!((first["temperature"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    let second = claude.received()[0].json();
    assert_eq!(second["model"], "claude-test");
    assert_eq!(second["system"], "Be brief.");
    let msgs = second["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[1]["content"][0]["text"], "Answer from local.");

    // A rate limit: the countdown shows, and Cancel stops waiting (the question is kept).
    local.push(
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached, slow down."}}"#,
        )
        .header("retry-after", "20"),
    );
    s.script("const sel = document.querySelector('[data-testid=model-picker]'); sel.value = 'local\\u0000test-model'; sel.dispatchEvent(new Event('change', {bubbles: true})); return true;")
        .await;
    send(&s, "Third question").await;
    s.wait_text("[data-testid=retry-countdown]", 10, |t| {
        t.contains("rate-limiting")
            && t.contains("Trying again in 2")
            && t.contains("attempt 2 of 3")
    })
    .await;
    shot(&s, &e, "22b-retry-countdown").await;
    s.wait_still("[data-testid=retry-cancel]").await;
    // Sending followed the answer: the countdown is on screen, not below the fold (sending
    // once left the view short of the new rows, taking the jump for the reader scrolling up).
    let shown = s
        .script("const t = document.querySelector('[data-testid=transcript]').getBoundingClientRect(); const r = document.querySelector('[data-testid=retry-cancel]').getBoundingClientRect(); return r.top >= t.top && r.bottom <= t.bottom")
        .await;
    assert_eq!(shown, json!(true), "the countdown is in view after sending");
    s.click_css("[data-testid=retry-cancel]").await;
    s.wait_text("[data-testid=turn-status]", 5, |t| t.contains("Stopped"))
        .await;
    wait_users(&s, 3).await;
    assert_eq!(
        local.received().len(),
        2,
        "no request after the cancelled wait"
    );

    // Settings: the provider's model list with capabilities and search; local servers.
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.click(&s.wait_for("[data-provider=local] button").await)
        .await;
    s.wait_count("[data-testid=model-option]", 2).await;
    let search = s.wait_for("[data-testid=model-search]").await;
    s.type_text(&search, "other").await;
    s.wait_count("[data-testid=model-option]", 1).await;
    s.clear(&search).await;
    s.type_text(&search, "test").await;
    s.wait_text("[data-testid=model-option]", 5, |t| {
        t.contains("33k context")
    })
    .await;
    s.wait_for("[data-testid=local-servers]").await;
    shot(&s, &e, "23-settings-model-list").await;
    s.click(&s.wait_for("[data-testid=settings-close]").await)
        .await;
    s.quit().await;

    // Both replies are stored with their provider and model.
    let sessions = tokio::process::Command::new(parley_bin())
        .arg("--data-dir")
        .arg(data.path())
        .args(["sessions", "list", "--json"])
        .output()
        .await
        .unwrap();
    let list: Value = serde_json::from_slice(&sessions.stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let shown = tokio::process::Command::new(parley_bin())
        .arg("--data-dir")
        .arg(data.path())
        .args(["sessions", "show", &id, "--json"])
        .output()
        .await
        .unwrap();
    let hist: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let answers: Vec<Value> = hist["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .map(|m| json!([m["provider"], m["model"]]))
        .collect();
    assert_eq!(
        answers,
        vec![
            json!(["local", "test-model"]),
            json!(["claude", "claude-test"]),
            // The stopped third answer (empty) still records who was asked.
            json!(["local", "test-model"])
        ]
    );
}

/// One OpenAI-compatible response with one tool call.
pub(super) fn tool_call_reply(id: &str, name: &str, args: &str) -> Reply {
    Reply::sse(vec![
        sse_data(&json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": args}}
        ]}}]})),
        ev_finish("tool_calls"),
        ev_done(),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_agent_asks_first_allow_deny_session_grant_and_stop_a_command() {
    let e = env();
    let data = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let ws_real = ws.path().canonicalize().unwrap();
    let server = MockServer::start().await;
    server.answer_gets(models_reply());
    add_provider_with_cli(data.path(), &server).await;
    server.push(tool_call_reply(
        "c1",
        "write_file",
        r#"{"path":"hello.txt","content":"hi\n"}"#,
    ));
    server.push(Reply::sse(text_answer(&["Wrote hello.txt."], 0)));

    let s = Session::start(
        &e.driver,
        &e.app,
        &[
            "--data-dir".into(),
            data.path().display().to_string(),
            "--e2e-pick-folder".into(),
            ws.path().display().to_string(),
            "--e2e-no-titles".into(),
        ],
    )
    .await;
    s.click(&s.wait_for("[data-testid=new-session]").await)
        .await;
    s.wait_text("[data-testid=workspace-status]", 10, |t| {
        t.contains("tools are off")
    })
    .await;
    s.click(&s.wait_for("[data-testid=workspace-choose]").await)
        .await;
    let root = ws_real.display().to_string();
    s.wait_text("[data-testid=workspace-status]", 10, |t| t.contains(&root))
        .await;

    // 1. The call waits for approval in the card (its own origin, in a window of its own); the
    //    transcript says where to decide; nothing has run;
    //    allow once → result card → answer.
    send(&s, "Create hello.txt").await;
    enter_card(&s).await;
    let args = s
        .wait_text("[data-testid=approval-arguments]", 5, |t| {
            t.contains("hello.txt")
        })
        .await;
    assert!(args.contains("hi"), "{args}");
    assert!(
        !ws.path().join("hello.txt").exists(),
        "nothing runs before the user decides"
    );
    s.to_main().await;
    shot(&s, &e, "30-approval").await;
    card_click(&s, "approval-allow-once").await;
    s.wait_count("[data-testid=tool-card][data-status=completed]", 1)
        .await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "Wrote hello.txt."
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("hello.txt")).unwrap(),
        "hi\n"
    );
    shot(&s, &e, "31-allowed").await;

    // 2. Deny with a note: the model is told and answers.
    server.push(tool_call_reply(
        "c2",
        "write_file",
        r#"{"path":"bad.txt","content":"x"}"#,
    ));
    server.push(Reply::sse(text_answer(&["OK, I will not."], 0)));
    send(&s, "Create bad.txt").await;
    enter_card(&s).await;
    // Keys go to the card once the user is in it: click, then type.
    let note = s.wait_for("[data-testid=approval-note]").await;
    s.click(&note).await;
    s.type_text(&note, "not that file").await;
    let typed = s
        .script("return document.querySelector('[data-testid=approval-note]').value")
        .await;
    assert_eq!(typed, "not that file");
    s.click(
        &s.wait_for("[data-testid=approval-deny]:not([disabled])")
            .await,
    )
    .await;
    s.to_main().await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| {
        t == "OK, I will not."
    })
    .await;
    s.wait_count("[data-testid=tool-card][data-status=denied]", 1)
        .await;
    assert!(!ws.path().join("bad.txt").exists());
    let told = server.received().last().unwrap().json()["messages"].to_string();
    assert!(told.contains("not that file"), "{told}");
    shot(&s, &e, "32-denied").await;

    // 3. Allow for this chat: the identical call runs without asking; another argument asks.
    let same = r#"{"path":"s.txt","content":"1"}"#;
    server.push(tool_call_reply("c3", "write_file", same));
    server.push(Reply::sse(text_answer(&["one"], 0)));
    send(&s, "s one").await;
    card_click(&s, "approval-allow-session").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "one")
        .await;
    server.push(tool_call_reply("c4", "write_file", same));
    server.push(Reply::sse(text_answer(&["two"], 0)));
    send(&s, "s two").await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "two")
        .await;
    s.wait_count("[data-testid=approval-waiting]", 0).await;
    server.push(tool_call_reply(
        "c5",
        "write_file",
        r#"{"path":"s.txt","content":"2"}"#,
    ));
    server.push(Reply::sse(text_answer(&["three"], 0)));
    send(&s, "s three").await;
    s.wait_for("[data-testid=approval-waiting]").await;
    shot(&s, &e, "33-asks-again").await;

    // A webview compromise cannot approve: script in the main page has no command to decide
    // with, cannot fetch the card's origin (CSP) and has no card to read (it is another window).
    // The call stays pending.
    let attack = s
        .script_async(
            "const done = arguments[0]; \
             const sid = 'x'; const cid = document.querySelector('[data-testid=tool-card][data-status=awaiting_approval]').dataset.callId; \
             const u = new URL((navigator.userAgent.includes('Windows') ? 'http://parley-approve.localhost' : 'parley-approve://localhost') + '/card'); \
             const out = { read: document.querySelector('iframe') === null ? 'no frame' : 'readable' }; \
             const invoke = window.__TAURI_INTERNALS__.invoke; \
             invoke('decide_approval', { sessionId: sid, callId: cid, decision: { type: 'allow_always' } }) \
               .then(() => 'accepted', (e) => 'refused: ' + JSON.stringify(e)) \
               .then((r) => { out.invoke = r; \
                 return fetch(u.origin + '/decide?session=' + sid + '&call=' + cid + '&decision=allow_once&nonce=x') \
                   .then((r) => 'fetched ' + r.status, (e) => 'blocked: ' + e); }) \
               .then((r) => { out.fetch = r; done(out); });",
        )
        .await;
    assert_ne!(attack["read"], "readable", "{attack}");
    assert!(
        attack["invoke"]
            .as_str()
            .unwrap_or("")
            .starts_with("refused"),
        "{attack}"
    );
    assert!(
        attack["fetch"]
            .as_str()
            .unwrap_or("")
            .starts_with("blocked"),
        "{attack}"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    s.wait_count("[data-testid=tool-card][data-status=awaiting_approval]", 1)
        .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("s.txt")).unwrap(),
        "1",
        "nothing ran"
    );

    // Keyjacking: the card appeared while the user was typing — the composer keeps the focus
    // and the text, and the keys typed (y, a, s) decide nothing.
    let composer = s.wait_for("[data-testid=composer-input]").await;
    s.click(&composer).await;
    s.type_text(&composer, "yas draft").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    s.type_text(&composer, " y").await;
    let focus = s
        .script("return document.activeElement && document.activeElement.dataset.testid")
        .await;
    assert_eq!(focus, "composer-input", "the card took the focus");
    let kept = s
        .script("return document.querySelector('[data-testid=composer-input]').value")
        .await;
    assert_eq!(kept, "yas draft y");
    assert_eq!(
        s.find_all("[data-testid=approval-waiting]").await.len(),
        1,
        "nothing was decided"
    );
    // "Always allow" is two steps: the first only asks to confirm.
    enter_card(&s).await;
    s.click(
        &s.wait_for("[data-testid=approval-allow-always]:not([disabled])")
            .await,
    )
    .await;
    s.wait_for("[data-testid=approval-always-confirm]:not([hidden])")
        .await;
    s.to_main().await;
    shot(&s, &e, "33b-always-confirm").await;
    enter_card(&s).await;
    s.click(&s.wait_for("[data-testid=approval-always-back]").await)
        .await;
    // Keys act once the user entered the card: a press inside it, then Y allows once.
    s.click(&s.wait_for("[data-testid=approval-dialog] .why").await)
        .await;
    s.wait_attr("[data-testid=approval-dialog]", "data-entered", 5, |v| {
        v == "true"
    })
    .await;
    let dialog = s.wait_for("[data-testid=approval-dialog]").await;
    s.type_text(&dialog, "y").await;
    s.to_main().await;
    s.wait_text("[data-testid=assistant-text]", 10, |t| t == "three")
        .await;
    // The draft is still in the composer.
    let kept = s
        .script("return document.querySelector('[data-testid=composer-input]').value")
        .await;
    assert_eq!(kept, "yas draft y");
    s.clear(&s.wait_for("[data-testid=composer-input]").await)
        .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("s.txt")).unwrap(),
        "2"
    );

    // 4. Stop while a command runs: the card ends cancelled and the command's processes die.
    server.push(tool_call_reply(
        "c6",
        "run_shell",
        r#"{"command":"sleep 60 & echo $! > child.pid; echo started; wait"}"#,
    ));
    send(&s, "run it").await;
    enter_card(&s).await;
    s.wait_for("[data-testid=approval-allow-once]").await;
    assert_eq!(
        s.find_all("[data-testid=approval-allow-session]")
            .await
            .len(),
        0,
        "a compound command cannot be granted"
    );
    s.click(
        &s.wait_for("[data-testid=approval-allow-once]:not([disabled])")
            .await,
    )
    .await;
    s.to_main().await;
    s.wait_count("[data-testid=tool-card][data-status=running]", 1)
        .await;
    let pid_file = ws.path().join("child.pid");
    for _ in 0..100 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    shot(&s, &e, "34-running").await;
    let t0 = std::time::Instant::now();
    s.click(&s.wait_for("[data-testid=stop-button]").await)
        .await;
    s.wait_count("[data-testid=tool-card][data-status=cancelled]", 1)
        .await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(
        parley_core::tools::run::gone(pid, Duration::from_secs(1)).await,
        "the command's child is gone"
    );
    shot(&s, &e, "35-stopped").await;

    // Settings list nothing saved (only session grants were made) and show the tools.
    s.click(&s.wait_for("[data-testid=settings-button]").await)
        .await;
    s.wait_for("[data-testid=grants-empty]").await;
    shot(&s, &e, "36-settings-agent").await;
    s.quit().await;
}

/// Makes the approval card (the window of the pending call) the context of later calls.
async fn enter_card(s: &Session) {
    enter_card_window(s, "[data-testid=approval-dialog]").await;
}

/// Clicks a button of the approval card once it is armed, then returns to the page.
async fn card_click(s: &Session, testid: &str) {
    enter_card(s).await;
    s.click(
        &s.wait_for(&format!("[data-testid={testid}]:not([disabled])"))
            .await,
    )
    .await;
    s.to_main().await;
}

fn anthropic_answer(text: &str) -> Reply {
    let ev = |name: &str, data: Value| {
        Step::Bytes(format!("event: {name}\ndata: {data}\n\n").into_bytes())
    };
    Reply::sse(vec![
        ev(
            "message_start",
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 30, "output_tokens": 1}}}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        ),
        ev(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        ev(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}),
        ),
        ev("message_stop", json!({"type": "message_stop"})),
    ])
}
