//! MCP configuration on a real database file and an in-memory keychain: what a server may be
//! (tables of names, addresses, variables and headers), values kept only in the keychain and
//! bound to the program or address, a keychain that refuses leaving nothing saved, and
//! other clients' files imported entry by entry.

use super::*;
use crate::test_kit::{core, rt};
use crate::{Core, CoreOptions};
use parley_protocol::McpTransport;

fn stdio(cmd: &str, args: &[&str]) -> McpTransport {
    McpTransport::Stdio {
        command: cmd.into(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

fn http(url: &str) -> McpTransport {
    McpTransport::Http { url: url.into() }
}

fn nv(name: &str, value: &str) -> NamedValue {
    NamedValue {
        name: name.into(),
        value: value.into(),
    }
}

fn input(
    name: &str,
    transport: McpTransport,
    env: Vec<NamedValue>,
    headers: Vec<NamedValue>,
) -> McpServerInput {
    McpServerInput {
        name: name.into(),
        transport,
        env,
        headers,
        enabled: true,
    }
}

#[test]
fn names_are_short_and_plain() {
    let long = "a".repeat(33);
    let cases: [(&str, bool); 14] = [
        ("files", true),
        ("my-server_2", true),
        ("  padded  ", true),
        ("9lives", true),
        ("", false),
        ("-dash", false),
        ("_under", false),
        ("has space", false),
        ("dots.in.name", false),
        ("slash/name", false),
        ("naïve", false),
        ("evil\u{202E}txt", false),
        ("zero\u{200B}width", false),
        (&long, false),
    ];
    for (name, ok) in cases {
        assert_eq!(config::check_name(name).is_ok(), ok, "{name:?}");
    }
    assert_eq!(
        config::usable_name("My Server (prod)").as_deref(),
        Some("My-Server--prod")
    );
    assert_eq!(
        config::usable_name("github.com/tools").as_deref(),
        Some("github-com-tools")
    );
    assert_eq!(config::usable_name("…"), None);
    assert_eq!(
        config::usable_name(&"x".repeat(80)).map(|n| n.len()),
        Some(32)
    );
}

#[test]
fn transports_variables_and_headers_are_checked() {
    let bad: Vec<(&str, McpTransport)> = vec![
        ("no program", stdio("  ", &[])),
        ("NUL in program", stdio("node\0x", &[])),
        ("NUL in an argument", stdio("node", &["a\0b"])),
        ("ftp", http("ftp://example.com/mcp")),
        ("file", http("file:///etc/passwd")),
        ("credentials", http("https://user:pw@example.com/mcp")),
        ("no host", http("https://")),
        ("not an address", http("example.com/mcp")),
    ];
    for (what, t) in bad {
        assert!(config::check_transport(&t).is_err(), "{what}");
    }
    assert!(config::check_transport(&stdio(
        "npx",
        &["-y", "@modelcontextprotocol/server-everything"]
    ))
    .is_ok());
    assert!(config::check_transport(&http("http://127.0.0.1:3001/mcp")).is_ok());
    let bad_env: Vec<Vec<NamedValue>> = vec![
        vec![nv("", "x")],
        vec![nv("1ABC", "x")],
        vec![nv("A-B", "x")],
        vec![nv("A B", "x")],
        vec![nv("KEY", "a\0b")],
        vec![nv("KEY", "1"), nv("key", "2")],
        vec![nv("KEY", &"x".repeat(64 * 1024 + 1))],
    ];
    for env in bad_env {
        assert!(config::check_env(&env).is_err(), "{env:?}");
    }
    assert!(config::check_env(&[nv("GITHUB_TOKEN", "ghp_x"), nv("_X1", "")]).is_ok());
    let bad_headers: Vec<Vec<NamedValue>> = vec![
        vec![nv("Bad Header", "x")],
        vec![nv("X-Auth", "a\r\nInjected: yes")],
        vec![nv("X-Auth", "a\nb")],
        vec![nv("Authorization", "1"), nv("authorization", "2")],
        vec![nv("X:Y", "x")],
    ];
    for h in bad_headers {
        assert!(config::check_headers(&h).is_err(), "{h:?}");
    }
    assert!(config::check_headers(&[nv("Authorization", "Bearer abc")]).is_ok());
}

#[test]
fn values_are_only_in_the_keychain_and_bound_to_the_program_or_address() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let canary = "mcp-canary-value-7f3a9c";
        let remote = input(
            "remote",
            http("https://tools.example.com/mcp"),
            vec![],
            vec![nv("Authorization", &format!("Bearer {canary}"))],
        );
        let s = core.mcp().add(remote, false).await.unwrap();
        assert_eq!(s.header_names, vec!["Authorization"]);
        let local = input(
            "local",
            stdio("node", &["server.js"]),
            vec![nv("API_KEY", canary)],
            vec![],
        );
        core.mcp().add(local, false).await.unwrap();
        let listed = core.mcp().list().await.unwrap();
        assert_eq!(
            listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["local", "remote"]
        );
        let v = core.mcp().values(&s).unwrap();
        assert_eq!(v.headers[0].value, format!("Bearer {canary}"));
        assert!(crate::secrets::redact_known(&format!("x {canary} y")).contains("[redacted]"));
        // Another path on the same host keeps the values; another host or port does not.
        let mut moved = s.clone();
        moved.transport = http("https://tools.example.com/v2/mcp");
        assert!(core.mcp().values(&moved).is_ok());
        for other in [
            "https://evil.example.net/mcp",
            "http://tools.example.com/mcp",
            "https://tools.example.com:8443/mcp",
        ] {
            moved.transport = http(other);
            let e = core.mcp().values(&moved).err().expect(other).to_string();
            assert!(e.contains("not sent"), "{other}: {e}");
        }
        // Nothing of a value in the database file (nor its WAL).
        core.end();
        drop(core);
        for f in ["parley.db", "parley.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{f}"
                );
            }
        }
    });
}

#[test]
fn replacing_removing_and_a_keychain_that_refuses() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let first = input(
            "files",
            stdio("node", &["a.js"]),
            vec![nv("TOKEN", "first-secret-1")],
            vec![],
        );
        let s = core.mcp().add(first.clone(), false).await.unwrap();
        let e = core
            .mcp()
            .add(first.clone(), false)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("already"), "{e}");
        let e = core
            .mcp()
            .add(input("FILES", stdio("x", &[]), vec![], vec![]), false)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("already"),
            "names are one without regard to case: {e}"
        );
        let again = input("files", stdio("node", &["b.js"]), vec![], vec![]);
        let r = core.mcp().add(again, true).await.unwrap();
        assert_eq!((r.id.as_str(), r.created_at), (s.id.as_str(), s.created_at));
        assert!(
            core.mcp().values(&r).unwrap().env.is_empty(),
            "values not given again are forgotten"
        );
        let off = core.mcp().set_enabled("Files", false).await.unwrap();
        assert!(!off.enabled);
        core.mcp().remove("files").await.unwrap();
        assert!(core.mcp().list().await.unwrap().is_empty());
        assert!(core.mcp().remove("files").await.is_err());
        core.end();
        drop(core);

        let dir = tempfile::tempdir().unwrap();
        let locked = Core::open(CoreOptions {
            data_dir: dir.path().to_path_buf(),
            secrets: Arc::new(crate::secrets::MemoryStore::unavailable()),
            http: Default::default(),
        })
        .await
        .unwrap();
        let e = locked
            .mcp()
            .add(first, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("keychain"), "{e}");
        assert!(
            locked.mcp().list().await.unwrap().is_empty(),
            "nothing saved"
        );
        let plain = input("plain", stdio("node", &[]), vec![], vec![]);
        assert!(
            locked.mcp().add(plain, false).await.is_ok(),
            "no values: no keychain needed"
        );
    });
}

const CLAUDE_DESKTOP: &str = r#"{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/Desktop"]},
    "github": {"command": "docker", "args": ["run", "-i", "ghcr.io/github/github-mcp-server"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_canary1234567"}},
    "remote tools": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer abcdefgh12345"}, "type": "http"},
    "old-sse": {"type": "sse", "url": "http://127.0.0.1:9000/sse"},
    "off": {"type": "http", "url": "http://127.0.0.1:9000/mcp", "disabled": true},
    "query-key": {"url": "https://mcp.example.com/mcp?api_key=sk-123"},
    "with-extras": {"command": "uvx", "args": ["mcp-server-time"], "autoApprove": ["get_time"], "timeout": 60},
    "vscode-input": {"command": "npx", "env": {"KEY": "${input:api-key}"}},
    "no-command": {"args": ["x"]},
    "both": {"command": "x", "url": "https://example.com"},
    "args-not-list": {"command": "x", "args": "--flag"},
    "env-not-text": {"command": "x", "env": {"A": {"nested": 1}}},
    "ws": {"type": "websocket", "url": "ws://example.com"},
    "creds": {"url": "https://u:p@example.com/mcp"},
    "crlf": {"url": "https://example.com/mcp", "headers": {"X-A": "a\r\nX-Injected: 1"}},
    "not-an-object": ["npx"],
    "\u202Eevil": {"command": "x"},
    "…": {"command": "x"}
  }
}"#;

#[test]
fn another_clients_file_is_imported_entry_by_entry() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        core.mcp()
            .add(input("filesystem", stdio("mine", &[]), vec![], vec![]), false)
            .await
            .unwrap();
        let r = core.mcp().import_config(CLAUDE_DESKTOP).await.unwrap();
        let mut added = r.added.clone();
        added.sort();
        assert_eq!(added, ["evil", "github", "off", "remote-tools", "with-extras"], "{r:#?}");
        let skipped: Vec<&str> = r.skipped.iter().map(|s| s.name.as_str()).collect();
        for name in ["filesystem", "vscode-input", "no-command", "both", "args-not-list", "env-not-text", "ws", "creds", "crlf", "not-an-object", "…", "old-sse", "query-key"] {
            assert!(skipped.iter().any(|s| s.contains(name)), "{name} reported: {r:#?}");
        }
        assert!(r.skipped.iter().all(|s| !s.reason.is_empty()));
        assert!(r.skipped.iter().any(|s| s.reason.contains("already configured")));
        assert!(r.skipped.iter().any(|s| s.reason.contains("does not expand")));
        assert!(r.skipped.iter().any(|s| s.reason.contains("older SSE transport")));
        assert!(r.skipped.iter().any(|s| s.reason.contains("credentials")));
        assert!(r.ignored_fields.iter().any(|f| f.contains("autoApprove") && f.contains("timeout")), "{:?}", r.ignored_fields);
        // A hidden character in a name is shown, never passed on.
        assert!(r.skipped.iter().all(|s| !s.name.contains('\u{202E}')));
        let off = core.mcp().get("off").await.unwrap();
        assert!(!off.enabled, "\"disabled\": true is kept");
        let gh = core.mcp().get("github").await.unwrap();
        assert_eq!(gh.env_names, ["GITHUB_PERSONAL_ACCESS_TOKEN"]);
        assert_eq!(core.mcp().values(&gh).unwrap().env[0].value, "ghp_canary1234567");
        // VS Code's shape, and files that are not configurations at all.
        let vs = r#"{"servers": {"time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}}"#;
        assert_eq!(core.mcp().import_config(vs).await.unwrap().added, ["time"]);
        let big = format!("{{\"mcpServers\": {{}}, \"pad\": \"{}\"}}", "x".repeat(1024 * 1024));
        for bad in ["not json", "[]", "{\"mcpServers\": []}", "{\"other\": {}}", big.as_str()] {
            assert!(core.mcp().import_config(bad).await.is_err(), "{:.40}", bad);
        }
    });
}

/// tests/mcp_servers/changing.py, from this crate.
fn changing_script() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/mcp_servers/changing.py")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_server_that_cannot_list_its_tools_is_not_started_again_at_once() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir.path().join("data")).await;
        let desc = dir.path().join("desc.txt");
        std::fs::write(&desc, "Looks a word up.").unwrap();
        let args = vec![
            changing_script(),
            desc.to_string_lossy().into_owned(),
            "listfail".into(),
        ];
        let broken = McpServerInput {
            transport: McpTransport::Stdio {
                command: "python3".into(),
                args,
            },
            ..input("broken", stdio("x", &[]), vec![], vec![])
        };
        core.mcp().add(broken, false).await.unwrap();
        let ws = dir.path();
        let entries = vec!["mcp:broken".to_owned()];
        let (tools, problems) = core.mcp().chat_tools(&entries, ws, &[], true).await;
        assert!(tools.is_empty());
        assert!(
            problems[0].contains("could not list its tools"),
            "{problems:?}"
        );
        // At once again (the next turn): not started again, and said why and when.
        let (tools, problems) = core.mcp().chat_tools(&entries, ws, &[], true).await;
        assert!(tools.is_empty());
        assert!(problems[0].contains("tried again in"), "{problems:?}");
        let starts = std::fs::read_to_string(dir.path().join("desc.txt.starts")).unwrap();
        assert_eq!(starts.lines().count(), 1, "started once");
        core.mcp().close_all().await;
    });
}
