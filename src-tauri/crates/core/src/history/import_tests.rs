//! Imports in linear time and bounded memory: crafted files of every pathological shape (long
//! chains of hidden ChatGPT nodes with many children, very deep and very wide trees, many
//! chats) convert within a generous bound, doubling a file less than triples the time; a file,
//! chat or text over its cap is refused with a sentence; a cancelled import adds nothing and
//! leaves no staging file; progress comes at most ten times a second; a preview counts what an
//! import adds, however many chats.

use super::import::{check_chat, each_chat, Meter, CANCELLED, MAX_IMPORT_BYTES};
use super::ImportControl;
use parley_protocol::ImportProgress;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) use crate::test_kit::{core, rt};

/// About 120 bytes of text, different for each `i`.
fn words(i: usize) -> String {
    format!("message {i}: the quick brown fox jumps over the lazy dog, again and again and again.")
}

fn gpt_node(
    parent: Option<String>,
    children: Vec<String>,
    role: &str,
    i: usize,
    hidden: bool,
) -> Value {
    json!({"parent": parent, "children": children, "message": {
        "author": {"role": role}, "create_time": i as f64,
        "content": {"content_type": "text", "parts": [words(i)]},
        "metadata": {"is_visually_hidden_from_conversation": hidden}, "recipient": "all"}})
}

fn gpt_file(mapping: serde_json::Map<String, Value>, current: &str) -> String {
    json!([{"title": "t", "conversation_id": "c", "mapping": mapping, "current_node": current}])
        .to_string()
}

/// A chain of `h` hidden nodes, each with `k` visible children (the shape that was quadratic).
fn gpt_hidden_chain(h: usize, k: usize) -> String {
    let mut mapping = serde_json::Map::new();
    for c in 0..h {
        let mut children: Vec<String> = (0..k).map(|j| format!("v{c}-{j}")).collect();
        if c + 1 < h {
            children.push(format!("h{}", c + 1));
        }
        for j in 0..k {
            let id = format!("v{c}-{j}");
            mapping.insert(
                id,
                gpt_node(Some(format!("h{c}")), vec![], "user", c * k + j, false),
            );
        }
        let parent = (c > 0).then(|| format!("h{}", c - 1));
        mapping.insert(
            format!("h{c}"),
            gpt_node(parent, children, "system", c, true),
        );
    }
    gpt_file(mapping, &format!("v{}-0", h - 1))
}

/// One chain of `n` visible messages.
fn gpt_deep(n: usize) -> String {
    let mut mapping = serde_json::Map::new();
    for i in 0..n {
        let parent = (i > 0).then(|| format!("m{}", i - 1));
        let children = if i + 1 < n {
            vec![format!("m{}", i + 1)]
        } else {
            vec![]
        };
        let role = if i.is_multiple_of(2) {
            "user"
        } else {
            "assistant"
        };
        mapping.insert(format!("m{i}"), gpt_node(parent, children, role, i, false));
    }
    gpt_file(mapping, &format!("m{}", n - 1))
}

/// One root with `n` visible children.
fn gpt_wide(n: usize) -> String {
    let mut mapping = serde_json::Map::new();
    let children: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    mapping.insert(
        "root".into(),
        json!({"parent": null, "children": children, "message": null}),
    );
    for i in 0..n {
        mapping.insert(
            format!("m{i}"),
            gpt_node(Some("root".into()), vec![], "user", i, false),
        );
    }
    gpt_file(mapping, "m0")
}

pub(super) fn parley_message(chat: &str, i: usize, parent: Option<String>) -> Value {
    json!({"id": format!("{chat}-m{i}"), "session_id": chat, "parent_id": parent,
           "role": if i.is_multiple_of(2) { "user" } else { "assistant" }, "created_at": i,
           "parts": [{"type": "text", "text": words(i)}]})
}

pub(super) fn parley_chat(id: &str, messages: Vec<Value>) -> Value {
    let head = messages.last().map(|m| m["id"].clone());
    json!({"session": {"id": id, "title": "t", "created_at": 0, "updated_at": 0,
                       "message_count": messages.len(), "params": {}},
           "head": head, "messages": messages, "turns": []})
}

pub(super) fn parley_file(chats: Vec<Value>) -> String {
    json!({"format": "parley-chats", "version": 1, "exported_at": 0, "chats": chats}).to_string()
}

/// One chat of `n` messages in one chain.
fn parley_deep(n: usize) -> String {
    let m = (0..n)
        .map(|i| parley_message("c", i, (i > 0).then(|| format!("c-m{}", i - 1))))
        .collect();
    parley_file(vec![parley_chat("c", m)])
}

/// One chat of `n` answers to its first message.
fn parley_wide(n: usize) -> String {
    let m = (0..n)
        .map(|i| parley_message("c", i, (i > 0).then(|| "c-m0".to_owned())))
        .collect();
    parley_file(vec![parley_chat("c", m)])
}

/// `n` chats of two messages.
pub(super) fn parley_many(n: usize) -> String {
    let chats = (0..n)
        .map(|c| {
            let id = format!("c{c}");
            let m = vec![
                parley_message(&id, 0, None),
                parley_message(&id, 1, Some(format!("{id}-m0"))),
            ];
            parley_chat(&id, m)
        })
        .collect();
    parley_file(chats)
}

fn claude_conversation(id: &str, n: usize) -> Value {
    let messages: Vec<Value> = (0..n)
        .map(|i| json!({"uuid": format!("{id}-{i}"), "sender": if i.is_multiple_of(2) { "human" } else { "assistant" },
                        "text": words(i), "created_at": "2024-05-01T12:00:00Z",
                        "parent_message_uuid": if i > 0 { Value::from(format!("{id}-{}", i - 1)) } else { Value::Null }}))
        .collect();
    json!({"uuid": id, "name": "t", "chat_messages": messages})
}

/// One conversation of `n` messages.
fn claude_long(n: usize) -> String {
    Value::from(vec![claude_conversation("c", n)]).to_string()
}

/// `n` conversations of two messages.
fn claude_many(n: usize) -> String {
    Value::from(
        (0..n)
            .map(|c| claude_conversation(&format!("c{c}"), 2))
            .collect::<Vec<_>>(),
    )
    .to_string()
}

pub(super) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Reads and checks every chat of `file` as an import does (without the database); returns
/// the chats and messages read.
fn convert(file: &Path) -> Result<(usize, usize), String> {
    let control = ImportControl::new();
    let meter = Meter::new(&control, 0);
    let mut n = (0, 0);
    each_chat(file, &meter, &mut |chat| {
        check_chat(&chat)?;
        n.0 += 1;
        n.1 += chat.messages.len();
        Ok(())
    })
    .map_err(|e| e.to_info().message)?;
    Ok(n)
}

type Shape = (&'static str, fn(usize) -> String, usize);

/// Every pathological shape and the size parameter that makes its file at least 4 MB.
fn shapes() -> Vec<Shape> {
    vec![
        (
            "chatgpt hidden chain, 4 children each",
            |n| gpt_hidden_chain(n / 4, 4),
            20_000,
        ),
        (
            "chatgpt hidden chain, 1 child each",
            |n| gpt_hidden_chain(n / 2, 1),
            20_000,
        ),
        ("chatgpt deep", gpt_deep, 20_000),
        ("chatgpt wide", gpt_wide, 20_000),
        ("parley deep", parley_deep, 25_000),
        ("parley wide", parley_wide, 25_000),
        ("parley many chats", parley_many, 12_500),
        ("claude long", claude_long, 25_000),
        ("claude many conversations", claude_many, 12_500),
    ]
}

#[test]
fn every_pathological_shape_of_4_mb_converts_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    for (name, make, n) in shapes() {
        let text = make(n);
        assert!(text.len() >= 4 << 20, "{name}: only {} bytes", text.len());
        let file = write(dir.path(), "f.json", &text);
        let t = Instant::now();
        let (chats, messages) = convert(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let took = t.elapsed();
        assert!(
            chats >= 1 && messages >= n / 2,
            "{name}: {chats} chats, {messages} messages"
        );
        // A debug build converts these in about a second; the walk up that rendered every
        // hidden node again for every child took 25 s for 2,000 hidden nodes of 10 children
        // (7 MB), and grows with the square of the chain.
        assert!(
            took < Duration::from_secs(30),
            "{name}: {took:?} for {} MB",
            text.len() >> 20
        );
    }
}

/// The best of `runs` times of converting `file`.
fn best_time(file: &Path, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            convert(file).unwrap();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn doubling_a_file_less_than_triples_its_time() {
    let dir = tempfile::tempdir().unwrap();
    for (name, make, n) in shapes() {
        let (n, n2) = (n / 4, n / 2);
        let small = write(dir.path(), "small.json", &make(n));
        let large = write(dir.path(), "large.json", &make(n2));
        // The best of several runs: another process on the machine only ever adds time.
        let mut ratio = f64::MAX;
        for _ in 0..3 {
            let (a, b) = (best_time(&small, 3), best_time(&large, 3));
            ratio = ratio.min(b.as_secs_f64() / a.as_secs_f64().max(1e-6));
            if ratio < 3.0 {
                break;
            }
        }
        assert!(ratio < 3.0, "{name}: doubling took {ratio:.2}× the time");
    }
}

#[test]
fn a_file_a_chat_or_a_text_over_its_cap_is_refused_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    // Over the file cap: a sparse file, never read.
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_IMPORT_BYTES + 1).unwrap();
    let err = super::import::size_of(&big).unwrap_err().to_info().message;
    assert!(
        err.contains("Parley imports files of up to 512 MB"),
        "{err}"
    );
    assert!(err.contains("twice the largest chat"), "{err}");
    // Over the chat cap, in every format: the reading stops within the chat (the cap is
    // counted in what is read from the file, which runs up to 64 KB ahead of the parser).
    let long = "x".repeat(400 << 10);
    let control = ImportControl::new();
    let files = [
        ("parley", parley_file(vec![parley_chat("a", vec![]), parley_chat("b", vec![json!({"id": "m", "session_id": "b", "role": "user", "created_at": 0, "parts": [{"type": "text", "text": long}]})])])),
        ("chatgpt", json!([{"mapping": {}}, {"mapping": {"a": {"message": {"content": {"content_type": "text", "parts": [long]}}}}}]).to_string()),
        ("claude", json!([{"chat_messages": []}, {"chat_messages": [{"text": long}]}]).to_string()),
    ];
    for (name, text) in files {
        let file = write(dir.path(), "c.json", &text);
        let meter = Meter::new(&control, 0).with_chat_cap(256 << 10);
        let mut seen = 0;
        let err = each_chat(&file, &meter, &mut |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err()
        .to_info()
        .message;
        assert!(
            err.contains("chat 2 of the file is larger than"),
            "{name}: {err}"
        );
        assert_eq!(seen, 1, "{name}");
    }
    // A text over the row cap.
    let mut chat: parley_protocol::ChatExport =
        serde_json::from_value(parley_chat("c", vec![parley_message("c", 0, None)])).unwrap();
    chat.messages[0].parts = vec![parley_protocol::Part::Text {
        text: "y".repeat(super::MAX_PART_BYTES + 1),
    }];
    let err = check_chat(&chat).unwrap_err();
    assert!(err.contains("texts of up to 16 MB"), "{err}");
}

/// The names in the backups folder that an import's staging left.
pub(super) fn staging_left(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("backups"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".importing-"))
        .collect()
}

#[test]
fn a_cancelled_import_adds_nothing_and_leaves_no_staging_file() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let core = core(&data).await;
        let file = write(dir.path(), "many.json", &parley_many(20_000));
        // Cancelled at the first report, and before it starts.
        for when in ["reading", "before"] {
            let control = ImportControl::new();
            let c = control.clone();
            let control = control.on_progress(move |_| c.cancel());
            if when == "before" {
                control.cancel();
            }
            let err = core
                .history()
                .import_with(&file, false, &control)
                .await
                .unwrap_err()
                .to_info()
                .message;
            assert!(err.contains(CANCELLED), "{when}: {err}");
            assert!(
                core.chats()
                    .recent_chats(100_000, 0)
                    .await
                    .unwrap()
                    .is_empty(),
                "{when}"
            );
            assert!(
                staging_left(&data).is_empty(),
                "{when}: {:?}",
                staging_left(&data)
            );
        }
        // A refused file leaves nothing either.
        let bad = write(
            dir.path(),
            "bad.json",
            &parley_many(3).replace("\"c2-m0\"", "\"c1-m0\""),
        );
        let err = core
            .history()
            .import(&bad, false)
            .await
            .unwrap_err()
            .to_info()
            .message;
        assert!(err.contains("repeated id (c1-m0)"), "{err}");
        assert!(core
            .chats()
            .recent_chats(100_000, 0)
            .await
            .unwrap()
            .is_empty());
        assert!(staging_left(&data).is_empty());
    });
}

#[test]
fn progress_comes_at_most_ten_times_a_second_and_ends_with_the_merge() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir.path().join("data")).await;
        let text = parley_many(12_000);
        let file = write(dir.path(), "many.json", &text);
        let seen: Arc<Mutex<Vec<(Instant, ImportProgress)>>> = Arc::default();
        let s = seen.clone();
        let control =
            ImportControl::new().on_progress(move |p| s.lock().unwrap().push((Instant::now(), p)));
        let r = core
            .history()
            .import_with(&file, false, &control)
            .await
            .unwrap();
        assert_eq!((r.chats_in_file, r.chats_added), (12_000, 12_000));
        let seen = seen.lock().unwrap();
        assert!(seen.len() >= 2, "{} reports", seen.len());
        let (last_t, last) = seen.last().unwrap().clone();
        assert!(last.merging && last.chats == 12_000 && last.bytes_read == text.len() as u64);
        assert!(seen.iter().all(|(_, p)| p.bytes_total == text.len() as u64));
        for w in seen.windows(2) {
            let ((t0, a), (t1, b)) = (&w[0], &w[1]);
            assert!(
                a.bytes_read <= b.bytes_read && a.chats <= b.chats,
                "{a:?} then {b:?}"
            );
            // Only the closing reports (all read, merging) may follow sooner.
            if *t1 != last_t && b.bytes_read < b.bytes_total {
                assert!(*t1 - *t0 >= Duration::from_millis(95), "{a:?} then {b:?}");
            }
        }
    });
}

#[test]
fn a_preview_counts_what_the_import_adds_however_many_chats() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let core = core(&data).await;
        // More chats than the preview counts at once; half of them imported already.
        let half = write(dir.path(), "half.json", &parley_many(600));
        core.history().import(&half, false).await.unwrap();
        let all = write(dir.path(), "all.json", &parley_many(1_300));
        let preview = core.history().import(&all, true).await.unwrap();
        assert!(preview.dry_run);
        assert_eq!(
            (preview.chats_in_file, preview.messages_in_file),
            (1_300, 2_600)
        );
        assert_eq!((preview.chats_added, preview.messages_added), (700, 1_400));
        assert_eq!(
            core.chats().recent_chats(100_000, 0).await.unwrap().len(),
            600
        );
        let done = core.history().import(&all, false).await.unwrap();
        assert_eq!((done.chats_added, done.messages_added), (700, 1_400));
        let again = core.history().import(&all, true).await.unwrap();
        assert_eq!((again.chats_added, again.messages_added), (0, 0));
        assert!(staging_left(&data).is_empty());
    });
}

#[test]
fn a_version_after_the_chats_is_still_checked() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir.path().join("data")).await;
        let chats = json!([parley_chat("c", vec![parley_message("c", 0, None)])]);
        let cases = [
            (json!({"chats": chats, "format": "parley-chats", "version": 99}), Some("newer Parley")),
            (json!({"chats": chats, "version": 1}), Some("not a Parley export")),
            (json!({"chats": chats, "format": "parley-chats"}), Some("no format version")),
            (json!({"format": "parley-chats", "version": 1}), Some("no \"chats\"")),
            (json!({"chats": chats, "extra": [1, {"a": 2}], "format": "parley-chats", "version": 1}), None),
        ];
        for (i, (v, says)) in cases.into_iter().enumerate() {
            let file = write(dir.path(), &format!("{i}.json"), &v.to_string());
            match (core.history().import(&file, false).await, says) {
                (Err(e), Some(says)) => {
                    let m = e.to_info().message;
                    assert!(m.contains(says), "{i}: {m}");
                    assert!(core.chats().recent_chats(100_000, 0).await.unwrap().is_empty(), "{i}");
                }
                (Ok(r), None) => assert_eq!(r.chats_added, 1, "{i}"),
                (r, says) => panic!("{i}: {r:?}, expected {says:?}"),
            }
        }
    });
}

/// Another app's ids are namespaced per data folder: the same export adds nothing the second
/// time here, gets other ids in another data folder, and a Parley file that names the ids the
/// app's own would make (`chatgpt-<id>`) cannot reach the chat imported from it.
#[test]
fn other_apps_ids_are_namespaced_per_data_folder() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut mapping = serde_json::Map::new();
        mapping.insert(
            "n1".into(),
            gpt_node(None, vec!["n2".into()], "user", 1, false),
        );
        mapping.insert(
            "n2".into(),
            gpt_node(Some("n1".into()), vec![], "assistant", 2, false),
        );
        let gpt = dir.path().join("conversations.json");
        std::fs::write(&gpt, gpt_file(mapping, "n2")).unwrap();
        let (a, b) = (
            core(&dir.path().join("a")).await,
            core(&dir.path().join("b")).await,
        );
        let first = a.history().import(&gpt, false).await.unwrap();
        let id = first.chats[0].id.0.clone();
        assert!(id.starts_with("chatgpt-") && id != "chatgpt-c", "{id}");
        let again = a.history().import(&gpt, false).await.unwrap();
        assert_eq!(
            (again.chats_added, again.chats[0].id.0.as_str()),
            (0, id.as_str())
        );
        let elsewhere = b.history().import(&gpt, false).await.unwrap();
        assert_ne!(
            elsewhere.chats[0].id.0, id,
            "another data folder, other ids"
        );
        // A Parley file aimed at the ids the export's own would be: a chat of its own.
        let aimed = dir.path().join("aimed.json");
        let chat = parley_chat(
            "chatgpt-c",
            vec![
                parley_message("chatgpt-c", 0, None),
                parley_message("chatgpt-c", 1, Some("chatgpt-c-m0".into())),
            ],
        );
        std::fs::write(&aimed, parley_file(vec![chat])).unwrap();
        let r = a.history().import(&aimed, false).await.unwrap();
        assert_eq!(
            r.chats[0].action,
            parley_protocol::ImportAction::Added,
            "{r:?}"
        );
        let h = a
            .history()
            .full_history(&parley_protocol::ChatId(id))
            .await
            .unwrap();
        assert_eq!(h.messages.len(), 2, "the imported chat is untouched");
    });
}
