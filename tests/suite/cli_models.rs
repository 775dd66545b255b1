//! `parley models` without the engine: what is refused and how it reads. A file that is no
//! model, a name taken twice, the built-in provider's name, settings out of bounds, and a chat
//! with the engine's program missing: each a sentence, nothing stored or lost. (The engine
//! itself runs in `peer_engine`.)

use super::cli::{parley, run, run_command};
use parley_protocol::BUILTIN_PROVIDER;
use std::path::Path;

/// A tiny sound GGUF header (no tensors) of architecture `arch` (also the downloads' source
/// file, `models_pull`).
pub(super) fn gguf(arch: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0x4655_4747u32.to_le_bytes());
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    let key = "general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key.as_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend((arch.len() as u64).to_le_bytes());
    b.extend(arch.as_bytes());
    b
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[tokio::test]
async fn models_are_refused_with_a_sentence_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let d = data.path();
    let listed = run(d, &["models", "list", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let v: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(v["installed"], serde_json::json!([]));

    let bad = [
        ("notes.gguf", b"just some text".to_vec(), "not a GGUF"),
        ("cut.gguf", gguf("llama")[..30].to_vec(), "cut short"),
        (
            "v9.gguf",
            [b"GGUF".as_slice(), &9u32.to_le_bytes()].concat(),
            "version 9",
        ),
    ];
    for (name, bytes, says) in bad {
        let path = put(files.path(), name, &bytes);
        let r = run(d, &["models", "add", &path]).await;
        assert_eq!(r.code, 1, "{name}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
    }
    let missing = files.path().join("missing.gguf").display().to_string();
    let r = run(d, &["models", "add", &missing]).await;
    assert!(r.stderr.contains("cannot be read"), "{}", r.stderr);
    let r = run(d, &["models", "add", &files.path().display().to_string()]).await;
    assert!(r.stderr.contains("not a file"), "{}", r.stderr);

    // A sound one, then the same file again and the same name again.
    let good = put(files.path(), "tiny.gguf", &gguf("llama"));
    let r = run(d, &["models", "add", &good]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("tiny"), "{}", r.stdout);
    let again = run(d, &["models", "add", &good]).await;
    assert!(
        again.stderr.contains("already installed as \"tiny\""),
        "{}",
        again.stderr
    );
    let other = put(files.path(), "other.gguf", &gguf("qwen2"));
    let r = run(d, &["models", "add", &other, "--name", "TINY"]).await;
    assert!(r.stderr.contains("already installed"), "{}", r.stderr);
    // Names with control or hidden characters (two names must not look alike).
    for bad in ["bad\u{7}name", "ti\u{200b}ny", "tiny\u{202e}", "\u{2066}x"] {
        let r = run(d, &["models", "add", &other, "--name", bad]).await;
        assert!(
            r.stderr.contains("control or hidden characters"),
            "{bad:?}: {}",
            r.stderr
        );
    }

    // Settings out of bounds.
    for (flag, value, says) in [
        ("--context", "100", "between 512"),
        ("--threads", "999", "between 1 and 256"),
        ("--gpu-layers", "5000", "between 0 and 999"),
    ] {
        let r = run(d, &["models", "set", "tiny", flag, value]).await;
        assert!(r.stderr.contains(says), "{flag}: {}", r.stderr);
    }
    let r = run(
        d,
        &[
            "models",
            "set",
            "tiny",
            "--context",
            "2048",
            "--threads",
            "2",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&run(d, &["models", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(v["installed"][0]["settings"]["context"], 2048);
    assert_eq!(v["installed"][0]["settings"]["threads"], 2);

    // The built-in provider's name is not for a configured provider, nor editable.
    let r = run(
        d,
        &[
            "providers",
            "add",
            BUILTIN_PROVIDER,
            "--kind",
            "openai-compatible",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
    )
    .await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("built-in engine"), "{}", r.stderr);
    let r = run(d, &["providers", "remove", BUILTIN_PROVIDER]).await;
    assert!(r.stderr.contains("built-in engine"), "{}", r.stderr);

    // The engine's program missing: a chat says so, and the question is kept.
    let mut cmd = parley(d);
    cmd.env("PARLEY_ENGINE", files.path().join("no-engine"));
    let r = run_command(cmd, &["ask", "hello there"]).await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("no-engine"), "{}", r.stderr);
    let chats = run(d, &["chats", "list", "--json"]).await;
    assert!(
        chats.stdout.contains("hello there") || chats.stdout.contains("\"message_count\":1"),
        "{}",
        chats.stdout
    );

    // Removing leaves the user's file.
    let r = run(d, &["models", "remove", "tiny"]).await;
    assert!(r.stdout.contains("left where it is"), "{}", r.stdout);
    assert!(Path::new(&good).exists());
    let r = run(d, &["models", "remove", "tiny"]).await;
    assert!(r.stderr.contains("No local model named"), "{}", r.stderr);
}
