//! A server whose prompt and resource lists never end (every page names a next one): Parley
//! reads a bounded number of pages and answers at once, with what it read.

use super::cli::run;
use super::mcp_asks::add_servers;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_prompt_and_resource_lists_are_read_within_their_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_servers(d).await;
    std::fs::write(d.join("desc.txt.pages"), "").unwrap();
    let started = Instant::now();
    let r = run(d, &["mcp", "prompts", "old", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let prompts: Vec<parley_protocol::McpPrompt> = serde_json::from_str(&r.stdout).unwrap();
    let r = run(d, &["mcp", "resources", "old", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let resources: Vec<parley_protocol::McpResource> = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The first page's items (kept once each) and one more per page read, 20 pages at most.
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(&names[..3], ["define", "hello", "page-0"]);
    assert_eq!(names.len(), 2 + 20, "{names:?}");
    assert_eq!(resources.len(), 2 + 20);
    assert_eq!(resources.last().unwrap().uri, "dict://page/19");
}
