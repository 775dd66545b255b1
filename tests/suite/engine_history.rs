//! The engine's history as a client reads it: pages walking back from the newest, and a
//! running turn as a late client finds it (replayed, then live). The helpers are in `engine.rs`.

use super::engine::*;
use parley_protocol::EventMsg;
use parley_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_walk_back_from_the_newest() {
    let server = MockServer::start().await;
    server.fallback(Reply::sse(text_answer(&["a"], 0)));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    for i in 0..5 {
        run_turn(&e.core, &s.id, &format!("q{i}")).await;
    }
    let p1 = e.core.history().get_history(&s.id, None, 4).await.unwrap();
    assert!(p1.has_more);
    assert_eq!(
        p1.messages.iter().map(|m| m.text()).collect::<Vec<_>>(),
        ["q3", "a", "q4", "a"]
    );
    assert_eq!(p1.turns.len(), 2);
    let p2 = e
        .core
        .history()
        .get_history(&s.id, Some(p1.messages[0].id.clone()), 4)
        .await
        .unwrap();
    assert_eq!(
        p2.messages.iter().map(|m| m.text()).collect::<Vec<_>>(),
        ["q1", "a", "q2", "a"]
    );
    let p3 = e
        .core
        .history()
        .get_history(&s.id, Some(p2.messages[0].id.clone()), 4)
        .await
        .unwrap();
    assert!(!p3.has_more);
    assert_eq!(p3.messages.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_gets_the_running_turn_then_live_events() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("one "),
        ev_text("two "),
        sleep_ms(400),
        ev_text("three"),
        ev_finish("stop"),
        ev_done(),
    ]));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let _turn = start_and_wait_for_text(&e.core, &s.id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A reloaded window subscribes mid-stream.
    let mut late = e.core.chats().attach_events();
    let mut text = String::new();
    let mut seqs = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), late.recv())
            .await
            .unwrap()
            .unwrap();
        seqs.push(ev.seq);
        match ev.msg {
            EventMsg::TextDelta { delta, .. } => text.push_str(&delta),
            EventMsg::TurnCompleted { .. } => break,
            _ => {}
        }
    }
    assert_eq!(seqs[0], 1, "replay starts at TurnStarted");
    // Replayed deltas of one item arrive merged, so seq may skip, but never goes back.
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
    assert_eq!(text, "one two three");
}

/// The newest history page of a chat with a running turn carries that turn's events so far
/// (the hub's one replay buffer): from `TurnStarted`, the text streamed until then. Older
/// pages and finished chats carry none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_history_page_carries_the_running_turn() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![
        ev_text("one "),
        ev_text("two "),
        sleep_ms(400),
        ev_text("three"),
        ev_finish("stop"),
        ev_done(),
    ]));
    let e = env(&server).await;
    let s = e.core.chats().create_chat(None).await.unwrap();
    let mut h = start_and_wait_for_text(&e.core, &s.id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let page = e.core.history().get_history(&s.id, None, 60).await.unwrap();
    assert!(
        matches!(
            page.running.first().map(|ev| &ev.msg),
            Some(EventMsg::TurnStarted { .. })
        ),
        "{:?}",
        page.running
    );
    let text: String = page
        .running
        .iter()
        .filter_map(|ev| match &ev.msg {
            EventMsg::TextDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "one two ");
    let first = page.messages[0].id.clone();
    let older = e
        .core
        .history()
        .get_history(&s.id, Some(first), 60)
        .await
        .unwrap();
    assert!(older.running.is_empty(), "only the newest page replays");
    collect(&mut h.events).await;
    let after = e.core.history().get_history(&s.id, None, 60).await.unwrap();
    assert!(after.running.is_empty(), "{:?}", after.running);
}
