//! MCP servers' values in the real OS keychain (`cargo xtask test` runs these inside a private
//! D-Bus session with gnome-keyring): `parley mcp add --env/--header` saves them there only — a
//! canary value is in no file of the data folder and in no output — and `mcp list` names them;
//! removing the server forgets them.

use super::cli::run;
use parley_core::secrets::{KeyringStore, SecretStore};
use parley_protocol::McpServer;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

pub(super) fn in_no_file(dir: &std::path::Path, canary: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "found in {}",
                p.display()
            );
        } else if p.is_dir() {
            in_no_file(&p, canary);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real keychain: run by `cargo xtask test`"]
async fn mcp_values_go_to_the_keychain_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let canary = format!("mcp-canary-{}", parley_core::new_id());
    let env_arg = format!("API_TOKEN={canary}");
    let r = run(
        d,
        &[
            "mcp",
            "add",
            "local",
            "--env",
            &env_arg,
            "--",
            "node",
            "server.js",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("keychain"), "{}", r.stderr);
    // A header's value from standard input.
    let mut child = super::cli::parley(d)
        .args([
            "mcp",
            "add",
            "remote",
            "--url",
            "https://mcp.example.com/mcp",
            "--header-stdin",
            "Authorization",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("Bearer {canary}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = run(d, &["mcp", "list"]).await;
    assert!(
        r.stdout.contains("values in the keychain: API_TOKEN"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("values in the keychain: Authorization"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(&canary) && !r.stderr.contains(&canary));
    let r = run(d, &["mcp", "list", "--json"]).await;
    assert!(!r.stdout.contains(&canary));
    let servers: Vec<McpServer> = serde_json::from_str(&r.stdout).unwrap();
    let account = |name: &str| {
        format!(
            "mcp:{}",
            servers.iter().find(|s| s.name == name).unwrap().id
        )
    };
    let saved = KeyringStore
        .get(&account("local"))
        .unwrap()
        .expect("in the keychain");
    assert!(saved.expose().contains(&canary));
    let backup = d.join("backup.db");
    let r = run(d, &["backup", backup.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    in_no_file(d, &canary);
    for name in ["local", "remote"] {
        let acc = account(name);
        assert_eq!(run(d, &["mcp", "remove", name]).await.code, 0);
        assert!(
            KeyringStore.get(&acc).unwrap().is_none(),
            "{name}: forgotten"
        );
    }
}
