//! Steering a chat's tree from the command line: `ask --edit`, `ask --regenerate`, `chats
//! tree|switch|rewind|fork|pin|archive`, with `--json`, and the bad inputs.

use super::cli::{add_local, parley, run};
use parley_protocol::{ChatHistory, ChatSummary, ChatTree};
use parley_tests::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

async fn show(dir: &Path, id: &str) -> ChatHistory {
    let r = run(dir, &["chats", "show", id, "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn texts(h: &ChatHistory) -> Vec<String> {
    h.messages.iter().map(|m| m.text()).collect()
}

async fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args).await;
    assert_eq!(r.code, 0, "parley {args:?}: {}", r.stderr);
    r.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_is_steered_as_a_tree_from_the_command_line() {
    let server = MockServer::start().await;
    for a in ["a1", "a2", "a2 edited", "a2 again", "a2 by another model"] {
        server.push(Reply::sse(text_answer(&[a], 0)));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    ok(d, &["ask", "q1"]).await;
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(d, &["sessions", "list", "--json"]).await).unwrap();
    let id = list[0].id.0.clone();
    ok(d, &["ask", "--session", &id, "q2"]).await;
    let h = show(d, &id).await;
    let (q2, a1) = (h.messages[2].id.0.clone(), h.messages[1].id.0.clone());

    // Edit q2: a new version, answered; the old one stays in the tree.
    ok(d, &["ask", "--session", &id, "--edit", &q2, "q2 edited"]).await;
    let h = show(d, &id).await;
    assert_eq!(texts(&h), ["q1", "a1", "q2 edited", "a2 edited"]);
    assert_eq!(h.versions.len(), 1);
    assert_eq!(h.versions[0].ids.len(), 2);

    // Regenerate the last answer, then with another model.
    ok(d, &["ask", "--session", &id, "--regenerate"]).await;
    let h = show(d, &id).await;
    assert_eq!(texts(&h)[3], "a2 again");
    let edited_answer = h.messages[3].id.0.clone();
    ok(
        d,
        &[
            "ask",
            "--session",
            &id,
            "--regenerate",
            &edited_answer,
            "--model",
            "other-model",
        ],
    )
    .await;
    let h = show(d, &id).await;
    assert_eq!(texts(&h)[3], "a2 by another model");
    assert_eq!(h.messages[3].model.as_deref(), Some("other-model"));
    let sent = server.received();
    assert_eq!(sent.last().unwrap().json()["model"], "other-model");
    // What was sent is the selected path: q1, a1, then the edited question only.
    let msgs = sent.last().unwrap().json()["messages"].clone();
    let contents: Vec<String> = msgs
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(contents, ["q1", "a1", "q2 edited"], "{msgs}");

    // The tree: every version, the selected path marked.
    let tree: ChatTree =
        serde_json::from_str(&ok(d, &["sessions", "tree", &id, "--json"]).await).unwrap();
    assert_eq!(tree.nodes.len(), 8);
    assert_eq!(tree.nodes.iter().filter(|n| n.selected).count(), 4);
    let text = ok(d, &["sessions", "tree", &id]).await;
    assert!(text.contains("[1/2]") && text.contains("[3/3]"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with('*') && l.contains("q2 edited")),
        "{text}"
    );

    // Switch back to the first q2; rewind to a1; fork at a1.
    ok(d, &["sessions", "switch", &id, &q2]).await;
    assert_eq!(texts(&show(d, &id).await), ["q1", "a1", "q2", "a2"]);
    ok(d, &["sessions", "rewind", &id, &a1]).await;
    assert_eq!(texts(&show(d, &id).await), ["q1", "a1"]);
    let tree: ChatTree =
        serde_json::from_str(&ok(d, &["sessions", "tree", &id, "--json"]).await).unwrap();
    assert_eq!(tree.nodes.len(), 8, "a rewind deletes nothing");
    let fork: ChatSummary =
        serde_json::from_str(&ok(d, &["sessions", "fork", &id, &a1, "--json"]).await).unwrap();
    assert_eq!(fork.message_count, 2);
    assert_eq!(fork.forked_from.as_ref().unwrap().chat_id.0, id);
    assert_eq!(texts(&show(d, &fork.id.0).await), ["q1", "a1"]);

    // Pin and archive, with --json.
    let pinned: ChatSummary =
        serde_json::from_str(&ok(d, &["sessions", "pin", &id, "--json"]).await).unwrap();
    assert!(pinned.pinned);
    let archived: ChatSummary =
        serde_json::from_str(&ok(d, &["sessions", "archive", &id, "--json"]).await).unwrap();
    assert!(archived.archived && archived.pinned);
    let back: ChatSummary =
        serde_json::from_str(&ok(d, &["sessions", "archive", &id, "--off", "--json"]).await)
            .unwrap();
    assert!(!back.archived);
    assert!(back.revision > pinned.revision);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_steering_is_refused_with_a_clear_error_and_stores_nothing() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["a1"], 0)));
    server.push(Reply::sse(text_answer(&["b1"], 0)));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    ok(d, &["ask", "q1"]).await;
    ok(d, &["ask", "other chat"]).await;
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(d, &["sessions", "list", "--json"]).await).unwrap();
    let (other, first) = (list[0].id.0.clone(), list[1].id.0.clone());
    let h = show(d, &first).await;
    let (q1, a1) = (h.messages[0].id.0.clone(), h.messages[1].id.0.clone());
    let tree_before = ok(d, &["sessions", "tree", &first, "--json"]).await;

    // A message of another chat.
    for args in [
        vec!["ask", "--session", &other, "--edit", &q1, "x"],
        vec!["sessions", "switch", &other, &a1],
        vec!["sessions", "rewind", &other, &a1],
        vec!["sessions", "fork", &other, &a1],
    ] {
        let r = run(d, &args).await;
        assert_ne!(r.code, 0, "{args:?}");
        assert!(
            r.stderr.contains("not in this chat"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // Editing to nothing; editing an answer; regenerating a question.
    let r = run(d, &["ask", "--session", &first, "--edit", &q1, "  "]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    let r = run(d, &["ask", "--session", &first, "--edit", &a1, "x"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("message you wrote"), "{}", r.stderr);
    let r = run(d, &["ask", "--session", &first, "--regenerate", &q1]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("Only an answer"), "{}", r.stderr);
    // --edit and --regenerate need a chat.
    let r = run(d, &["ask", "--edit", &q1, "x"]).await;
    assert_ne!(r.code, 0);
    assert_eq!(
        ok(d, &["sessions", "tree", &first, "--json"]).await,
        tree_before,
        "nothing stored"
    );
    assert_eq!(server.received().len(), 2, "nothing reached the provider");

    // While the chat answers in another process: Busy, nothing stored.
    server.push(Reply::sse(vec![ev_text("Partial"), sleep_ms(60_000)]));
    let mut running = parley(d)
        .args(["ask", "--session", &first, "slow"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.received().len() < 3 {
        assert!(Instant::now() < deadline, "the slow answer never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for args in [
        vec!["ask", "--session", &first, "--edit", &q1, "x"],
        vec!["ask", "--session", &first, "--regenerate"],
        vec!["sessions", "switch", &first, &a1],
        vec!["sessions", "rewind", &first, &a1],
    ] {
        let r = run(d, &args).await;
        assert_ne!(r.code, 0, "{args:?}");
        assert!(
            r.stderr.contains("still answering"),
            "{args:?}: {}",
            r.stderr
        );
    }
    running.start_kill().unwrap();
    let _ = running.wait().await;
    assert_eq!(
        server.received().len(),
        3,
        "nothing else reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retitle_names_a_chat_with_the_model_and_failures_keep_the_title() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Paris is the capital."], 0)));
    // The CLI never titles in the background: the next reply is the one asked for.
    server.push(Reply::sse(text_answer(&["\"Capital of France\""], 0)));
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    ok(d, &["ask", "What is the capital of France?"]).await;
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(d, &["sessions", "list", "--json"]).await).unwrap();
    let id = list[0].id.0.clone();
    assert_eq!(list[0].title, "What is the capital of France?");
    assert_eq!(
        ok(d, &["sessions", "retitle", &id]).await.trim(),
        "Capital of France"
    );
    let r = run(d, &["sessions", "retitle", &id, "--json"]).await;
    assert_ne!(r.code, 0);
    assert!(!r.stderr.trim().is_empty());
    let s: ChatSummary = serde_json::from_str(&ok(d, &["sessions", "tree", &id, "--json"]).await)
        .map(|t: ChatTree| t.session)
        .unwrap();
    assert_eq!(s.title, "Capital of France");
    // An unknown chat: a clear error.
    let r = run(d, &["sessions", "retitle", "nope"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

/// `parley chats …` is the group and `ask --chat` the flag; the old names (`sessions`,
/// `--session`) keep working for scripts, with the same output; the help names the new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_is_the_group_and_the_old_name_sessions_still_works() {
    let server = MockServer::start().await;
    for a in ["a1", "a2", "a3", "a3 again"] {
        server.push(Reply::sse(text_answer(&[a], 0)));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    ok(d, &["ask", "q1"]).await;
    let list = ok(d, &["chats", "list", "--json"]).await;
    assert_eq!(list, ok(d, &["sessions", "list", "--json"]).await);
    let id = serde_json::from_str::<Vec<ChatSummary>>(&list).unwrap()[0]
        .id
        .0
        .clone();
    ok(d, &["ask", "--chat", &id, "q2"]).await;
    ok(d, &["ask", "--session", &id, "q3"]).await;
    ok(d, &["ask", "--session", &id, "--regenerate"]).await;
    let h = show(d, &id).await;
    assert_eq!(texts(&h), ["q1", "a1", "q2", "a2", "q3", "a3 again"]);
    let subs: [&[&str]; 4] = [
        &["list"],
        &["show", &id, "--json"],
        &["show", &id],
        &["tree", &id, "--json"],
    ];
    for sub in subs {
        let new = ok(d, &[&["chats"][..], sub].concat()).await;
        let old = ok(d, &[&["sessions"][..], sub].concat()).await;
        assert_eq!(new, old, "{sub:?}");
    }
    // A change through either name.
    ok(d, &["chats", "rename", &id, "New name"]).await;
    assert_eq!(show(d, &id).await.session.title, "New name");
    ok(d, &["sessions", "rename", &id, "Old name"]).await;
    assert_eq!(show(d, &id).await.session.title, "Old name");

    // The help lists `chats` and `--chat`; the old names are aliases, not entries.
    let starts = |text: &str, word: &str| text.lines().any(|l| l.trim_start().starts_with(word));
    let help = ok(d, &["--help"]).await;
    assert!(starts(&help, "chats "), "{help}");
    assert!(!starts(&help, "sessions"), "{help}");
    let help = ok(d, &["ask", "--help"]).await;
    assert!(starts(&help, "--chat <CHAT>"), "{help}");
    assert!(!starts(&help, "--session"), "{help}");
}
