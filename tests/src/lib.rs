//! Test support for Parley's integration tests and benchmark: a scripted HTTP/1.1 server that
//! drip-feeds chunked bodies and injects faults (stalls, keep-alives, disconnects, error bodies),
//! builders for OpenAI-compatible SSE streams, and helpers to find and run the built binaries.

pub mod data;
mod expect;
mod mock;
pub mod release;
pub mod scroll;
pub mod webdriver;

pub use expect::{check_stream, ExpectShape};
pub use mock::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `data: {json}\n\n`.
pub fn sse_data(json: &serde_json::Value) -> Step {
    Step::Bytes(format!("data: {json}\n\n").into_bytes())
}

/// A text delta chunk.
pub fn ev_text(text: &str) -> Step {
    sse_data(
        &serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
    )
}

/// A reasoning delta chunk (`reasoning_content`).
pub fn ev_reasoning(text: &str) -> Step {
    sse_data(
        &serde_json::json!({"choices": [{"index": 0, "delta": {"reasoning_content": text}, "finish_reason": null}]}),
    )
}

/// The finish chunk.
pub fn ev_finish(reason: &str) -> Step {
    sse_data(&serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}))
}

/// The usage chunk (include_usage shape).
pub fn ev_usage(prompt: u64, completion: u64) -> Step {
    sse_data(
        &serde_json::json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}),
    )
}

/// `data: [DONE]`.
pub fn ev_done() -> Step {
    Step::Bytes(b"data: [DONE]\n\n".to_vec())
}

/// A sleep step in milliseconds.
pub fn sleep_ms(ms: u64) -> Step {
    Step::Sleep(Duration::from_millis(ms))
}

/// A complete text answer: one delta per piece, then finish, usage and [DONE].
pub fn text_answer(pieces: &[&str], gap_ms: u64) -> Vec<Step> {
    let mut steps = Vec::new();
    for p in pieces {
        steps.push(ev_text(p));
        if gap_ms > 0 {
            steps.push(sleep_ms(gap_ms));
        }
    }
    steps.push(ev_finish("stop"));
    steps.push(ev_usage(10, pieces.len() as u64));
    steps.push(ev_done());
    steps
}

// ----- binaries -----

/// The directory cargo put the binaries in (target/debug or target/release).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The built `parley` CLI. Panics with a clear message when it has not been built.
pub fn parley_bin() -> PathBuf {
    let p = bin_dir().join(format!("parley{}", std::env::consts::EXE_SUFFIX));
    assert!(
        p.exists(),
        "the parley CLI is not built at {}: run `cargo build -p parley-cli` first (`cargo xtask test` does)",
        p.display()
    );
    p
}

/// The shared provider fixtures folder (`../shared/fixtures/providers` from the repo root), if present.
pub fn shared_fixtures() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = root.join("../shared/fixtures/providers");
    p.is_dir().then_some(p)
}

/// A pseudo-terminal: the controlling side (read what a child writes to its terminal, write
/// its keystrokes) and the terminal side to give the child as stdin and stderr.
#[cfg(unix)]
pub fn open_pty() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the given ints; the null pointers ask
    // for no name, default terminal settings and default window size.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else.
    #[allow(unsafe_code)]
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    }
}

/// SQL for a stored part's whole text (`p` is its `parts` row): the folded body plus the chunks
/// of a turn still streaming (schema v6), for tests that read the database directly.
pub const PART_TEXT_SQL: &str = "p.body || coalesce((SELECT group_concat(c.body, '' ORDER BY c.id) FROM part_chunks c WHERE c.message_id = p.message_id AND c.idx = p.idx), '')";

/// The repo's own fixtures folder (tests/fixtures).
pub fn own_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The `*.EXT` fixtures of a provider (`tests/fixtures/KIND` and, when present,
/// `../shared/fixtures/providers/KIND`), each with the `expect` object of its `.expect.json`.
pub fn load_fixtures(kind: &str, ext: &str) -> Vec<(String, Vec<u8>, serde_json::Value)> {
    let mut dirs = vec![own_fixtures().join(kind)];
    match shared_fixtures() {
        Some(shared) => dirs.push(shared.join(kind)),
        None => eprintln!(
            "note: ../shared/fixtures is absent here; checking only the repo's own {kind} fixtures"
        ),
    }
    let mut out = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        files.sort();
        for f in files {
            let expect: serde_json::Value = serde_json::from_slice(
                &std::fs::read(f.with_extension("expect.json")).expect("expect.json"),
            )
            .expect("expect.json is JSON");
            out.push((
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(&f).expect("fixture"),
                expect["expect"].clone(),
            ));
        }
    }
    assert!(!out.is_empty(), "no {kind} fixtures found");
    out
}

/// Splits `bytes` at the given cut points (taken modulo the length, sorted, deduplicated).
pub fn split_at_cuts<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(&bytes[last..p]);
        last = p;
    }
    out.push(&bytes[last..]);
    out
}

/// What a provider stream said, gathered from its events (for comparison with `.expect.json`).
#[derive(Debug, Default, PartialEq)]
pub struct Gathered {
    /// Visible text.
    pub text: String,
    /// Reasoning text.
    pub reasoning: String,
    /// Reasoning signatures, in order, as stored.
    pub signatures: Vec<String>,
    /// Finished tool calls: (id, name, raw arguments, parsed arguments or why not).
    pub calls: Vec<(String, String, String, Result<serde_json::Value, String>)>,
    /// The last usage: (input, output, reasoning).
    pub usage: Option<(u64, u64, Option<u64>)>,
    /// The raw finish reason, when the stream finished.
    pub finish: Option<String>,
    /// The error the stream ended with: (kind, provider code, provider message).
    pub error: Option<(
        parley_core::error::ProviderErrorKind,
        Option<String>,
        Option<String>,
    )>,
}

/// Gathers a mapped event list.
pub fn gather(
    items: &[Result<parley_core::providers::StreamEvent, parley_core::ProviderError>],
) -> Gathered {
    use parley_core::providers::StreamEvent as E;
    let mut g = Gathered::default();
    for i in items {
        match i {
            Ok(E::TextDelta(t)) => g.text.push_str(t),
            Ok(E::ReasoningDelta(t)) => g.reasoning.push_str(t),
            Ok(E::ReasoningSignature(s)) => g.signatures.push(s.clone()),
            Ok(E::ToolCallFinished {
                id,
                name,
                arguments,
                parsed,
                ..
            }) => g
                .calls
                .push((id.clone(), name.clone(), arguments.clone(), parsed.clone())),
            Ok(E::Usage { usage, .. }) => {
                g.usage = Some((
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.reasoning_tokens,
                ))
            }
            Ok(E::Finished { raw_reason, .. }) => g.finish = raw_reason.clone(),
            Ok(_) => {}
            Err(e) => g.error = Some((e.kind, e.provider_code.clone(), e.detail.clone())),
        }
    }
    g
}

/// Runs a provider's SSE mapper over a body delivered in `chunks`, then ends the stream.
pub fn map_sse<M: parley_core::providers::http::SseMapper>(
    mut mapper: M,
    chunks: &[&[u8]],
) -> Vec<Result<parley_core::providers::StreamEvent, parley_core::ProviderError>> {
    let mut parser = parley_core::providers::sse::SseParser::new();
    let mut events = Vec::new();
    let mut out = Vec::new();
    for c in chunks {
        parser.push(c, &mut events);
        for e in events.drain(..) {
            mapper.on_event(&e, &mut out);
        }
    }
    mapper.on_end(&mut out);
    out
}

/// The items of a serialized request list (`serde_json::to_value(build_messages(..))`), as
/// JSON, for request-shape tests.
pub fn json_items(list: serde_json::Result<serde_json::Value>) -> Vec<serde_json::Value> {
    match list.expect("a request list serializes") {
        serde_json::Value::Array(items) => items,
        other => panic!("not a list: {other}"),
    }
}

/// A stored-looking message for request-shape tests.
pub fn message(
    role: parley_protocol::Role,
    parts: Vec<parley_protocol::Part>,
    provider: Option<&str>,
) -> parley_protocol::Message {
    parley_protocol::Message {
        id: parley_core::new_id().into(),
        chat_id: "s".into(),
        parent_id: None,
        role,
        parts,
        turn_id: None,
        provider: provider.map(Into::into),
        model: None,
        created_at: 0,
    }
}

/// A core on `dir` with an in-memory keychain.
pub async fn open_core(
    dir: &std::path::Path,
    http: parley_core::providers::HttpSettings,
) -> parley_core::Core {
    parley_core::Core::open(parley_core::CoreOptions {
        data_dir: dir.to_path_buf(),
        secrets: Arc::new(parley_core::secrets::MemoryStore::new()),
        http,
    })
    .await
    .expect("core opens")
}

/// Adds a provider with a default model and, optionally, a key.
pub async fn add_provider(
    core: &parley_core::Core,
    name: &str,
    kind: parley_protocol::ProviderKind,
    base_url: &str,
    model: &str,
    key: Option<&str>,
) {
    core.providers()
        .add_provider(parley_protocol::ProviderDraft {
            name: name.into(),
            kind,
            base_url: base_url.into(),
            default_model: Some(model.into()),
            api_key: key.map(str::to_owned),
        })
        .await
        .expect("provider added");
}
