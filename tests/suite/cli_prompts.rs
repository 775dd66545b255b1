//! `parley prompts`: saved prompts with {{variables}} — added from an argument, a file or
//! standard input, listed (as text and JSON), exported and imported (a name here is never
//! changed, a broken entry is named), removed; an unbalanced `{{`, a taken name, an empty text
//! and a huge file each get a sentence and change nothing.

use super::cli::{parley, run};
use parley_protocol::{Prompt, PromptImport};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

async fn listed(dir: &std::path::Path) -> Vec<Prompt> {
    let r = run(dir, &["prompts", "list", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[tokio::test]
async fn prompts_are_added_listed_exported_imported_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = run(d, &["prompts", "list"]).await;
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("No prompts yet"), "{}", r.stderr);

    let r = run(
        d,
        &[
            "prompts",
            "add",
            "Summarise",
            "Summarise {{text}} in {{count}} bullets.",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("variables: text, count"), "{}", r.stderr);
    let file = d.join("review.txt");
    std::fs::write(&file, "Review this {{language}} code:\n\n{{code}}\n").unwrap();
    let r = run(
        d,
        &[
            "prompts",
            "add",
            "Code review",
            "--file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // From standard input.
    let mut cmd = parley(d);
    cmd.args(["prompts", "add", "Haiku", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"A haiku about {{topic}}")
        .await
        .unwrap();
    assert!(child.wait_with_output().await.unwrap().status.success());

    let all = listed(d).await;
    let names: Vec<_> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Code review", "Haiku", "Summarise"]);
    assert_eq!(all[0].variables, ["language", "code"]);
    let text = run(d, &["prompts", "list"]).await.stdout;
    assert!(
        text.contains("Summarise\ttext,count\tSummarise {{text}}"),
        "{text}"
    );

    // Export, then import into another data folder that has its own "Haiku".
    let out = d.join("prompts.json");
    let r = run(d, &["prompts", "export", "-o", out.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        run(other.path(), &["prompts", "add", "haiku", "Mine"])
            .await
            .code,
        0
    );
    let r = run(
        other.path(),
        &["prompts", "import", out.to_str().unwrap(), "--json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: PromptImport = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report.added, 2);
    assert_eq!(report.skipped, ["Haiku"]);
    let theirs = listed(other.path()).await;
    assert_eq!(
        theirs.iter().find(|p| p.name == "haiku").unwrap().body,
        "Mine"
    );

    // --replace changes a text; remove by name, without regard to case.
    let r = run(
        d,
        &[
            "prompts",
            "add",
            "HAIKU",
            "A haiku about {{topic}}, in {{season}}",
            "--replace",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        listed(d)
            .await
            .iter()
            .find(|p| p.name == "HAIKU")
            .unwrap()
            .variables,
        ["topic", "season"]
    );
    assert_eq!(run(d, &["prompts", "remove", "summarise"]).await.code, 0);
    assert_eq!(listed(d).await.len(), 2);
}

#[tokio::test]
async fn bad_prompts_get_a_sentence_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(
        run(d, &["prompts", "add", "Kept", "Hello {{name}}"])
            .await
            .code,
        0
    );
    let cases: &[(&[&str], &str)] = &[
        (&["prompts", "add", "Broken", "Hello {{name"], "not closed"),
        (
            &["prompts", "add", "Empty var", "Hello {{}}"],
            "has no name",
        ),
        (&["prompts", "add", "kept", "Other text"], "already named"),
        (&["prompts", "add", "Blank", "   "], "needs a text"),
        (&["prompts", "add", "No text"], "Give the prompt's text"),
        (&["prompts", "remove", "Nothing"], "No prompt is named"),
    ];
    for (args, words) in cases {
        let r = run(d, args).await;
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    }
    let huge = d.join("huge.txt");
    std::fs::write(&huge, "x".repeat(70 * 1024)).unwrap();
    let r = run(
        d,
        &["prompts", "add", "Huge", "--file", huge.to_str().unwrap()],
    )
    .await;
    assert!(r.stderr.contains("over 64 KB"), "{}", r.stderr);
    for (body, words) in [
        ("not json", "not JSON"),
        ("{\"x\": 1}", "no list of prompts"),
        ("[{\"name\": \"A\", \"body\": \"{{\"}, {\"what\": 1}]", ""),
    ] {
        let f = d.join("in.json");
        std::fs::write(&f, body).unwrap();
        let r = run(d, &["prompts", "import", f.to_str().unwrap()]).await;
        assert!(r.stderr.contains(words), "{body}: {}", r.stderr);
        if words.is_empty() {
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(r.stderr.contains("Added 0 prompt(s)."), "{}", r.stderr);
            assert!(r.stderr.contains("is not closed"), "{}", r.stderr);
            assert!(
                r.stderr.contains("Entry 2 has no name and text"),
                "{}",
                r.stderr
            );
        }
    }
    let all = listed(d).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].body, "Hello {{name}}");
    // A `}}` outside a variable is text (JSON, code), and non-ASCII text around it is fine.
    let r = run(
        d,
        &[
            "prompts",
            "add",
            "Json",
            "Reply as {\"a\": {\"b\": 1}} — 日本語}}",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}
