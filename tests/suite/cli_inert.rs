//! Every value a file can carry is inert on every CLI surface: hostile titles, ids, model and
//! provider names, message texts and tool names are planted straight into a real database
//! (as a crafted restore or import could leave them), and no raw control or bidi character
//! reaches standard output or standard error of any command — lists, chats, trees, search,
//! usage, providers, exports to a terminal, errors that echo what was typed. An export into a
//! pipe keeps the exact bytes.

use super::cli::{parley, run, Run};
use parley_protocol::ToolCallStatus;
use parley_tests::*;
use rusqlite::params;
use std::path::Path;
use std::process::Stdio;

/// What a crafted file can hold: escape sequences (screen erase, clipboard write, concealed
/// text, window title, hyperlink), their single-byte C1 forms, bell, backspaces, carriage
/// return, bidi overrides, embeddings and isolates, zero-width joiners, NUL.
const HOSTILE: &[&str] = &[
    "\u{1b}[2J\u{1b}[H",
    "\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}",
    "\u{1b}[8mconcealed\u{1b}[0m",
    "\u{1b}]0;owned\u{1b}\\",
    "\u{9b}2J\u{9d}8;;http://x\u{9c}",
    "bell\u{7}\u{7}",
    "over\u{8}\u{8}\u{8}written",
    "safe\rrm -rf ~",
    "invoice\u{202e}fdp.exe",
    "\u{202a}\u{202b}emb\u{202c}\u{202d}",
    "\u{2066}iso\u{2067}\u{2068}late\u{2069}",
    "zero\u{200d}width\u{200b}joiner",
    "nul\u{0}byte\u{7f}",
];

/// A character a terminal acts on: C0 controls but line feed and tab, DEL, C1 controls, bidi
/// embeddings, overrides and isolates.
fn acts(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[track_caller]
fn inert(what: &str, r: &Run) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        let bad: Vec<char> = text.chars().filter(|c| acts(*c)).collect();
        assert!(
            bad.is_empty(),
            "{what}: {stream} holds {bad:?}:\n{}",
            text.escape_debug()
        );
    }
}

/// The planted chats: chat `i` holds hostile string `i` in its id, title, message ids, model,
/// provider, text, reasoning, tool name, arguments and output; returns the chat ids.
fn plant(dir: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(data::database(dir)).unwrap();
    parley_core::search::register(&c).unwrap();
    HOSTILE
        .iter()
        .enumerate()
        .map(|(i, h)| plant_chat(&c, i, h))
        .collect()
}

/// Chat `i`, with hostile string `h` in every value; returns its id.
fn plant_chat(c: &rusqlite::Connection, i: usize, h: &str) -> String {
    let sid = format!("chat{i}{h}");
    let (q, a) = (format!("q{i}{h}"), format!("a{i}{h}"));
    let t = 1_700_000_000_000i64 + i as i64 * 60_000;
    c.execute(
        "INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count, provider, model)
         VALUES (?1, ?2, ?3, ?3, ?4, 2, ?5, ?6)",
        params![sid, format!("needle title {h}"), t, a, format!("prov{h}"), format!("model{h}")],
    )
    .unwrap();
    let msg = "INSERT INTO messages(id, session_id, parent_id, role, turn_id, provider, model, created_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    c.execute(
        msg,
        params![
            q,
            sid,
            None::<String>,
            "user",
            None::<String>,
            None::<String>,
            None::<String>,
            t
        ],
    )
    .unwrap();
    let turn = format!("turn{i}{h}");
    c.execute(
        msg,
        params![
            a,
            sid,
            q,
            "assistant",
            turn,
            format!("prov{h}"),
            format!("model{h}"),
            t + 1
        ],
    )
    .unwrap();
    plant_parts(c, &q, &a, h);
    c.execute(
        "INSERT INTO turns(id, session_id, user_message_id, assistant_message_id, status, provider, model, started_at, ended_at, usage)
         VALUES (?1, ?2, ?3, ?4, 'completed', ?5, ?6, ?7, ?7, ?8)",
        params![turn, sid, q, a, format!("prov{h}"), format!("model{h}"), t, r#"{"input_tokens":10,"output_tokens":5}"#],
    )
    .unwrap();
    c.execute(
        "INSERT INTO providers(name, kind, base_url, default_model, created_at) VALUES (?1, 'openai-compatible', ?2, ?3, ?4)",
        params![format!("prov{i}{h}"), format!("http://127.0.0.1:9/{h}"), format!("model{h}"), t],
    )
    .unwrap();
    sid
}

/// The question's text, and the answer's reasoning, tool call, tool result and text.
fn plant_parts(c: &rusqlite::Connection, q: &str, a: &str, h: &str) {
    let status = serde_json::to_value(ToolCallStatus::Completed).unwrap();
    let part = "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, ?2, ?3, ?4, ?5)";
    c.execute(
        part,
        params![q, 0, "text", format!("needle question {h}"), None::<String>],
    )
    .unwrap();
    c.execute(
        part,
        params![a, 0, "reasoning", format!("thinking {h}"), None::<String>],
    )
    .unwrap();
    let call = serde_json::json!({"call_id": format!("c{h}"), "name": format!("tool{h}"), "status": status});
    c.execute(
        part,
        params![
            a,
            1,
            "tool_call",
            format!("{{\"path\":\"{}\"}}", h.escape_default()),
            call.to_string()
        ],
    )
    .unwrap();
    let result = serde_json::json!({"call_id": format!("c{h}"), "is_error": false});
    c.execute(
        part,
        params![
            a,
            2,
            "tool_result",
            format!("output {h}"),
            result.to_string()
        ],
    )
    .unwrap();
    c.execute(
        part,
        params![a, 3, "text", format!("needle answer {h}"), None::<String>],
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_are_inert_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = plant(d);
    let mut runs: Vec<(String, Vec<String>)> = vec![
        ("sessions list", vec!["sessions", "list"]),
        ("sessions list --json", vec!["sessions", "list", "--json"]),
        ("search", vec!["search", "needle", "--limit", "100"]),
        ("search --json", vec!["search", "needle", "--json"]),
        ("search a tool name", vec!["search", "tool"]),
        ("usage", vec!["usage"]),
        ("usage --json", vec!["usage", "--json"]),
        ("providers list", vec!["providers", "list"]),
        ("providers list --json", vec!["providers", "list", "--json"]),
    ]
    .into_iter()
    .map(|(w, a)| (w.to_owned(), a.into_iter().map(str::to_owned).collect()))
    .collect();
    // (An id with a NUL cannot be typed: its chat is shown by the lists only.)
    for id in ids.iter().filter(|id| !id.contains('\u{0}')) {
        for args in [
            vec!["sessions", "show", id],
            vec!["sessions", "show", id, "--json"],
            vec!["sessions", "tree", id],
            vec!["sessions", "tree", id, "--json"],
            vec!["search", "needle", "--chat", id],
        ] {
            runs.push((
                args.join(" "),
                args.into_iter().map(str::to_owned).collect(),
            ));
        }
    }
    for (what, args) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(d, &args).await;
        assert_eq!(r.code, 0, "{what}: {}", r.stderr.escape_debug());
        inert(what, &r);
    }

    // What is shown stands for what is there: the markers, and JSON that reads back exact.
    let r = run(d, &["sessions", "list"]).await;
    for marker in [
        "⟦U+001B⟧[2J",
        "⟦U+009B⟧2J",
        "⟦U+202E⟧",
        "⟦U+200D⟧",
        "⟦U+0007⟧",
    ] {
        assert!(r.stdout.contains(marker), "{marker}: {}", r.stdout);
    }
    assert_eq!(r.stdout.lines().count(), HOSTILE.len(), "one line per chat");
    let r = run(d, &["sessions", "list", "--json"]).await;
    let list: Vec<parley_protocol::ChatSummary> = serde_json::from_str(&r.stdout).unwrap();
    let mut got: Vec<String> = list.into_iter().map(|s| s.id.0).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want, "JSON keeps every id exact");
    let r = run(d, &["sessions", "show", &ids[1], "--raw"]).await;
    assert!(r.stdout.contains(HOSTILE[1]), "--raw is exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_logs_that_echo_values_are_inert() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = plant(d);
    // Log lines go through the same writer (PARLEY_LOG asks for every level).
    for args in [
        vec!["sessions", "show", ids[0].as_str()],
        vec!["search", "needle"],
        vec!["sessions", "show", "nope\u{1b}]52;c;eA==\u{7}"],
    ] {
        let out = parley(d)
            .env("PARLEY_LOG", "trace")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        inert(
            &format!("PARLEY_LOG=trace {args:?}"),
            &Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        );
    }

    // Errors that echo what was typed.
    for h in HOSTILE.iter().copied().filter(|h| !h.contains('\u{0}')) {
        let nope = format!("nope{h}");
        let missing = format!("/nonexistent/{h}");
        let flag = format!("--bogus{h}");
        for args in [
            vec!["sessions", "show", &nope],
            vec!["search", "x", "--chat", &nope],
            vec!["search", "x", "--since", h],
            vec!["search", "x", "--role", h],
            vec!["export", "--chat", &nope],
            vec!["providers", "remove", &nope],
            vec!["import", &missing],
            vec![h],
            vec!["sessions", "list", &flag],
        ] {
            let r = run(d, &args).await;
            assert_ne!(r.code, 0, "{args:?}");
            inert(&format!("{args:?}"), &r);
        }
    }
}

/// What `parley export` writes to a terminal (a pseudo-terminal here) and into a pipe.
#[cfg(unix)]
async fn export_to_terminal(dir: &Path, args: &[&str]) -> String {
    use std::io::Read;
    let (master, slave) = open_pty();
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut seen = Vec::new();
        let mut buf = [0u8; 8192];
        // Ends with EIO once the child has closed the terminal.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let mut cmd = parley(dir);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // The command holds its copy of the terminal until dropped: the reader ends only when
    // every copy is closed.
    drop(cmd);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    String::from_utf8(seen).unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_inert_on_a_terminal_and_exact_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = plant(d);
    for format in ["md", "json"] {
        let shown = export_to_terminal(d, &["export", "--format", format]).await;
        // The terminal turns "\n" into "\r\n" on output: that carriage return is its own.
        let shown = shown.replace("\r\n", "\n");
        assert!(
            !shown.chars().any(acts),
            "{format} on a terminal: {}",
            shown.escape_debug()
        );
        assert!(shown.contains("needle answer"), "{format}: {shown}");
        // Into a pipe: the exact bytes (Markdown holds the texts as they are; JSON reads back
        // the same values).
        let piped = run(d, &["export", "--format", format]).await;
        assert_eq!(piped.code, 0, "{}", piped.stderr);
        inert(
            &format!("export --format {format} (stderr)"),
            &Run {
                code: 0,
                stdout: String::new(),
                stderr: piped.stderr.clone(),
            },
        );
        if format == "md" {
            for h in HOSTILE {
                assert!(
                    piped.stdout.contains(&format!("needle answer {h}")),
                    "{h:?}"
                );
            }
        } else {
            let file: parley_protocol::ExportFile = serde_json::from_str(&piped.stdout).unwrap();
            let on_terminal: parley_protocol::ExportFile = serde_json::from_str(&shown).unwrap();
            assert_eq!(file.chats.len(), ids.len());
            assert_eq!(
                on_terminal.chats, file.chats,
                "the terminal's JSON is the same data"
            );
        }
    }
}
