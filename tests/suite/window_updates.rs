//! Real window: updates are opt-in and checked against the release key. With a loopback
//! release server and a test key given to the app (an `e2e` build's arguments; a release takes
//! neither), Settings → About → Updates is off and has asked nothing; "Check now" says when
//! this is the newest version; a signed update downloads and is verified (and, in a copy run
//! from a build folder, is not installed: the window says why); a tampered package, a package
//! signed for another version than announced, one signed with no version and one signed by
//! another key are refused with a sentence each and kept nowhere; the page cannot install on
//! its own; Privacy lists every check and download.

use super::window::*;
use parley_tests::release::{manifest, ReleaseKey};
use parley_tests::webdriver::Session;
use parley_tests::*;

async fn launch_with_updates(e: &Env, data: &std::path::Path, base: &str, key: &str) -> Session {
    let endpoint = format!("{base}/latest.json");
    let more = [
        "--e2e-update-endpoint".into(),
        endpoint,
        "--e2e-update-pubkey".into(),
        key.into(),
    ];
    launch_with(e, data, &more).await
}

fn package_reply(bytes: &[u8]) -> Reply {
    Reply {
        steps: vec![Step::Bytes(bytes.to_vec())],
        ..Reply::json(200, "").content_type("application/octet-stream")
    }
}

/// Offers `version` (its package `served`, its signature `signature`), checks, downloads;
/// returns what the window says of the download.
async fn offer_and_download(
    s: &Session,
    server: &MockServer,
    base: &str,
    version: &str,
    signature: &str,
    served: &[u8],
) -> String {
    let notes = format!("Parley {version}.\u{202E} Faster.");
    server.push(Reply::json(
        200,
        &manifest(version, &notes, &format!("{base}/pkg-{version}"), signature),
    ));
    server.push(package_reply(served));
    // (Clicked once it stands still: the sections above it may still be growing.)
    s.wait_still("[data-testid=update-check]").await;
    s.click_css("[data-testid=update-check]").await;
    s.wait_text("[data-testid=update-version]", 10, |t| t == version)
        .await;
    let shown = s
        .wait_text("[data-testid=update-notes]", 10, |t| t.contains("Faster"))
        .await;
    assert!(
        shown.contains("⟦U+202E⟧"),
        "hidden characters are shown: {shown}"
    );
    s.wait_still("[data-testid=update-download]").await;
    s.click_css("[data-testid=update-download]").await;
    s.wait_text(
        "[data-testid=update-verified], [data-testid=update-failed]",
        20,
        |t| !t.is_empty(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_updates_are_opt_in_verified_and_a_tampered_one_is_refused() {
    let e = env();
    let key = ReleaseKey::new();
    let server = MockServer::start().await;
    let base = format!("http://127.0.0.1:{}", server.port());
    let data = tempfile::tempdir().unwrap();
    let s = launch_with_updates(&e, data.path(), &base, &key.public()).await;

    // Off, and nothing asked.
    s.click_css("[data-testid=settings-button]").await;
    s.wait_text("[data-testid=update-host]", 10, |t| t == "127.0.0.1")
        .await;
    let auto = s
        .script("return document.querySelector('[data-testid=update-auto]').checked")
        .await;
    assert_eq!(auto, serde_json::json!(false));
    assert!(
        server.received().is_empty(),
        "nothing is asked until the person does"
    );

    // Nothing newer. (The sections above About load first; the button is clicked once still.)
    server.push(Reply::json(204, ""));
    s.wait_for("[data-testid=engine-status]").await;
    s.wait_for("[data-testid=assistant-new]:not([disabled])")
        .await;
    s.wait_still("[data-testid=update-check]").await;
    s.click_css("[data-testid=update-check]").await;
    s.wait_text("[data-testid=update-status]", 10, |t| {
        t.contains("newest version")
    })
    .await;

    // A signed update: downloaded, verified; a build-folder copy does not install it.
    let pkg = b"parley 9.9.9 package bytes".repeat(4000);
    let said =
        offer_and_download(&s, &server, &base, "9.9.9", &key.sign(&pkg, "9.9.9"), &pkg).await;
    assert!(said.contains("signature matches"), "{said}");
    let disabled = s
        .script("return document.querySelector('[data-testid=update-install]').disabled")
        .await;
    assert_eq!(disabled, serde_json::json!(true));
    s.wait_text("[data-testid=update-cannot-install]", 10, |t| {
        t.contains("build folder")
    })
    .await;
    // The page asking on its own is refused too (a copy run from a build folder never replaces
    // itself; an installed one asks in a native dialog first).
    let asked = s
        .script_async(
            "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('install_update') \
             .then(() => done('installed'), (e) => done(JSON.stringify(e)));",
        )
        .await;
    assert!(
        asked.as_str().is_some_and(|t| t.contains("build folder")),
        "{asked}"
    );
    s.script("document.querySelector('[data-testid=update-offer]').scrollIntoView({block: 'end'})")
        .await;
    shot(&s, &e, "updates-01-verified").await;

    // Tampered: one byte changed after signing.
    let mut tampered = pkg.clone();
    tampered[100] ^= 1;
    let said = offer_and_download(
        &s,
        &server,
        &base,
        "9.9.10",
        &key.sign(&pkg, "9.9.10"),
        &tampered,
    )
    .await;
    assert!(
        said.contains("does not match Parley's release key"),
        "{said}"
    );
    assert!(s.find_all("[data-testid=update-install]").await.is_empty());
    s.script("document.querySelector('[data-testid=update-offer]').scrollIntoView({block: 'end'})")
        .await;
    shot(&s, &e, "updates-02-tampered").await;

    // An older package, validly signed, announced as a newer version.
    let said =
        offer_and_download(&s, &server, &base, "9.9.11", &key.sign(&pkg, "9.9.9"), &pkg).await;
    assert!(
        said.contains("signed as version 9.9.9") && said.contains("9.9.11"),
        "{said}"
    );

    // Signed without a version (an older CLI's signature): it cannot be matched, refused.
    let said = offer_and_download(
        &s,
        &server,
        &base,
        "9.9.13",
        &key.sign_unversioned(&pkg),
        &pkg,
    )
    .await;
    assert!(said.contains("names no version"), "{said}");

    // Signed by another key.
    let other = ReleaseKey::new();
    let said = offer_and_download(
        &s,
        &server,
        &base,
        "9.9.12",
        &other.sign(&pkg, "9.9.12"),
        &pkg,
    )
    .await;
    assert!(
        said.contains("does not match Parley's release key"),
        "{said}"
    );

    // Privacy lists each check and download, caused by "Check now" and the update.
    s.click_css("[data-testid=ledger-refresh]").await;
    s.wait_count("[data-testid=ledger-row][data-purpose=update_check]", 6)
        .await;
    s.wait_count("[data-testid=ledger-row][data-purpose=update_download]", 5)
        .await;
    let table = s
        .wait_text("[data-testid=ledger-table]", 10, |t| {
            t.contains("update to 9.9.10")
        })
        .await;
    assert!(table.contains("Check now"), "{table}");
    let got = server.received();
    assert_eq!(got.len(), 11, "{got:#?}");
    assert!(got
        .iter()
        .all(|r| r.method == "GET" && r.header("authorization").is_none()));
    shot(&s, &e, "updates-03-privacy").await;
    s.quit().await;
}
