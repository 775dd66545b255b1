//! Tests of `files.rs`: reads, listings, writes and edits in a temporary workspace.
use super::super::paths::Workspace;
use super::super::tool::{Registry, Risk, ToolContext, ToolError};
use super::*;

fn ctx() -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let lines: String = (1..=5).map(|i| format!("line {i}\n")).collect();
    std::fs::write(dir.path().join("notes.txt"), lines).unwrap();
    std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2]).unwrap();
    let ctx = ToolContext::new(Workspace::new(dir.path()).unwrap(), Default::default());
    (dir, ctx)
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(ReadFile).add(ListDir).add(WriteFile).add(EditFile);
    r
}

async fn call(r: &Registry, ctx: &ToolContext, name: &str, args: &str) -> Result<String, String> {
    let p = r.prepare(name, args, ctx)?;
    assert_eq!(p.risk, Risk::ReadOnly);
    p.run(ctx.clone())
        .await
        .map(|o| o.text)
        .map_err(|e| match e {
            ToolError::RespondToModel(m) | ToolError::Fatal(m) => m,
        })
}

#[tokio::test]
async fn reads_lines_with_offsets_and_says_how_to_go_on() {
    let (_d, ctx) = ctx();
    let r = registry();
    let all = call(&r, &ctx, "read_file", r#"{"path":"notes.txt"}"#)
        .await
        .unwrap();
    assert!(all.starts_with("     1\tline 1\n") && all.contains("     5\tline 5\n"));
    let part = call(
        &r,
        &ctx,
        "read_file",
        r#"{"path":"notes.txt","offset":2,"limit":2}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        part,
        "     2\tline 2\n     3\tline 3\n[lines 2–3 of 5; read on with offset 4]\n"
    );
    let past = call(&r, &ctx, "read_file", r#"{"path":"notes.txt","offset":9}"#).await;
    assert!(past.unwrap_err().contains("past the end"));
    let bin = call(&r, &ctx, "read_file", r#"{"path":"blob.bin"}"#).await;
    assert!(bin.unwrap_err().contains("binary"));
    let outside = call(&r, &ctx, "read_file", r#"{"path":"../etc/passwd"}"#).await;
    assert!(outside.unwrap_err().contains("outside the workspace"));
    let missing = call(&r, &ctx, "read_file", r#"{"path":"nope.txt"}"#).await;
    assert!(missing.unwrap_err().contains("nope.txt"));
}

#[tokio::test]
async fn lists_folders_and_refuses_bad_calls_before_running() {
    let (_d, ctx) = ctx();
    let r = registry();
    assert_eq!(
        call(&r, &ctx, "list_dir", "").await.unwrap(),
        "blob.bin\nnotes.txt\nsub/"
    );
    assert_eq!(
        call(&r, &ctx, "list_dir", r#"{"path":"sub"}"#)
            .await
            .unwrap(),
        "sub is empty."
    );
    // Unknown tool, unknown field, wrong type, truncated JSON: sentences, never a run.
    for (name, args, says) in [
        ("delete_everything", "{}", "no tool named"),
        ("read_file", r#"{"path":"a","mode":"w"}"#, "unknown field"),
        ("read_file", r#"{"path":7}"#, "invalid type"),
        ("read_file", r#"{"path":"a"#, "EOF"),
        ("read_file", "{}", "missing field `path`"),
    ] {
        let e = r.prepare(name, args, &ctx).err().unwrap_or_default();
        assert!(e.contains(says), "{name} {args}: {e}");
    }
}

#[tokio::test]
async fn writes_and_exact_edits_stay_inside_and_say_what_is_wrong() {
    let (dir, ctx) = ctx();
    let r = registry();
    let run = |name: &'static str, args: &'static str| {
        let p = r.prepare(name, args, &ctx).unwrap();
        assert_eq!(p.risk, Risk::Mutating);
        p.run(ctx.clone())
    };
    assert_eq!(
        run(
            "write_file",
            r#"{"path":"new/dir/f.txt","content":"a\nb\na\n"}"#
        )
        .await
        .unwrap()
        .text,
        "Created new/dir/f.txt (6 bytes)."
    );
    let e = run(
        "edit_file",
        r#"{"path":"new/dir/f.txt","old_text":"a","new_text":"x"}"#,
    )
    .await;
    assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("occurs 2 times")));
    let e = run(
        "edit_file",
        r#"{"path":"new/dir/f.txt","old_text":"zzz","new_text":"x"}"#,
    )
    .await;
    assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("not found")));
    run(
        "edit_file",
        r#"{"path":"new/dir/f.txt","old_text":"b\n","new_text":"B\n"}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("new/dir/f.txt")).unwrap(),
        "a\nB\na\n"
    );
    // Writes outside are refused when prepared: nobody is asked, nothing runs.
    for (name, args) in [
        ("write_file", r#"{"path":"../escape.txt","content":"x"}"#),
        ("write_file", r#"{"path":"/tmp/escape.txt","content":"x"}"#),
        (
            "write_file",
            r#"{"path":"\\\\host\\share\\x","content":"x"}"#,
        ),
        ("write_file", r#"{"path":"C:\\x","content":"x"}"#),
        ("write_file", r#"{"path":"a.txt:stream","content":"x"}"#),
        (
            "edit_file",
            r#"{"path":"../x","old_text":"a","new_text":"b"}"#,
        ),
        (
            "edit_file",
            r#"{"path":"sub/../../x","old_text":"a","new_text":"b"}"#,
        ),
    ] {
        let e = r.prepare(name, args, &ctx).err().unwrap_or_default();
        assert!(e.contains("refused and nothing was written"), "{args}: {e}");
    }
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    let e = run("write_file", r#"{"path":"sub","content":"x"}"#).await;
    assert!(matches!(e, Err(ToolError::RespondToModel(m)) if m.contains("folder")));
    // No temporary files are left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("new/dir"))
        .unwrap()
        .collect();
    assert_eq!(left.len(), 1);
}

#[test]
fn the_schema_the_model_sees_comes_from_the_input_type() {
    let specs = registry().specs();
    let read = specs.iter().find(|s| s.name == "read_file").unwrap();
    let p = &read.parameters;
    assert_eq!(p["type"], "object");
    assert_eq!(p["required"], serde_json::json!(["path"]));
    assert!(p["properties"]["offset"].is_object());
    assert_eq!(p["additionalProperties"], false);
    assert!(p.get("$schema").is_none());
}

/// A workspace holding `link.txt`, a second name of a file outside it, and `plain.txt`.
#[cfg(unix)]
fn linked() -> (tempfile::TempDir, tempfile::TempDir, ToolContext) {
    let (dir, ctx) = ctx();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("id_rsa"), "SECRET KEY\n").unwrap();
    std::fs::hard_link(outside.path().join("id_rsa"), dir.path().join("link.txt")).unwrap();
    std::fs::create_dir(dir.path().join("deep")).unwrap();
    std::fs::hard_link(outside.path().join("id_rsa"), dir.path().join("deep/k")).unwrap();
    std::os::unix::fs::symlink("deep/k", dir.path().join("sym")).unwrap();
    std::fs::write(dir.path().join("plain.txt"), "plain\n").unwrap();
    (dir, outside, ctx)
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_with_more_than_one_name_asks_a_person_for_every_tool() {
    let (dir, outside, ctx) = linked();
    let r = registry();
    for (name, args, doing) in [
        ("read_file", r#"{"path":"link.txt"}"#, "reading"),
        ("read_file", r#"{"path":"./deep/k"}"#, "reading"),
        ("read_file", r#"{"path":"sym"}"#, "reading"),
        (
            "read_file",
            r#"{"path":"sub/../link.txt","offset":2}"#,
            "reading",
        ),
        (
            "edit_file",
            r#"{"path":"link.txt","old_text":"SECRET","new_text":"x"}"#,
            "editing",
        ),
        (
            "write_file",
            r#"{"path":"deep/k","content":"x"}"#,
            "writing",
        ),
    ] {
        let p = r.prepare(name, args, &ctx).unwrap();
        let why = p.always_ask.clone().unwrap_or_default();
        assert!(
            why.contains("is a hard link: this file has 3 names")
                && why.contains("outside the workspace")
                && why.contains(doing),
            "{name} {args}: {why}"
        );
        assert!(p.in_person, "{name} {args}: only a person may allow it");
    }
    // Plain files do not ask.
    for (name, args) in [
        ("read_file", r#"{"path":"plain.txt"}"#),
        ("write_file", r#"{"path":"plain.txt","content":"x"}"#),
        ("write_file", r#"{"path":"new.txt","content":"x"}"#),
    ] {
        let p = r.prepare(name, args, &ctx).unwrap();
        assert_eq!(p.always_ask, None, "{name} {args}");
    }
    // A person allowed it: the read runs.
    let p = r
        .prepare("read_file", r#"{"path":"link.txt"}"#, &ctx)
        .unwrap();
    assert!(p
        .run(ctx.clone())
        .await
        .unwrap()
        .text
        .contains("SECRET KEY"));
    drop((dir, outside));
}

#[cfg(unix)]
#[tokio::test]
async fn a_hard_link_swapped_in_after_the_question_is_refused() {
    let (dir, outside, ctx) = linked();
    let r = registry();
    let swap = |name: &str| {
        std::fs::remove_file(dir.path().join(name)).unwrap();
        std::fs::hard_link(outside.path().join("id_rsa"), dir.path().join(name)).unwrap();
    };
    for (name, args) in [
        ("read_file", r#"{"path":"plain.txt"}"#),
        (
            "edit_file",
            r#"{"path":"plain.txt","old_text":"SECRET","new_text":"x"}"#,
        ),
        ("write_file", r#"{"path":"plain.txt","content":"x"}"#),
    ] {
        std::fs::remove_file(dir.path().join("plain.txt")).unwrap();
        std::fs::write(dir.path().join("plain.txt"), "plain\n").unwrap();
        let p = r.prepare(name, args, &ctx).unwrap();
        assert_eq!(p.always_ask, None, "a plain file when asked");
        swap("plain.txt");
        let out = p.run(ctx.clone()).await;
        let Err(ToolError::RespondToModel(why)) = out else {
            panic!("{name}: {out:?}")
        };
        assert!(
            why.contains("Nothing was done") && why.contains("hard link"),
            "{why}"
        );
        assert!(!why.contains("SECRET"));
        assert_eq!(
            std::fs::read_to_string(outside.path().join("id_rsa")).unwrap(),
            "SECRET KEY\n"
        );
    }
}
