//! What a release is made from, checked here on every OS: the release workflow for hosted
//! macOS and Windows runners is valid YAML with the jobs it needs and no secret in it; the
//! identifier and version come from one place (Cargo.toml), and the keychain's service name is
//! that identifier.

use serde_yaml::Value;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repo root")
        .to_path_buf()
}

fn workflow() -> Value {
    let text = std::fs::read_to_string(repo().join(".github/workflows/release.yml"))
        .expect("the release workflow");
    serde_yaml::from_str(&text).expect("the release workflow is valid YAML")
}

/// Every `uses:` and `run:` of a job's steps.
fn steps(job: &Value, key: &str) -> Vec<String> {
    job["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .filter_map(|s| s[key].as_str().map(str::to_owned))
        .collect()
}

/// The runners a job's matrix names (`os:` in the list or in `include:`).
fn runners(job: &Value) -> Vec<String> {
    let m = &job["strategy"]["matrix"];
    let listed = m["os"].as_sequence().into_iter().flatten();
    let included = m["include"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|i| &i["os"]);
    listed
        .chain(included)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_release_workflow_tests_then_bundles_on_macos_and_windows() {
    let w = workflow();
    let jobs = &w["jobs"];
    // Tests first, on every OS: the platform code paths compile and run there.
    let test = &jobs["test"];
    let test_os = runners(test);
    for os in ["macos", "windows", "ubuntu"] {
        assert!(
            test_os.iter().any(|r| r.starts_with(os)),
            "tests on {os}: {test_os:?}"
        );
    }
    let runs = steps(test, "run");
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo test -p parley-protocol -p parley-core")),
        "the test job runs the core's tests on every OS: {runs:?}"
    );
    assert!(runs.iter().any(|r| r.contains("cargo test --workspace")));
    // Then the bundles, with the official Tauri action, from the inputs xtask prepares.
    let bundle = &jobs["bundle"];
    assert_eq!(bundle["needs"].as_str(), Some("test"));
    let bundle_os = runners(bundle);
    assert!(
        bundle_os.iter().any(|r| r.starts_with("macos")),
        "{bundle_os:?}"
    );
    assert!(
        bundle_os.iter().any(|r| r.starts_with("windows")),
        "{bundle_os:?}"
    );
    assert!(steps(bundle, "uses")
        .iter()
        .any(|u| u.starts_with("tauri-apps/tauri-action@")));
    assert!(steps(bundle, "run")
        .iter()
        .any(|r| r.contains("cargo xtask bundle --prepare")));
    let on = &w["on"];
    assert!(
        on["push"]["tags"].as_sequence().is_some(),
        "released from a tag"
    );
}

#[test]
fn the_release_workflow_takes_every_signing_value_from_secrets() {
    let text = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let w = workflow();
    let mut checked = 0;
    for step in w["jobs"]["bundle"]["steps"].as_sequence().unwrap() {
        let Some(env) = step["env"].as_mapping() else {
            continue;
        };
        for (k, v) in env {
            let (k, v) = (k.as_str().unwrap(), v.as_str().unwrap_or(""));
            if k.starts_with("APPLE_")
                || k.starts_with("TAURI_SIGNING")
                || k.starts_with("WINDOWS_")
            {
                assert_eq!(
                    v,
                    format!("${{{{ secrets.{k} }}}}"),
                    "{k} comes from its secret"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 8,
        "the signing and notarization values are wired ({checked})"
    );
    // Nothing that looks like a key or a certificate is written in the file itself.
    for hint in ["-----BEGIN", "MII", "password:"] {
        assert!(
            !text.contains(hint),
            "the workflow holds no secret ({hint})"
        );
    }
}

/// Updates: a release is built with its update source (an https address and the public key,
/// a repository variable), and publishes the manifest the app reads.
#[test]
fn a_release_is_built_with_its_update_source_and_publishes_the_manifest() {
    let w = workflow();
    let bundle = &w["jobs"]["bundle"];
    let env = &bundle["env"];
    let endpoint = env["PARLEY_UPDATE_ENDPOINT"]
        .as_str()
        .expect("an update address");
    assert!(
        endpoint.starts_with("https://") && endpoint.ends_with("/latest.json"),
        "{endpoint}"
    );
    assert_eq!(
        env["PARLEY_UPDATE_PUBKEY"].as_str(),
        Some("${{ vars.PARLEY_UPDATE_PUBKEY }}")
    );
    let action = bundle["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("tauri-apps/tauri-action@"))
        })
        .expect("the Tauri action");
    assert_eq!(action["with"]["includeUpdaterJson"].as_bool(), Some(true));
    assert!(action["env"]["TAURI_SIGNING_PRIVATE_KEY"]
        .as_str()
        .is_some());
    // The jobs merge their platforms into one latest.json: one at a time.
    assert_eq!(bundle["strategy"]["max-parallel"].as_u64(), Some(1));
    // The CLI that binds each signature to its version, the one xtask uses.
    let bundle_rs =
        std::fs::read_to_string(repo().join("src-tauri/crates/xtask/src/bundle.rs")).unwrap();
    let pinned = bundle_rs
        .lines()
        .find_map(|l| l.strip_prefix("const TAURI_CLI: &str = \""))
        .and_then(|l| l.strip_suffix("\";"))
        .expect("xtask pins the Tauri CLI");
    let script = action["with"]["tauriScript"].as_str().unwrap_or("");
    assert!(script.ends_with(pinned), "{script} uses {pinned}");
}

#[test]
fn the_identifier_and_version_are_written_once_in_cargo() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let table = manifest
        .split("[package.metadata.parley]")
        .nth(1)
        .expect("Cargo.toml has [package.metadata.parley]");
    let identifier = table
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier"))
        .map(|v| {
            v.trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"')
        })
        .expect("an identifier");
    assert_eq!(
        identifier,
        parley_core::secrets::SERVICE,
        "the keychain's service name"
    );
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tauri.conf.json")).unwrap())
            .unwrap();
    assert!(
        conf.get("identifier").is_none(),
        "tauri.conf.json repeats the identifier"
    );
    assert!(
        conf.get("version").is_none(),
        "tauri.conf.json repeats the version"
    );
}
