//! What the ingest tests share: writing a fixture to a file, reading it, and checking that a
//! refusal's sentence names the file and says what is wrong. The tests are `*_tests.rs`
//! beside this file; their files are made by `test_fixtures.rs`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::{read, IngestError, Ingested, IngestedDocument, IngestedImage, Limits, Problem};

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

pub fn go() -> AtomicBool {
    AtomicBool::new(false)
}

/// Reads `bytes` as a file named `name` with `limits`.
pub fn ingest(name: &str, bytes: &[u8], limits: &Limits) -> Result<Ingested, IngestError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), name, bytes);
    read(&path, limits, &go())
}

pub fn image(result: Result<Ingested, IngestError>) -> IngestedImage {
    match result {
        Ok(Ingested::Image(image)) => image,
        other => panic!("expected an image, got {other:?}"),
    }
}

pub fn document(result: Result<Ingested, IngestError>) -> IngestedDocument {
    match result {
        Ok(Ingested::Document(document)) => document,
        other => panic!("expected a document, got {other:?}"),
    }
}

/// The error of a refused file, after checking that its sentence names the file and says
/// `phrase`.
pub fn refused(name: &str, result: Result<Ingested, IngestError>, phrase: &str) -> Problem {
    let error = match result {
        Err(error) => error,
        Ok(out) => panic!("{name}: expected a refusal saying {phrase:?}, got {out:?}"),
    };
    let sentence = error.to_string();
    assert_eq!(error.name, name, "{sentence}");
    assert!(sentence.starts_with(&format!("“{name}” ")), "{sentence}");
    assert!(
        sentence.contains(phrase),
        "{name}: {sentence:?} should say {phrase:?}"
    );
    assert!(sentence.ends_with('.'), "{sentence}");
    error.problem
}
