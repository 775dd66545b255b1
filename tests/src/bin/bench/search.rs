//! Search at scale: 10,000 chats of 100 messages (1M messages, ~28 words each, a Zipf
//! vocabulary of 50,000 words, one message in 50 with CJK), built through the schema's own
//! triggers, then queried through `Store::search` (match, filters, ranking, snippets).
//! The database is kept in `target/bench-data/` and reused by later runs.

use parley_core::search::text::{parse_query, MAX_WORDS};
use parley_core::search::SearchTables as _;
use parley_protocol::{ChatId, Role, SearchQuery};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CHATS: usize = 10_000;
const PER_CHAT: usize = 100;
const VOCABULARY: usize = 50_000;
/// Bumped when the generated data changes (a different file is built).
const DATA_VERSION: u32 = 2;

/// xorshift64*: the same data on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Word `i` of the vocabulary: syllables, so words look like words and share prefixes.
fn word(i: usize) -> String {
    const S: &[&str] = &[
        "ka", "lo", "ri", "tan", "mes", "po", "ul", "vey", "dor", "sin", "ab", "qua", "zel", "fi",
        "gor", "nu", "wex", "ce", "hra", "jo",
    ];
    let mut n = i + 1;
    let mut w = String::new();
    while n > 0 {
        w.push_str(S[n % S.len()]);
        n /= S.len();
    }
    w
}

/// Zipf(1) rank sampler over the vocabulary: cumulative weights, binary search.
struct Zipf(Vec<f64>);
impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut acc = 0.0;
        Zipf(
            (1..=n)
                .map(|r| {
                    acc += 1.0 / r as f64;
                    acc
                })
                .collect(),
        )
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.0[self.0.len() - 1];
        let x = rng.unit() * total;
        self.0.partition_point(|&c| c < x)
    }
}

const CJK: &[&str] = &[
    "東京タワーに行きました",
    "我们明天去北京大学",
    "서울에서 만나요",
    "日本語の文章を検索する",
];

/// Planted words: (word, one message in every N has it).
const PLANTED: &[(&str, usize)] = &[("zyzzyva", 100_000), ("quartzite", 1_000), ("marigold", 21)];

fn message_text(i: usize, rng: &mut Rng, zipf: &Zipf) -> String {
    let n = 8 + rng.below(40);
    let mut t = String::with_capacity(n * 7);
    for k in 0..n {
        if k > 0 {
            t.push(' ');
        }
        t.push_str(&word(zipf.sample(rng)));
    }
    for (w, every) in PLANTED {
        if i % every == every / 2 {
            t.push(' ');
            t.push_str(w);
        }
    }
    if i % 50 == 7 {
        t.push(' ');
        t.push_str(CJK[(i / 50) % CJK.len()]);
    }
    t
}

/// Builds (or reuses) the database; returns its path and the build time when built now.
pub(crate) fn database(root: &Path) -> (PathBuf, Option<Duration>) {
    // Named by the data's version and the schema's text: a database made by another schema is
    // never reused.
    let schema = parley_core::store::schema::MIGRATIONS
        .iter()
        .flat_map(|m| m.bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let dir = root.join(format!(
        "target/bench-data/search-v{DATA_VERSION}-{schema:016x}"
    ));
    let path = dir.join("parley.db");
    if dir.join("complete").exists() {
        return (path, None);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    drop(parley_core::open_store(&path).unwrap());
    let started = Instant::now();
    let mut c = rusqlite::Connection::open(&path).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    write_chats(&mut c);
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    std::fs::write(dir.join("complete"), "").unwrap();
    (path, Some(started.elapsed()))
}

/// The chats, a hundred per transaction, with progress on stderr.
fn write_chats(c: &mut rusqlite::Connection) {
    let mut rng = Rng(0x05EE_D0F5_EAC4);
    let zipf = Zipf::new(VOCABULARY);
    for chunk in 0..(CHATS / 100) {
        let tx = c.transaction().unwrap();
        write_hundred(&tx, chunk, &mut rng, &zipf);
        tx.commit().unwrap();
        if chunk % 10 == 9 {
            eprintln!(
                "search bench: {} of {CHATS} chats written",
                (chunk + 1) * 100
            );
        }
    }
}

/// A hundred chats (the `chunk`th hundred), each with its messages, each message one text part.
fn write_hundred(tx: &rusqlite::Transaction, chunk: usize, rng: &mut Rng, zipf: &Zipf) {
    let t0 = 1_700_000_000_000i64;
    let mut session = tx
        .prepare("INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count) VALUES (?1, ?2, ?3, ?3, ?4, ?5)")
        .unwrap();
    let mut message = tx
        .prepare("INSERT INTO messages(id, session_id, parent_id, role, model, provider, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .unwrap();
    let mut part = tx
        .prepare("INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)")
        .unwrap();
    for s in chunk * 100..(chunk + 1) * 100 {
        let sid = format!("s{s:05}");
        let at = t0 + (s * PER_CHAT) as i64 * 60_000;
        let title = format!("{} {}", word(zipf.sample(rng)), word(zipf.sample(rng)));
        let head = format!("{sid}-m{:03}", PER_CHAT - 1);
        session
            .execute(rusqlite::params![sid, title, at, head, PER_CHAT as i64])
            .unwrap();
        for m in 0..PER_CHAT {
            let i = s * PER_CHAT + m;
            let id = format!("{sid}-m{m:03}");
            let parent = (m > 0).then(|| format!("{sid}-m{:03}", m - 1));
            let (role, model, provider) = if m % 2 == 0 {
                ("user", None, None)
            } else if s % 3 == 0 {
                ("assistant", Some("gpt-4o"), Some("openai"))
            } else {
                ("assistant", Some("llama3"), Some("local"))
            };
            message
                .execute(rusqlite::params![
                    id,
                    sid,
                    parent,
                    role,
                    model,
                    provider,
                    at + m as i64 * 60_000
                ])
                .unwrap();
            part.execute(rusqlite::params![id, message_text(i, rng, zipf)])
                .unwrap();
        }
    }
}

/// The costliest searches of each shape, by size: the most common words (`n` of them, alone
/// and as one phrase), and prefixes of one to four letters that stand for the most of the text
/// (`l*`: 2,500 words, an eighth of all words written; `lo*` the same, `tan*` a fifteenth,
/// `kalo*` 125 words), alone, two together and with the most common words.
fn costliest() -> Vec<(String, String)> {
    let common = |n: usize| (0..n).map(word).collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for n in [4, 6, 8, 12, 16, 32] {
        out.push((format!("{n} words, the most common"), common(n)));
    }
    // Common words that are seldom together: each is in a tenth to a third of the messages,
    // and about 1,000 messages hold them all (under the 2,000 past which the newest are shown
    // first, so every match is read and ranked).
    let ranks = |r: std::ops::Range<usize>| r.map(word).collect::<Vec<_>>().join(" ");
    out.push((
        "3 words seldom together (Zipf ranks 19-21)".into(),
        ranks(18..21),
    ));
    out.push((
        "6 words seldom together (Zipf ranks 5-10)".into(),
        ranks(4..10),
    ));
    for n in [3, 4, 5, 6, 8] {
        out.push((
            format!("phrase of the {n} most common words"),
            format!("\"{}\"", common(n)),
        ));
    }
    for p in ["l", "lo", "ka", "tan", "kalo"] {
        out.push((
            format!("prefix of {} ({p}*)", letters(p.len())),
            format!("{p}*"),
        ));
    }
    out.push(("two prefixes (lo* ri*)".into(), "lo* ri*".into()));
    out.push((
        format!("two prefixes and the most common words, {MAX_WORDS} words in all"),
        format!("lo* ri* {}", common(MAX_WORDS - 2)),
    ));
    out.push((
        format!(
            "two prefixes and the most common words, {} words in all",
            MAX_WORDS + 1
        ),
        format!("lo* ri* {}", common(MAX_WORDS - 1)),
    ));
    out
}

fn letters(n: usize) -> String {
    match n {
        1 => "one letter".into(),
        n => format!("{n} letters"),
    }
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Times every row, or only the rows whose label holds one of `only`.
pub async fn run(root: &Path, only: &[String]) -> Vec<String> {
    let (path, built) = database(root);
    let (store, _) = parley_core::open_store(&path).unwrap();
    let mut lines = vec![
        String::new(),
        format!(
            "| search, {CHATS} chats / {} messages | hits | p50 | p95 | max |",
            CHATS * PER_CHAT
        ),
        "|---|---:|---:|---:|---:|".into(),
    ];
    let mut worst_p95 = 0.0f64;
    for (what, query) in cases() {
        if !only.is_empty() && !only.iter().any(|o| what.contains(o.as_str())) {
            continue;
        }
        let (line, p95) = time_search(&store, &what, query).await;
        if !what.ends_with("refused") {
            worst_p95 = worst_p95.max(p95);
        }
        lines.push(line);
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    lines.push(format!(
        "\nworst p95 of the searches allowed {worst_p95:.1} ms (budget: ≤ 50 ms, DESIGN.md §7); database {:.0} MB{}",
        size as f64 / 1e6,
        built
            .map(|d| format!(
                "; built through the index triggers in {:.0} s",
                d.as_secs_f64()
            ))
            .unwrap_or_else(|| "; reused from an earlier run".into())
    ));
    lines
}

/// The searches timed: single words from rare to the most common, two words, a phrase, a
/// prefix, CJK, no match, the costliest searches there are, and filtered ones.
fn cases() -> Vec<(String, SearchQuery)> {
    let q = |text: &str| SearchQuery {
        text: text.into(),
        ..Default::default()
    };
    let common = word(0);
    let medium = word(200);
    let mut cases: Vec<(String, SearchQuery)> = vec![
        ("rare word (10 messages)".into(), q("zyzzyva")),
        ("uncommon word (1 in 1,000)".into(), q("quartzite")),
        ("frequent word (1 in 20)".into(), q("marigold")),
        (format!("Zipf rank 200 word ({medium})"), q(&medium)),
        (
            format!("most common word ({common}, most messages)"),
            q(&common),
        ),
        ("two words".into(), q(&format!("marigold {medium}"))),
        ("phrase".into(), q(&format!("\"{} {}\"", word(0), word(1)))),
        ("prefix".into(), q("quartz*")),
        ("CJK, two characters".into(), q("東京")),
        ("no match".into(), q("nonexistentword")),
        // The costliest searches there are, at the caps (search::text::MAX_WORDS,
        // MAX_PREFIXES, MIN_PREFIX_CHARS) and past them (refused, timed for comparison):
        // the most common words (each in most messages, so the index reads nearly all of each
        // one's entries), and the prefixes that stand for the most of the text.
    ];
    for (what, text) in costliest() {
        let refused = parse_query(&text).and_then(|p| p.too_big()).is_some();
        let what = if refused {
            format!("{what} — refused")
        } else {
            what
        };
        cases.push((what, q(&text)));
    }
    cases.extend(vec![
        (
            "filtered: assistant, gpt-4o".into(),
            SearchQuery {
                role: Some(Role::Assistant),
                model: Some("gpt-4o".into()),
                ..q("marigold")
            },
        ),
        (
            "one chat, the most common word".into(),
            SearchQuery {
                chat: Some(ChatId("s04321".into())),
                ..q(&common)
            },
        ),
        (
            "one chat, a phrase of the two most common words".into(),
            SearchQuery {
                chat: Some(ChatId("s04321".into())),
                ..q(&format!("\"{} {}\"", word(0), word(1)))
            },
        ),
    ]);
    cases
}

/// One search timed over 20 runs after a warm-up: its row of the table, and its p95 in ms.
async fn time_search(
    store: &parley_core::store::Store,
    what: &str,
    query: SearchQuery,
) -> (String, f64) {
    // Warm once (the page cache, as on a machine that has opened its chats before).
    let first = store.search(query.clone()).await;
    let mut times = Vec::new();
    let mut stopped = 0;
    for _ in 0..20 {
        let t = Instant::now();
        // A search stopped at its time (StoreError::SearchTooCostly) is timed too.
        stopped += usize::from(store.search(query.clone()).await.is_err());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let p95 = pct(times.clone(), 0.95);
    let hits = match &first {
        Ok(r) if r.capped => {
            format!("{} (newest first: over {})", r.hits.len(), r.ranked_at_most)
        }
        Ok(r) if !r.by_relevance && !r.hits.is_empty() => {
            format!("{} (newest first)", r.hits.len())
        }
        Ok(r) => r.hits.len().to_string(),
        Err(_) => "stopped at 30 ms, refused".into(),
    };
    let hits = if stopped > 0 && first.is_ok() {
        format!("{hits}; stopped in {stopped} of 20 runs")
    } else {
        hits
    };
    let line = format!(
        "| {what} | {hits} | {:.1} ms | {:.1} ms | {:.1} ms |",
        pct(times.clone(), 0.5),
        p95,
        pct(times, 1.0)
    );
    (line, p95)
}
