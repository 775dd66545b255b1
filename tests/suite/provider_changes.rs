//! Provider changes as the change card describes them: every change is checked and described
//! before anything is stored (the desktop app shows the description in a card on its own
//! origin and makes the change only when the person confirms there), keys are never shown
//! whole, and a change applies only to the providers as they are when it is confirmed.

use super::engine::*;
use parley_core::providers::{ChangePreview, ProviderChange};
use parley_core::secrets::{MemoryStore, Secret};
use parley_core::{Core, CoreOptions};
use parley_protocol::{ProviderDraft, ProviderEdit, ProviderKind};
use std::sync::Arc;

fn draft(name: &str, url: &str, key: Option<&str>) -> ProviderDraft {
    ProviderDraft {
        name: name.into(),
        kind: ProviderKind::OpenaiCompatible,
        base_url: url.into(),
        default_model: Some("m".into()),
        api_key: key.map(Into::into),
    }
}

fn edit(name: &str, url: &str, model: &str) -> ProviderEdit {
    ProviderEdit {
        name: name.into(),
        kind: ProviderKind::OpenaiCompatible,
        base_url: url.into(),
        default_model: Some(model.into()),
    }
}

fn text(p: &ChangePreview) -> String {
    let rows: Vec<String> = p.rows.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(
        "{}\n{}\n{}",
        p.title,
        rows.join("\n"),
        p.warnings.join("\n")
    )
}

const KEY: &str = "sk-live-0123456789abcdefWXYZ";
const NEW_KEY: &str = "sk-attacker-99999999999999QQQQ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_changes_are_described_first_and_made_only_when_applied() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(CoreOptions {
        data_dir: dir.path().to_path_buf(),
        secrets: Arc::new(MemoryStore::new()),
        http: fast_http(),
    })
    .await
    .unwrap();
    let p = core.providers();
    p.add_provider(draft("main", "https://api.example.com/v1", Some(KEY)))
        .await
        .unwrap();
    p.add_provider(draft("bare", "http://127.0.0.1:8080/v1", None))
        .await
        .unwrap();
    let before = p.list_providers().await.unwrap();

    // (change, what the description must say, what it must not say, destructive)
    let described: Vec<(ProviderChange, &[&str], &[&str], bool)> = vec![
        (
            ProviderChange::Add(draft("new", "https://api.other.com/v1", Some(KEY))),
            &[
                "Add the provider “new”",
                "https://api.other.com/v1",
                "…WXYZ",
                "https://api.other.com:443",
            ],
            &[KEY, "sk-live"],
            false,
        ),
        (
            ProviderChange::Add(draft("plain", "http://10.0.0.9:8000/v1", Some(KEY))),
            &["unencrypted", "10.0.0.9"],
            &[KEY],
            false,
        ),
        (
            ProviderChange::Add(draft("short", "https://a.example/v1", Some("sk-1"))),
            &["a key of 4 characters"],
            &["sk-1"],
            false,
        ),
        (
            ProviderChange::Add(draft("nokey", "http://localhost:1234/v1", None)),
            &["Key: none"],
            &["unencrypted"],
            false,
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "https://evil.example.net/v1", "m"),
                key: None,
            },
            &[
                "https://api.example.com/v1 → https://evil.example.net/v1",
                "will be deleted",
                "https://api.example.com:443",
            ],
            &[KEY],
            true,
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "https://api.example.com/v2", "m"),
                key: None,
            },
            &["/v1 → https://api.example.com/v2"],
            &["deleted"],
            false,
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "https://api.example.com/v1", "m"),
                key: Some(Secret::new(NEW_KEY)),
            },
            &["Replace the saved key", "…QQQQ"],
            &[NEW_KEY],
            false,
        ),
        (
            ProviderChange::Update {
                edit: edit("bare", "http://127.0.0.1:8080/v1", "m"),
                key: Some(Secret::new(NEW_KEY)),
            },
            &[
                "Key: Save a key of 30 characters ending in …QQQQ",
                "http://127.0.0.1:8080",
            ],
            &["unencrypted"],
            false,
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "https://api.example.com/v1", "m"),
                key: None,
            },
            &["no setting changes"],
            &[],
            false,
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "https://api.example.com/v1", "big\u{202e}model"),
                key: None,
            },
            &["Default model: m → big\u{202e}model"],
            &[],
            false,
        ),
        (
            ProviderChange::Remove("main".into()),
            &["Remove the provider “main”", "deleted from the keychain"],
            &[KEY],
            true,
        ),
        (
            ProviderChange::ClearKey("main".into()),
            &["Delete the key of “main”"],
            &[KEY],
            true,
        ),
    ];
    for (change, says, hides, destructive) in &described {
        let d = p
            .preview(change)
            .await
            .unwrap_or_else(|e| panic!("{change:?}: {e:?}"));
        let t = text(&d);
        for s in *says {
            assert!(t.contains(s), "{change:?} should say {s:?}:\n{t}");
        }
        for h in *hides {
            assert!(!t.contains(h), "{change:?} must not show {h:?}:\n{t}");
        }
        assert_eq!(d.destructive, *destructive, "{t}");
    }

    // Refused before anything is shown: the card never offers a change that cannot be made.
    let refused: Vec<(ProviderChange, &str)> = vec![
        (
            ProviderChange::Add(draft("main", "https://x.example/v1", None)),
            "already exists",
        ),
        (
            ProviderChange::Add(draft("", "https://x.example/v1", None)),
            "1 to 64",
        ),
        (
            ProviderChange::Add(draft("a\u{7}b", "https://x.example/v1", None)),
            "control",
        ),
        (
            ProviderChange::Add(draft(&"n".repeat(65), "https://x.example/v1", None)),
            "1 to 64",
        ),
        (
            ProviderChange::Add(draft("x", "file:///etc/passwd", None)),
            "http://",
        ),
        (
            ProviderChange::Add(draft("x", "https://user:pw@x.example/v1", None)),
            "credentials",
        ),
        (
            ProviderChange::Add(draft("x", "not a url", None)),
            "not a valid URL",
        ),
        (
            ProviderChange::Update {
                edit: edit("ghost", "https://x.example/v1", "m"),
                key: None,
            },
            "No provider",
        ),
        (
            ProviderChange::Update {
                edit: edit("main", "javascript:alert(1)", "m"),
                key: None,
            },
            "http://",
        ),
        (ProviderChange::Remove("ghost".into()), "No provider"),
        (ProviderChange::ClearKey("bare".into()), "has no saved key"),
    ];
    for (change, why) in &refused {
        let e = p.preview(change).await.expect_err(&format!("{change:?}"));
        assert!(
            e.to_info().message.contains(why),
            "{change:?}: {}",
            e.to_info().message
        );
    }

    // Describing changed nothing.
    assert_eq!(p.list_providers().await.unwrap(), before);

    // Applying makes the change; a change that no longer fits the providers fails clearly.
    let add = ProviderChange::Add(draft("later", "https://later.example/v1", None));
    p.preview(&add).await.unwrap();
    p.add_provider(draft("later", "https://elsewhere.example/v1", None))
        .await
        .unwrap();
    let e = p.apply(add).await.unwrap_err();
    assert!(e.to_info().message.contains("already exists"), "{e:?}");
    let info = p
        .apply(ProviderChange::Update {
            edit: edit("bare", "http://127.0.0.1:8080/v1", "m2"),
            key: Some(Secret::new(NEW_KEY)),
        })
        .await
        .unwrap()
        .unwrap();
    assert!(info.has_key);
    assert_eq!(info.default_model.as_deref(), Some("m2"));
    let info = p
        .apply(ProviderChange::Update {
            edit: edit("main", "https://evil.example.net/v1", "m"),
            key: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert!(!info.has_key, "the key stayed with its host");
    assert!(p
        .apply(ProviderChange::Remove("main".into()))
        .await
        .unwrap()
        .is_none());
    let names: Vec<String> = p
        .list_providers()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["bare", "later"]);
}
