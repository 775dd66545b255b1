//! Test support for Parley's integration tests and benchmark: a scripted HTTP/1.1 server that
//! drip-feeds chunked bodies and injects faults (stalls, keep-alives, disconnects, error bodies),
//! builders for OpenAI-compatible SSE streams, and helpers to find and run the built binaries.

pub mod webdriver;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a scripted response body.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes as one chunk.
    Bytes(Vec<u8>),
    /// Wait.
    Sleep(Duration),
    /// Stop sending but keep the connection open until the client goes away.
    Stall,
    /// Close the connection abruptly (no terminating chunk).
    Disconnect,
    /// A text delta whose content is `⟦unix ms⟧ `, stamped at the moment it is written (latency
    /// benchmarks).
    StampedText,
    /// Send an SSE comment every `every` for `total`, then continue.
    KeepAlive {
        /// Interval between comments.
        every: Duration,
        /// How long to keep it up.
        total: Duration,
    },
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Content type.
    pub content_type: String,
    /// The body, step by step.
    pub steps: Vec<Step>,
}

impl Reply {
    /// A 200 SSE response with these steps.
    pub fn sse(steps: Vec<Step>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            content_type: "text/event-stream".into(),
            steps,
        }
    }

    /// No response at all: the connection closes right after the request (a server that
    /// dropped a kept-alive connection, a proxy that gave up).
    pub fn hang_up() -> Reply {
        Reply {
            status: 0,
            headers: Vec::new(),
            content_type: String::new(),
            steps: Vec::new(),
        }
    }

    /// A JSON response with a status.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json".into(),
            steps: vec![Step::Bytes(body.as_bytes().to_vec())],
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the content type.
    pub fn content_type(mut self, ct: &str) -> Reply {
        self.content_type = ct.into();
        self
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// True once the client closed the connection while the reply was still being sent.
    pub client_went_away: Arc<std::sync::atomic::AtomicBool>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    script: Vec<Reply>,
    fallback: Option<Reply>,
    received: Vec<Received>,
    gets: Option<Reply>,
    get_received: Vec<Received>,
}

/// A scripted HTTP server on 127.0.0.1. Replies are used in order; once the script is used up
/// the fallback (if any) answers, else 500.
#[derive(Clone)]
pub struct MockServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    /// Starts a server on a free loopback port.
    pub async fn start() -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
        MockServer { addr, state }
    }

    /// Queues replies.
    pub fn push(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().script.push(reply);
        self
    }

    /// Sets the reply used when the script is exhausted.
    pub fn fallback(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().fallback = Some(reply);
        self
    }

    /// Answers every GET (model lists, which a window fetches whenever it likes) with `reply`,
    /// outside the script; such requests are listed by [`MockServer::gets`], not `received`.
    pub fn answer_gets(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().gets = Some(reply);
        self
    }

    /// The GET requests answered by [`MockServer::answer_gets`].
    pub fn gets(&self) -> Vec<Received> {
        self.state.lock().unwrap().get_received.clone()
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

async fn serve(mut sock: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let header_end = loop {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    let went_away = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reply = {
        let mut st = state.lock().unwrap();
        let req = Received {
            method,
            path,
            headers,
            body,
            client_went_away: went_away.clone(),
        };
        if let (Some(reply), "GET") = (st.gets.clone(), req.method.as_str()) {
            st.get_received.push(req);
            reply
        } else if st.script.is_empty() {
            st.received.push(req);
            st.fallback.clone().unwrap_or_else(|| {
                Reply::json(500, "{\"error\":{\"message\":\"script exhausted\"}}")
            })
        } else {
            st.received.push(req);
            st.script.remove(0)
        }
    };
    if reply.status == 0 {
        let _ = sock.shutdown().await;
        return Ok(());
    }
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
        reply.status, reply.content_type
    );
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    let mark_gone = |r: std::io::Result<()>| {
        if r.is_err() {
            went_away.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        r
    };
    for step in reply.steps {
        match step {
            Step::Bytes(b) => {
                if b.is_empty() {
                    continue;
                }
                mark_gone(write_chunk(&mut sock, &b).await)?;
            }
            Step::Sleep(d) => {
                // Notice a client that hangs up while we wait.
                if wait_or_gone(&mut sock, d).await {
                    went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                    return Ok(());
                }
            }
            Step::StampedText => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64() * 1000.0)
                    .unwrap_or(0.0);
                let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": format!("⟦{now:.3}⟧ ")}, "finish_reason": null}]});
                mark_gone(write_chunk(&mut sock, format!("data: {chunk}\n\n").as_bytes()).await)?;
            }
            Step::Stall => {
                wait_or_gone(&mut sock, Duration::from_secs(3600)).await;
                went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                return Ok(());
            }
            Step::Disconnect => {
                let _ = sock.shutdown().await;
                return Ok(());
            }
            Step::KeepAlive { every, total } => {
                let end = tokio::time::Instant::now() + total;
                while tokio::time::Instant::now() < end {
                    mark_gone(write_chunk(&mut sock, b": keep-alive\n\n").await)?;
                    if wait_or_gone(&mut sock, every).await {
                        went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                        return Ok(());
                    }
                }
            }
        }
    }
    mark_gone(sock.write_all(b"0\r\n\r\n").await)?;
    let _ = sock.shutdown().await;
    Ok(())
}

async fn write_chunk(sock: &mut TcpStream, b: &[u8]) -> std::io::Result<()> {
    let mut out = format!("{:x}\r\n", b.len()).into_bytes();
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
    sock.write_all(&out).await?;
    sock.flush().await
}

/// Waits `d`; returns true if the client closed the connection meanwhile.
async fn wait_or_gone(sock: &mut TcpStream, d: Duration) -> bool {
    let mut tmp = [0u8; 64];
    match tokio::time::timeout(d, sock.read(&mut tmp)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

// ----- SSE builders for OpenAI-compatible streams -----

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

/// A stored-looking message for request-shape tests.
pub fn message(
    role: parley_protocol::Role,
    parts: Vec<parley_protocol::Part>,
    provider: Option<&str>,
) -> parley_protocol::Message {
    parley_protocol::Message {
        id: parley_core::new_id().into(),
        session_id: "s".into(),
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
