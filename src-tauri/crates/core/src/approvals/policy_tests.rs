//! Tests of `policy.rs`, table-driven.
use super::*;

const W: &str = "/home/u/work-a";

#[tokio::test]
async fn a_decision_reaches_exactly_its_call() {
    let gate: Gate = Gate::new();
    let a = gate.register("a");
    let b = gate.register("b");
    assert_eq!(gate.pending_ids(), ["a", "b"]);
    gate.decide(
        "b",
        Decision::Deny {
            note: Some("no".into()),
        },
    )
    .unwrap();
    gate.decide("a", Decision::AllowOnce).unwrap();
    let cancel = CancellationToken::new();
    let t = Duration::from_secs(5);
    assert_eq!(
        a.wait(t, &cancel).await,
        Outcome::Decided(Decision::AllowOnce)
    );
    assert_eq!(
        b.wait(t, &cancel).await,
        Outcome::Decided(Decision::Deny {
            note: Some("no".into())
        })
    );
    // A second answer, or one for an unknown call, is refused.
    assert_eq!(
        gate.decide("a", Decision::AllowOnce),
        Err(NotPending("a".into()))
    );
    assert!(gate.decide("zzz", Decision::AllowOnce).is_err());
}

#[tokio::test]
async fn stop_aborts_and_silence_times_out_as_denied() {
    let gate: Gate = Gate::new();
    let cancel = CancellationToken::new();
    let p = gate.register("a");
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stopper.cancel();
    });
    let t0 = std::time::Instant::now();
    assert_eq!(
        p.wait(Duration::from_secs(60), &cancel).await,
        Outcome::Aborted
    );
    assert!(t0.elapsed() < Duration::from_secs(1));

    let p = gate.register("b");
    gate.abort_all();
    assert_eq!(
        p.wait(Duration::from_secs(60), &CancellationToken::new())
            .await,
        Outcome::Aborted,
        "a dropped sender means abort"
    );

    let p = gate.register("c");
    assert_eq!(
        p.wait(Duration::from_millis(30), &CancellationToken::new())
            .await,
        Outcome::TimedOut
    );
    gate.forget("c");
    assert!(gate.pending_ids().is_empty());
}

#[test]
fn grants_are_exact_calls_never_prefixes() {
    let mut g = Grants::new();
    assert!(g.grant(W, "run_shell", r#"{"command":"cargo test","timeout":60}"#));
    assert!(g.covers(
        W,
        "run_shell",
        r#"{ "timeout": 60, "command": "cargo test" }"#
    ));
    assert!(!g.covers(
        W,
        "run_shell",
        r#"{"command":"cargo test --release","timeout":60}"#
    ));
    assert!(!g.covers(W, "run_shell", r#"{"command":"cargo test"}"#));
    assert!(!g.covers(W, "run_shell", r#"{"command":"cargo test ","timeout":60}"#));
    assert!(!g.covers(W, "write_file", r#"{"command":"cargo test","timeout":60}"#));
    assert!(!g.covers(W, "run_shell", "not json"));
    assert!(!g.grant(W, "run_shell", "{truncated"));
    assert!(g.revoke(W, "run_shell", r#"{"timeout":60,"command":"cargo test"}"#));
    assert!(!g.covers(W, "run_shell", r#"{"command":"cargo test","timeout":60}"#));
    assert_eq!(
        canonical_arguments(r#"{"b":{"y":1,"x":[{"d":1,"c":2}]},"a":"é"}"#).unwrap(),
        r#"{"a":"é","b":{"x":[{"c":2,"d":1}],"y":1}}"#
    );
}

#[test]
fn only_read_only_or_exactly_granted_calls_skip_the_question() {
    let mut session = Grants::new();
    session.grant(W, "write_file", r#"{"path":"a.txt","content":"x"}"#);
    let always = Grants::new();
    let facts = |tool, args, risk| CallFacts {
        workspace: W,
        tool,
        arguments: args,
        risk,
        always_ask: None,
        flagged: false,
        ignore_grants: false,
    };
    let read = facts("read_file", r#"{"path":"a"}"#, Risk::ReadOnly);
    assert_eq!(needs_approval(&read, &session, &always), None);
    let granted = facts(
        "write_file",
        r#"{"content":"x","path":"a.txt"}"#,
        Risk::Mutating,
    );
    assert_eq!(needs_approval(&granted, &session, &always), None);
    // A caller that applies no grants is asked about the granted call too, whichever
    // grant would cover it (this session's or a saved one).
    let mut saved = Grants::new();
    saved.grant(W, "write_file", r#"{"path":"a.txt","content":"x"}"#);
    for (s, a) in [(&session, &always), (&always, &saved)] {
        assert_eq!(needs_approval(&granted, s, a), None);
        let ignoring = CallFacts {
            ignore_grants: true,
            ..facts(
                "write_file",
                r#"{"content":"x","path":"a.txt"}"#,
                Risk::Mutating,
            )
        };
        assert!(needs_approval(&ignoring, s, a).is_some());
        // Read-only calls are not a matter of grants.
        let read = CallFacts {
            ignore_grants: true,
            ..facts("read_file", r#"{"path":"a"}"#, Risk::ReadOnly)
        };
        assert_eq!(needs_approval(&read, s, a), None);
    }
    let other = facts(
        "write_file",
        r#"{"path":"b.txt","content":"x"}"#,
        Risk::Mutating,
    );
    assert!(needs_approval(&other, &session, &always).is_some());
    // Raising flags always win over grants and over "read-only".
    let mut flagged = read.clone();
    flagged.flagged = true;
    assert!(needs_approval(&flagged, &session, &always).is_some());
    let mut protected = granted.clone();
    protected.always_ask = Some("It writes to version-control internals.".into());
    assert!(needs_approval(&protected, &session, &always).is_some());
    let mut compound = facts(
        "run_shell",
        r#"{"command":"ls; rm -rf /"}"#,
        Risk::Destructive,
    );
    session.grant(W, "run_shell", r#"{"command":"ls; rm -rf /"}"#);
    compound.always_ask = crate::tools::shell::classify("ls; rm -rf /")
        .always_ask
        .map(|w| format!("This command always asks because {w}."));
    assert!(
        needs_approval(&compound, &session, &always)
            .unwrap()
            .contains("chains several commands"),
        "a compound command is never covered, even by an exact grant"
    );
}

#[test]
fn grants_apply_only_in_the_workspace_they_were_given_in() {
    let args = r#"{"command":"./run.sh"}"#;
    let shell = |workspace| CallFacts {
        workspace,
        tool: "run_shell",
        arguments: args,
        risk: Risk::Destructive,
        always_ask: None,
        flagged: false,
        ignore_grants: false,
    };
    let mut g = Grants::new();
    assert!(g.grant(W, "run_shell", args));
    assert!(
        !g.grant("", "run_shell", args),
        "a grant names its workspace"
    );
    let elsewhere = [
        "/home/u/work-b",
        "/home/u/work-a/sub",
        "/home/u/work-a/",
        "/home/u/work",
        "/home/u",
        "/",
        "",
        "/HOME/U/WORK-A",
        "/home/u/work-a/..",
    ];
    for w in elsewhere {
        assert!(
            !g.covers(w, "run_shell", args),
            "{w:?} is another workspace"
        );
        let facts = shell(w);
        let empty = Grants::new();
        assert!(
            needs_approval(&facts, &g, &empty).is_some(),
            "session {w:?}"
        );
        assert!(needs_approval(&facts, &empty, &g).is_some(), "saved {w:?}");
    }
    assert!(g.covers(W, "run_shell", args));
    // Revoking names the workspace too.
    assert!(!g.revoke("/home/u/work-b", "run_shell", args));
    assert!(g.revoke(W, "run_shell", args));
    assert!(!g.covers(W, "run_shell", args));

    // Changing a chat's workspace forgets what was granted for the chat.
    let a = Approvals::new(Grants::new());
    a.grant_session("s1", W, "run_shell", args);
    let facts = shell(W);
    assert_eq!(a.check("s1", &facts), None);
    assert!(a.check("s2", &facts).is_some(), "another chat");
    a.forget_chat("s1");
    assert!(a.check("s1", &facts).is_some());
}

#[test]
fn a_call_that_runs_code_is_never_covered_and_never_granted() {
    // Saved before the command was known to run code: exact grants of every kind.
    let mut session = Grants::new();
    let mut saved = Grants::new();
    let commands = [
        "python3.12 -c 'import os'",
        "mawk 'BEGIN{system(\"id\")}'",
        "sqlite3 x.db '.shell id'",
        "gdb -ex '!id'",
        "chrt 1 id",
        "java -jar x.jar",
        "ssh -o ProxyCommand=id host",
    ];
    for cmd in commands {
        let args = serde_json::json!({ "command": cmd }).to_string();
        session.grant(W, "run_shell", &args);
        saved.grant(W, "run_shell", &args);
        // Even with no "always asks" reason given, the risk alone keeps it asking.
        for always_ask in [None, Some("This command runs code.".to_owned())] {
            let facts = CallFacts {
                workspace: W,
                tool: "run_shell",
                arguments: &args,
                risk: Risk::RunsCode,
                always_ask: always_ask.clone(),
                flagged: false,
                ignore_grants: false,
            };
            assert!(needs_approval(&facts, &session, &saved).is_some(), "{cmd}");
            assert!(!can_grant(Risk::RunsCode, always_ask.as_deref()), "{cmd}");
        }
    }
    assert!(can_grant(Risk::Destructive, None) && can_grant(Risk::Network, None));
    assert!(!can_grant(Risk::Mutating, Some("a hard link")));
    // It is the highest bar.
    assert!(Risk::RunsCode > Risk::Destructive && Risk::Destructive > Risk::Network);
}
