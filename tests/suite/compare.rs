//! Side by side: one message answered by several models at once — parallel streams into
//! sibling answers, one failing while the others go on, a column stopped alone, the chat busy
//! until the last column ends, a late window replaying every column, "Continue with this one"
//! choosing the path the next message follows, and the bad choices refused.

use super::agent::http;
use parley_core::Core;
use parley_protocol::{ChatId, EventMsg, ProviderKind, Role, SendOptions};
use parley_tests::*;
use std::time::{Duration, Instant};

struct Env {
    core: Core,
    servers: Vec<MockServer>,
    sid: ChatId,
    _dir: tempfile::TempDir,
}

/// Three providers `a`, `b`, `c` (model `m` each), on servers of their own.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), http()).await;
    let mut servers = Vec::new();
    for name in ["a", "b", "c"] {
        let s = MockServer::start().await;
        add_provider(
            &core,
            name,
            ProviderKind::OpenaiCompatible,
            &s.base_url(),
            "m",
            Some("k"),
        )
        .await;
        servers.push(s);
    }
    let sid = core.chats().create_chat(None).await.unwrap().id;
    Env {
        core,
        servers,
        sid,
        _dir: dir,
    }
}

fn pair(p: &str) -> parley_protocol::ModelChoice {
    parley_protocol::ModelChoice {
        provider: Some(p.to_owned()),
        model: Some("m".to_owned()),
    }
}

/// Events until every one of `turns` has ended (at most 20 s).
async fn until_all_end(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<parley_protocol::Event>,
    turns: usize,
) -> Vec<EventMsg> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut seen, mut ended) = (Vec::new(), 0);
    while ended < turns {
        let ev = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .expect("in time")
            .expect("open")
            .msg;
        if ev.is_turn_end() {
            ended += 1;
        }
        seen.push(ev);
    }
    seen
}

#[tokio::test]
async fn columns_stream_at_once_into_sibling_answers_and_one_failing_leaves_the_others() {
    let e = env().await;
    // A chat with a workspace: side by side, the columns still answer without tools.
    let ws = tempfile::tempdir().unwrap();
    e.core
        .chats()
        .set_workspace(&e.sid, Some(ws.path()))
        .await
        .unwrap();
    e.servers[0].push(Reply::sse(text_answer(&["A1 ", "A2 ", "A3"], 300)));
    e.servers[1].push(Reply::sse(text_answer(&["B1 ", "B2 ", "B3"], 300)));
    e.servers[2].push(Reply::json(
        500,
        r#"{"error":{"message":"model overloaded"}}"#,
    ));
    let mut h = e
        .core
        .chats()
        .compare(
            &e.sid,
            "Which is best?",
            vec![pair("a"), pair("b"), pair("c")],
            SendOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(h.columns.len(), 3);
    // The chat is busy until the last column ends: no second send, no second comparison.
    let busy = e
        .core
        .chats()
        .send_message(&e.sid, "again", SendOptions::default())
        .await;
    assert!(
        matches!(busy, Err(parley_core::CoreError::Busy)),
        "{:?}",
        busy.err()
    );
    let seen = until_all_end(&mut h.events, 3).await;
    let starts: Vec<_> = seen
        .iter()
        .filter_map(|m| match m {
            EventMsg::TurnStarted {
                assistant_message_id,
                side_by_side,
                provider,
                ..
            } => Some((
                assistant_message_id.clone(),
                side_by_side.clone(),
                provider.clone(),
            )),
            _ => None,
        })
        .collect();
    let answers: Vec<_> = h.columns.iter().map(|c| c.1.clone()).collect();
    assert_eq!(starts.len(), 3);
    assert!(
        starts.iter().all(|(_, all, _)| *all == answers),
        "{starts:?}"
    );
    // At the same time, not one after the other: B's first piece arrives before A's last.
    let order: Vec<String> = seen
        .iter()
        .filter_map(|m| match m {
            EventMsg::TextDelta { delta, .. } => Some(delta.trim().to_owned()),
            _ => None,
        })
        .collect();
    let pos = |s: &str| order.iter().position(|d| d == s).unwrap();
    assert!(pos("B1") < pos("A3") && pos("A1") < pos("B3"), "{order:?}");
    let ends: Vec<_> = seen.iter().filter(|m| m.is_turn_end()).collect();
    assert_eq!(
        ends.iter()
            .filter(|m| matches!(m, EventMsg::TurnCompleted { .. }))
            .count(),
        2,
        "{ends:?}"
    );
    let failed = ends.iter().find_map(|m| match m {
        EventMsg::TurnFailed { turn_id, error } => Some((turn_id.clone(), error.clone())),
        _ => None,
    });
    let (failed_turn, error) = failed.expect("c failed");
    assert_eq!(failed_turn, h.columns[2].0);
    assert!(
        error.message.contains("overloaded") || error.message.contains("500"),
        "{}",
        error.message
    );

    // Each column was asked the question alone: no tools, no other column's answer.
    for server in &e.servers[..2] {
        let sent = server.received()[0].json();
        assert!(sent.get("tools").is_none(), "{sent}");
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1, "{sent}");
        assert_eq!(messages[0]["content"], "Which is best?");
    }

    // Stored as sibling versions of one answer; the path goes through the first column.
    let tree = e.core.chats().tree(&e.sid).await.unwrap();
    let user = tree.nodes.iter().find(|n| n.role == Role::User).unwrap();
    let kids: Vec<_> = tree
        .nodes
        .iter()
        .filter(|n| n.parent_id.as_ref() == Some(&user.id))
        .map(|n| n.id.clone())
        .collect();
    assert_eq!(kids, answers);
    assert_eq!(tree.head.as_ref(), Some(&answers[0]));
    let hist = e.core.history().full_history(&e.sid).await.unwrap();
    let versions = hist
        .versions
        .iter()
        .find(|v| v.ids.contains(&answers[0]))
        .expect("versions");
    assert_eq!(versions.ids, answers);
    // Usage comes with each column's end.
    let usage = ends
        .iter()
        .filter(
            |m| matches!(m, EventMsg::TurnCompleted { usage: Some(u), .. } if u.output_tokens == 3),
        )
        .count();
    assert_eq!(usage, 2, "{ends:?}");

    // The failed column is answered again by its model: a fourth version.
    e.servers[2].push(Reply::sse(text_answer(&["C ok"], 0)));
    let opts = SendOptions {
        provider: Some("c".into()),
        model: Some("m".into()),
        ..Default::default()
    };
    let mut r = e
        .core
        .chats()
        .regenerate(&e.sid, Some(&answers[2]), opts)
        .await
        .unwrap();
    until_all_end(&mut r.events, 1).await;
    let tree = e.core.chats().tree(&e.sid).await.unwrap();
    assert_eq!(
        tree.nodes
            .iter()
            .filter(|n| n.parent_id.as_ref() == Some(&user.id))
            .count(),
        4
    );
}

#[tokio::test]
async fn a_column_stops_alone_and_continue_with_this_one_sets_the_path() {
    let e = env().await;
    e.servers[0].push(Reply::sse(text_answer(&["slow ", "and ", "long"], 2000)));
    e.servers[1].push(Reply::sse(text_answer(&["B answer"], 200)));
    let mut h = e
        .core
        .chats()
        .compare(
            &e.sid,
            "q1",
            vec![pair("a"), pair("b")],
            SendOptions::default(),
        )
        .await
        .unwrap();
    // A late window (attached mid-comparison) gets both columns' starts replayed.
    let mut seen = Vec::new();
    let starts = |seen: &[EventMsg]| {
        seen.iter()
            .filter(|m| matches!(m, EventMsg::TurnStarted { .. }))
            .count()
    };
    while starts(&seen) < 2 || !seen.iter().any(|m| matches!(m, EventMsg::TextDelta { .. })) {
        seen.push(h.events.recv().await.unwrap().msg);
    }
    let mut late = e.core.chats().attach_events();
    let mut replayed = 0;
    while let Ok(ev) = late.try_recv() {
        replayed += usize::from(matches!(ev.msg, EventMsg::TurnStarted { .. }));
    }
    assert_eq!(replayed, 2, "both columns' starts are replayed");
    let t0 = Instant::now();
    assert!(e.core.chats().stop_column(&e.sid, &h.columns[0].0).await);
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "stop waited for the stream: {:?}",
        t0.elapsed()
    );
    let rest = until_all_end(&mut h.events, 2).await;
    assert!(
        rest.iter()
            .any(|m| matches!(m, EventMsg::TurnStopped { turn_id } if *turn_id == h.columns[0].0)),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(
            |m| matches!(m, EventMsg::TurnCompleted { turn_id, .. } if *turn_id == h.columns[1].0)
        ),
        "{rest:?}"
    );
    assert!(
        !e.core.chats().stop_column(&e.sid, &h.columns[1].0).await,
        "an ended column is not running"
    );
    // Continue with the second answer: the next message follows it.
    e.core
        .chats()
        .switch_branch(&e.sid, &h.columns[1].1, None)
        .await
        .unwrap();
    e.servers[1].push(Reply::sse(text_answer(&["next"], 0)));
    let opts = SendOptions {
        provider: Some("b".into()),
        model: Some("m".into()),
        ..Default::default()
    };
    let mut t = e
        .core
        .chats()
        .send_message(&e.sid, "q2", opts)
        .await
        .unwrap();
    until_all_end(&mut t.events, 1).await;
    let sent = e.servers[1].received().last().unwrap().json().to_string();
    assert!(
        sent.contains("B answer") && !sent.contains("slow and"),
        "{sent}"
    );
}

#[tokio::test]
async fn bad_choices_are_refused_before_anything_is_stored() {
    let e = env().await;
    let cases: Vec<(Vec<parley_protocol::ModelChoice>, &str)> = vec![
        (vec![pair("a")], "2 to 4"),
        (
            vec![pair("a"), pair("b"), pair("c"), pair("a"), pair("b")],
            "2 to 4",
        ),
        (vec![pair("a"), pair("a")], "chosen twice"),
        (vec![pair("a"), pair("nope")], "nope"),
    ];
    for (models, want) in cases {
        let err = e
            .core
            .chats()
            .compare(&e.sid, "q", models, SendOptions::default())
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains(want), "{err}");
    }
    let err = e
        .core
        .chats()
        .compare(
            &e.sid,
            "  ",
            vec![pair("a"), pair("b")],
            SendOptions::default(),
        )
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("empty"), "{err}");
    let tree = e.core.chats().tree(&e.sid).await.unwrap();
    assert!(tree.nodes.is_empty(), "nothing was stored");
    assert!(e.servers.iter().all(|s| s.received().is_empty()));
}

#[tokio::test]
async fn parley_ask_with_several_models_prints_each_answer_under_its_name() {
    use super::cli::{add_named, run};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (one, two) = (MockServer::start().await, MockServer::start().await);
    add_named(d, "one", &one).await;
    add_named(d, "two", &two).await;
    one.push(Reply::sse(text_answer(&["from ", "one"], 50)));
    two.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let r = run(
        d,
        &["ask", "--provider", "one", "--provider", "two", "Hello?"],
    )
    .await;
    assert_eq!(r.code, 0, "one answer is enough: {}", r.stderr);
    assert!(
        r.stdout.contains("── tiny · one") && r.stdout.contains("from one"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("── tiny · two (failed) ──"),
        "{}",
        r.stdout
    );
    let hist = super::cli::newest_chat(d, Some(1)).await;
    let versions = &hist.versions[0];
    assert_eq!(versions.ids.len(), 2, "{:?}", hist.versions);
    // Bad combinations are refused before anything is sent or stored.
    for (args, want) in [
        (
            vec![
                "ask",
                "--model",
                "a",
                "--model",
                "b",
                "--workspace",
                ".",
                "q",
            ],
            "--workspace is not for side by side",
        ),
        (
            vec![
                "ask",
                "--provider",
                "one",
                "--provider",
                "two",
                "--model",
                "a",
                "--model",
                "b",
                "--model",
                "c",
                "q",
            ],
            "2 --provider for 3 --model",
        ),
        (
            vec![
                "ask", "--model", "a", "--model", "b", "--model", "c", "--model", "d", "--model",
                "e", "q",
            ],
            "at most 4",
        ),
    ] {
        let r = run(d, &args).await;
        assert!(
            r.code != 0 && r.stderr.contains(want),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(one.received().len(), 1);
    // Every model failing is a failure.
    one.push(Reply::json(500, "{}"));
    two.push(Reply::json(500, "{}"));
    let r = run(
        d,
        &["ask", "--provider", "one", "--provider", "two", "again"],
    )
    .await;
    assert_ne!(r.code, 0, "{}", r.stdout);
}

#[tokio::test]
async fn a_queued_message_goes_after_the_last_column_when_any_completed() {
    let e = env().await;
    e.core.queue().start_draining();
    e.servers[0].push(Reply::sse(text_answer(&["slow ", "answer"], 400)));
    e.servers[1].push(Reply::json(500, r#"{"error":{"message":"down"}}"#));
    let mut all = e.core.chats().attach_events();
    let h = e
        .core
        .chats()
        .compare(
            &e.sid,
            "q",
            vec![pair("a"), pair("b")],
            SendOptions::default(),
        )
        .await
        .unwrap();
    let opts = (Some("a".to_owned()), Some("m".to_owned()));
    e.core
        .queue()
        .add(&e.sid, "next one", opts.0, opts.1)
        .await
        .unwrap();
    e.servers[0].push(Reply::sse(text_answer(&["after"], 0)));
    // b fails first: nothing is held or sent while a still answers; then the queue goes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ends = 0;
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), all.recv())
            .await
            .expect("in time")
            .unwrap();
        match &ev.msg {
            EventMsg::QueueChanged {
                held: Some(why), ..
            } => panic!("held: {why}"),
            EventMsg::TurnStarted { user_message, .. }
                if user_message.id != h.columns[0].1 && ends < 2 =>
            {
                assert!(
                    !matches!(user_message.parts.first(), Some(parley_protocol::Part::Text { text }) if text == "next one"),
                    "sent before the last column ended"
                );
            }
            EventMsg::TurnStarted { user_message, .. } if ends == 2 => {
                assert!(
                    matches!(user_message.parts.first(), Some(parley_protocol::Part::Text { text }) if text == "next one")
                );
                break;
            }
            m if m.is_turn_end() => ends += 1,
            _ => {}
        }
    }
    assert!(e.core.queue().list(&e.sid).await.unwrap().is_empty());
}
