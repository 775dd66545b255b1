//! Long chats and long answers in the engine. Requests fit the model: a chat longer than the
//! model's context window is sent without its oldest turns (never deleted from the chat) and
//! says from where the model sees it; a provider's "context too long" refusal is retried once
//! with less. A fast stream costs an event per frame, not per token.

use super::engine::{collect, env, run_turn};
use parley_protocol::{EventMsg, MessageId, Role, TurnStatus};
use parley_tests::*;

const REFUSAL: &str = r#"{"error":{"message":"This model's maximum context length is 4096 tokens.","code":"context_length_exceeded"}}"#;

fn trims(events: &[EventMsg]) -> Vec<(MessageId, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ContextTrimmed {
                first_message_id,
                left_out,
                ..
            } => Some((first_message_id.clone(), *left_out)),
            _ => None,
        })
        .collect()
}

fn sent_messages(server: &MockServer, i: usize) -> Vec<serde_json::Value> {
    server.received()[i].json()["messages"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_longer_than_the_window_is_sent_from_a_recent_turn_with_a_marker() {
    let server = MockServer::start().await;
    // A 3,000-token model (as its model list says).
    server.answer_gets(Reply::json(
        200,
        r#"{"data":[{"id":"test-model","context_length":3000}]}"#,
    ));
    let e = env(&server).await;
    let list = e.core.providers().list_models("local", true).await.unwrap();
    assert_eq!(list.models[0].context_window, Some(3000));
    let s = e.core.chats().create_chat(None).await.unwrap();
    // Answers of ~700 tokens each (2,100 bytes).
    let long = "word ".repeat(420);
    for turn in 0..8 {
        server.push(Reply::sse(text_answer(&[&long], 0)));
        let ev = run_turn(&e.core, &s.id, &format!("question {turn}")).await;
        assert!(
            matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
            "{ev:?}"
        );
        let sent = sent_messages(&server, turn);
        let t = trims(&ev);
        if turn < 3 {
            // Small enough: sent whole, no marker.
            assert!(t.is_empty(), "turn {turn}: {t:?}");
            assert_eq!(sent.len(), 2 * turn + 1);
        } else {
            // Only the recent turns, starting at a user message, the question last.
            assert_eq!(t.len(), 1, "turn {turn}: {ev:?}");
            assert!(
                sent.len() < 2 * turn + 1,
                "turn {turn}: sent {}",
                sent.len()
            );
            assert_eq!(sent[0]["role"], "user");
            assert_eq!(sent.last().unwrap()["content"], format!("question {turn}"));
            let bytes: usize = sent.iter().map(|m| m.to_string().len()).sum();
            assert!(bytes / 3 < 3000, "turn {turn}: {bytes} bytes sent");
            assert_eq!(t[0].1 as usize + sent.len(), 2 * turn + 1);
        }
    }
    // Nothing was deleted; the marker is stored with the last turn.
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.messages.len(), 16);
    let last = h.turns.last().unwrap();
    let from = last.context_from.clone().expect("the last turn's marker");
    let at = h.messages.iter().position(|m| m.id == from).unwrap();
    assert_eq!(h.messages[at].role, Role::User);
    assert!(at > 0);
    // The newest page of history carries it too (what the window reads).
    let page = e.core.history().get_history(&s.id, None, 4).await.unwrap();
    assert_eq!(page.turns.last().unwrap().context_from, Some(from));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_too_long_refusal_is_retried_once_with_half() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let long = "word ".repeat(300);
    for turn in 0..6 {
        server.push(Reply::sse(text_answer(&[&long], 0)));
        run_turn(&e.core, &s.id, &format!("question {turn}")).await;
    }
    // The provider (whose window Parley does not know) refuses once, then answers.
    server.push(Reply::json(400, REFUSAL));
    server.push(Reply::sse(text_answer(&["Fits now."], 0)));
    let ev = run_turn(&e.core, &s.id, "question 6").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnCompleted { .. })),
        "{ev:?}"
    );
    let t = trims(&ev);
    assert_eq!(t.len(), 1, "{ev:?}");
    let (refused, retried) = (sent_messages(&server, 6), sent_messages(&server, 7));
    assert_eq!(refused.len(), 13);
    assert!(retried.len() < refused.len() && !retried.is_empty());
    assert_eq!(retried[0]["role"], "user");
    assert_eq!(retried.last().unwrap()["content"], "question 6");
    assert_eq!(server.received().len(), 8);
    let h = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.turns.last().unwrap().status, TurnStatus::Completed);
    assert_eq!(h.turns.last().unwrap().context_from, Some(t[0].0.clone()));

    // Refused again after the retry: the turn fails with the provider's reason, two requests.
    server.push(Reply::json(400, REFUSAL));
    server.push(Reply::json(400, REFUSAL));
    let ev = run_turn(&e.core, &s.id, "question 7").await;
    match ev.last() {
        Some(EventMsg::TurnFailed { error, .. }) => {
            assert!(error.message.contains("too long"), "{}", error.message)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 10);

    // A new chat whose one message is too long: nothing can be left out, no second request.
    let lone = e.core.chats().create_chat(None).await.unwrap();
    server.push(Reply::json(400, REFUSAL));
    let ev = run_turn(&e.core, &lone.id, "a single long question").await;
    assert!(
        matches!(ev.last(), Some(EventMsg::TurnFailed { .. })),
        "{ev:?}"
    );
    assert!(trims(&ev).is_empty());
    assert_eq!(server.received().len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_stream_is_coalesced_and_a_slow_one_is_not_held_back() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    // 20,000 tokens as fast as the server can write them.
    let words: Vec<String> = (0..20_000).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    server.push(Reply::sse(text_answer(&refs, 0)));
    let mut h = e
        .core
        .chats()
        .send_message(&s.id, "fast", parley_protocol::SendOptions::default())
        .await
        .unwrap();
    let events = collect(&mut h.events).await;
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::TextDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deltas.concat(),
        words.concat(),
        "nothing lost, doubled or reordered"
    );
    assert!(
        deltas.len() < 2_000,
        "{} delta events for 20,000 tokens",
        deltas.len()
    );
    // A slow stream: every token goes out as it comes (no frame of delay accumulates).
    server.push(Reply::sse(text_answer(&["one ", "two ", "three"], 120)));
    let ev = run_turn(&e.core, &s.id, "slow").await;
    let deltas: Vec<&str> = ev
        .iter()
        .filter_map(|e| match e {
            EventMsg::TextDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, ["one ", "two ", "three"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_answer_is_sent_to_the_window_clipped_and_whole_on_request() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    // 400 KB of two-byte characters, so the cut must land on a character boundary.
    let piece = "é".repeat(1000);
    let pieces: Vec<&str> = std::iter::repeat_n(piece.as_str(), 200).collect();
    server.push(Reply::sse(text_answer(&pieces, 0)));
    run_turn(&e.core, &s.id, "everything").await;
    let whole = pieces.concat();
    let page = e.core.history().get_history(&s.id, None, 10).await.unwrap();
    let answer = &page.messages[1];
    let shown = answer.text();
    assert!(shown.len() <= parley_core::history::CLIP_BYTES);
    assert!(whole.starts_with(&shown));
    assert_eq!(page.clipped.len(), 1);
    assert_eq!(page.clipped[0].message_id, answer.id);
    assert_eq!(page.clipped[0].index, 0);
    assert_eq!(page.clipped[0].chars, 200_000);
    // The whole part on request; the question is not clipped; the full history is whole.
    let part = e
        .core
        .history()
        .get_part(&s.id, &answer.id, 0)
        .await
        .unwrap();
    assert_eq!(
        part,
        parley_protocol::Part::Text {
            text: whole.clone()
        }
    );
    assert_eq!(page.messages[0].text(), "everything");
    let full = e.core.history().full_history(&s.id).await.unwrap();
    assert_eq!(full.messages[1].text(), whole);
    // Asked in another chat, or for a part that does not exist: not found, nothing leaks.
    let other = e.core.chats().create_chat(None).await.unwrap();
    for (sid, index) in [(&other.id, 0), (&s.id, 7)] {
        let err = e
            .core
            .history()
            .get_part(sid, &answer.id, index)
            .await
            .unwrap_err();
        assert!(
            matches!(err, parley_core::CoreError::NotFound(_)),
            "{err:?}"
        );
    }
}
