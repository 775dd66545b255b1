//! The journal's write cost, through the real store (a real SQLite file, WAL, synchronous=FULL):
//! the bytes a 10 MB answer writes to the WAL, and the WAL's size over a 100k-message chat.

use parley_core::chats::ChatTables as _;
use parley_core::chats::{JournalOp, TurnEnd};
use parley_core::store::{Store, WAL_SIZE_LIMIT};
use parley_protocol::{ChatId, Part};
use std::time::{Duration, Instant};

const ANSWER: usize = 10 * 1024 * 1024;

async fn begin(store: &Store, sid: &ChatId) -> parley_core::chats::BegunTurn {
    let b = store
        .begin_turn(
            sid,
            "question".into(),
            "p".into(),
            "m".into(),
            "bench".into(),
        )
        .await
        .unwrap();
    empty_text(store, &b).await;
    b
}

/// The answer's first part, empty, as a turn's first delta inserts it.
pub async fn empty_text(store: &Store, b: &parley_core::chats::BegunTurn) {
    store
        .journal(vec![JournalOp::InsertPart {
            message_id: b.assistant_message_id.clone(),
            index: 0,
            part: Part::Text {
                text: String::new(),
            },
        }])
        .await
        .unwrap();
}

/// One flush of streamed text into the answer's first part.
pub async fn append(store: &Store, b: &parley_core::chats::BegunTurn, text: String) {
    store
        .journal(vec![JournalOp::AppendText {
            message_id: b.assistant_message_id.clone(),
            index: 0,
            text,
        }])
        .await
        .unwrap();
}

/// Streams a 10 MB answer in flushes of `flush` bytes (what 150 ms of the stream carries) and
/// returns the WAL bytes written, from the first flush to the turn's end, and the time taken.
pub async fn wal_bytes(flush: usize) -> (u64, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let (store, _) = parley_core::open_store(&path).unwrap();
    let sid = ChatId("s".into());
    store.create_chat(sid.clone(), String::new()).await.unwrap();
    let b = begin(&store, &sid).await;
    store.bench_measure_wal(0).await.unwrap();
    let wal = dir.path().join("parley.db-wal");
    let before = std::fs::metadata(&wal).map_or(0, |m| m.len());
    let piece = "streamed answer text, ".repeat(flush / 22 + 1)[..flush].to_owned();
    let t = Instant::now();
    let mut sent = 0;
    while sent < ANSWER {
        append(&store, &b, piece.clone()).await;
        sent += piece.len();
    }
    store
        .finish_turn(&b.turn_id, vec![], TurnEnd::completed())
        .await
        .unwrap();
    let took = t.elapsed();
    let after = std::fs::metadata(&wal).map_or(0, |m| m.len());
    let h = store.history(&sid).await.unwrap().unwrap();
    assert_eq!(
        h.messages[1].text().len(),
        sent,
        "the answer was stored whole"
    );
    (after - before, took)
}

/// A chat that grows to `messages` messages (turns of a question and a streamed answer in
/// three flushes), with the WAL's size sampled after every turn: (largest WAL, WAL at the end,
/// database size, time).
pub async fn long_chat(messages: usize) -> (u64, u64, u64, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let wal = dir.path().join("parley.db-wal");
    let (store, _) = parley_core::open_store(&path).unwrap();
    let sid = ChatId("long".into());
    store.create_chat(sid.clone(), String::new()).await.unwrap();
    let t = Instant::now();
    let mut largest = 0;
    for _ in 0..messages / 2 {
        let b = begin(&store, &sid).await;
        for _ in 0..3 {
            append(&store, &b, "a typical answer's next few tokens, ".repeat(4)).await;
        }
        store
            .finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    let took = t.elapsed();
    let end = std::fs::metadata(&wal).map_or(0, |m| m.len());
    let db = std::fs::metadata(&path).map_or(0, |m| m.len());
    (largest, end, db, took)
}

pub fn print(rt: &tokio::runtime::Runtime) {
    print_wal(rt);
    print_long_chat(rt);
}

/// The 10 MB answer's WAL table (`parley-bench wal` prints only it).
pub fn print_wal(rt: &tokio::runtime::Runtime) {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!();
    println!("| 10 MB answer, a flush every 150 ms | WAL bytes written | × the answer | time |");
    println!("|---|---:|---:|---:|");
    for (flush, label) in [
        (1024, "1 KB per flush (7 KB/s, about 1,700 tokens/s)"),
        (4 * 1024, "4 KB per flush (27 KB/s)"),
        (16 * 1024, "16 KB per flush (107 KB/s)"),
        (64 * 1024, "64 KB per flush (430 KB/s)"),
        (1024 * 1024, "1 MB per flush (a local server at full speed)"),
    ] {
        let (bytes, took) = rt.block_on(wal_bytes(flush));
        println!(
            "| {label} | {:.1} MB | {:.2}× | {:.1} s |",
            mb(bytes),
            bytes as f64 / ANSWER as f64,
            took.as_secs_f64()
        );
    }
}

fn print_long_chat(rt: &tokio::runtime::Runtime) {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let messages = 100_000;
    let (largest, end, db, took) = rt.block_on(long_chat(messages));
    println!();
    println!("| {messages}-message session (50k turns, 3 flushes each) | value |");
    println!("|---|---:|");
    println!(
        "| largest WAL seen (after any turn) | {:.1} MB |",
        mb(largest)
    );
    println!("| WAL at the end | {:.1} MB |", mb(end));
    println!(
        "| WAL size limit (cut back to after a checkpoint) | {:.1} MB |",
        mb(WAL_SIZE_LIMIT as u64)
    );
    println!("| database at the end | {:.1} MB |", mb(db));
    println!("| time | {:.0} s |", took.as_secs_f64());
}
