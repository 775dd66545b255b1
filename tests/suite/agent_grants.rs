//! Grants: one for this chat covers only the identical call; one for always persists until it is
//! revoked; compound commands and git writes ask even when granted.

use super::agent::*;
use parley_protocol::{ApprovalDecision, EventMsg, ToolCallStatus};
use parley_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_grant_covers_only_the_identical_call_and_always_grants_persist_until_revoked() {
    let server = MockServer::start().await;
    let args = r#"{"path":"n.txt","content":"1"}"#;
    server.push(calls(&[("c1", "write_file", args)]));
    server.push(answer("ok"));
    // Same call, keys in another order: covered.
    server.push(calls(&[(
        "c2",
        "write_file",
        r#"{"content":"1","path":"n.txt"}"#,
    )]));
    server.push(answer("ok"));
    // Another argument: asks again.
    server.push(calls(&[(
        "c3",
        "write_file",
        r#"{"path":"n.txt","content":"2"}"#,
    )]));
    server.push(answer("ok"));
    let (e, sid) = env(&server).await;

    let (mut h, mut seen) = start(&e.core, &sid, "1").await;
    wait_for(&mut h.events, &mut seen, approval_for("c1")).await;
    e.core
        .approvals()
        .decide_approval(&sid, "c1", ApprovalDecision::AllowSession)
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;

    let (mut h, mut seen) = start(&e.core, &sid, "2").await;
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, EventMsg::ApprovalRequested { .. })),
        "granted: no question"
    );
    assert_eq!(
        status_of(&last_parts(&e.core, &sid).await, "c2"),
        ToolCallStatus::Completed
    );

    let (mut h, mut seen) = start(&e.core, &sid, "3").await;
    wait_for(&mut h.events, &mut seen, approval_for("c3")).await;
    e.core
        .approvals()
        .decide_approval(&sid, "c3", ApprovalDecision::AllowAlways)
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    let grants = e.core.approvals().list_grants().await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].tool, "write_file");
    assert_eq!(grants[0].arguments, r#"{"content":"2","path":"n.txt"}"#);

    // A new chat: the session grant is gone, the saved one holds.
    let other = e.core.chats().create_chat(None).await.unwrap().id;
    e.core
        .chats()
        .set_workspace(&other, Some(e.ws.path()))
        .await
        .unwrap();
    server.push(calls(&[
        ("d1", "write_file", r#"{"path":"n.txt","content":"2"}"#),
        ("d2", "write_file", args),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &other, "4").await;
    wait_for(&mut h.events, &mut seen, approval_for("d2")).await;
    assert!(!seen
        .iter()
        .any(|e| matches!(e, EventMsg::ApprovalRequested { call_id, .. } if call_id == "d1")));
    e.core
        .approvals()
        .decide_approval(&other, "d2", ApprovalDecision::Deny { note: None })
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;

    // Revoked: asks again.
    e.core.approvals().revoke_grant(grants[0].id).await.unwrap();
    assert!(e.core.approvals().list_grants().await.unwrap().is_empty());
    server.push(calls(&[(
        "e1",
        "write_file",
        r#"{"path":"n.txt","content":"2"}"#,
    )]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &other, "5").await;
    wait_for(&mut h.events, &mut seen, approval_for("e1")).await;
    e.core.chats().stop_turn(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_commands_and_git_writes_ask_even_when_granted() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    std::fs::create_dir(e.ws.path().join(".git")).unwrap();
    let cmd = r#"{"command":"echo hi > out.txt"}"#;
    server.push(calls(&[
        ("c1", "run_shell", cmd),
        (
            "c2",
            "write_file",
            r#"{"path":".git/config","content":"x"}"#,
        ),
    ]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "go").await;
    let EventMsg::ApprovalRequested {
        can_grant, reason, ..
    } = wait_for(&mut h.events, &mut seen, approval_for("c1")).await
    else {
        unreachable!()
    };
    assert!(!can_grant && reason.contains("redirect"), "{reason}");
    // Asking for a grant anyway records none.
    e.core
        .approvals()
        .decide_approval(&sid, "c1", ApprovalDecision::AllowAlways)
        .unwrap();
    let EventMsg::ApprovalRequested {
        can_grant, reason, ..
    } = wait_for(&mut h.events, &mut seen, approval_for("c2")).await
    else {
        unreachable!()
    };
    assert!(!can_grant && reason.contains(".git"), "{reason}");
    e.core
        .approvals()
        .decide_approval(&sid, "c2", ApprovalDecision::Deny { note: None })
        .unwrap();
    wait_for(&mut h.events, &mut seen, is_end).await;
    assert!(e.core.approvals().list_grants().await.unwrap().is_empty());
    assert_eq!(
        std::fs::read_to_string(e.ws.path().join("out.txt")).unwrap(),
        "hi\n",
        "byte-identical command ran"
    );

    server.push(calls(&[("c3", "run_shell", cmd)]));
    server.push(answer("ok"));
    let (mut h, mut seen) = start(&e.core, &sid, "again").await;
    wait_for(&mut h.events, &mut seen, approval_for("c3")).await;
    e.core.chats().stop_turn(&sid).await;
}
