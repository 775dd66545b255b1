//! `parley-bench import`: a 100 MB export of each format Parley imports (its own, ChatGPT's and
//! Claude's `conversations.json`), generated here, imported by the release `parley` CLI into a
//! fresh data folder. Wall time and the child's peak resident memory (`wait4`'s `ru_maxrss`)
//! against the budget of docs/PERFORMANCE.md: at least 20 MB/s, and peak memory within twice
//! the largest chat over what the same command takes to import a file of one small chat.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TARGET_BYTES: u64 = 100 << 20;
/// The one large chat of each file (the others are a few hundred KB at most).
const LARGEST_MESSAGES: usize = 4_000;

/// A message's text: about `len` bytes of prose, different for each `i`.
fn prose(i: usize, len: usize) -> String {
    let words = [
        "the",
        "import",
        "reads",
        "one",
        "chat",
        "at",
        "a",
        "time",
        "and",
        "writes",
        "it",
        "into",
        "staging",
        "before",
        "merging",
        "Ünïcödé",
        "👋",
        "\"quoted\"",
        "line\nbreak",
    ];
    let mut s = format!("{i}: ");
    let mut k = i;
    while s.len() < len {
        s.push_str(words[k % words.len()]);
        s.push(' ');
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    s
}

/// How many messages chat `c` has (the largest one first, then a spread of small ones).
fn messages_in(c: usize) -> usize {
    if c == 0 {
        LARGEST_MESSAGES
    } else {
        10 + (c * 37) % 190
    }
}

fn parley_chat(c: usize) -> Value {
    let sid = format!("bench-{c}");
    let n = messages_in(c);
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("{sid}-{i}"), "session_id": sid,
                   "parent_id": if i > 0 { Value::from(format!("{sid}-{}", i - 1)) } else { Value::Null },
                   "role": if i.is_multiple_of(2) { "user" } else { "assistant" }, "created_at": 1_700_000_000_000i64 + i as i64,
                   "parts": [{"type": "text", "text": prose(c * 7 + i, 900)}]})
        })
        .collect();
    json!({"session": {"id": sid, "title": format!("Chat {c}"), "created_at": 1_700_000_000_000i64,
                       "updated_at": 1_700_000_000_000i64, "message_count": n, "params": {}},
           "head": format!("{sid}-{}", n - 1), "messages": messages, "turns": []})
}

fn chatgpt_chat(c: usize) -> Value {
    let n = messages_in(c);
    let mut mapping = serde_json::Map::new();
    // A hidden system prompt at the root, as ChatGPT writes it: every message hangs below it.
    mapping.insert(
        format!("{c}-sys"),
        json!({"parent": null, "children": [format!("{c}-0")], "message": {
            "author": {"role": "system"}, "content": {"content_type": "text", "parts": ["You are ChatGPT"]},
            "metadata": {"is_visually_hidden_from_conversation": true}}}),
    );
    for i in 0..n {
        let parent = if i == 0 {
            format!("{c}-sys")
        } else {
            format!("{c}-{}", i - 1)
        };
        let children: Vec<String> = if i + 1 < n {
            vec![format!("{c}-{}", i + 1)]
        } else {
            vec![]
        };
        mapping.insert(
            format!("{c}-{i}"),
            json!({"parent": parent, "children": children, "message": {
                "author": {"role": if i.is_multiple_of(2) { "user" } else { "assistant" }},
                "create_time": 1_700_000_000.0 + i as f64,
                "content": {"content_type": "text", "parts": [prose(c * 7 + i, 900)]},
                "metadata": {"model_slug": "gpt-4o"}, "recipient": "all"}}),
        );
    }
    json!({"title": format!("Chat {c}"), "create_time": 1_700_000_000.0, "update_time": 1_700_000_100.0,
           "mapping": mapping, "current_node": format!("{c}-{}", n - 1), "conversation_id": format!("conv-{c}")})
}

fn claude_chat(c: usize) -> Value {
    let n = messages_in(c);
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            json!({"uuid": format!("{c}-{i}"), "sender": if i.is_multiple_of(2) { "human" } else { "assistant" },
                   "created_at": "2024-05-01T12:00:00.000Z",
                   "content": [{"type": "text", "text": prose(c * 7 + i, 900)}],
                   "parent_message_uuid": if i > 0 { Value::from(format!("{c}-{}", i - 1)) } else { Value::Null }})
        })
        .collect();
    json!({"uuid": format!("conv-{c}"), "name": format!("Chat {c}"), "created_at": "2024-05-01T12:00:00Z",
           "updated_at": "2024-05-01T13:00:00Z", "chat_messages": messages})
}

/// Writes a file of `format` of about `target` bytes, a chat at a time; returns the bytes of
/// its largest chat.
fn generate(format: &str, file: &Path, target: u64, first: usize) -> u64 {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    let (open, close): (&[u8], &[u8]) = match format {
        "parley" => (
            b"{\"format\":\"parley-chats\",\"version\":1,\"exported_at\":0,\"chats\":[",
            b"]}",
        ),
        _ => (b"[", b"]"),
    };
    out.write_all(open).unwrap();
    let (mut written, mut largest) = (open.len() as u64, 0u64);
    let mut c = first;
    while written < target {
        let chat = match format {
            "parley" => parley_chat(c),
            "chatgpt" => chatgpt_chat(c),
            _ => claude_chat(c),
        };
        let bytes = serde_json::to_vec(&chat).unwrap();
        if c > first {
            out.write_all(b",").unwrap();
        }
        out.write_all(&bytes).unwrap();
        written += bytes.len() as u64 + 1;
        largest = largest.max(bytes.len() as u64);
        c += 1;
        if target < 1 << 20 {
            break;
        }
    }
    out.write_all(close).unwrap();
    out.flush().unwrap();
    largest
}

/// Runs `parley import FILE` on a fresh data folder; returns its wall time and peak RSS
/// (bytes). It is started by a small process of its own (`parley-bench import-child`): Linux
/// counts the memory of the process that started a program in that program's `ru_maxrss`, and
/// this one holds the generated files' last chats.
fn import(file: &Path, dry_run: bool) -> (Duration, u64) {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("import-child")
        .arg(file)
        .arg(data.path())
        .args(dry_run.then_some("--dry-run"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "parley import {} failed",
        file.display()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut figures = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    let (micros, kb) = (figures.next().unwrap(), figures.next().unwrap());
    (Duration::from_micros(micros), kb * 1024)
}

/// `parley-bench import-child FILE DATA [--dry-run]`: runs `parley --data-dir DATA import FILE`
/// and prints its wall time (µs) and peak resident memory (KB, `ru_maxrss`).
pub fn child(args: &[String]) {
    let (file, data) = (&args[0], &args[1]);
    let dry_run = args.get(2).map(String::as_str) == Some("--dry-run");
    let t = Instant::now();
    // Waited for by `wait4` below, which also reads its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(parley_tests::parley_bin())
        .arg("--data-dir")
        .arg(data)
        .args(["import", "--json"])
        .args(dry_run.then_some("--dry-run"))
        .arg(file)
        .env_remove("PARLEY_DATA_DIR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let (status, rusage) = wait4(child.id() as i32);
    let took = t.elapsed();
    assert_eq!(status, 0, "parley import {file} failed");
    // ru_maxrss is in kilobytes on Linux.
    println!("{} {}", took.as_micros(), rusage.ru_maxrss);
}

/// Waits for the child `pid`; its exit status and resource usage.
fn wait4(pid: i32) -> (i32, libc::rusage) {
    // SAFETY: an all-zero rusage is a valid value of that plain C struct.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0;
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are to live locals.
    #[allow(unsafe_code)]
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage)
}

/// Prints the import table.
pub fn run() {
    let dir = tempfile::tempdir().unwrap();
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!();
    println!("| import (release `parley import`, fresh data folder) | file | largest chat | time | MB/s | peak RSS | baseline RSS | (peak − baseline) / largest chat | preview (read, stage, the merge's decisions; nothing written): time, peak RSS, (peak − baseline) / largest chat |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for format in ["parley", "chatgpt", "claude"] {
        let small: PathBuf = dir.path().join(format!("{format}-small.json"));
        generate(format, &small, 1, 1);
        let big: PathBuf = dir.path().join(format!("{format}.json"));
        eprintln!("generating a 100 MB {format} export…");
        let largest = generate(format, &big, TARGET_BYTES, 0);
        let size = std::fs::metadata(&big).unwrap().len();
        let (_, base) = import(&small, false);
        let (took, peak) = import(&big, false);
        let (dry_took, dry_peak) = import(&big, true);
        println!(
            "| {format} | {:.1} MB | {:.1} MB | {:.2} s | {:.1} | {:.1} MB | {:.1} MB | {:.2}× | {:.2} s, {:.1} MB, {:.2}× |",
            mb(size),
            mb(largest),
            took.as_secs_f64(),
            mb(size) / took.as_secs_f64(),
            mb(peak),
            mb(base),
            peak.saturating_sub(base) as f64 / largest as f64,
            dry_took.as_secs_f64(),
            mb(dry_peak),
            dry_peak.saturating_sub(base) as f64 / largest as f64
        );
        let _ = std::fs::remove_file(&big);
    }
    let small: PathBuf = dir.path().join("parley-small.json");
    let (_, base) = import(&small, false);
    for (parts, each) in [(1, 15usize << 20), (4, 10 << 20)] {
        let file = dir.path().join("huge.json");
        let chat = huge_part_chat(parts, each);
        std::fs::write(&file, parley_file(&chat)).unwrap();
        let (took, peak) = import(&file, false);
        println!(
            "| parley, one chat of {parts} part(s) of {} MB | {:.1} MB | {:.1} MB | {:.2} s | {:.1} | {:.1} MB | {:.1} MB | {:.2}× | |",
            each >> 20,
            mb(chat.len() as u64),
            mb(chat.len() as u64),
            took.as_secs_f64(),
            mb(chat.len() as u64) / took.as_secs_f64(),
            mb(peak),
            mb(base),
            peak.saturating_sub(base) as f64 / chat.len() as f64
        );
    }
}

/// A Parley file of the one chat `chat` (its JSON).
fn parley_file(chat: &[u8]) -> Vec<u8> {
    let mut f =
        b"{\"format\":\"parley-chats\",\"version\":1,\"exported_at\":0,\"chats\":[".to_vec();
    f.extend_from_slice(chat);
    f.extend_from_slice(b"]}");
    f
}

/// One chat whose answer is `parts` parts of about `each` bytes of text (its JSON).
fn huge_part_chat(parts: usize, each: usize) -> Vec<u8> {
    let parts: Vec<Value> = (0..parts)
        .map(|k| json!({"type": "text", "text": prose(k * 1_000_003, each)}))
        .collect();
    let chat = json!({"session": {"id": "huge", "title": "Huge", "created_at": 0, "updated_at": 0,
                                  "message_count": 2, "params": {}},
                      "head": "huge-1", "turns": [],
                      "messages": [
                          {"id": "huge-0", "session_id": "huge", "parent_id": null, "role": "user",
                           "created_at": 0, "parts": [{"type": "text", "text": "hi"}]},
                          {"id": "huge-1", "session_id": "huge", "parent_id": "huge-0",
                           "role": "assistant", "created_at": 1, "parts": parts}]});
    serde_json::to_vec(&chat).unwrap()
}
