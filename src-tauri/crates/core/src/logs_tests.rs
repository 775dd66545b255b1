use super::*;

fn read_all(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn secrets_are_cut_out_of_every_record_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-log-test-0123456789abcdef";
    crate::secrets::remember(key);
    tracing::subscriber::with_default(subscriber(dir.path(), false), || {
        tracing::warn!("the provider refused the key {key}");
        tracing::info!(url = %format!("https://h.example/v1?key={key}"), "asked");
        tracing::error!(?key, "debug form");
    });
    let text = read_all(dir.path());
    assert!(
        text.contains("the provider refused the key [redacted]"),
        "{text}"
    );
    assert!(!text.contains(key), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn message_text_is_written_only_with_details_on() {
    for details in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        tracing::subscriber::with_default(subscriber(dir.path(), details), || {
            tracing::debug!(target: CONTENT, "user message: MARKER-7c1e");
            tracing::info!(target: "parley_core::chats", "turn completed");
            tracing::debug!(target: "parley_core::chats", "a detail");
            tracing::info!(target: "hyper::client", "someone else's chatter");
        });
        let text = read_all(dir.path());
        assert!(text.contains("turn completed"), "{text}");
        assert_eq!(
            text.contains("MARKER-7c1e"),
            details,
            "details {details}: {text}"
        );
        assert_eq!(text.contains("a detail"), details, "{text}");
        assert!(!text.contains("chatter"), "{text}");
    }
}

#[test]
fn the_log_is_rotated_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let file = LogFile::open(dir.path()).unwrap();
    let line = format!("{}\n", "x".repeat(999));
    for _ in 0..(6 * 1024 + 10) {
        file.write_record(line.as_bytes());
    }
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), KEEP + 1, "{files:?}");
    for f in &files {
        assert!(f.metadata().unwrap().len() <= MAX_BYTES, "{f:?}");
    }
    assert!(dir.path().join("parley.4.log").is_file());
    assert!(!dir.path().join("parley.5.log").exists());
}

#[test]
fn the_log_folder_follows_an_explicit_data_folder() {
    let d = Path::new("/tmp/some-profile");
    if std::env::var_os(LOG_DIR_ENV).is_none() {
        assert_eq!(log_dir(Some(d)), Some(d.join("logs")));
    }
}
