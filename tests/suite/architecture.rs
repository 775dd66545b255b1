//! The house stays standing (issue 26): the core's top-level modules import one way — the
//! wiring (`core`, `lib`) imports topics, topics import the floor and each other without a
//! circle, the floor imports no topic and never the wiring. Read from the source (non-test
//! code), as `../shared/tools/module-graph.py` reads it: a new `crate::x` path that runs back
//! up fails here, named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Below the topics: the database, errors, ids and time, secrets, the instance lock, and the
/// state the services share.
const FLOOR: &[&str] = &[
    "clean", "error", "hub", "instance", "ledger", "logs", "net", "paths", "secrets", "shared",
    "store", "util",
];
/// On top: only wires.
const WIRING: &[&str] = &["about", "core", "lib"];

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/crates/core/src")
}

/// The top-level module a file of `src/` belongs to.
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().expect("a path in src");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_owned()
}

/// Every `.rs` file under `dir`.
pub(super) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("the core's sources")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-test code of a file: a test file is skipped, a `#[cfg(test)]` tail cut off.
pub(super) fn code_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    if name.contains("test") {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    })
}

/// Every `crate::name` a text names (also inside `crate::{a, b::c}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                names.insert(ident(item.trim()));
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Module → the other top-level modules it imports, with the files that do.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = core_src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&src).expect("under src")))
        .collect();
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let from = module_of(rel);
        let Some(code) = code_of(file) else { continue };
        for to in named_modules(&code) {
            if to != from && modules.contains(&to) {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    edges
}

/// A circle through `start`, if there is one (depth-first, the path back to it).
fn circle_from(
    start: &str,
    edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in edges.get(&at).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                let mut circle = path.clone();
                circle.push(start.to_owned());
                return Some(circle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn the_core_imports_one_way() {
    let edges = graph();
    assert!(
        edges.contains_key("chats") && edges.contains_key("core"),
        "the core's sources were not found under {}",
        core_src().display()
    );
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        for (to, files) in tos {
            let floor_up = FLOOR.contains(&from.as_str()) && !FLOOR.contains(&to.as_str());
            let to_wiring = WIRING.contains(&to.as_str()) && !WIRING.contains(&from.as_str());
            if floor_up || to_wiring {
                wrong.push(format!("{from} -> {to} ({})", join(files)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run back up (the floor imports no topic; nothing imports the wiring):\n{}",
        wrong.join("\n")
    );
    for module in edges.keys() {
        if let Some(circle) = circle_from(module, &edges) {
            let steps: Vec<String> = circle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], join(&edges[&w[0]][&w[1]])))
                .collect();
            panic!("an import circle:\n{}", steps.join("\n"));
        }
    }
}

fn join(files: &BTreeSet<String>) -> String {
    files.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The checker sees what it must: a circle and an upward import in made-up code are found.
#[test]
fn the_check_finds_circles_and_upward_imports() {
    let code = "use crate::{store::Store, chats::x};\nfn f() { crate::core::Shared; }";
    let names = named_modules(code);
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["chats", "core", "store"]
    );
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (a, b) in [
        ("chats", "history"),
        ("history", "search"),
        ("search", "chats"),
    ] {
        edges
            .entry(a.into())
            .or_default()
            .insert(b.into(), BTreeSet::from(["x.rs".to_owned()]));
    }
    let circle = circle_from("chats", &edges).expect("the circle");
    assert_eq!(circle, ["chats", "history", "search", "chats"]);
    edges.get_mut("search").unwrap().clear();
    assert_eq!(circle_from("chats", &edges), None);
}
