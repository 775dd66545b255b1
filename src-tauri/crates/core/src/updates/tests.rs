use super::*;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

#[test]
fn updates_come_over_https_or_from_this_computer_only() {
    let table = [
        (
            "https://github.com/o/r/releases/latest/download/latest.json",
            true,
        ),
        ("https://example.org:8443/u.json", true),
        ("http://127.0.0.1:9000/latest.json", true),
        ("http://localhost/latest.json", true),
        ("http://[::1]:9000/latest.json", true),
        ("http://127.9.9.9/latest.json", true),
        ("http://example.org/latest.json", false),
        ("http://10.0.0.1/latest.json", false),
        ("http://localhost.example.org/latest.json", false),
        ("ftp://example.org/latest.json", false),
        ("file:///etc/passwd", false),
        ("data:application/json,{}", false),
        ("javascript:alert(1)", false),
        ("https://user:secret@example.org/latest.json", false),
        ("https://user@example.org/latest.json", false),
    ];
    for (u, ok) in table {
        let r = may_fetch(&url(u));
        assert_eq!(r.is_ok(), ok, "{u}: {r:?}");
        if let Err(e) = r {
            assert!(
                e.contains("https only") || e.contains("user name"),
                "{u}: {e}"
            );
        }
    }
}

#[test]
fn redirects_are_followed_within_the_origin_or_to_https_only() {
    let from = url("http://127.0.0.1:9000/latest.json");
    let table = [
        ("http://127.0.0.1:9000/other.json", true),
        ("https://objects.example.org/pkg", true),
        ("http://127.0.0.1:9001/latest.json", false),
        ("http://example.org/latest.json", false),
        ("file:///etc/passwd", false),
    ];
    for (to, ok) in table {
        assert_eq!(may_follow(&from, &url(to)), ok, "{to}");
    }
    let from = url("https://github.com/o/r/releases/latest/download/latest.json");
    assert!(may_follow(
        &from,
        &url("https://objects.githubusercontent.com/x")
    ));
    assert!(!may_follow(&from, &url("http://github.com/x")));
}

#[test]
fn the_address_names_this_version_platform_and_processor() {
    let e =
        url("https://example.org/u/{{target}}/{{arch}}/{{current_version}}?v={{current_version}}");
    let filled = fill(&e, "1.2.3").unwrap();
    let os = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        std::env::consts::OS
    };
    assert_eq!(
        filled.as_str(),
        format!(
            "https://example.org/u/{os}/{}/1.2.3?v=1.2.3",
            std::env::consts::ARCH
        )
    );
    let plain = url("https://example.org/latest.json");
    assert_eq!(fill(&plain, "1.2.3").unwrap(), plain);
}

#[test]
fn an_offers_words_are_plain_bounded_and_show_what_is_hidden() {
    let download = url("https://objects.example.org/pkg.tar.gz");
    let notes = format!(
        "Fixes\u{202E}gnp.exe\u{200B} and <script>x</script>{}",
        "a".repeat(9000)
    );
    let o = offer("9.9.9\u{0007}\n", Some(&notes), None, &download);
    assert_eq!(o.version, "9.9.9");
    assert!(
        o.notes.contains("⟦U+202E⟧") && o.notes.contains("⟦U+200B⟧"),
        "{}",
        o.notes
    );
    assert!(o.notes.contains("<script>"), "kept as text, shown as text");
    assert!(o.notes.chars().count() <= NOTES_MAX + 1);
    assert_eq!(o.download_host, "objects.example.org");
    assert_eq!(offer("1.0.0", None, None, &download).notes, "");
}

#[test]
fn no_redirect_carries_credentials_or_leads_from_the_network_to_this_computer() {
    let from = url("https://github.com/o/r/releases/latest/download/latest.json");
    for to in [
        "https://u:p@objects.githubusercontent.com/x",
        "https://u@objects.githubusercontent.com/x",
        "https://127.0.0.1/x",
        "https://localhost:8443/x",
        "https://[::1]/x",
    ] {
        assert!(!may_follow(&from, &url(to)), "{to}");
    }
    // On this computer, within it.
    let from = url("http://127.0.0.1:9000/latest.json");
    assert!(may_follow(&from, &url("https://localhost:9443/x")));
}
