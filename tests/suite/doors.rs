//! Each topic's tables behind its own door (issue 26): a topic's SQL — the methods of its
//! `impl Store` blocks — is callable only from that topic (`pub(in crate::topic)`, `pub(super)`
//! or private), and the trait that opens a topic's tables to tests and the bench
//! (`tables_door!`, e.g. `ChatTables`) is named by no code outside the topic: not by another
//! topic, not by the wiring, the window's commands or the CLI. A topic that needs another's
//! data asks that topic's service. Read from the source (non-test code), named when it fails.

use super::architecture::{code_of, rust_files};
use std::path::{Path, PathBuf};

/// The core's topics: each a folder of `src-tauri/crates/core/src`.
const TOPICS: &[&str] = &[
    "approvals",
    "assistants",
    "attachments",
    "backups",
    "chats",
    "history",
    "mcp",
    "providers",
    "search",
    "settings",
    "tools",
    "usage",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The methods of a text's `impl Store {` blocks that are callable beyond their topic: plain
/// `pub` or `pub(crate)` (`pub(in crate::x)`, `pub(super)`, `pub(self)` and private keep them
/// inside). Each as `name (visibility)`.
fn open_store_methods(code: &str) -> Vec<String> {
    let mut open = Vec::new();
    for (start, _) in code.match_indices("impl Store {") {
        let block = &code[start..];
        let end = block.find("\n}").unwrap_or(block.len());
        for line in block[..end].lines() {
            let line = line.trim_start();
            for vis in ["pub ", "pub(crate) "] {
                let Some(rest) = line.strip_prefix(vis) else {
                    continue;
                };
                let rest = rest.strip_prefix("async ").unwrap_or(rest);
                if let Some(f) = rest.strip_prefix("fn ") {
                    let name: String = f
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    open.push(format!("{name} ({})", vis.trim()));
                }
            }
        }
    }
    open
}

/// The doors (`tables_door!` traits) a text defines.
fn doors_defined(code: &str) -> Vec<String> {
    let mut doors = Vec::new();
    for (i, _) in code.match_indices("tables_door! {") {
        let rest = &code[i..];
        if let Some(t) = rest.find(" trait ") {
            let name: String = rest[t + " trait ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            doors.push(name);
        }
    }
    doors
}

/// The topic a core file belongs to (`None`: the floor or the wiring).
fn topic_of(src: &Path, file: &Path) -> Option<&'static str> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    TOPICS.iter().copied().find(|t| *t == first)
}

/// What is wrong: store methods open beyond their topic, and doors named outside theirs.
fn violations(files: &[(PathBuf, Option<&'static str>, String)]) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut doors: Vec<(String, &'static str)> = Vec::new();
    for (file, topic, code) in files {
        let Some(topic) = topic else { continue };
        for m in open_store_methods(code) {
            wrong.push(format!("{}: `{m}` opens {topic}'s SQL", file.display()));
        }
        // A door is defined in a `#[cfg(test)]` tail too: read the whole file for them.
        let whole = std::fs::read_to_string(file).unwrap_or_else(|_| code.clone());
        for d in doors_defined(&whole) {
            doors.push((d, topic));
        }
    }
    for (file, topic, code) in files {
        for (door, home) in &doors {
            if Some(*home) != *topic && code.contains(door.as_str()) {
                wrong.push(format!(
                    "{}: names `{door}`, {home}'s tables (ask its service)",
                    file.display()
                ));
            }
        }
    }
    wrong
}

/// Every non-test source file of the core (with its topic), the window's and the CLI's.
fn sources() -> Vec<(PathBuf, Option<&'static str>, String)> {
    let root = repo().join("src-tauri");
    let src = root.join("crates/core/src");
    let mut core = Vec::new();
    rust_files(&src, &mut core);
    let mut fronts = Vec::new();
    rust_files(&root.join("src"), &mut fronts);
    rust_files(&root.join("crates/cli/src"), &mut fronts);
    let mut files = Vec::new();
    for f in core {
        let topic = topic_of(&src, &f);
        if let Some(code) = code_of(&f) {
            files.push((f, topic, code));
        }
    }
    for f in fronts {
        if let Some(code) = code_of(&f) {
            files.push((f, None, code));
        }
    }
    files
}

#[test]
fn each_topics_tables_are_behind_its_own_door() {
    let files = sources();
    assert!(
        files
            .iter()
            .any(|(f, _, c)| f.ends_with("chats/journal.rs") && c.contains("impl Store {")),
        "the core's sources were not found under {}",
        repo().display()
    );
    let doors: usize = files.iter().map(|(_, _, c)| doors_defined(c).len()).sum();
    assert!(doors >= 2, "the chats' and search's doors were not found");
    let wrong = violations(&files);
    assert!(
        wrong.is_empty(),
        "a topic's SQL is callable from outside it:\n{}",
        wrong.join("\n")
    );
}

/// The check finds what it must, in made-up code: a store method made `pub` or `pub(crate)`
/// again, and another topic, the wiring or a front end naming a topic's door.
#[test]
fn the_door_check_finds_open_methods_and_borrowed_doors() {
    let store = "impl Store {\n    pub(in crate::chats) async fn a(&self) {}\n    \
                 pub async fn b(&self) {}\n    pub(crate) fn c(&self) {}\n    \
                 pub(super) fn d(&self) {}\n    fn e(&self) {}\n}\n\
                 impl Other {\n    pub fn f(&self) {}\n}\n";
    assert_eq!(open_store_methods(store), ["b (pub)", "c (pub(crate))"]);
    let dir = tempfile::tempdir().unwrap();
    let door_file = dir.path().join("tables.rs");
    let door = "tables_door! {\n    pub trait ChatTables {\n    }\n}\n";
    std::fs::write(&door_file, door).unwrap();
    let planted = |topic: Option<&'static str>, code: &str| {
        vec![
            (door_file.clone(), Some("chats"), door.to_owned()),
            (dir.path().join("x.rs"), topic, code.to_owned()),
        ]
    };
    let borrow = "use crate::chats::ChatTables as _;";
    for (topic, code, found) in [
        (Some("search"), borrow, true),
        (None, borrow, true),
        (Some("chats"), borrow, false),
        (Some("history"), store, true),
        (
            Some("history"),
            "impl Store {\n    fn quiet(&self) {}\n}\n",
            false,
        ),
    ] {
        let wrong = violations(&planted(topic, code));
        assert_eq!(!wrong.is_empty(), found, "{topic:?} {code}: {wrong:?}");
    }
}
