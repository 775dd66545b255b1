//! The last path and command holes of issue 25, through the engine with a scripted model: a
//! file with more than one name (a hard link to a file outside the workspace) asks a person
//! every time, whatever was granted; a command that runs code is labelled so and can be
//! allowed once only — "this chat" and "always" grant nothing, and the next identical call
//! asks again.

use super::agent::*;
use parley_protocol::{ApprovalDecision, EventMsg, ToolRisk};
use parley_tests::*;

fn decide(e: &Env, sid: &parley_protocol::ChatId, id: &str, d: ApprovalDecision) {
    e.core.approvals().decide_approval(sid, id, d).unwrap();
}

/// What the approval request of `id` said: (risk, reason, can_grant, in_person).
fn request(seen: &[EventMsg], id: &str) -> (ToolRisk, String, bool, bool) {
    seen.iter()
        .find_map(|e| match e {
            EventMsg::ApprovalRequested {
                call_id,
                risk,
                reason,
                can_grant,
                in_person,
                ..
            } if call_id == id => Some((*risk, reason.clone(), *can_grant, *in_person)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{id} was not asked about"))
}

/// The ids of `prefix` with a number, as `'static` strings for `approval_for`.
fn id(prefix: &str, n: usize) -> &'static str {
    Box::leak(format!("{prefix}{n}").into_boxed_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_link_to_a_file_outside_asks_a_person_every_time() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let ws = e.ws.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("id_rsa"), "PRIVATE KEY\n").unwrap();
    std::fs::hard_link(outside.path().join("id_rsa"), ws.join("notes.txt")).unwrap();
    let calls_of = |n: usize| {
        vec![
            (id("r", n), "read_file", r#"{"path":"notes.txt"}"#),
            (
                id("e", n),
                "edit_file",
                r#"{"path":"notes.txt","old_text":"PRIVATE","new_text":"public"}"#,
            ),
            (
                id("w", n),
                "write_file",
                r#"{"path":"notes.txt","content":"x"}"#,
            ),
            (id("g", n), "grep", r#"{"pattern":"KEY"}"#),
        ]
    };
    // Every way to say "allow" that is not "once": none of them grants anything, and each
    // next round asks about each call again.
    let answers = [
        ApprovalDecision::AllowAlways,
        ApprovalDecision::AllowSession,
        ApprovalDecision::Deny { note: None },
    ];
    for (n, answer) in answers.iter().enumerate() {
        let list = calls_of(n);
        server.push(calls(&list));
        server.push(super::agent::answer("ok"));
        let (mut h, mut seen) = start(&e.core, &sid, "go").await;
        for (call, ..) in &list[..3] {
            wait_for(&mut h.events, &mut seen, approval_for(call)).await;
            let (risk, reason, can_grant, in_person) = request(&seen, call);
            assert!(
                reason.contains("hard link: this file has 2 names")
                    && reason.contains("outside the workspace"),
                "{call}: {reason}"
            );
            assert!(!can_grant && in_person, "{call}: {risk:?}");
            // Deny the writes so the link stays for the next round.
            let d = if call.starts_with('r') {
                answer.clone()
            } else {
                ApprovalDecision::Deny { note: None }
            };
            decide(&e, &sid, call, d);
        }
        wait_for(&mut h.events, &mut seen, is_end).await;
        let parts = last_parts(&e.core, &sid).await;
        let (out, _) = result_of(&parts, list[0].0);
        assert_eq!(out.contains("PRIVATE KEY"), n < 2, "round {n}: {out}");
        // grep is read-only and never asks: it names the link and never reads it.
        let (out, is_error) = result_of(&parts, list[3].0);
        assert!(
            !is_error && !out.contains("PRIVATE") && out.contains("notes.txt"),
            "{out}"
        );
        assert!(!seen.iter().any(|ev| matches!(ev,
            EventMsg::ApprovalRequested { call_id, .. } if call_id == list[3].0)));
    }
    assert!(e.core.approvals().list_grants().await.unwrap().is_empty());
    assert_eq!(
        std::fs::read_to_string(outside.path().join("id_rsa")).unwrap(),
        "PRIVATE KEY\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_runs_code_can_be_allowed_once_only() {
    let server = MockServer::start().await;
    let (e, sid) = env(&server).await;
    let ws = e.ws.path();
    let commands = [
        r#"{"command":"env RAN=1 touch ran-env.txt"}"#,
        r#"{"command":"nice -n 1 touch ran-nice.txt"}"#,
        r#"{"command":"python3.12 -c 'import os'"}"#,
        r#"{"command":"ssh -o ProxyCommand='touch pwned' host"}"#,
    ];
    let answers = [
        ApprovalDecision::AllowAlways,
        ApprovalDecision::AllowSession,
        ApprovalDecision::AllowOnce,
    ];
    for (n, answer) in answers.iter().enumerate() {
        let list: Vec<(&'static str, &str, &str)> = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (id(&format!("c{n}-"), i), "run_shell", *c))
            .collect();
        server.push(calls(&list));
        server.push(super::agent::answer("ok"));
        let (mut h, mut seen) = start(&e.core, &sid, "go").await;
        for (call, _, args) in &list {
            wait_for(&mut h.events, &mut seen, approval_for(call)).await;
            let (risk, reason, can_grant, in_person) = request(&seen, call);
            assert_eq!(risk, ToolRisk::RunsCode, "{args}");
            assert!(!can_grant && !in_person, "{args}");
            assert!(
                reason.contains("runs code") && reason.contains("once only"),
                "{reason}"
            );
            // Only the harmless ones run; the others are denied.
            let d = if args.contains("touch ran-") {
                answer.clone()
            } else {
                ApprovalDecision::Deny { note: None }
            };
            decide(&e, &sid, call, d);
        }
        wait_for(&mut h.events, &mut seen, is_end).await;
        assert!(ws.join("ran-env.txt").exists() && ws.join("ran-nice.txt").exists());
        std::fs::remove_file(ws.join("ran-env.txt")).unwrap();
        std::fs::remove_file(ws.join("ran-nice.txt")).unwrap();
        assert!(
            e.core.approvals().list_grants().await.unwrap().is_empty(),
            "round {n}: nothing was granted"
        );
    }
    assert!(!ws.join("pwned").exists());
}
