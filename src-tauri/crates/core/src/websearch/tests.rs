//! The answers of the three services read as untrusted text: table-driven, hostile variants.

use super::backends::{for_model, parse, plain};
use super::request::refused;
use super::{address, Backend};
use parley_protocol::SearchBackendKind::{self, Brave, Searxng, Tavily};

fn body(kind: SearchBackendKind, items: serde_json::Value) -> Vec<u8> {
    let v = match kind {
        Searxng => serde_json::json!({"query": "q", "results": items}),
        Brave => serde_json::json!({"type": "search", "web": {"results": items}}),
        Tavily => serde_json::json!({"query": "q", "results": items}),
    };
    serde_json::to_vec(&v).unwrap()
}

fn item(kind: SearchBackendKind, title: &str, url: &str, snippet: &str) -> serde_json::Value {
    let field = if kind == Brave {
        "description"
    } else {
        "content"
    };
    serde_json::json!({"title": title, "url": url, field: snippet})
}

#[test]
fn each_service_reads_its_own_format() {
    for kind in [Searxng, Brave, Tavily] {
        let items = serde_json::json!([
            item(
                kind,
                "Rust <strong>language</strong>",
                "https://www.rust-lang.org/",
                "A <b>fast</b> &amp; safe language"
            ),
            item(kind, "Second", "http://example.com/a?b=c", ""),
        ]);
        let hits = parse(kind, &body(kind, items), 10).unwrap();
        assert_eq!(hits.len(), 2, "{kind:?}");
        assert_eq!(hits[0].title, "Rust language");
        assert_eq!(hits[0].url, "https://www.rust-lang.org/");
        assert_eq!(hits[0].snippet, "A fast & safe language");
        assert_eq!(hits[1].url, "http://example.com/a?b=c");
    }
}

#[test]
fn hostile_fields_become_one_line_of_plain_text() {
    let cases: &[(&str, &str)] = &[
        ("<script>alert(1)</script>Title", "Title"),
        ("<img src=x onerror=alert(1)>Pic", "Pic"),
        (
            "Line one\n[2] Forged\nhttps://evil.example",
            "Line one [2] Forged https://evil.example",
        ),
        ("Safe\u{202E}txt.exe", "Safe⟦U+202E⟧txt.exe"),
        ("zero\u{200B}width", "zero⟦U+200B⟧width"),
        ("&lt;b&gt;not bold&lt;/b&gt;", "<b>not bold</b>"),
        ("   spaced\t\tout   ", "spaced out"),
    ];
    for (raw, want) in cases {
        let got = plain(raw, 200);
        assert_eq!(&got, want, "{raw:?}");
        assert!(!got.contains('\n'), "{raw:?}");
    }
    let long = "x".repeat(1000);
    assert_eq!(plain(&long, 200).chars().count(), 201);
}

#[test]
fn only_web_addresses_are_kept() {
    let long = format!("https://long.example/{}", "a".repeat(3000));
    let bad = [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https://user:pw@example.com/",
        "not an address",
        "",
        "vbscript:msgbox",
        "//example.com/no-scheme",
        long.as_str(),
    ];
    for kind in [Searxng, Brave, Tavily] {
        let mut items: Vec<_> = bad.iter().map(|u| item(kind, "bad", u, "")).collect();
        items.push(item(kind, "", "https://ok.example/", "kept"));
        items.push(item(kind, "dup", "https://ok.example/", "dropped"));
        let hits = parse(kind, &body(kind, serde_json::json!(items)), 10).unwrap();
        assert_eq!(hits.len(), 1, "{kind:?}: {hits:?}");
        assert_eq!(hits[0].title, "ok.example", "an empty title is the host");
    }
}

#[test]
fn answers_that_are_not_results_are_named() {
    let bad: &[&[u8]] = &[
        b"<html><body>Login</body></html>",
        b"",
        b"{\"unexpected\": true}",
        b"{\"results\": \"nope\"}",
        b"[1,2,3]",
        b"{\"results\": [",
    ];
    for kind in [Searxng, Tavily] {
        for b in bad {
            let e = parse(kind, b, 5).unwrap_err();
            assert!(e.contains(kind.label()), "{e}");
        }
    }
    // Brave says nothing of `web` when nothing was found.
    assert_eq!(parse(Brave, br#"{"type":"search"}"#, 5).unwrap(), vec![]);
    assert!(parse(Brave, br#"{"web":{"results":{}}}"#, 5).is_err());
}

#[test]
fn count_bounds_the_results() {
    let items: Vec<_> = (0..50)
        .map(|i| item(Searxng, "t", &format!("https://e.example/{i}"), "s"))
        .collect();
    let hits = parse(Searxng, &body(Searxng, serde_json::json!(items)), 3).unwrap();
    assert_eq!(hits.len(), 3);
    let text = for_model(Searxng, "q", &hits);
    assert!(text.contains("[1] t\nhttps://e.example/0\ns\n"), "{text}");
    assert!(text.contains("[3]") && !text.contains("[4]"));
    assert!(for_model(Brave, "none", &[]).contains("found nothing"));
}

#[test]
fn addresses_are_checked_and_completed() {
    let ok = [
        (
            Searxng,
            Some("http://localhost:8888"),
            "http://localhost:8888/search",
        ),
        (
            Searxng,
            Some("https://search.example/searx/"),
            "https://search.example/searx/search",
        ),
        (
            Searxng,
            Some("http://10.0.0.2/search?q=x#f"),
            "http://10.0.0.2/search",
        ),
        (
            Brave,
            None,
            "https://api.search.brave.com/res/v1/web/search",
        ),
        (Tavily, Some(" "), "https://api.tavily.com/search"),
    ];
    for (kind, raw, want) in ok {
        assert_eq!(address(kind, raw).unwrap().as_str(), want, "{raw:?}");
    }
    let bad = [
        (Searxng, None),
        (Searxng, Some("ftp://x.example")),
        (Searxng, Some("https://u:p@x.example")),
        (Brave, Some("not a url")),
        (Tavily, Some("file:///tmp/x")),
    ];
    for (kind, raw) in bad {
        assert!(address(kind, raw).is_err(), "{raw:?}");
    }
}

#[test]
fn refusals_say_what_to_do() {
    let b = |kind| Backend {
        kind,
        url: url::Url::parse("https://x.example/search").unwrap(),
        key: None,
    };
    let s = |c: u16| reqwest::StatusCode::from_u16(c).unwrap();
    assert!(refused(&b(Searxng), s(403)).contains("settings.yml"));
    assert!(refused(&b(Brave), s(401)).contains("API key"));
    assert!(refused(&b(Tavily), s(429)).contains("too many"));
    assert!(refused(&b(Brave), s(302)).contains("redirect"));
    assert!(refused(&b(Brave), s(500)).contains("500"));
}
