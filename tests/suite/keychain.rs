//! API keys in the real OS keychain. On Linux these need a Secret Service: `cargo xtask test`
//! runs them inside `dbus-run-session` with a throwaway, unlocked gnome-keyring (RECIPES.md).
//! They are `#[ignore]`d in a plain `cargo test`, where no keychain may be running.

use parley_core::secrets::{provider_account, KeyringStore, Secret, SecretStore};
use parley_protocol::ProviderInfo;
use parley_tests::*;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

const CHILD_ACCOUNT: &str = "PARLEY_KEYCHAIN_CHILD_ACCOUNT";
const CHILD_EXPECT: &str = "PARLEY_KEYCHAIN_CHILD_EXPECT";

/// Runs this test binary again, as a fresh process, to read the keychain.
fn read_in_fresh_process(account: &str, expect: Option<&str>) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "suite::keychain::keychain_child_helper",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ACCOUNT, account)
        .env(CHILD_EXPECT, expect.unwrap_or("<none>"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fresh process failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "child did not run: {stdout}");
    assert!(
        stdout.contains("keychain child checked"),
        "child did not check: {stdout}"
    );
}

/// The other half of `read_in_fresh_process`; does nothing unless started by it.
#[test]
#[ignore = "helper for the keychain tests"]
fn keychain_child_helper() {
    let Ok(account) = std::env::var(CHILD_ACCOUNT) else {
        return;
    };
    let expect = std::env::var(CHILD_EXPECT).unwrap();
    let got = KeyringStore.get(&account).unwrap();
    match expect.as_str() {
        "<none>" => assert!(got.is_none()),
        want => assert_eq!(got.unwrap().expose(), want),
    }
    println!("keychain child checked");
}

#[test]
#[ignore = "needs a real keychain: run by `cargo xtask test`"]
fn keychain_set_read_back_from_a_fresh_process_and_delete() {
    let account = format!("parley-test:{}", parley_core::new_id());
    let secret = format!("sk-real-keychain-{}", parley_core::new_id());
    KeyringStore.set(&account, &Secret::new(&secret)).unwrap();
    assert_eq!(
        KeyringStore.get(&account).unwrap().unwrap().expose(),
        secret
    );
    read_in_fresh_process(&account, Some(&secret));
    KeyringStore.delete(&account).unwrap();
    assert!(KeyringStore.get(&account).unwrap().is_none());
    read_in_fresh_process(&account, None);
    KeyringStore.delete(&account).unwrap(); // deleting a missing key is fine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real keychain: run by `cargo xtask test`"]
async fn cli_key_stdin_goes_to_the_keychain_only() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["authorized"], 0)));
    let dir = tempfile::tempdir().unwrap();
    let name = format!("kc-{}", &parley_core::new_id()[..8]);
    let key = format!("sk-cli-{}", parley_core::new_id());
    let parley = || {
        let mut c = tokio::process::Command::new(parley_bin());
        c.arg("--data-dir").arg(dir.path());
        c
    };
    let mut child = parley()
        .args([
            "providers",
            "add",
            &name,
            "--kind",
            "openai-compatible",
            "--base-url",
            &server.base_url(),
            "--model",
            "m",
            "--key-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{key}\n").as_bytes())
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("key saved in the system keychain"),
        "{stderr}"
    );
    assert!(!stderr.contains(&key) && !String::from_utf8_lossy(&out.stdout).contains(&key));

    let list = parley()
        .args(["providers", "list", "--json"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(!text.contains(&key));
    let providers: Vec<ProviderInfo> = serde_json::from_str(&text).unwrap();
    assert!(providers[0].has_key);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "key found in {}",
                p.display()
            );
        }
    }
    assert_eq!(
        KeyringStore
            .get(&provider_account(&name))
            .unwrap()
            .unwrap()
            .expose(),
        key
    );

    // A fresh process reads the key from the keychain and sends it only as the bearer token.
    let out = parley().args(["ask", "hi"]).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "authorized\n");
    let req = &server.received()[0];
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert!(!String::from_utf8_lossy(&req.body).contains(&key));

    // Removing the provider removes its key.
    let out = parley()
        .args(["providers", "remove", &name])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert!(KeyringStore
        .get(&provider_account(&name))
        .unwrap()
        .is_none());
}

/// Editing a provider from `https://` to `http://` (same host and port) drops its key from the
/// real keychain: "Test connection" and the next request go out without it. A key over plain
/// http to another machine is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real keychain: run by `cargo xtask test`"]
async fn a_scheme_change_drops_the_key() {
    use parley_protocol::{ConnectionDraft, ProviderEdit, ProviderKind};
    let server = MockServer::start().await;
    server.push(Reply::json(200, r#"{"data":[{"id":"m"}]}"#));
    let dir = tempfile::tempdir().unwrap();
    let core = parley_core::Core::open(parley_core::CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: std::sync::Arc::new(KeyringStore),
        http: super::agent::http(),
    })
    .await
    .unwrap();
    let name = format!("scheme-{}", &parley_core::new_id()[..8]);
    let key = format!("sk-scheme-{}", parley_core::new_id());
    let plain = server.base_url(); // http://127.0.0.1:PORT/...
    let tls = plain.replacen("http://", "https://", 1);
    add_provider(
        &core,
        &name,
        ProviderKind::OpenaiCompatible,
        &tls,
        "m",
        Some(&key),
    )
    .await;
    let account = provider_account(&name);
    assert_eq!(KeyringStore.get(&account).unwrap().unwrap().expose(), key);

    let edited = core
        .providers()
        .update_provider(ProviderEdit {
            name: name.clone(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: plain.clone(),
            default_model: Some("m".into()),
        })
        .await
        .unwrap();
    assert!(!edited.has_key, "the key stays with https");
    assert!(
        KeyringStore.get(&account).unwrap().is_none(),
        "deleted from the keychain"
    );
    read_in_fresh_process(&account, None);
    core.providers()
        .check_connection(ConnectionDraft {
            kind: ProviderKind::OpenaiCompatible,
            base_url: plain.clone(),
            api_key: None,
            saved_provider: Some(name.clone()),
        })
        .await
        .unwrap();
    let sent = server.received();
    assert!(!sent.is_empty());
    for r in &sent {
        assert_eq!(r.header("authorization"), None, "no key over http");
        assert!(!String::from_utf8_lossy(&r.body).contains(&key));
    }

    // A key over plain http to another machine is flagged where providers are listed.
    let far = format!("far-{}", &parley_core::new_id()[..8]);
    add_provider(
        &core,
        &far,
        ProviderKind::OpenaiCompatible,
        "http://192.0.2.7:8080/v1",
        "m",
        Some("k"),
    )
    .await;
    let list = core.providers().list_providers().await.unwrap();
    let p = list.iter().find(|p| p.name == far).unwrap();
    assert!(
        p.key_warning
            .as_deref()
            .unwrap_or_default()
            .contains("unencrypted"),
        "{p:?}"
    );
    assert!(list
        .iter()
        .find(|p| p.name == name)
        .unwrap()
        .key_warning
        .is_none());
    core.providers().remove_provider(&far).await.unwrap();
    core.providers().remove_provider(&name).await.unwrap();
}
