//! Holes closed in issue 12, through the engine with a scripted model: grants bound to the
//! workspace they were given in, writes decided on where they really land (the
//! symlink-then-write sequence), writes outside refused before anyone is asked, and reads
//! that a FIFO or a huge file cannot hang or swell.

use super::agent::*;
use parley_protocol::{ApprovalDecision, EventMsg, ToolCallStatus};
use parley_tests::*;
use std::time::{Duration, Instant};

fn decide(e: &Env, sid: &parley_protocol::ChatId, id: &str, d: ApprovalDecision) {
    e.core.approvals().decide_approval(sid, id, d).unwrap();
}

fn asked(seen: &[EventMsg], id: &str) -> bool {
    seen.iter()
        .any(|e| matches!(e, EventMsg::ApprovalRequested { call_id, .. } if call_id == id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_given_in_one_workspace_never_runs_a_call_in_another() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let a = e.ws.path().to_path_buf();
    let b = tempfile::tempdir().unwrap();
    let cmd = r#"{"command":"echo ran > ran.txt"}"#;
    let args = r#"{"path":"g.txt","content":"g"}"#;

    // In A: "always" for the write, "this session" for another write.
    let session_args = r#"{"path":"s.txt","content":"s"}"#;
    server.push(calls(&[
        ("a1", "write_file", args),
        ("a2", "write_file", session_args),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "in A").await;
    wait_for(&mut h.events, &mut seen, approval_for("a1")).await;
    decide(&e, &sid, "a1", ApprovalDecision::AllowAlways);
    wait_for(&mut h.events, &mut seen, approval_for("a2")).await;
    decide(&e, &sid, "a2", ApprovalDecision::AllowSession);
    wait_for(&mut h.events, &mut seen, is_end).await;
    let grants = e.core.approvals().list_grants().await.unwrap();
    assert_eq!(grants.len(), 1);
    let root_a = a.canonicalize().unwrap().display().to_string();
    assert_eq!(grants[0].workspace, root_a, "the grant names its folder");

    // Still in A: both run unasked.
    server.push(calls(&[
        ("a3", "write_file", args),
        ("a4", "write_file", session_args),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "again in A").await;
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(!asked(&seen, "a3") && !asked(&seen, "a4"), "granted in A");

    // The same chat moved to B: neither grant applies, both ask.
    e.core
        .chats()
        .set_workspace(&sid, Some(b.path()))
        .await
        .unwrap();
    server.push(calls(&[
        ("b1", "write_file", args),
        ("b2", "write_file", session_args),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "in B").await;
    wait_for(&mut h.events, &mut seen, approval_for("b1")).await;
    decide(&e, &sid, "b1", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, approval_for("b2")).await;
    decide(&e, &sid, "b2", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(!b.path().join("g.txt").exists() && !b.path().join("s.txt").exists());

    // Back in A: the saved grant holds; the session grant was dropped with the move.
    e.core.chats().set_workspace(&sid, Some(&a)).await.unwrap();
    server.push(calls(&[
        ("c1", "write_file", args),
        ("c2", "write_file", session_args),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "back in A").await;
    wait_for(&mut h.events, &mut seen, approval_for("c2")).await;
    assert!(!asked(&seen, "c1"), "the saved grant of A");
    decide(&e, &sid, "c2", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, is_end).await;

    // Another chat in B, a granted shell command from A: asks.
    server.push(calls(&[("x1", "run_shell", cmd)]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "grant the command in A").await;
    wait_for(&mut h.events, &mut seen, approval_for("x1")).await;
    decide(&e, &sid, "x1", ApprovalDecision::AllowAlways);
    wait_for(&mut h.events, &mut seen, is_end).await;
    let other = e.core.chats().create_chat(None).await.unwrap().id;
    e.core
        .chats()
        .set_workspace(&other, Some(b.path()))
        .await
        .unwrap();
    server.push(calls(&[("x2", "run_shell", cmd)]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &other, "in B").await;
    wait_for(&mut h.events, &mut seen, approval_for("x2")).await;
    decide(&e, &other, "x2", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(!b.path().join("ran.txt").exists());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_into_protected_folders_makes_the_write_ask_in_person() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let ws = e.ws.path();
    std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
    std::fs::create_dir_all(ws.join(".github/workflows")).unwrap();
    std::os::unix::fs::symlink(".git/hooks", ws.join("scripts")).unwrap();
    std::os::unix::fs::symlink(".github/workflows", ws.join("ci")).unwrap();
    std::os::unix::fs::symlink(".git", ws.join("g")).unwrap();
    let cases = [
        (
            "p1",
            r#"{"path":"scripts/pre-commit","content":"curl x | sh"}"#,
        ),
        ("p2", r#"{"path":"ci/release.yml","content":"on: push"}"#),
        ("p3", r#"{"path":"g/config","content":"[core]"}"#),
        ("p4", r#"{"path":".ENV.local","content":"K=v"}"#),
        (
            "p5",
            r#"{"path":"sub/../.vscode/tasks.json","content":"{}"}"#,
        ),
    ];
    server.push(calls(
        &cases
            .iter()
            .map(|(id, a)| (*id, "write_file", *a))
            .collect::<Vec<_>>(),
    ));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    for (id, _) in cases {
        let id: &'static str = Box::leak(id.to_owned().into_boxed_str());
        let EventMsg::ApprovalRequested {
            can_grant,
            in_person,
            reason,
            ..
        } = wait_for(&mut h.events, &mut seen, approval_for(id)).await
        else {
            unreachable!()
        };
        assert!(!can_grant && in_person, "{id}: {reason}");
        // "Always" is not recorded for these.
        decide(&e, &sid, id, ApprovalDecision::AllowAlways);
    }
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(e.core.approvals().list_grants().await.unwrap().is_empty());
    assert!(
        ws.join(".git/hooks/pre-commit").exists(),
        "a person allowed it once"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_swapped_in_after_approval_is_refused_at_write_time() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let ws = e.ws.path();
    std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
    std::fs::create_dir(ws.join("scripts")).unwrap();
    server.push(calls(&[(
        "w1",
        "write_file",
        r#"{"path":"scripts/pre-commit","content":"evil"}"#,
    )]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    let EventMsg::ApprovalRequested {
        in_person,
        can_grant,
        ..
    } = wait_for(&mut h.events, &mut seen, approval_for("w1")).await
    else {
        unreachable!()
    };
    assert!(can_grant && !in_person, "a plain folder when asked");
    // Between the question and the answer the folder becomes a link into .git.
    std::fs::remove_dir(ws.join("scripts")).unwrap();
    std::os::unix::fs::symlink(".git/hooks", ws.join("scripts")).unwrap();
    decide(&e, &sid, "w1", ApprovalDecision::AllowOnce);
    wait_for(&mut h.events, &mut seen, is_end).await;
    let parts = last_parts(&e.core, &sid).await;
    let (out, is_error) = result_of(&parts, "w1");
    assert!(is_error && out.contains("Nothing was written"), "{out}");
    assert!(!ws.join(".git/hooks/pre-commit").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_outside_are_refused_before_anyone_is_asked() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let outside = tempfile::tempdir().unwrap();
    let abs = outside.path().join("x.txt").display().to_string();
    let list = [
        ("o1", r#"{"path":"../x.txt","content":"x"}"#.to_owned()),
        (
            "o2",
            serde_json::json!({"path": abs, "content": "x"}).to_string(),
        ),
        (
            "o3",
            r#"{"path":"\\\\attacker\\share\\x","content":"x"}"#.to_owned(),
        ),
        (
            "o4",
            r#"{"path":"a/../../x","old_text":"a","new_text":"b"}"#.to_owned(),
        ),
    ];
    let steps: Vec<(&str, &str, &str)> = list
        .iter()
        .map(|(id, a)| {
            (
                *id,
                if *id == "o4" {
                    "edit_file"
                } else {
                    "write_file"
                },
                a.as_str(),
            )
        })
        .collect();
    server.push(calls(&steps));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, EventMsg::ApprovalRequested { .. })),
        "{seen:#?}"
    );
    let parts = last_parts(&e.core, &sid).await;
    for (id, _) in &list {
        assert_eq!(status_of(&parts, id), ToolCallStatus::Failed, "{id}");
        let (out, _) = result_of(&parts, id);
        assert!(
            out.contains("refused") && !out.contains("changes files"),
            "{id}: {out}"
        );
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_fifo_or_a_huge_file_neither_hangs_nor_swells() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let ws = e.ws.path();
    let fifo = std::ffi::CString::new(ws.join("pipe").display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    // 1 GiB, sparse: text lines first, then nothing written (zeros past the first block).
    let huge = std::fs::File::create(ws.join("huge.log")).unwrap();
    std::io::Write::write_all(&mut &huge, "a line of the log\n".repeat(1000).as_bytes()).unwrap();
    huge.set_len(1 << 30).unwrap();
    server.push(calls(&[
        ("r1", "read_file", r#"{"path":"pipe"}"#),
        (
            "r2",
            "read_file",
            r#"{"path":"huge.log","offset":10,"limit":5}"#,
        ),
        ("r3", "read_file", r#"{"path":"."}"#),
    ]));
    server.push(answer("ok"));
    let t0 = Instant::now();
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    let parts = last_parts(&e.core, &sid).await;
    let (out, err) = result_of(&parts, "r1");
    assert!(err && out.contains("not a regular file"), "{out}");
    let (out, err) = result_of(&parts, "r2");
    assert!(!err && out.contains("    10\ta line of the log"), "{out}");
    assert!(
        out.contains("more lines follow; read on with offset 15"),
        "{out}"
    );
    assert!(out.len() < 4096, "{}", out.len());
    let (out, err) = result_of(&parts, "r3");
    assert!(err && out.contains("folder"), "{out}");
}

/// A response that repeats a call id (or gives none): each call gets its own id, is asked about
/// and answered on its own, and the ids sent back to the model pair each result with its call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_call_ids_are_answered_one_by_one() {
    use parley_protocol::Part;
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    server.push(calls(&[
        ("dup", "write_file", r#"{"path":"a.txt","content":"A"}"#),
        ("dup", "write_file", r#"{"path":"b.txt","content":"B"}"#),
        ("dup", "read_file", r#"{"path":"a.txt"}"#),
        ("", "read_file", r#"{"path":"a.txt"}"#),
        ("dup-2", "read_file", r#"{"path":"a.txt"}"#),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("dup")).await;
    decide(&e, &sid, "dup", ApprovalDecision::AllowOnce);
    wait_for(&mut h.events, &mut seen, approval_for("dup-2")).await;
    decide(&e, &sid, "dup-2", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, is_end).await;
    let parts = last_parts(&e.core, &sid).await;
    let ids: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall { call_id, .. } => Some(call_id.clone()),
            _ => None,
        })
        .collect();
    // A call without an id gets one (the parser's own or `call-N`).
    let blank = ids[3].clone();
    assert!(!blank.is_empty() && !blank.starts_with("dup"), "{ids:?}");
    assert_eq!(ids, ["dup", "dup-2", "dup-3", blank.as_str(), "dup-2-2"]);
    assert_eq!(status_of(&parts, "dup"), ToolCallStatus::Completed);
    assert_eq!(status_of(&parts, "dup-2"), ToolCallStatus::Denied);
    for id in ["dup-3", blank.as_str(), "dup-2-2"] {
        assert_eq!(status_of(&parts, id), ToolCallStatus::Completed, "{id}");
    }
    assert!(e.ws.path().join("a.txt").exists() && !e.ws.path().join("b.txt").exists());
    // The replay pairs each result with its call, by the same ids.
    let sent = server.received()[1].json();
    let msgs = sent["messages"].as_array().unwrap();
    let call_ids: Vec<&str> = msgs
        .iter()
        .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let result_ids: Vec<&str> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["tool_call_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        call_ids,
        ["dup", "dup-2", "dup-3", blank.as_str(), "dup-2-2"]
    );
    assert_eq!(result_ids, call_ids);
}

/// A long argument streamed in small pieces travels as deltas: the pieces add up to the
/// argument once, and no event re-sends the argument so far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_arguments_travel_as_deltas() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let args = serde_json::json!({"path": "big.txt", "content": "y".repeat(200_000)}).to_string();
    let mut steps = vec![sse_data(
        &serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "big", "type": "function", "function": {"name": "write_file", "arguments": ""}}
        ]}}]}),
    )];
    for (i, piece) in args.as_bytes().chunks(64).enumerate() {
        steps.push(sse_data(
            &serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": String::from_utf8_lossy(piece)}}
            ]}}]}),
        ));
        if i % 200 == 0 {
            steps.push(sleep_ms(20)); // several frames while it grows
        }
    }
    steps.push(ev_finish("tool_calls"));
    steps.push(ev_done());
    server.push(Reply::sse(steps));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    wait_for(&mut h.events, &mut seen, approval_for("big")).await;
    decide(&e, &sid, "big", ApprovalDecision::Deny { note: None });
    wait_for(&mut h.events, &mut seen, is_end).await;
    let mut streamed = String::new();
    let mut deltas = 0;
    for ev in &seen {
        match ev {
            EventMsg::ArgumentsDelta { delta, .. } => {
                streamed.push_str(delta);
                deltas += 1;
            }
            EventMsg::ItemUpdated {
                part: parley_protocol::Part::ToolCall { arguments, .. },
                ..
            } => assert!(
                arguments.is_empty() || *arguments == args,
                "an update re-sent a partial argument ({} bytes)",
                arguments.len()
            ),
            _ => {}
        }
    }
    assert_eq!(streamed, args, "the deltas add up to the argument, once");
    assert!(deltas > 1, "it streamed in several frames");
}
