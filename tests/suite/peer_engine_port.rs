//! The built-in engine's port taken by another program between Parley choosing it and the
//! engine binding it (tests/engine/port_thief.py takes it and answers every request there,
//! while the engine it starts fails to bind): Parley notices that what answers is not its
//! engine before sending it anything with the engine's key, leaves it alone, and starts the
//! engine on another port; the message is answered by the real engine.
//!
//! Run by `cargo xtask test` in its real-peer step, like `peer_engine`.

use super::peer_engine::{chat, last_answer, required, turn, End};
use parley_core::providers::HttpSettings;
use parley_tests::open_core;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// When the test ends, however it ends: the program holding the port is ended (its process
/// id is in the file it wrote), and the engine the other tests use is named again.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(&self.0).ok();
        if let Some(pid) = pid.and_then(|p| p.trim().parse::<i32>().ok()) {
            // SAFETY: kill(2) on the process id the stand-in wrote for itself.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if let Some(real) = std::env::var_os("PARLEY_LLAMA_SERVER") {
            std::env::set_var("PARLEY_ENGINE", real);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs llama-server; run by `cargo xtask test`"]
async fn peer_engine_port_taken_by_another_program_is_left_to_it() {
    let real = required("PARLEY_LLAMA_SERVER");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let thief = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/port_thief.py");
    let engine = dir.path().join("engine.sh");
    std::fs::write(
        &engine,
        format!(
            "#!/bin/sh\nexec python3 '{}' --real '{}' --state '{}' -- \"$@\"\n",
            thief.display(),
            real.display(),
            state.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&engine, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _cleanup = Cleanup(state.join("impostor.pid"));
    std::env::set_var("PARLEY_ENGINE", &engine);

    let core = open_core(&dir.path().join("data"), HttpSettings::default()).await;
    let model = required("PARLEY_LLAMA_MODEL");
    core.models()
        .add(&model.display().to_string(), Some("smol-port".into()))
        .await
        .unwrap();
    let id = chat(&core, 16).await;
    let end = turn(&core, &id, "Say hello.", usize::MAX, || {}).await;
    assert!(
        state.join("impostor.pid").is_file(),
        "the stand-in took the port"
    );
    let log = core.models().log().join("\n");
    assert!(matches!(end, End::Completed(n) if n > 0), "{end:?}\n{log}");
    let answer = last_answer(&core, &id).await;
    assert!(!answer.contains("IMPOSTOR"), "{answer}");
    assert!(log.contains("was taken: trying another"), "{log}");

    // What the other program was sent: health checks, never the engine's key.
    let seen = std::fs::read_to_string(state.join("impostor.log")).unwrap_or_default();
    let seen: Vec<serde_json::Value> = seen
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!seen.is_empty(), "it was asked (the race happened): {log}");
    for q in &seen {
        assert_eq!(q["path"], "/health", "{seen:?}");
        assert!(q["authorization"].is_null(), "{seen:?}");
    }
    core.models().stop_engine().await;
}
