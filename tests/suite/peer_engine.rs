//! The built-in engine for real: llama-server (the portable build) run by Parley itself as the
//! provider "On this computer (built in)", with SmolLM2-135M added from disk. A message is
//! answered with no provider configured; Stop ends an answer; killing the engine with SIGKILL
//! mid-answer ends the turn with what arrived and a sentence saying so, and the next message
//! starts it again; after the idle time it is unloaded; `parley ask` leaves no engine behind.
//! Bad input: a file that is no model, one cut short, an engine program that is missing.
//!
//! `cargo xtask test` runs these in its real-peer step (`PARLEY_LLAMA_SERVER`,
//! `PARLEY_LLAMA_MODEL`); without those variables they fail saying what is missing.

use parley_core::providers::HttpSettings;
use parley_core::Core;
use parley_protocol::{
    ChatId, ChatParams, EngineState, ErrorInfo, EventMsg, SendOptions, BUILTIN_PROVIDER,
};
use parley_tests::{open_core, parley_bin};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub(super) fn required(var: &str) -> PathBuf {
    let v = std::env::var_os(var).unwrap_or_else(|| {
        panic!("{var} is not set: run the real-peer suite through `cargo xtask test`")
    });
    PathBuf::from(v)
}

/// The engine the core finds: the portable llama-server the peer step built.
fn use_engine() {
    std::env::set_var("PARLEY_ENGINE", required("PARLEY_LLAMA_SERVER"));
}

/// The process ids of engines answering to `alias` (their command line names it).
fn engines(alias: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        if args
            .windows(2)
            .any(|w| w[0] == b"--alias" && w[1] == alias.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

async fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: never happened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn chat(core: &Core, max_tokens: u32) -> ChatId {
    let s = core.chats().create_chat(None).await.unwrap();
    core.chats()
        .set_chat_params(
            &s.id,
            ChatParams {
                temperature: Some(0.0),
                max_output_tokens: Some(max_tokens),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.id
}

/// How a turn ended: completed (with its text deltas counted), stopped, or failed.
#[derive(Debug)]
pub(super) enum End {
    Completed(usize),
    Stopped,
    Failed(ErrorInfo),
}

/// Sends `text`; after `after` text deltas runs `mid` once; returns how the turn ended.
pub(super) async fn turn(
    core: &Core,
    id: &ChatId,
    text: &str,
    after: usize,
    mid: impl FnOnce(),
) -> End {
    let mut h = core
        .chats()
        .send_message(id, text, SendOptions::default())
        .await
        .unwrap();
    let (mut deltas, mut mid) = (0, Some(mid));
    loop {
        match h.events.recv().await.expect("the turn ends").msg {
            EventMsg::TextDelta { .. } => {
                deltas += 1;
                if deltas == after {
                    if let Some(f) = mid.take() {
                        f();
                    }
                }
            }
            EventMsg::TurnCompleted { .. } => return End::Completed(deltas),
            EventMsg::TurnStopped { .. } => return End::Stopped,
            EventMsg::TurnFailed { error, .. } => return End::Failed(error),
            _ => {}
        }
    }
}

pub(super) async fn last_answer(core: &Core, id: &ChatId) -> String {
    let h = core.history().full_history(id).await.unwrap();
    h.messages.last().map(|m| m.text()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_engine_answers_stops_survives_a_kill_and_unloads() {
    use_engine();
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), HttpSettings::default()).await;
    let alias = format!("smol-{}", std::process::id());
    let model = required("PARLEY_LLAMA_MODEL");
    let added = core
        .models()
        .add(&model.display().to_string(), Some(alias.clone()))
        .await
        .unwrap();
    assert_eq!(added.architecture, "llama");
    assert!(added.chat_template);
    let providers = core.providers().list_providers().await.unwrap();
    assert_eq!(providers.len(), 1, "{providers:?}");
    assert_eq!(providers[0].name, BUILTIN_PROVIDER);

    // No provider configured: the built-in engine answers, started on demand; while it loads,
    // its status says what it is doing.
    let id = chat(&core, 24).await;
    let watched = core.clone();
    let lines = tokio::spawn(async move {
        let mut seen: Vec<String> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let s = watched.models().status();
            if let Some(m) = s.message.filter(|_| s.state == EngineState::Loading) {
                if seen.last() != Some(&m) {
                    seen.push(m);
                }
            }
            if s.state == EngineState::Ready || s.state == EngineState::Failed {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        seen
    });
    let end = turn(&core, &id, "Say hello.", usize::MAX, || {}).await;
    let lines = lines.await.unwrap();
    assert!(
        lines.iter().any(
            |l| l.starts_with(&format!("Reading {alias} into memory: ")) && l.contains("% of ")
        ),
        "{lines:?}"
    );
    assert!(matches!(end, End::Completed(n) if n > 1), "{end:?}");
    let h = core.history().full_history(&id).await.unwrap();
    assert_eq!(h.messages[1].provider.as_deref(), Some(BUILTIN_PROVIDER));
    assert_eq!(h.messages[1].model.as_deref(), Some(alias.as_str()));
    assert!(!h.messages[1].text().trim().is_empty());
    assert_eq!(core.models().status().state, EngineState::Ready);
    let first = engines(&alias);
    assert_eq!(first.len(), 1, "one engine runs: {first:?}");

    // Stop mid-answer: what arrived is kept.
    let long = "Count from 1 to 500, one number per line.";
    let id = chat(&core, 1500).await;
    let stopper = core.clone();
    let sid = id.clone();
    let end = turn(&core, &id, long, 3, move || {
        tokio::spawn(async move { stopper.chats().stop_turn(&sid).await });
    })
    .await;
    assert!(matches!(end, End::Stopped), "{end:?}");
    assert!(!last_answer(&core, &id).await.is_empty());

    // SIGKILL mid-answer: the turn ends saying so, with what arrived. A fresh chat, so the
    // answer is the long count again (after a stopped one, a small model may answer in a few
    // tokens, and the kill would come after the last of them).
    let pid = first[0];
    let id = chat(&core, 1500).await;
    let end = turn(&core, &id, long, 2, move || {
        // SAFETY: kill(2) on a process id this test found by its command line.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    })
    .await;
    let End::Failed(error) = end else {
        panic!("the turn went on after the engine was killed: {end:?}")
    };
    assert!(
        error.message.contains("built-in engine stopped"),
        "{error:?}"
    );
    assert!(error.retryable);
    assert!(
        !last_answer(&core, &id).await.is_empty(),
        "what arrived is kept"
    );

    // The next message starts the engine again.
    let end = turn(&core, &id, "Say hello.", usize::MAX, || {}).await;
    assert!(matches!(end, End::Completed(_)), "{end:?}");
    let second = engines(&alias);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second, first);

    // Unloaded after the idle time.
    core.models().set_idle(1).await.unwrap();
    let watched = core.clone();
    wait_until("unloaded after 1 s idle", 15, || {
        watched.models().status().state == EngineState::Stopped
    })
    .await;
    wait_until("the process ended", 10, || engines(&alias).is_empty()).await;
    assert!(core.models().log().iter().any(|l| l.contains("unused for")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_engine_bad_files_and_a_missing_engine_say_so() {
    use_engine();
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), HttpSettings::default()).await;
    let model = std::fs::read(required("PARLEY_LLAMA_MODEL")).unwrap();

    // Files that are no model, or cut short in their header, are refused when added.
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "text.gguf",
            b"hello, I am not a model".to_vec(),
            "not a GGUF",
        ),
        ("empty.gguf", Vec::new(), "not a GGUF"),
        ("header-cut.gguf", model[..200].to_vec(), "cut short"),
        (
            "png.gguf",
            b"\x89PNG\r\n\x1a\n0000000000".to_vec(),
            "not a GGUF",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = core
            .models()
            .add(&path.display().to_string(), None)
            .await
            .expect_err(name);
        assert!(e.to_string().contains(says), "{name}: {e}");
    }
    assert!(core.models().list().await.unwrap().installed.is_empty());

    // Its header whole but its weights cut: added, and the engine's failure to load it is a
    // sentence, not a hang or a crash.
    let cut = dir.path().join("weights-cut.gguf");
    std::fs::write(&cut, &model[..model.len() / 2]).unwrap();
    core.models()
        .add(&cut.display().to_string(), Some("cut".into()))
        .await
        .unwrap();
    let id = chat(&core, 16).await;
    let end = turn(&core, &id, "hello", usize::MAX, || {}).await;
    let End::Failed(error) = end else {
        panic!("a model cut short was served: {end:?}")
    };
    assert!(error.message.contains("stopped while loading"), "{error:?}");
    assert_eq!(core.models().status().state, EngineState::Failed);
    assert_eq!(last_answer(&core, &id).await, "", "nothing was answered");

    // The engine's program missing: a sentence naming it.
    std::env::set_var("PARLEY_ENGINE", dir.path().join("no-such-engine"));
    let end = turn(&core, &id, "hello again", usize::MAX, || {}).await;
    use_engine();
    let End::Failed(error) = end else {
        panic!("{end:?}")
    };
    assert!(error.message.contains("no-such-engine"), "{error:?}");
    let h = core.history().full_history(&id).await.unwrap();
    assert!(
        h.messages.iter().any(|m| m.text() == "hello again"),
        "the message is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_engine_from_the_cli_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let alias = format!("cli-smol-{}", std::process::id());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(parley_bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("PARLEY_ENGINE", required("PARLEY_LLAMA_SERVER"))
            .output()
            .unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "{args:?}: {o}\n{e}");
        o
    };
    let model = required("PARLEY_LLAMA_MODEL").display().to_string();
    run(&["models", "add", &model, "--name", &alias]);
    let listed: serde_json::Value =
        serde_json::from_str(&run(&["models", "list", "--json"])).unwrap();
    assert_eq!(listed["installed"][0]["name"], alias.as_str());
    assert!(run(&["providers", "list"]).contains(BUILTIN_PROVIDER));
    let answer = run(&["ask", "Say hello in one short sentence."]);
    assert!(!answer.trim().is_empty());
    assert!(
        engines(&alias).is_empty(),
        "parley ask left its engine running"
    );
    let status = run(&["models", "status"]);
    assert!(status.contains("engine: stopped"), "{status}");
    assert!(run(&["models", "remove", &alias]).contains("left where it is"));
    assert!(
        std::path::Path::new(&model).exists(),
        "the user's file stays"
    );
}
