//! `parley artifacts`: the HTML, SVG and Mermaid blocks of a chat's answers listed in order and
//! saved exactly; unknown chats and numbers refused with a sentence; hidden characters in the
//! list marked.

use super::cli::{add_local, run};
use parley_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_listed_and_saved_exactly() {
    let server = MockServer::start().await;
    let answer = "Page:\n\n```html\n<p>hi\u{202E}</p>\n```\n\nCode:\n\n```rust\nfn main() {}\n```\n\n```mermaid\ngraph TD; A-->B\n```\n";
    server.push(Reply::sse(text_answer(&[answer], 0)));
    server.push(Reply::sse(text_answer(&["```svg\n<svg/>\n```"], 0)));
    let dir = tempfile::tempdir().unwrap();
    add_local(dir.path(), &server).await;
    let first = run(dir.path(), &["ask", "--json", "make a page"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let chat = first
        .stdout
        .lines()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["session_id"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap();
    assert_eq!(
        run(dir.path(), &["ask", "--chat", &chat, "and a picture"])
            .await
            .code,
        0
    );

    let list = run(dir.path(), &["artifacts", "list", &chat]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", list.stdout);
    assert!(
        lines[0].contains("html") && lines[0].contains("U+202E"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("mermaid") && lines[2].contains("svg"),
        "{}",
        list.stdout
    );
    let json = run(dir.path(), &["artifacts", "list", "--json", &chat]).await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v[1]["kind"], "mermaid");
    assert_eq!(v[2]["number"], 3);

    let out = dir.path().join("page.html");
    let saved = run(
        dir.path(),
        &["artifacts", "save", &chat, "1", "-o", out.to_str().unwrap()],
    )
    .await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "<p>hi\u{202E}</p>");
    // A file that exists is not overwritten; a number or chat that is not there is a sentence.
    let again = run(
        dir.path(),
        &["artifacts", "save", &chat, "1", "-o", out.to_str().unwrap()],
    )
    .await;
    assert_ne!(again.code, 0);
    let none = run(dir.path(), &["artifacts", "save", &chat, "9"]).await;
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("no block 9"), "{}", none.stderr);
    let unknown = run(dir.path(), &["artifacts", "list", "no-such-chat"]).await;
    assert_ne!(unknown.code, 0);
    let diagram = run(dir.path(), &["artifacts", "save", &chat, "2"]).await;
    assert_eq!(diagram.stdout.trim(), "graph TD; A-->B");
}
