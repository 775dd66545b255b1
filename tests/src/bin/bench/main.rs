//! `cargo xtask bench`: Parley's benchmark. Prints a table; it is a measurement, not a test.
//!
//! 1. Stream pipeline throughput on the same bytes: SSE framing alone; SSE + the Chat
//!    Completions mapper; and the whole core pipeline (loopback HTTP from a local server →
//!    parse → events → journal in a real SQLite file), in tokens per second.
//! 2. Journal costs (append, begin, finish) with 1k, 100k and 1M messages already in the
//!    database and in the search bench's database (`parley-bench append`); the WAL bytes
//!    a 10 MB answer writes; the WAL's size over a 100k-message chat (`journal.rs`).
//! 3. A 1 MB tool argument streamed in 16-byte pieces: bytes the events carry, memory gained.
//! 4. `parley-bench import` (run by `cargo xtask bench` once the CLI is built): a 100 MB export
//!    of each format through `parley import`, its time and peak memory (`import.rs`).

use parley_core::chats::ChatTables as _;
use parley_core::chats::TurnEnd;
use parley_core::providers::http::SseMapper;
use parley_core::providers::openai_chat::ChatMapper;
use parley_core::providers::sse::SseParser;
use parley_core::providers::HttpSettings;
use parley_core::secrets::MemoryStore;
use parley_core::{Core, CoreOptions};
use parley_protocol::ProviderDraft;
use parley_protocol::{ChatId, EventMsg, ProviderKind, SendOptions, TurnStatus};
use parley_tests::{MockServer, Reply, Step};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKENS: usize = 200_000;

/// A realistic Chat Completions stream: one token per chunk, with the id/model/fingerprint
/// fields real servers send.
fn stream_bytes(tokens: usize) -> Vec<u8> {
    let words = [
        "The",
        " quick",
        " brown",
        " fox",
        " jumps",
        " over",
        " the",
        " lazy",
        " dog",
        ".",
        " Ünïcödé",
        " 👋",
    ];
    let mut out = Vec::with_capacity(tokens * 230);
    for i in 0..tokens {
        let w = words[i % words.len()];
        let chunk = serde_json::json!({
            "id": "chatcmpl-bench0000000000000000000",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000u64,
            "model": "bench-model",
            "system_fingerprint": "fp_0000000000",
            "choices": [{"index": 0, "delta": {"content": w}, "logprobs": null, "finish_reason": null}],
            "usage": null
        });
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    out.extend_from_slice(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    out.extend_from_slice(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":200000}}\n\ndata: [DONE]\n\n");
    out
}

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn sse_only(bytes: &[u8]) -> usize {
    let mut p = SseParser::new();
    let mut evs = Vec::new();
    let mut n = 0;
    for chunk in bytes.chunks(16 * 1024) {
        p.push(chunk, &mut evs);
        n += evs.len();
        evs.clear();
    }
    n
}

fn sse_and_mapper(bytes: &[u8]) -> usize {
    let mut p = SseParser::new();
    let mut m = ChatMapper::new();
    let mut evs = Vec::new();
    let mut out = Vec::new();
    let mut tokens = 0;
    for chunk in bytes.chunks(16 * 1024) {
        p.push(chunk, &mut evs);
        for e in evs.drain(..) {
            m.on_event(&e, &mut out);
        }
        tokens += out
            .drain(..)
            .filter(|e| matches!(e, Ok(parley_core::providers::StreamEvent::TextDelta(_))))
            .count();
    }
    tokens
}

/// A core on the data folder `dir` (keys in memory).
async fn bench_core(dir: &std::path::Path) -> Core {
    Core::open(CoreOptions {
        data_dir: dir.to_path_buf(),
        secrets: Arc::new(MemoryStore::new()),
        http: HttpSettings::default(),
    })
    .await
    .unwrap()
}

/// The OpenAI-compatible provider both benchmarks stream from.
async fn add_bench_provider(core: &Core, server: &MockServer) {
    core.providers()
        .add_provider(ProviderDraft {
            name: "bench".into(),
            kind: ProviderKind::OpenaiCompatible,
            base_url: server.base_url(),
            default_model: Some("bench-model".into()),
            api_key: None,
        })
        .await
        .unwrap();
}

async fn pipeline(bytes: &[u8]) -> (Duration, usize, String) {
    let server = MockServer::start().await;
    let steps: Vec<Step> = bytes
        .chunks(64 * 1024)
        .map(|c| Step::Bytes(c.to_vec()))
        .collect();
    server.push(Reply::sse(steps));
    let dir = tempfile::tempdir().unwrap();
    let core = bench_core(dir.path()).await;
    add_bench_provider(&core, &server).await;
    let s = core.chats().create_chat(None).await.unwrap();
    let t = Instant::now();
    let mut h = core
        .chats()
        .send_message(&s.id, "benchmark", SendOptions::default())
        .await
        .unwrap();
    // Deltas arrive coalesced (one event per frame at most): count what they carry.
    let mut chars = 0;
    let mut events = 0;
    while let Some(ev) = h.events.recv().await {
        match ev.msg {
            EventMsg::TextDelta { delta, .. } => {
                chars += delta.chars().count();
                events += 1;
            }
            EventMsg::TurnCompleted { .. } => break,
            EventMsg::TurnFailed { error, .. } => panic!("bench turn failed: {}", error.message),
            _ => {}
        }
    }
    let elapsed = t.elapsed();
    let h = core.history().full_history(&s.id).await.unwrap();
    assert_eq!(h.turns[0].status, TurnStatus::Completed);
    let stored = h.messages[1].text();
    assert_eq!(
        chars,
        stored.chars().count(),
        "the events carried all the text"
    );
    (
        elapsed,
        TOKENS,
        format!(
            "{} KB journaled, {events} delta events",
            stored.len() / 1024
        ),
    )
}

/// Fills a database with `n` messages (half user, half assistant) across 100 chats.
fn fill(path: &std::path::Path, n: usize) {
    let c = rusqlite::Connection::open(path).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN;").unwrap();
    let sessions = 100;
    for s in 0..sessions {
        c.execute(
            "INSERT INTO sessions(id, title, created_at, updated_at) VALUES (?1, 'bench', 0, 0)",
            [format!("s{s}")],
        )
        .unwrap();
    }
    let mut prev: Vec<Option<String>> = vec![None; sessions];
    let mut msg = c.prepare("INSERT INTO messages(id, session_id, parent_id, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
    let mut part = c
        .prepare("INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)")
        .unwrap();
    for i in 0..n {
        let s = i % sessions;
        let id = format!("m{i:09}");
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        msg.execute(rusqlite::params![
            id,
            format!("s{s}"),
            prev[s],
            role,
            i as i64
        ])
        .unwrap();
        part.execute(rusqlite::params![
            id,
            "Some earlier message text, about as long as a typical chat line."
        ])
        .unwrap();
        prev[s] = Some(id);
    }
    drop((msg, part));
    for (s, head) in prev.iter().enumerate() {
        c.execute(
            "UPDATE sessions SET head_message_id = ?2, message_count = ?3 WHERE id = ?1",
            rusqlite::params![format!("s{s}"), head, (n / sessions) as i64],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT;").unwrap();
}

/// Median costs of a turn's journal writes, in microseconds.
struct TurnCost {
    /// One streamed batch appended (the search index takes a piece now and then).
    append: f64,
    /// Begin: user message + turn + assistant message.
    begin: f64,
    /// Finish: what is left indexed for search, short parts folded, the turn ended.
    finish: f64,
}

/// The journal's costs with `existing` messages (`fill`) in the database.
async fn append_cost(existing: usize) -> TurnCost {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    drop(parley_core::open_store(&path).unwrap());
    fill(&path, existing);
    append_cost_in(&path, "s0").await
}

/// The journal's costs in a copy of the search bench's database (10,000 chats of 100
/// messages of a 50,000-word vocabulary: an index the size of a heavy user's).
async fn append_cost_bench_database() -> TurnCost {
    let (db, _) = search::database(&root());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    std::fs::copy(db, &path).unwrap();
    append_cost_in(&path, "s00000").await
}

/// Ten turns of 50 streamed batches each in the chat `sid` of the database at `path`.
async fn append_cost_in(path: &std::path::Path, sid: &str) -> TurnCost {
    // The file just written is on disk before the clock starts: its write-back would
    // otherwise land in the turns' fsyncs.
    std::fs::File::open(path).unwrap().sync_all().unwrap();
    let (store, _) = parley_core::open_store(path).unwrap();
    let sid = ChatId(sid.into());
    let (mut per_append, mut begin, mut finish) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        let b = store
            .begin_turn(
                &sid,
                "question".into(),
                "p".into(),
                "m".into(),
                "bench".into(),
            )
            .await
            .unwrap();
        begin.push(t.elapsed());
        journal::empty_text(&store, &b).await;
        let t = Instant::now();
        for _ in 0..50 {
            journal::append(&store, &b, "a batch of streamed tokens ".repeat(4)).await;
        }
        per_append.push(t.elapsed() / 50);
        let t = Instant::now();
        store
            .finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        finish.push(t.elapsed());
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    TurnCost {
        append: median(per_append),
        begin: median(begin),
        finish: median(finish),
    }
}

/// The journal tables (`parley-bench journal` prints only them): append cost as the database
/// grows to 1M messages, WAL bytes for a 10 MB answer, the WAL over a 100k-message chat.
fn print_journal(rt: &tokio::runtime::Runtime) {
    print_append(rt);
    journal::print(rt);
}

/// The append table (`parley-bench append` prints only it): what a turn's journal writes
/// cost, the search index written with them, as history grows to 1M messages.
fn print_append(rt: &tokio::runtime::Runtime) {
    let k1 = rt.block_on(append_cost(1_000));
    let k100 = rt.block_on(append_cost(100_000));
    let m1 = rt.block_on(append_cost(1_000_000));
    let bench = rt.block_on(append_cost_bench_database());
    println!();
    println!("| journal (medians of 10 turns) | 1k messages | 100k messages | 1M messages | bench database (1M, 50,000 words) | 1M vs 1k | bench vs 1k |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let line = |what: &str, f: fn(&TurnCost) -> f64| {
        println!(
            "| {what} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.2}× | {:.2}× |",
            f(&k1),
            f(&k100),
            f(&m1),
            f(&bench),
            f(&m1) / f(&k1),
            f(&bench) / f(&k1)
        );
    };
    line("append one streamed batch", |c| c.append);
    line(
        "begin a turn: user message + turn + assistant message",
        |c| c.begin,
    );
    line("finish a turn: the rest indexed, folded, ended", |c| {
        c.finish
    });
}

/// The search table (`parley-bench search` prints only it; `parley-bench search WORDS…` only
/// the rows whose label holds one of the words).
fn print_search(rt: &tokio::runtime::Runtime, only: &[String]) {
    for line in rt.block_on(search::run(&root(), only)) {
        println!("{line}");
    }
}

/// The repository (its `target/bench-data/` keeps the search database between runs).
fn root() -> std::path::PathBuf {
    std::env::var_os("PARLEY_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The tool-argument table (`parley-bench args` prints only it).
fn print_args(rt: &tokio::runtime::Runtime) {
    let (carried, gained, size) = rt.block_on(args::run());
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!();
    println!(
        "| tool argument of {:.1} MB in 16-byte pieces | events carried | peak memory gained |",
        mb(size as u64)
    );
    println!("|---|---:|---:|");
    println!(
        "| one write_file call (denied) | {:.1} MB ({:.1}× the argument) | {:.1} MB ({:.1}× the argument) |",
        mb(carried),
        carried as f64 / size as f64,
        mb(gained),
        gained as f64 / size as f64
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match std::env::args().nth(1).as_deref() {
        Some("desktop") => return rt.block_on(desktop::run()),
        Some("args") => return print_args(&rt),
        Some("journal") => return print_journal(&rt),
        Some("append") => return print_append(&rt),
        Some("search") => {
            let only: Vec<String> = std::env::args().skip(2).collect();
            return print_search(&rt, &only);
        }
        Some("import") => return import::run(),
        Some("import-child") => {
            return import::child(&std::env::args().skip(2).collect::<Vec<_>>())
        }
        Some("wal") => return journal::print_wal(&rt),
        Some("migrate") => return print_migrate(),
        Some("serve-args") => return rt.block_on(args::serve()),
        Some("scale") => {
            let only: Vec<String> = std::env::args().skip(2).collect();
            return rt.block_on(scale::run(&only));
        }
        _ => {}
    }
    print_stream(&rt);
    print_journal(&rt);
    print_args(&rt);
    print_search(&rt, &[]);
    println!();
    println!(
        "machine: {} cores; synchronous=FULL, WAL",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
}

/// `parley-bench migrate DB`: the time Parley takes to open (and so upgrade) DB.
fn print_migrate() {
    let Some(db) = std::env::args().nth(2) else {
        eprintln!("usage: parley-bench migrate DATABASE");
        std::process::exit(2);
    };
    let started = Instant::now();
    drop(parley_core::open_store(std::path::Path::new(&db)).unwrap());
    println!("opened {db} in {:.1} s", started.elapsed().as_secs_f64());
}

/// The stream pipeline's throughput on the same bytes: SSE framing alone, with the Chat
/// Completions mapper, and the whole core pipeline.
fn print_stream(rt: &tokio::runtime::Runtime) {
    let bytes = stream_bytes(TOKENS);
    eprintln!(
        "benchmarking on {} MB of stream ({} tokens)…",
        bytes.len() / (1024 * 1024),
        TOKENS
    );
    let (t_sse, events) = best_of(5, || sse_only(&bytes));
    assert!(events >= TOKENS);
    let (t_map, tokens) = best_of(5, || sse_and_mapper(&bytes));
    assert_eq!(tokens, TOKENS);
    let mut best_pipe = Duration::MAX;
    let mut note = String::new();
    for _ in 0..3 {
        let (t, n, extra) = rt.block_on(pipeline(&bytes));
        assert_eq!(n, TOKENS);
        if t < best_pipe {
            best_pipe = t;
            note = extra;
        }
    }
    let tps = |d: Duration| TOKENS as f64 / d.as_secs_f64();
    println!();
    println!("| measurement | time | tokens/s | note |");
    println!("|---|---:|---:|---|");
    println!(
        "| SSE framing only | {:.1} ms | {:.0} | {} events |",
        t_sse.as_secs_f64() * 1e3,
        tps(t_sse),
        events
    );
    println!("| SSE + Chat Completions mapper (the parser) | {:.1} ms | {:.0} | JSON decode of every chunk |", t_map.as_secs_f64() * 1e3, tps(t_map));
    println!(
        "| core pipeline: loopback HTTP → parse → events → journal | {:.1} ms | {:.0} | {note}; {:.2}× the parser, {:.2}× SSE framing |",
        best_pipe.as_secs_f64() * 1e3,
        tps(best_pipe),
        best_pipe.as_secs_f64() / t_map.as_secs_f64(),
        best_pipe.as_secs_f64() / t_sse.as_secs_f64()
    );
}

mod args;
mod desktop;
mod images;
mod import;
mod journal;
mod scale;
mod scroll;
mod search;
