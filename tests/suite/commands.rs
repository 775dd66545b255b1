//! The desktop's three command lists agree: the commands `collect_commands!` registers
//! (src-tauri/src/lib.rs), the commands `build.rs` makes a permission for, and the permissions
//! the main window's capability grants (src-tauri/capabilities/main.json). A command added to
//! one list and forgotten in another fails here, by name, instead of failing at run time as a
//! refused call or a permission that grants nothing.

use std::collections::BTreeSet;
use std::path::Path;

/// Registered commands the main window is deliberately not granted, and why. None today:
/// approvals are decided in the approval card, a window of its own, and `decide_approval` is
/// no longer a window command at all.
const NOT_GRANTED: &[(&str, &str)] = &[];

fn read(rel: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text between `open` and the first `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("no `{open}` found"))
        + open.len();
    let len = text[start..]
        .find(close)
        .unwrap_or_else(|| panic!("no `{close}` after `{open}`"));
    &text[start..start + len]
}

/// Names listed in `items`, one per comma, with `//` comments and whitespace dropped.
fn listed(items: &str) -> Vec<String> {
    items
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The commands `collect_commands!` registers (the last path segment of each).
fn registered(lib_rs: &str) -> Vec<String> {
    listed(between(lib_rs, "collect_commands![", "]"))
        .into_iter()
        .map(|p| p.rsplit("::").next().unwrap_or(&p).to_owned())
        .collect()
}

/// The commands `build.rs` makes permissions for.
fn built(build_rs: &str) -> Vec<String> {
    listed(between(build_rs, "const COMMANDS: &[&str] = &[", "];"))
        .into_iter()
        .map(|s| s.trim_matches('"').to_owned())
        .collect()
}

/// The commands the capability grants (`allow-list-chats` -> `list_chats`), and anything else
/// it grants (which must be nothing).
fn granted(capability: &str) -> (Vec<String>, Vec<String>) {
    let v: serde_json::Value = serde_json::from_str(capability).expect("the capability is JSON");
    let mut commands = Vec::new();
    let mut other = Vec::new();
    for p in v["permissions"].as_array().expect("a permissions list") {
        let p = p
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| p.to_string());
        match p.strip_prefix("allow-").filter(|c| !c.contains(':')) {
            Some(c) => commands.push(c.replace('-', "_")),
            None => other.push(p),
        }
    }
    (commands, other)
}

fn duplicates(list: &[String]) -> Vec<&String> {
    let mut seen = BTreeSet::new();
    list.iter().filter(|c| !seen.insert(*c)).collect()
}

/// What differs between the three lists, in words (empty when they agree).
fn disagreements(lib_rs: &str, build_rs: &str, capability: &str) -> Vec<String> {
    let withheld: Vec<&str> = NOT_GRANTED.iter().map(|(c, _)| *c).collect();
    disagreements_with(lib_rs, build_rs, capability, &withheld)
}

/// [`disagreements`], with the registered commands the window is not granted given.
fn disagreements_with(
    lib_rs: &str,
    build_rs: &str,
    capability: &str,
    not_granted: &[&str],
) -> Vec<String> {
    let (reg, blt) = (registered(lib_rs), built(build_rs));
    let (grant, other) = granted(capability);
    let mut out = Vec::new();
    for (what, list) in [
        ("collect_commands!", &reg),
        ("build.rs", &blt),
        ("the capability", &grant),
    ] {
        for d in duplicates(list) {
            out.push(format!("{what} lists {d} twice"));
        }
    }
    let reg: BTreeSet<&String> = reg.iter().collect();
    let blt: BTreeSet<&String> = blt.iter().collect();
    let grant: BTreeSet<&String> = grant.iter().collect();
    for c in reg.difference(&blt) {
        out.push(format!(
            "{c} is registered but build.rs makes no permission for it"
        ));
    }
    for c in blt.difference(&reg) {
        out.push(format!(
            "build.rs lists {c}, which is not a registered command"
        ));
    }
    let withheld: BTreeSet<String> = not_granted.iter().map(|c| c.to_string()).collect();
    for c in &reg {
        match (grant.contains(c), withheld.contains(*c)) {
            (false, false) => out.push(format!(
                "{c} is registered but the window is not granted it"
            )),
            (true, true) => out.push(format!("{c} is granted, yet listed as not granted")),
            _ => {}
        }
    }
    for c in grant.difference(&reg) {
        out.push(format!(
            "the capability grants {c}, which is not a registered command"
        ));
    }
    for c in withheld.iter().filter(|c| !reg.contains(c)) {
        out.push(format!(
            "{c} is listed as not granted but is not a registered command"
        ));
    }
    for p in other {
        out.push(format!(
            "the capability grants {p}, which is not one of Parley's commands"
        ));
    }
    out
}

#[test]
fn the_three_command_lists_agree() {
    let found = disagreements(
        &read("src-tauri/src/lib.rs"),
        &read("src-tauri/build.rs"),
        &read("src-tauri/capabilities/main.json"),
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Each way the lists can drift is caught and named (with a command withheld from the window,
/// as `decide_approval` once was).
#[test]
fn every_kind_of_drift_is_named() {
    const WITHHELD: &[&str] = &["decide_approval"];
    let lib = |cmds: &str| format!("x.commands(tauri_specta::collect_commands![\n{cmds}\n])");
    let build = |cmds: &str| format!("const COMMANDS: &[&str] = &[\n{cmds}\n];");
    let cap = |perms: &str| format!("{{\"permissions\": [{perms}]}}");
    let good = (
        lib("chats::list_chats,\n    // a comment, ignored\n    approvals::decide_approval,"),
        build("\"list_chats\",\n    \"decide_approval\","),
        cap("\"allow-list-chats\""),
    );
    assert_eq!(
        disagreements_with(&good.0, &good.1, &good.2, WITHHELD),
        Vec::<String>::new()
    );
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "chats::list_chats, tree::fork, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\", \"allow-fork\"",
            "fork is registered but build.rs makes no permission",
        ),
        (
            "chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"fork\", \"decide_approval\"",
            "\"allow-list-chats\"",
            "build.rs lists fork",
        ),
        (
            "chats::list_chats, tree::fork, approvals::decide_approval",
            "\"list_chats\", \"fork\", \"decide_approval\"",
            "\"allow-list-chats\"",
            "fork is registered but the window is not granted it",
        ),
        (
            "chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\", \"allow-fork\"",
            "the capability grants fork",
        ),
        (
            "chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\", \"allow-decide-approval\"",
            "decide_approval is granted, yet listed as not granted",
        ),
        (
            "chats::list_chats",
            "\"list_chats\"",
            "\"allow-list-chats\"",
            "decide_approval is listed as not granted but is not a registered command",
        ),
        (
            "chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\", \"shell:allow-open\"",
            "the capability grants shell:allow-open",
        ),
        (
            "chats::list_chats, chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\"",
            "collect_commands! lists list_chats twice",
        ),
        (
            "chats::list_chats, approvals::decide_approval",
            "\"list_chats\", \"decide_approval\"",
            "\"allow-list-chats\", \"allow-list-chats\"",
            "the capability lists list_chats twice",
        ),
    ];
    for (l, b, c, want) in cases {
        let found = disagreements_with(&lib(l), &build(b), &cap(c), WITHHELD);
        assert!(
            found.iter().any(|f| f.contains(want)),
            "{want}: found {found:?}"
        );
    }
}
