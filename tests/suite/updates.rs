//! Updates, fetched by the core: the release manifest and the package are requests like any
//! other — recorded in the ledger as an update check and an update download, with what caused
//! them — bounded, and every hostile answer of a release server is a sentence, with nothing
//! kept. (The signature check is the updater's, in the app: `window_updates`.)

use parley_core::Core;
use parley_protocol::{OutboundEntry, OutboundPurpose};
use parley_tests::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

async fn entries(core: &Core, purpose: OutboundPurpose) -> Vec<OutboundEntry> {
    let all = core.ledger().list(None, 1000).await.unwrap();
    all.into_iter().filter(|e| e.purpose == purpose).collect()
}

async fn package(core: &Core, at: &str, cancel: CancellationToken) -> Result<Vec<u8>, String> {
    let endpoint = url("http://127.0.0.1:1/latest.json");
    core.updates()
        .package(&endpoint, &url(at), "9.9.9", |_, _| {}, cancel)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_and_a_download_are_recorded_with_what_caused_them() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    let base = format!("http://127.0.0.1:{}", server.port());
    let pkg = "parley package 9.9.9 ".repeat(2000);
    let latest = release::manifest("9.9.9", "Notes", &format!("{base}/pkg"), "c2ln");
    server.push(Reply::json(200, &latest));
    server.push(Reply::json(200, &pkg).content_type("application/octet-stream"));
    server.push(Reply::json(204, ""));

    let m = core
        .updates()
        .manifest(
            &url(&format!("{base}/{{{{target}}}}/latest.json")),
            "Check now",
        )
        .await
        .unwrap()
        .expect("a manifest");
    assert_eq!(m["version"], "9.9.9");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let got = core
        .updates()
        .package(
            &url(&format!("{base}/latest.json")),
            &url(&format!("{base}/pkg")),
            "9.9.9",
            move |done, _| s.lock().unwrap().push(done),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(got, pkg.as_bytes());
    assert_eq!(seen.lock().unwrap().last(), Some(&(pkg.len() as u64)));
    // A 204: nothing newer.
    let none = core
        .updates()
        .manifest(&url(&format!("{base}/latest.json")), "Check now")
        .await
        .unwrap();
    assert!(none.is_none());

    let got = server.received();
    let target = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        std::env::consts::OS
    };
    assert_eq!(got[0].path, format!("/{target}/latest.json"));
    for r in &got {
        assert_eq!(r.method, "GET");
        assert!(r.header("authorization").is_none() && r.header("cookie").is_none());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let checks = entries(&core, OutboundPurpose::UpdateCheck).await;
    assert_eq!(checks.len(), 2, "{checks:#?}");
    assert!(checks
        .iter()
        .all(|e| e.cause == "Check now" && e.host == format!("127.0.0.1:{}", server.port())));
    assert!(checks
        .iter()
        .any(|e| e.status == Some(200) && e.bytes_down == latest.len() as u64));
    let downloads = entries(&core, OutboundPurpose::UpdateDownload).await;
    assert_eq!(downloads.len(), 1, "{downloads:#?}");
    assert_eq!(downloads[0].cause, "update to 9.9.9");
    assert_eq!(downloads[0].bytes_down, pkg.len() as u64);
}

/// A release server's answer, and the words of the sentence it gets.
fn hostile_manifests(base: &str) -> Vec<(&'static str, Vec<Reply>, &'static str)> {
    let redirect = |to: &str| Reply::json(302, "").header("location", to);
    vec![
        (
            "over a megabyte",
            vec![Reply::json(
                200,
                &format!("{{\"notes\":\"{}\"}}", "x".repeat(1_100_000)),
            )],
            "over 1024 KB",
        ),
        (
            "a web page",
            vec![Reply::json(200, "<html><script>alert(1)</script></html>")
                .content_type("text/html")],
            "not the JSON",
        ),
        (
            "a JSON list",
            vec![Reply::json(200, "[1,2,3]")],
            "not the JSON",
        ),
        (
            "nothing there",
            vec![Reply::json(404, "{}")],
            "has no release description",
        ),
        ("a server error", vec![Reply::json(500, "{}")], "HTTP 500"),
        ("slow down", vec![Reply::json(429, "{}")], "slow down"),
        (
            "a redirect to plain http elsewhere",
            vec![redirect("http://example.invalid/latest.json")],
            "not https: not followed",
        ),
        (
            "a redirect to another port",
            vec![redirect("http://127.0.0.1:9/latest.json")],
            "not https: not followed",
        ),
        (
            "redirects without end",
            (0..6).map(|_| redirect(&format!("{base}/again"))).collect(),
            "too many times",
        ),
        (
            "a redirect to nowhere",
            vec![Reply::json(302, "")],
            "without saying where",
        ),
        ("a hang-up", vec![Reply::hang_up()], "could not be reached"),
        (
            "a cut-off body",
            vec![Reply {
                steps: vec![Step::Bytes(b"{\"version\":".to_vec()), Step::Disconnect],
                ..Reply::json(200, "")
            }],
            "cut off",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_answer_of_a_release_server_is_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    let server = MockServer::start().await;
    let base = format!("http://127.0.0.1:{}", server.port());
    for (name, replies, words) in hostile_manifests(&base) {
        for r in replies {
            server.push(r);
        }
        let e = core
            .updates()
            .manifest(&url(&format!("{base}/latest.json")), "Check now")
            .await
            .expect_err(name);
        assert!(e.contains(words), "{name}: {e}");
        assert!(!e.contains("alert(1)"), "{name}: {e}");
    }
    // Not over https (and not this computer): refused before any request.
    for at in [
        "http://example.org/latest.json",
        "ftp://example.org/l.json",
        "file:///etc/passwd",
    ] {
        let e = core
            .updates()
            .manifest(&url(at), "Check now")
            .await
            .unwrap_err();
        assert!(e.contains("https only"), "{at}: {e}");
    }
    assert!(entries(&core, OutboundPurpose::UpdateCheck)
        .await
        .iter()
        .all(|e| !e.host.contains("example.org")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_cut_off_or_cancelled_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let core = open_core(dir.path(), Default::default()).await;
    let server = MockServer::start().await;
    let at = format!("http://127.0.0.1:{}/pkg", server.port());

    // Cut off halfway.
    server.push(Reply {
        steps: vec![Step::Bytes(vec![7; 50_000]), Step::Disconnect],
        ..Reply::json(200, "").content_type("application/octet-stream")
    });
    let e = package(&core, &at, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(e.contains("cut off"), "{e}");

    // Cancelled while the server stalls.
    server.push(Reply {
        steps: vec![Step::Bytes(vec![7; 1000]), Step::Stall],
        ..Reply::json(200, "").content_type("application/octet-stream")
    });
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let e = package(&core, &at, cancel).await.unwrap_err();
    assert!(e.contains("cancelled"), "{e}");

    // Not over https: refused before any request.
    let e = core
        .updates()
        .package(
            &url("https://example.org/latest.json"),
            &url("http://example.org/pkg"),
            "9.9.9",
            |_, _| {},
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(e.contains("https only"), "{e}");
    // A user name in the address (reqwest would send it), and a release server on the network
    // naming a package on this computer: refused before any request.
    let endpoint = url("https://example.org/latest.json");
    for (at, words) in [
        ("https://user:pass@example.org/pkg", "user name or password"),
        (at.as_str(), "on this computer"),
        ("https://localhost/pkg", "on this computer"),
    ] {
        let e = core
            .updates()
            .package(
                &endpoint,
                &url(at),
                "9.9.9",
                |_, _| {},
                CancellationToken::new(),
            )
            .await
            .unwrap_err();
        assert!(e.contains(words), "{at}: {e}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let downloads = entries(&core, OutboundPurpose::UpdateDownload).await;
    assert_eq!(downloads.len(), 2, "{downloads:#?}");
}
