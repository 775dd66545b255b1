//! One tool call with a 1 MB argument streamed in 16-byte pieces over 8 s: what the events
//! carry and how much memory the process gains while it streams (issue 12: each piece used to re-send the
//! whole argument so far — an 80 KB `write_file` took 915 MB).

use super::bench_core;
use parley_protocol::{ApprovalDecision, EventMsg, SendOptions};
use parley_tests::{MockServer, Reply, Step};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const ARGUMENT: usize = 1024 * 1024;
const PIECE: usize = 16;

/// The resident set, in bytes (Linux; 0 elsewhere).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The stream of one call whose arguments are `args`, in 16-byte pieces.
fn body(args: &str) -> Vec<u8> {
    let mut body = Vec::new();
    let head = serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "big", "type": "function", "function": {"name": "write_file", "arguments": ""}}
    ]}}]});
    body.extend_from_slice(format!("data: {head}\n\n").as_bytes());
    for piece in args.as_bytes().chunks(PIECE) {
        let piece = String::from_utf8_lossy(piece);
        let ev = serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": piece}}
        ]}}]});
        body.extend_from_slice(format!("data: {ev}\n\n").as_bytes());
    }
    body.extend_from_slice(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
    body
}

fn arguments() -> String {
    let size = std::env::var("PARLEY_BENCH_ARG_KB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(ARGUMENT, |kb| kb * 1024);
    let content = "x".repeat(size - 40);
    serde_json::json!({"path": "big.txt", "content": content}).to_string()
}

/// `parley-bench serve-args`: the model's side, in its own process so that its memory is not
/// counted — prints its base URL, serves the paced stream (about 400 pieces 20 ms apart, so a
/// window would see hundreds of frames while the argument grows), then a short answer; exits
/// when its standard input closes.
pub async fn serve() {
    let stream = body(&arguments());
    let server = MockServer::start().await;
    // A first, small call warms the client, the database and the runtime up.
    server.push(Reply::sse(vec![Step::Bytes(body(
        &serde_json::json!({"path": "w.txt", "content": "w"}).to_string(),
    ))]));
    server.push(Reply::sse(parley_tests::text_answer(&["ok"], 0)));
    let mut steps = Vec::new();
    for c in stream.chunks(stream.len() / 400 + 1) {
        steps.push(Step::Bytes(c.to_vec()));
        steps.push(Step::Sleep(std::time::Duration::from_millis(20)));
    }
    server.push(Reply::sse(steps));
    server.push(Reply::sse(parley_tests::text_answer(&["ok"], 0)));
    println!("{}", server.base_url());
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut sink);
    })
    .await;
}

/// Counts what is written (the size of an event's JSON without holding it).
struct Count(u64);

impl std::io::Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// (bytes the events carried, peak memory gained, the argument's size).
pub async fn run() -> (u64, u64, usize) {
    let size = arguments().len();
    let mut model = tokio::process::Command::new(std::env::current_exe().unwrap())
        .arg("serve-args")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(model.stdout.take().unwrap());
    let mut url = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut out, &mut url)
        .await
        .unwrap();
    let url = url.trim().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let core = bench_core(dir.path()).await;
    core.providers()
        .add_provider(parley_protocol::ProviderDraft {
            name: "bench".into(),
            kind: parley_protocol::ProviderKind::OpenaiCompatible,
            base_url: url,
            default_model: Some("bench-model".into()),
            api_key: None,
        })
        .await
        .unwrap();
    let s = core.chats().create_chat(None).await.unwrap();
    core.chats()
        .set_workspace(&s.id, Some(ws.path()))
        .await
        .unwrap();
    // The warm-up turn (a small call), then the measured one.
    let _ = turn(&core, &s.id).await;
    let base = rss();
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let carried = turn(&core, &s.id).await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let gained = peak.load(Ordering::Relaxed).saturating_sub(base);
    drop(model);
    (carried, gained, size)
}

/// One turn: the call is denied when asked; returns the bytes its events carried.
async fn turn(core: &parley_core::Core, sid: &parley_protocol::ChatId) -> u64 {
    let mut h = core
        .chats()
        .send_message(sid, "write it", SendOptions::default())
        .await
        .unwrap();
    let mut carried = 0u64;
    while let Some(ev) = h.events.recv().await {
        let mut n = Count(0);
        let _ = serde_json::to_writer(&mut n, &ev);
        carried += n.0;
        match &ev.msg {
            EventMsg::ApprovalRequested { call_id, .. } => core
                .approvals()
                .decide_approval(sid, call_id, ApprovalDecision::Deny { note: None })
                .unwrap(),
            e if e.is_turn_end() => break,
            _ => {}
        }
    }
    carried
}
