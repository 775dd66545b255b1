//! `parley search` and `parley usage` on a real data folder after real (scripted) answers:
//! words of questions, answers and titles are found, CJK too, operators are plain words, and
//! the ledger sums what the provider reported and prices it.

use super::cli::{add_local, run};
use parley_protocol::{ChatSummary, Role, SearchResults, UsageReport};
use parley_tests::*;
use std::path::Path;

async fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args).await;
    assert_eq!(r.code, 0, "parley {args:?}: {}", r.stderr);
    r.stdout
}

async fn search(dir: &Path, args: &[&str]) -> SearchResults {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&ok(dir, &all).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_usage_from_the_command_line() {
    let server = MockServer::start().await;
    for a in [
        &["In the river, ", "mostly."][..],
        &["It is red ", "and white."],
    ] {
        server.push(Reply::sse(text_answer(a, 0)));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_local(d, &server).await;
    ok(d, &["ask", "Where does the hippopotamus sleep?"]).await;
    ok(d, &["ask", "--model", "gpt-4o-mini", "東京タワーは何色？"]).await;
    let list: Vec<ChatSummary> =
        serde_json::from_str(&ok(d, &["sessions", "list", "--json"]).await).unwrap();
    let hippo = list.iter().find(|s| s.title.contains("hippo")).unwrap();

    let r = search(d, &["hippopotamus"]).await;
    assert_eq!(r.hits.len(), 2, "the title and the question: {:?}", r.hits);
    assert!(r.hits.iter().any(|h| h.role == Some(Role::User)));
    assert!(r.hits.iter().any(|h| h.message_id.is_none()));
    let r = search(d, &["river", "--role", "assistant"]).await;
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].chat_id, hippo.id);
    assert_eq!(search(d, &["東京"]).await.hits.len(), 2);
    assert_eq!(
        search(d, &["white", "--model", "gpt-4o-mini"])
            .await
            .hits
            .len(),
        1
    );
    assert!(search(d, &["white", "--model", "tiny"])
        .await
        .hits
        .is_empty());
    assert!(search(d, &["white", "--chat", &hippo.id.0])
        .await
        .hits
        .is_empty());
    for odd in ["OR", "\"", "NEAR(a b)", "*", "-", "a AND"] {
        let r = run(d, &["search", odd]).await;
        assert_eq!(r.code, 0, "{odd}: {}", r.stderr);
    }
    let text = ok(d, &["search", "river"]).await;
    assert!(text.contains("[river]"), "{text}");
    let long = "word ".repeat(1000);
    let r = run(d, &["search", &long]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("at most 4096"), "{}", r.stderr);
    let r = run(d, &["search", "x", "--chat", "no-such-chat"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("No chat"), "{}", r.stderr);

    let u: UsageReport = serde_json::from_str(&ok(d, &["usage", "--json"]).await).unwrap();
    assert_eq!(u.total.answers, 2);
    assert_eq!(u.total.input_tokens, 20, "as reported: 10 per answer");
    assert_eq!(u.total.output_tokens, 4);
    assert_eq!(u.total.unpriced, 1, "the local model has no price");
    // gpt-4o-mini's shipped estimate: $0.15 in, $0.60 out per 1M.
    assert!(
        (u.total.cost - (10.0 * 0.15 + 2.0 * 0.60) / 1e6).abs() < 1e-12,
        "{}",
        u.total.cost
    );
    assert_eq!(u.by_model.len(), 2);
    assert_eq!(u.by_chat.len(), 2);
    let text = ok(d, &["usage"]).await;
    for want in ["By day", "By model", "gpt-4o-mini", "1 without a price"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let future: UsageReport =
        serde_json::from_str(&ok(d, &["usage", "--since", "2999-01-01", "--json"]).await).unwrap();
    assert_eq!(future.total.answers, 0);
    let r = run(d, &["usage", "--since", "yesterday"]).await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("YYYY-MM-DD"), "{}", r.stderr);
}
