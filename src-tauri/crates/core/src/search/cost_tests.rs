//! What bounds a search's cost: a prefix of one letter is refused; the upgrade that gave the
//! index its prefix lists indexes every entry again exactly as it was written; ranking counts
//! at most so many entries; the newest-first pass is interrupted at its time.

use super::store::{cheap_to_rank, Alarm};
use super::text::parse_query;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, TurnEnd};
use parley_protocol::{ChatId, Part};
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn text(t: &str) -> Part {
    Part::Text { text: t.into() }
}

/// Every (term, entry, column, offset) the index holds, in order.
fn index_of(c: &rusqlite::Connection) -> Vec<(String, i64, i64)> {
    c.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_fts, instance)",
    )
    .unwrap();
    let mut s = c
        .prepare("SELECT term, doc, offset FROM temp.vocab ORDER BY term, doc, offset")
        .unwrap();
    let rows = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn the_upgrade_indexes_every_entry_again_as_it_was_written() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parley.db");
        let (s, _) = crate::open_store(&path).unwrap();
        // A title, a finished answer of every kind, and an answer still streaming, in pieces:
        // its first flush, 64 KB waiting, and a flush a second later (a word cut by a flush).
        let sid = ChatId("c".into());
        s.create_chat(sid.clone(), "Crème brûlée 東京".into())
            .await
            .unwrap();
        let b = s
            .begin_turn(&sid, "go".into(), "p".into(), "m".into(), "me".into())
            .await
            .unwrap();
        let m = b.assistant_message_id.clone();
        let append = |t: String| JournalOp::AppendText {
            message_id: m.clone(),
            index: 0,
            text: t,
        };
        let first = JournalOp::InsertPart {
            message_id: m.clone(),
            index: 0,
            part: text("The hippo"),
        };
        s.journal(vec![first]).await.unwrap();
        s.journal(vec![append("potamus swims".into())])
            .await
            .unwrap();
        s.journal(vec![append(format!(
            " {} zebra wil",
            "grass ".repeat(11_000)
        ))])
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        s.journal(vec![append("debeest crossing 東京タワー".into())])
            .await
            .unwrap();
        let other = ChatId("d".into());
        s.create_chat(other.clone(), String::new()).await.unwrap();
        let done = s
            .begin_turn(&other, "what?".into(), "p".into(), "m".into(), "me".into())
            .await
            .unwrap();
        let parts = [
            text("plain words"),
            Part::Reasoning {
                text: "thinking hard".into(),
                signature: None,
            },
        ];
        let ops = parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| JournalOp::InsertPart {
                message_id: done.assistant_message_id.clone(),
                index: i as u32,
                part,
            })
            .collect();
        s.finish_turn(&done.turn_id, ops, TurnEnd::completed())
            .await
            .unwrap();
        drop(s);

        let c = rusqlite::Connection::open(&path).unwrap();
        super::register(&c).unwrap();
        let pieces: i64 = c
            .query_row(
                "SELECT count(*) FROM search_docs WHERE chunk IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(pieces >= 3, "the streamed answer is in pieces: {pieces}");
        let before = index_of(&c);
        assert!(before.iter().any(|(t, _, _)| t == "wildebeest"));
        // The upgrade's indexing (schema v9, after its first statement), run again.
        let v9 = crate::store::schema::MIGRATIONS[8];
        let reindex = &v9[v9.find("DROP TABLE search_fts;").unwrap()..];
        c.execute_batch(&format!("BEGIN; {reindex} COMMIT;"))
            .unwrap();
        c.execute_batch("DROP TABLE temp.vocab").unwrap();
        assert_eq!(index_of(&c), before);
    });
}

#[test]
fn a_prefix_of_one_letter_is_refused_with_a_sentence() {
    for (q, refused) in [
        ("k*", true),
        ("K*", true),
        ("é*", true),
        ("1*", true),
        ("k**", true),
        ("\"k\"*", true),
        ("\"big d\"*", true),
        ("x-*", true),
        ("keep -k*", true),
        ("ka*", false),
        ("12*", false),
        ("ék*", false),
        ("\"big da\"*", false),
        ("a-bc*", false),
        ("東*", false),
        ("東京*", false),
        ("k", false),
        ("k ka*", false),
    ] {
        let p = parse_query(q).unwrap();
        assert_eq!(p.too_big().is_some(), refused, "{q}");
        if let Some(why) = p.too_big() {
            assert!(
                why.starts_with("A prefix needs at least 2 letters or digits before the *"),
                "{why}"
            );
        }
    }
}

#[test]
fn every_word_asked_is_an_element_to_count() {
    let elements = |q: &str| parse_query(q).unwrap().elements;
    assert_eq!(elements("cats dogs"), ["\"cats\"", "\"dogs\""]);
    assert_eq!(
        elements("\"big da\"* -cow"),
        ["\"big\"", "\"da\"*", "\"cow\""]
    );
    assert_eq!(elements("東京"), ["\"東\"", "\"京\""]);
    assert_eq!(elements("it\"s"), ["\"it\"", "\"s\""]);
}

#[test]
fn ranking_counts_at_most_so_many_entries() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE VIRTUAL TABLE search_fts USING fts5(text, content = '', prefix = '2 3');
         INSERT INTO search_fts(rowid, text) VALUES
             (1, 'lemur rare'), (2, 'lemur'), (3, 'lemur'), (4, 'lemur'), (5, 'lemur');",
    )
    .unwrap();
    for (q, at_most, cheap) in [
        ("rare", 1, true),
        ("rare", 0, false),
        ("lemur", 5, true),
        ("lemur", 4, false),
        ("lemur rare", 6, true),
        ("lemur rare", 5, false),
        ("rare -lemur", 6, true),
        ("rare -lemur", 5, false),
        ("\"lemur rare\"", 6, true),
        ("\"lemur rare\"", 5, false),
        ("le*", 5, true),
        ("le*", 4, false),
        ("absent", 0, true),
    ] {
        let parsed = parse_query(q).unwrap();
        assert_eq!(
            cheap_to_rank(&c, &parsed, at_most).unwrap(),
            cheap,
            "{q} within {at_most}"
        );
    }
}

#[test]
fn the_alarm_interrupts_the_running_statement_and_nothing_once_it_is_dropped() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
                   SELECT count(*) FROM n";
    let alarm = Alarm::set(&c, Duration::from_millis(20));
    let started = std::time::Instant::now();
    let r = c.query_row(endless, [], |r| r.get::<_, i64>(0));
    drop(alarm);
    let e = r.unwrap_err();
    assert_eq!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::OperationInterrupted),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Dropped in time: the statement finishes, and so do the ones after the alarm's time.
    let alarm = Alarm::set(&c, Duration::from_millis(20));
    let n: i64 = c.query_row("SELECT 40 + 2", [], |r| r.get(0)).unwrap();
    drop(alarm);
    std::thread::sleep(Duration::from_millis(60));
    let m: i64 = c
        .query_row(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
             SELECT count(*) FROM n",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((n, m), (42, 200_000));
}
