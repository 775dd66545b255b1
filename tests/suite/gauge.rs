//! The context gauge against the engine: every model gets a window (a model list that states
//! none no longer means "send everything"), and what the gauge says a send will leave out is
//! what the turn leaves out and marks — over branches, system prompts and tools. `parley ask
//! --json` reports the same estimate.

use super::engine::{collect, env, run_turn};
use parley_protocol::{
    ChatId, ChatParams, ContextEstimate, EventMsg, MessageId, ModelWindow, SendOptions,
    WindowSource,
};
use parley_tests::*;

/// The (first message sent, messages left out) of a turn's trim, if it trimmed.
fn trim_of(events: &[EventMsg]) -> Option<(MessageId, u32)> {
    events.iter().find_map(|e| match e {
        EventMsg::ContextTrimmed {
            first_message_id,
            left_out,
            ..
        } => Some((first_message_id.clone(), *left_out)),
        _ => None,
    })
}

fn question_of(events: &[EventMsg]) -> MessageId {
    events
        .iter()
        .find_map(|e| match e {
            EventMsg::TurnStarted { user_message, .. } => Some(user_message.id.clone()),
            _ => None,
        })
        .expect("the turn started")
}

fn window(model: &str, tokens: u32) -> ModelWindow {
    ModelWindow {
        model: model.into(),
        context_window: tokens,
        max_output_tokens: None,
        source: "user".into(),
        as_of: String::new(),
    }
}

/// Asserts the turn's trim is the one the estimate announced.
fn agrees(est: &ContextEstimate, events: &[EventMsg], what: &str) {
    assert!(
        matches!(events.last(), Some(EventMsg::TurnCompleted { .. })),
        "{what}: {events:?}"
    );
    match trim_of(events) {
        None => assert_eq!(est.left_out, 0, "{what}: the gauge said {est:?}"),
        Some((first, left_out)) => {
            assert_eq!(left_out, est.left_out, "{what}");
            let expected = est
                .first_kept
                .clone()
                .unwrap_or_else(|| question_of(events));
            assert_eq!(first, expected, "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_of_3999_messages_is_fitted_though_the_model_list_states_no_window() {
    let server = MockServer::start().await;
    // An OpenAI-style list: ids only, no window.
    server.answer_gets(Reply::json(200, r#"{"data":[{"id":"test-model"}]}"#));
    let dir = tempfile::tempdir().unwrap();
    let ids = data::long_chat(dir.path(), "long", "A long chat", 3_998, data::chat_line);
    let whole: usize = (0..3_998).map(|i| data::chat_line(i).len()).sum();
    assert!(whole > 700_000, "{whole} bytes");
    let core = open_core(dir.path(), super::engine::fast_http()).await;
    add_provider(
        &core,
        "local",
        parley_protocol::ProviderKind::OpenaiCompatible,
        &server.base_url(),
        "test-model",
        None,
    )
    .await;
    let list = core.providers().list_models("local", true).await.unwrap();
    assert_eq!(list.models[0].context_window, None);
    let sid = ChatId("long".into());
    let est = core
        .chats()
        .estimate_context(&sid, "message 3,999", &SendOptions::default())
        .await
        .unwrap();
    assert_eq!(est.source, WindowSource::Default);
    assert_eq!(est.window, 8_192);
    assert!(!est.fits && est.left_out > 3_900, "{est:?}");
    assert!(est.chat_tokens > 200_000 && est.tokens <= 8_192, "{est:?}");
    server.push(Reply::sse(text_answer(&["Fits."], 0)));
    let events = run_turn(&core, &sid, "message 3,999").await;
    agrees(&est, &events, "3,999 messages");
    let body = server.received().last().unwrap().body.len();
    assert!(body < 40_000, "the request was {body} bytes");
    let sent = server.received().last().unwrap().json()["messages"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(sent as u32 + est.left_out, 3_999);
    // The marker sits where the gauge said, on a question of the chat.
    let (first, _) = trim_of(&events).unwrap();
    assert!(ids.contains(&first.0) && ids.iter().position(|i| *i == first.0).unwrap() % 2 == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_gauge_leaves_out_is_what_the_turn_leaves_out() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let workspace = tempfile::tempdir().unwrap();
    let systems = [None, Some("Answer in full sentences. ".repeat(60))];
    let mut trimmed = 0;
    for (case, tokens) in [2_048u32, 4_096, 12_000].into_iter().enumerate() {
        for (s, system) in systems.iter().enumerate() {
            for tools in [false, true] {
                let what = format!("window {tokens}, system {s}, tools {tools}");
                e.core
                    .providers()
                    .save_context_windows(vec![window("test-model", tokens)])
                    .await
                    .unwrap();
                let chat = e.core.chats().create_chat(None).await.unwrap();
                let params = ChatParams {
                    system: system.clone(),
                    ..ChatParams::default()
                };
                e.core
                    .chats()
                    .set_chat_params(&chat.id, params)
                    .await
                    .unwrap();
                if tools {
                    e.core
                        .chats()
                        .set_workspace(&chat.id, Some(workspace.path()))
                        .await
                        .unwrap();
                }
                let mut questions = Vec::new();
                for turn in 0..9 {
                    let answer = "word ".repeat(60 + 97 * ((turn + case) % 5));
                    let text = format!("question {turn} {}", "q".repeat(40 * turn));
                    let est = e
                        .core
                        .chats()
                        .estimate_context(&chat.id, &text, &SendOptions::default())
                        .await
                        .unwrap();
                    assert_eq!(est.source, WindowSource::Settings, "{what}");
                    server.push(Reply::sse(text_answer(&[&answer], 0)));
                    let events = run_turn(&e.core, &chat.id, &text).await;
                    agrees(&est, &events, &format!("{what}, turn {turn}"));
                    trimmed += usize::from(est.left_out > 0);
                    questions.push(question_of(&events));
                }
                // Another branch: an earlier question edited; the gauge follows the new path.
                server.push(Reply::sse(text_answer(&["Edited."], 0)));
                let mut h = e
                    .core
                    .chats()
                    .edit_message(&chat.id, &questions[4], "an edit", SendOptions::default())
                    .await
                    .unwrap();
                collect(&mut h.events).await;
                let big = "b".repeat(3_000);
                let est = e
                    .core
                    .chats()
                    .estimate_context(&chat.id, &big, &SendOptions::default())
                    .await
                    .unwrap();
                server.push(Reply::sse(text_answer(&["On the branch."], 0)));
                let events = run_turn(&e.core, &chat.id, &big).await;
                agrees(&est, &events, &format!("{what}, on the branch"));
            }
        }
    }
    assert!(trimmed > 10, "the table trims: {trimmed}");
}

async fn estimate(core: &parley_core::Core, id: &ChatId, model: &str) -> ContextEstimate {
    let options = SendOptions {
        model: Some(model.into()),
        ..SendOptions::default()
    };
    core.chats()
        .estimate_context(id, "hi", &options)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_source_is_the_users_then_the_providers_then_the_table() {
    let server = MockServer::start().await;
    server.answer_gets(Reply::json(
        200,
        r#"{"data":[{"id":"test-model","context_length":5000},{"id":"gpt-4o-2024-08-06"}]}"#,
    ));
    let e = env(&server).await;
    e.core.providers().list_models("local", true).await.unwrap();
    let chat = e.core.chats().create_chat(None).await.unwrap();
    let est = |model: &'static str| estimate(&e.core, &chat.id, model);
    let a = est("test-model").await;
    assert_eq!((a.window, a.source), (5_000, WindowSource::Provider));
    let b = est("gpt-4o-2024-08-06").await;
    assert_eq!((b.window, b.source), (128_000, WindowSource::Table));
    let c = est("nobody-knows").await;
    assert_eq!((c.window, c.source), (8_192, WindowSource::Default));
    let table = e
        .core
        .providers()
        .save_context_windows(vec![window("test-model", 20_000), window("gpt-4o", 64_000)])
        .await
        .unwrap();
    assert!(table
        .iter()
        .any(|w| w.model == "gpt-4o-mini" && w.source == "default"));
    let a = est("test-model").await;
    assert_eq!((a.window, a.source), (20_000, WindowSource::Settings));
    let b = est("gpt-4o-2024-08-06").await;
    assert_eq!((b.window, b.source), (64_000, WindowSource::Settings));
    // The person's rows are dated the day they were saved.
    let today = parley_core::usage::prices::day_of(parley_core::now_ms());
    assert!(table
        .iter()
        .filter(|w| w.source == "user")
        .all(|w| w.as_of == today));
    // Saving the shipped rows back unchanged keeps only the user's.
    let again = e
        .core
        .providers()
        .save_context_windows(table)
        .await
        .unwrap();
    assert_eq!(again.iter().filter(|w| w.source == "user").count(), 2);
    // A bad figure is refused with a sentence and changes nothing.
    let bad = e
        .core
        .providers()
        .save_context_windows(vec![window("test-model", 10)])
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("between"), "{bad}");
    assert_eq!(est("test-model").await.window, 20_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_usage_of_the_last_answer_is_the_gauges_base() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let chat = e.core.chats().create_chat(None).await.unwrap();
    let steps = vec![
        ev_text("An answer."),
        ev_finish("stop"),
        ev_usage(1_234, 56),
        ev_done(),
    ];
    server.push(Reply::sse(steps));
    run_turn(&e.core, &chat.id, "first").await;
    let est = e
        .core
        .chats()
        .estimate_context(&chat.id, "second", &SendOptions::default())
        .await
        .unwrap();
    assert_eq!(est.reported_base, Some(1_290));
    assert_eq!(est.tokens, 1_290 + est.draft_tokens);
    // Another model: its tokenizer counts differently, the estimate stands alone.
    let other = SendOptions {
        model: Some("other-model".into()),
        ..SendOptions::default()
    };
    let est = e
        .core
        .chats()
        .estimate_context(&chat.id, "second", &other)
        .await
        .unwrap();
    assert_eq!(est.reported_base, None);
    assert_eq!(est.tokens, est.chat_tokens);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_json_reports_the_estimate_first_and_the_turn_agrees() {
    use super::cli::{add_local, run};
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    // "tiny" is unknown: the default window. A first question, then one that pushes it out.
    server.push(Reply::sse(text_answer(&[&"word ".repeat(3_000)], 0)));
    let r = run(dir.path(), &["ask", "--json", "first question"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    let chat = first["session_id"].as_str().unwrap().to_owned();
    let est: ContextEstimate = serde_json::from_value(first["context"].clone()).unwrap();
    assert_eq!(
        (est.window, est.source, est.left_out),
        (8_192, WindowSource::Default, 0)
    );
    assert!(
        est.fits && est.model == "tiny" && est.provider == "local",
        "{est:?}"
    );
    assert!(
        est.tokens >= est.draft_tokens && est.tokens < 100,
        "{est:?}"
    );
    let big = "b".repeat(9_000);
    server.push(Reply::sse(text_answer(&["ok"], 0)));
    let r = run(dir.path(), &["ask", "--json", "--chat", &chat, &big]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    let line: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(line["session_id"], chat.as_str());
    let est: ContextEstimate = serde_json::from_value(line["context"].clone()).unwrap();
    assert_eq!((est.left_out, est.left_out_by_draft), (2, 2), "{est:?}");
    assert!(!est.fits && !est.draft_too_long, "{est:?}");
    let events: Vec<EventMsg> = lines
        .map(|l| {
            serde_json::from_str::<parley_protocol::Event>(l)
                .unwrap()
                .msg
        })
        .collect();
    agrees(&est, &events, "ask --json");
    // Edits and regenerations print no estimate line (it measures a new message).
    server.push(Reply::sse(text_answer(&["again"], 0)));
    let r = run(
        dir.path(),
        &["ask", "--json", "--chat", &chat, "--regenerate"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert!(
        first.get("context").is_none() && first.get("msg").is_some(),
        "{first}"
    );
}
