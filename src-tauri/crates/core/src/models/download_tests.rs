use super::*;
use crate::ledger::may_follow;

#[test]
fn references_are_owner_repo_and_a_gguf_path_inside_it() {
    let r = HubRef::parse(" Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf ")
        .unwrap();
    assert_eq!(r.repo, "Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    assert_eq!(r.part_name().len(), 32 + 5);
    let deep = HubRef::parse("a/b:q4/part.GGUF").unwrap();
    assert_eq!(
        deep.final_path(Path::new("/m")),
        Path::new("/m/a/b/q4/part.GGUF")
    );
    // References that flattening would have merged stay apart.
    let pairs = [
        ("o/r:x/y.gguf", "o/r:x__y.gguf"),
        ("a__b/c:d.gguf", "a/b__c:d.gguf"),
    ];
    for (one, other) in pairs {
        let (one, other) = (HubRef::parse(one).unwrap(), HubRef::parse(other).unwrap());
        assert_ne!(one.part_name(), other.part_name());
        assert_ne!(
            one.final_path(Path::new("/m")),
            other.final_path(Path::new("/m"))
        );
    }
    for bad in [
        "",
        "a",
        "a/b",
        "a/b:",
        ":x.gguf",
        "a:x.gguf",
        "a/b/c:x.gguf",
        "../b:x.gguf",
        "a/..:x.gguf",
        "a b/c:x.gguf",
        "a/b:../x.gguf",
        "a/b:./x.gguf",
        "a/b:/x.gguf",
        "a/b:x//y.gguf",
        "a/b:x.bin",
        "a/b:x.gguf\u{0}",
        "a/b:x\u{202e}.gguf",
        "a/b:x y.gguf",
        "a/b:x?.gguf",
        "a/b:x.gguf#frag",
    ] {
        assert!(HubRef::parse(bad).is_err(), "{bad:?} was taken");
    }
    let long = format!("a/b:{}.gguf", "x".repeat(500));
    assert!(HubRef::parse(&long).is_err());
}

#[test]
fn redirects_are_followed_within_the_hub_or_to_https_only() {
    let hub = url::Url::parse("http://127.0.0.1:8080").unwrap();
    let cases = [
        ("http://127.0.0.1:8080/files/x", true),
        ("https://cdn-lfs.hf.co/x", true),
        ("https://127.0.0.1:8080/x", true),
        ("http://127.0.0.1:8081/x", false),
        ("http://localhost:8080/x", false),
        ("http://cdn.example/x", false),
        ("ftp://127.0.0.1:8080/x", false),
        ("file:///etc/passwd", false),
    ];
    for (to, ok) in cases {
        assert_eq!(may_follow(&hub, &url::Url::parse(to).unwrap()), ok, "{to}");
    }
    let hf = url::Url::parse("https://huggingface.co").unwrap();
    assert!(may_follow(
        &hf,
        &url::Url::parse("https://huggingface.co:443/x").unwrap()
    ));
    assert!(!may_follow(
        &hf,
        &url::Url::parse("http://huggingface.co/x").unwrap()
    ));
}
