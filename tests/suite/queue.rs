//! The queue and "Send now" against a scripted provider: queued messages go in order as answers
//! end; a stopped or failed answer holds them (and they are sent on demand); "Send now" ends a
//! streaming answer with what arrived kept, or lets a tool round finish first; a queue outlives
//! a `kill -9` of the process answering; `parley ask --queue`; the bounds.

use super::agent::{answer, calls, env, start, wait_for};
use super::cli::{add_local, run};
use super::kill::Victim;
use parley_core::queue::SendNow;
use parley_core::Core;
use parley_protocol::{
    ChatId, Event, EventMsg, Part, QueuedMessage, Role, SendOptions, StopReason, QUEUE_MAX,
};
use parley_tests::*;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

fn texts(q: &[QueuedMessage]) -> Vec<&str> {
    q.iter().map(|m| m.text.as_str()).collect()
}

/// A slow answer: `n` pieces, `gap_ms` apart.
fn slow(n: usize, gap_ms: u64) -> Reply {
    let pieces: Vec<String> = (0..n).map(|i| format!("piece{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    Reply::sse(text_answer(&refs, gap_ms))
}

/// Waits (bounded) for an event of any chat that `pred` accepts.
async fn next_matching(
    rx: &mut UnboundedReceiver<Event>,
    pred: impl Fn(&EventMsg) -> bool,
) -> EventMsg {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .expect("event in time")
            .expect("events open");
        if pred(&ev.msg) {
            return ev.msg;
        }
    }
}

fn completed(e: &EventMsg) -> bool {
    matches!(e, EventMsg::TurnCompleted { .. })
}

/// The text of each message of the chat's branch, with its role.
async fn transcript(core: &Core, sid: &ChatId) -> Vec<(Role, String)> {
    let h = core.history().full_history(sid).await.unwrap();
    h.messages
        .iter()
        .map(|m| {
            let text: String = m
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            (m.role, text)
        })
        .collect()
}

/// The last user text of each request the provider received.
fn asked(server: &MockServer) -> Vec<String> {
    server
        .received()
        .iter()
        .map(|r| {
            let body = r.json();
            let msgs = body["messages"].as_array().unwrap();
            let last = msgs.iter().rev().find(|m| m["role"] == "user").unwrap();
            last["content"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| last["content"].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_messages_go_in_order_as_answers_end() {
    let server = MockServer::start().await;
    server.push(slow(6, 120));
    server.push(answer("second answer"));
    server.push(answer("third answer"));
    let (env, sid) = env(&server).await;
    let core = &env.core;
    core.queue().start_draining();
    let mut all = core.chats().attach_events();
    let (mut h, mut seen) = start(core, &sid, "first").await;
    wait_for(&mut h.events, &mut seen, |e| {
        matches!(e, EventMsg::TextDelta { .. })
    })
    .await;
    core.queue().add(&sid, "second", None, None).await.unwrap();
    let q = core.queue().add(&sid, "third", None, None).await.unwrap();
    assert_eq!(texts(&q.queued), ["second", "third"]);
    // The queue is announced with each change, and it is what the database holds.
    let announced = next_matching(
        &mut all,
        |e| matches!(e, EventMsg::QueueChanged { queued, .. } if queued.len() == 2),
    )
    .await;
    assert!(matches!(
        announced,
        EventMsg::QueueChanged { held: None, .. }
    ));
    for _ in 0..3 {
        next_matching(&mut all, completed).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !core.queue().list(&sid).await.unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the queue empties once its messages are sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = transcript(core, &sid).await;
    let users: Vec<&str> = t
        .iter()
        .filter(|(r, _)| *r == Role::User)
        .map(|(_, s)| s.as_str())
        .collect();
    assert_eq!(users, ["first", "second", "third"], "{t:#?}");
    assert_eq!(t.len(), 6, "each message has its answer: {t:#?}");
    assert_eq!(t[3].1, "second answer");
    assert_eq!(asked(&server), ["first", "second", "third"]);
    // Each request carried the answers before it: the second saw the whole first answer.
    let second = server.received()[1].json();
    assert!(second.to_string().contains("piece5"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_or_failed_answer_holds_the_queue_until_asked() {
    let server = MockServer::start().await;
    server.push(Reply::sse(vec![Step::Stall]));
    server.push(Reply::sse(vec![
        ev_text("partial "),
        sleep_ms(300),
        Step::Disconnect,
    ]));
    server.push(answer("held one, sent"));
    server.push(answer("the rest follows"));
    let (env, sid) = env(&server).await;
    let core = &env.core;
    core.queue().start_draining();
    let mut all = core.chats().attach_events();
    let (mut h, mut seen) = start(core, &sid, "first").await;
    wait_for(&mut h.events, &mut seen, |e| {
        matches!(e, EventMsg::TurnStarted { .. })
    })
    .await;
    core.queue()
        .add(&sid, "after the stop", None, None)
        .await
        .unwrap();
    // Stopped once the request is out (a stop before it would leave the stalled reply unused).
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received().is_empty() {
        assert!(Instant::now() < deadline, "the request went out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(core.chats().stop_turn(&sid).await);
    let held = next_matching(&mut all, |e| {
        matches!(e, EventMsg::QueueChanged { held: Some(_), .. })
    })
    .await;
    let EventMsg::QueueChanged {
        held: Some(why),
        queued,
    } = held
    else {
        unreachable!()
    };
    assert!(why.contains("stopped"), "{why}");
    assert_eq!(texts(&queued), ["after the stop"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.received().len(), 1, "nothing is sent after a stop");

    // The provider breaks off the next answer: the queue holds again, nothing lost.
    let (mut h, mut seen) = start(core, &sid, "second").await;
    wait_for(&mut h.events, &mut seen, |e| {
        matches!(e, EventMsg::TextDelta { .. })
    })
    .await;
    core.queue()
        .add(&sid, "after the failure", None, None)
        .await
        .unwrap();
    wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
    let held = next_matching(
        &mut all,
        |e| matches!(e, EventMsg::QueueChanged { held: Some(w), .. } if w.contains("failed")),
    )
    .await;
    let EventMsg::QueueChanged { queued, .. } = held else {
        unreachable!()
    };
    assert_eq!(texts(&queued), ["after the stop", "after the failure"]);
    assert_eq!(server.received().len(), 2);

    // Sent on demand: the chosen one goes, the other keeps waiting.
    let id = queued[1].id.clone();
    let mut h = core
        .queue()
        .send_now(&sid, SendNow::Queued(id.clone()), SendOptions::default())
        .await
        .unwrap();
    let mut seen = Vec::new();
    wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
    assert!(
        matches!(seen.last(), Some(EventMsg::TurnCompleted { .. })),
        "{seen:#?}"
    );
    // Once an answer completes again, the rest of the queue follows.
    next_matching(&mut all, |e| matches!(e, EventMsg::TurnStarted { user_message, .. } if user_message.parts == [Part::Text { text: "after the stop".into() }])).await;
    next_matching(&mut all, completed).await;
    assert_eq!(
        asked(&server),
        ["first", "second", "after the failure", "after the stop"]
    );
    assert!(core.queue().list(&sid).await.unwrap().is_empty());
    // A message sent or removed is gone: acting on it again says so.
    let again = core
        .queue()
        .send_now(&sid, SendNow::Queued(id.clone()), SendOptions::default())
        .await;
    let Err(e) = again else {
        panic!("a message sent is no longer queued")
    };
    assert!(e.to_string().contains("no longer queued"), "{e}");
    assert!(core.queue().remove(&sid, &id).await.is_err());
    assert!(core.queue().edit(&sid, &id, "x").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_now_ends_streaming_text_with_what_arrived_kept() {
    let server = MockServer::start().await;
    server.push(slow(60, 100));
    server.push(answer("steered answer"));
    server.push(answer("queued answer"));
    let (env, sid) = env(&server).await;
    let core = &env.core;
    core.queue().start_draining();
    let mut all = core.chats().attach_events();
    let (mut h, mut seen) = start(core, &sid, "write a lot").await;
    wait_for(&mut h.events, &mut seen, |e| {
        matches!(e, EventMsg::TextDelta { .. })
    })
    .await;
    core.queue()
        .add(&sid, "queued before", None, None)
        .await
        .unwrap();
    // A message that would be refused ends nothing: the answer goes on.
    let gone = SendOptions {
        provider: Some("no-such-provider".into()),
        ..SendOptions::default()
    };
    let refused = core
        .queue()
        .send_now(&sid, SendNow::Text("x".into()), gone)
        .await;
    assert!(refused.is_err());
    let refused = core
        .queue()
        .send_now(&sid, SendNow::Text("  ".into()), SendOptions::default())
        .await;
    assert!(refused.is_err());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        core.chats().is_answering(&sid),
        "the answer was not ended for a refused message"
    );
    let began = Instant::now();
    let mut now = core
        .queue()
        .send_now(
            &sid,
            SendNow::Text("stop there, do this".into()),
            SendOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "text generation ends at once"
    );
    let end = wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
    assert!(
        matches!(
            end,
            EventMsg::TurnCompleted {
                stop_reason: Some(StopReason::Steered),
                ..
            }
        ),
        "{end:?}"
    );
    let mut seen2 = Vec::new();
    wait_for(&mut now.events, &mut seen2, |e| e.is_turn_end()).await;
    // The steered message went before the queued one, which follows its answer.
    next_matching(&mut all, |e| {
        matches!(
            e,
            EventMsg::TurnCompleted {
                stop_reason: Some(StopReason::EndTurn),
                ..
            }
        )
    })
    .await;
    next_matching(&mut all, |e| {
        matches!(
            e,
            EventMsg::TurnCompleted {
                stop_reason: Some(StopReason::EndTurn),
                ..
            }
        )
    })
    .await;
    let t = transcript(core, &sid).await;
    let users: Vec<&str> = t
        .iter()
        .filter(|(r, _)| *r == Role::User)
        .map(|(_, s)| s.as_str())
        .collect();
    assert_eq!(
        users,
        ["write a lot", "stop there, do this", "queued before"],
        "{t:#?}"
    );
    let first = &t[1].1;
    assert!(
        first.starts_with("piece0 piece1"),
        "what arrived is kept: {first}"
    );
    assert!(!first.contains("piece59"), "the answer was cut: {first}");
    // The steered answer's kept text went with the next request.
    let second = server.received()[1].json().to_string();
    assert!(second.contains("piece1"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_now_during_a_tool_round_lets_the_round_finish_first() {
    let server = MockServer::start().await;
    // The call streams, then the response lingers before it ends: "Send now" comes meanwhile.
    let mut steps = vec![super::agent::call(
        0,
        "c1",
        "read_file",
        r#"{"path":"a.txt"}"#,
    )];
    steps.push(sleep_ms(400));
    steps.push(ev_finish("tool_calls"));
    steps.push(ev_done());
    server.push(Reply::sse(steps));
    server.push(answer("after steering"));
    // A round after the results would ask this: it must never be asked.
    server.push(calls(&[("c2", "read_file", r#"{"path":"a.txt"}"#)]));
    let (env, sid) = env(&server).await;
    let core = &env.core;
    let (mut h, mut seen) = start(core, &sid, "read a.txt").await;
    wait_for(&mut h.events, &mut seen, |e| {
        matches!(
            e,
            EventMsg::ItemStarted {
                part: Part::ToolCall { .. },
                ..
            }
        )
    })
    .await;
    let mut now = core
        .queue()
        .send_now(
            &sid,
            SendNow::Text("never mind that".into()),
            SendOptions::default(),
        )
        .await
        .unwrap();
    let end = wait_for(&mut h.events, &mut seen, |e| e.is_turn_end()).await;
    assert!(
        matches!(
            end,
            EventMsg::TurnCompleted {
                stop_reason: Some(StopReason::Steered),
                ..
            }
        ),
        "{end:?}"
    );
    let mut seen2 = Vec::new();
    wait_for(&mut now.events, &mut seen2, |e| e.is_turn_end()).await;
    assert_eq!(server.received().len(), 2, "no round after the results");
    // The call ran and its result is kept; the new message follows it in the next request.
    let h = core.history().full_history(&sid).await.unwrap();
    let answer_parts = &h.messages[1].parts;
    let (out, is_error) = super::agent::result_of(answer_parts, "c1");
    assert!(!is_error && out.contains("alpha"), "{out}");
    let next = server.received()[1].json();
    let msgs = next["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles[roles.len() - 3..],
        ["assistant", "tool", "user"],
        "{next}"
    );
    assert_eq!(msgs.last().unwrap()["content"], "never mind that");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_has_bounds_and_refuses_what_cannot_be_sent() {
    let server = MockServer::start().await;
    let (env, sid) = env(&server).await;
    let q = env.core.queue();
    for bad in ["", "   \n\t"] {
        let e = q.add(&sid, bad, None, None).await.unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }
    let huge = "x".repeat(parley_protocol::MAX_MESSAGE_BYTES + 1);
    assert!(q
        .add(&sid, &huge, None, None)
        .await
        .unwrap_err()
        .to_string()
        .contains("MB"));
    // The whole queue's text is bounded too (each change sends it to the window).
    let big = "y".repeat(parley_protocol::MAX_MESSAGE_BYTES - 1);
    let a = q.add(&sid, &big, None, None).await.unwrap().queued[0]
        .id
        .clone();
    let b = q.add(&sid, &big, None, None).await.unwrap().queued[1]
        .id
        .clone();
    let e = q
        .add(&sid, &"z".repeat(10_000), None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 MB"), "{e}");
    assert!(q.edit(&sid, &a, &format!("{big}more")).await.is_err());
    q.remove(&sid, &a).await.unwrap();
    q.remove(&sid, &b).await.unwrap();
    let unknown = ChatId("no-such-chat".into());
    assert!(q.add(&unknown, "hi", None, None).await.is_err());
    for i in 0..QUEUE_MAX {
        q.add(&sid, &format!("m{i}"), None, None).await.unwrap();
    }
    let e = q
        .add(&sid, "one more", None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&QUEUE_MAX.to_string()), "{e}");
    let all = q.list(&sid).await.unwrap();
    assert_eq!(all.len(), QUEUE_MAX);
    assert_eq!(all[0].text, "m0");
    // An edit keeps the place; an empty edit is refused and changes nothing.
    q.edit(&sid, &all[3].id, "changed").await.unwrap();
    assert!(q.edit(&sid, &all[3].id, " ").await.is_err());
    assert_eq!(q.list(&sid).await.unwrap()[3].text, "changed");
    // Deleting the chat takes its queue with it.
    env.core.chats().delete_chat(&sid).await.unwrap();
    assert!(q.list(&sid).await.unwrap().is_empty());
    assert!(server.received().is_empty(), "nothing was sent");
}

/// `parley ask --queue` while another `parley` answers: the message waits in the queue, which a
/// `kill -9` of the answering process leaves intact; without `--queue` the send is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_filled_from_the_cli_survives_a_kill_of_the_answering_process() {
    let server = MockServer::start().await;
    server.push(answer("hello"));
    server.push(Reply::sse(vec![ev_text("streaming "), Step::Stall]));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let first = run(dir.path(), &["ask", "--json", "hello"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let chat = first.stdout.lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        v["session_id"].as_str().map(str::to_owned)
    });
    let chat = chat.expect("the chat's id");
    let victim = Victim::spawn(
        dir.path(),
        &["ask", "--json", "--chat", &chat, "keep going"],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received().len() < 2 {
        assert!(Instant::now() < deadline, "the second answer began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = run(dir.path(), &["ask", "--chat", &chat, "no queue"]).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("still answering"),
        "{}",
        refused.stderr
    );
    let queued = run(
        dir.path(),
        &["ask", "--chat", &chat, "--queue", "next, please"],
    )
    .await;
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    assert!(queued.stderr.contains("queued"), "{}", queued.stderr);
    // Options the queue would not keep are refused with it, not dropped.
    let system = run(
        dir.path(),
        &["ask", "--chat", &chat, "--queue", "--system", "x", "y"],
    )
    .await;
    assert_ne!(system.code, 0);
    assert!(system.stderr.contains("--system"), "{}", system.stderr);
    let json = run(
        dir.path(),
        &["ask", "--chat", &chat, "--queue", "--json", "and then this"],
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let last = json.stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["position"], 2);
    assert_eq!(v["queued"]["text"], "and then this");
    let killed = victim.kill_after(0).await;
    assert!(killed.interrupted, "{}", killed.stderr);
    super::kill::healthy(dir.path(), "after a kill with a queue").await;
    let core = open_core(dir.path(), Default::default()).await;
    let q = core.queue().list(&ChatId(chat.clone())).await.unwrap();
    assert_eq!(texts(&q), ["next, please", "and then this"]);
    assert_eq!(
        server.received().len(),
        2,
        "the CLI only queues: nothing more was sent"
    );
    drop(core);
    // `parley queue` lists and removes them.
    let list = run(dir.path(), &["queue", "list", &chat]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout.contains("  1  ") && list.stdout.contains("next, please"),
        "{}",
        list.stdout
    );
    let removed = run(dir.path(), &["queue", "remove", &chat, "1"]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(
        removed.stderr.contains("1 still queued"),
        "{}",
        removed.stderr
    );
    let bad = run(dir.path(), &["queue", "remove", &chat, "7"]).await;
    assert_ne!(bad.code, 0);
    let json = run(dir.path(), &["queue", "list", "--json", &chat]).await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["queued"][0]["text"], "and then this");
}
