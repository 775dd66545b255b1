//! Search on real SQLite files: the index follows every write (streamed chunks, folds,
//! edits, renames, forks, deletes), ranks, filters, and reads CJK and accents.

use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, Placement, TurnEnd};
use crate::store::Store;
use parley_protocol::{
    ChatId, MessageId, Part, Role, SearchField, SearchQuery, SearchResults, ToolCallStatus,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        ..Default::default()
    }
}

async fn find(s: &Store, query: SearchQuery) -> SearchResults {
    s.search(query).await.unwrap()
}

fn messages(r: &SearchResults) -> Vec<String> {
    r.hits
        .iter()
        .map(|h| {
            h.message_id
                .as_ref()
                .map_or("title".into(), |m| m.0.clone())
        })
        .collect()
}

/// A chat with a question and an answer of `parts`; returns (user, assistant) message ids.
async fn chat(s: &Store, sid: &str, question: &str, parts: Vec<Part>) -> (MessageId, MessageId) {
    let sid = ChatId(sid.into());
    s.create_chat(sid.clone(), String::new()).await.unwrap();
    answer(s, &sid, question, "m", parts, None).await
}

async fn answer(
    s: &Store,
    sid: &ChatId,
    question: &str,
    model: &str,
    parts: Vec<Part>,
    edit: Option<MessageId>,
) -> (MessageId, MessageId) {
    let b = s
        .begin_turn_at(
            sid,
            question.into(),
            "prov".into(),
            model.into(),
            "me".into(),
            Placement { edit, seen: None, attachments: Vec::new() },
        )
        .await
        .unwrap();
    let ops = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| JournalOp::InsertPart {
            message_id: b.assistant_message_id.clone(),
            index: i as u32,
            part,
        })
        .collect();
    s.finish_turn(&b.turn_id, ops, TurnEnd::completed())
        .await
        .unwrap();
    (b.user_message.id.clone(), b.assistant_message_id.clone())
}

/// A chat "c" whose answer is streaming.
async fn streaming(s: &Store) -> crate::chats::BegunTurn {
    let sid = ChatId("c".into());
    s.create_chat(sid.clone(), String::new()).await.unwrap();
    s.begin_turn(&sid, "go".into(), "p".into(), "m".into(), "me".into())
        .await
        .unwrap()
}

fn text(t: &str) -> Part {
    Part::Text { text: t.into() }
}

#[test]
fn every_kind_of_text_is_found_with_its_field() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let (u, a) = chat(
            &s,
            "c1",
            "Where is the aardvark?",
            vec![
                Part::Reasoning {
                    text: "Thinking about burrows".into(),
                    signature: None,
                },
                Part::ToolCall {
                    call_id: "1".into(),
                    name: "grep_tool".into(),
                    arguments: r#"{"pattern":"zebrafish"}"#.into(),
                    status: ToolCallStatus::Completed,
                },
                Part::ToolResult {
                    call_id: "1".into(),
                    output: "found quokka.txt".into(),
                    is_error: false,
                },
                Part::File {
                    name: "notes.txt".into(),
                    mime: "text/plain".into(),
                    text: "capybara notes".into(),
                },
                text("In its burrow."),
            ],
        )
        .await;
        s.rename_chat(&ChatId("c1".into()), "Nocturnal mammals".into(), None)
            .await
            .unwrap();
        for (word, id, field) in [
            ("aardvark", &u, SearchField::Text),
            ("burrows", &a, SearchField::Reasoning),
            ("zebrafish", &a, SearchField::ToolCall),
            ("grep_tool", &a, SearchField::ToolCall),
            ("quokka", &a, SearchField::ToolResult),
            ("capybara", &a, SearchField::File),
        ] {
            let r = find(&s, q(word)).await;
            assert_eq!(messages(&r), vec![id.0.clone()], "{word}");
            assert_eq!(r.hits[0].field, field, "{word}");
            assert!(
                r.hits[0].snippet.iter().any(|p| p.hit),
                "{word}: {:?}",
                r.hits[0].snippet
            );
            assert!(r.hits[0].on_selected_path);
        }
        let r = find(&s, q("nocturnal")).await;
        assert_eq!(messages(&r), vec!["title"]);
        assert_eq!(r.hits[0].field, SearchField::Title);
        // The old title is gone from the index.
        s.rename_chat(&ChatId("c1".into()), "Renamed".into(), None)
            .await
            .unwrap();
        assert!(find(&s, q("nocturnal")).await.hits.is_empty());
    });
}

#[test]
fn a_streamed_answer_is_searchable_once_journaled_even_across_flushes() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let b = streaming(&s).await;
        let m = b.assistant_message_id.clone();
        s.journal(vec![JournalOp::InsertPart {
            message_id: m.clone(),
            index: 0,
            part: text("The hippo"),
        }])
        .await
        .unwrap();
        // A word cut by a flush: "hippopotamus" arrives as "hippo" + "potamus". The first
        // flush is indexed at once; later ones when 64 KB are waiting or a second has passed.
        let flush = |text: &str| {
            let op = JournalOp::AppendText {
                message_id: m.clone(),
                index: 0,
                text: text.into(),
            };
            s.journal(vec![op])
        };
        flush("potamus swims").await.unwrap();
        assert_eq!(
            messages(&find(&s, q("hippopotamus")).await),
            vec![m.0.clone()]
        );
        for piece in [" in the river; ", "wil", "d", "e", "be", "est crossing"] {
            flush(piece).await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        flush(" slowly").await.unwrap();
        for word in [
            "hippopotamus",
            "swims",
            "wildebeest",
            "\"the river\"",
            "slowly",
        ] {
            let r = find(&s, q(word)).await;
            assert_eq!(messages(&r), vec![m.0.clone()], "{word} while streaming");
        }
        let r = find(&s, q("wildebeest")).await;
        let shown: String = r.hits[0].snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(shown.contains("wildebeest crossing"), "{shown}");
        // 64 KB waiting are indexed without waiting for the second.
        flush(&format!(" {} zebra", "grass ".repeat(11_000)))
            .await
            .unwrap();
        assert_eq!(messages(&find(&s, q("zebra")).await), vec![m.0.clone()]);
        flush(" giraffe").await.unwrap();
        // The turn ends: the chunks are folded into the part; each word is found once.
        s.finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        for word in ["hippopotamus", "wildebeest", "crossing"] {
            assert_eq!(
                messages(&find(&s, q(word)).await),
                vec![m.0.clone()],
                "{word}"
            );
        }
        assert!(find(&s, q("potamus")).await.hits.is_empty());
        let entries: (i64, bool) = s
            .reader
            .call(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM search_docs WHERE message_id IS NOT NULL AND chunk IS NULL),
                            (SELECT max(chunk) FROM search_docs) IS (SELECT max(id) FROM part_chunks)",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?)),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(
            entries,
            (2, true),
            "the question's and the answer's rows, and the answer's streamed text (over 64 KB, \
             kept as chunks) all indexed"
        );
    });
}

#[test]
fn a_long_answers_last_words_are_indexed_when_its_turn_ends() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let b = streaming(&s).await;
        let m = b.assistant_message_id.clone();
        let mut ops = vec![JournalOp::InsertPart {
            message_id: m.clone(),
            index: 0,
            part: text(""),
        }];
        // 70 KB (kept as chunks, not folded), then a last flush of a few words.
        for i in 0..70 {
            ops.push(JournalOp::AppendText {
                message_id: m.clone(),
                index: 0,
                text: format!("{} ", format!("word{i} ").repeat(120)),
            });
        }
        s.journal(ops).await.unwrap();
        s.journal(vec![JournalOp::AppendText {
            message_id: m.clone(),
            index: 0,
            text: "the final okapi".into(),
        }])
        .await
        .unwrap();
        s.finish_turn(&b.turn_id, vec![], TurnEnd::completed())
            .await
            .unwrap();
        for word in ["word0", "word69", "okapi"] {
            assert_eq!(
                messages(&find(&s, q(word)).await),
                vec![m.0.clone()],
                "{word}"
            );
        }
        let shown: String = find(&s, q("okapi")).await.hits[0]
            .snippet
            .iter()
            .map(|p| p.text.as_str())
            .collect();
        assert!(shown.ends_with("the final okapi"), "{shown}");
    });
}

#[test]
fn edits_forks_and_deletes_keep_the_index_exact() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let sid = ChatId("c".into());
        s.create_chat(sid.clone(), "Zoo".into()).await.unwrap();
        let (u1, a1) = answer(&s, &sid, "first kangaroo", "m", vec![text("one")], None).await;
        // An edit is a new version: both versions are found; the old one is off the path.
        let (u2, _) = answer(&s, &sid, "second kangaroo", "m", vec![text("two")], Some(u1.clone())).await;
        let r = find(&s, q("kangaroo")).await;
        let mut found = messages(&r);
        found.sort();
        let mut want = vec![u1.0.clone(), u2.0.clone()];
        want.sort();
        assert_eq!(found, want);
        let old = r.hits.iter().find(|h| h.message_id.as_ref() == Some(&u1)).unwrap();
        assert!(!old.on_selected_path, "the first version is another branch");
        // A fork copies its messages, and they are found in the new chat too.
        s.fork(&sid, &a1, ChatId("forked".into())).await.unwrap();
        let r = find(&s, q("first")).await;
        let chats: Vec<&str> = r.hits.iter().map(|h| h.chat_id.0.as_str()).collect();
        assert!(chats.contains(&"c") && chats.contains(&"forked"), "{chats:?}");
        // Deleting a branch and then the chats leaves nothing behind.
        s.delete_branch(&sid, &u1, None).await.unwrap();
        let r = find(&s, q("first kangaroo")).await;
        assert!(r.hits.iter().all(|h| h.chat_id.0 == "forked"), "{:?}", messages(&r));
        s.delete_chat(&sid).await.unwrap();
        s.delete_chat(&ChatId("forked".into())).await.unwrap();
        for word in ["kangaroo", "first", "one", "two"] {
            assert!(find(&s, q(word)).await.hits.is_empty(), "{word}");
        }
        let left: (i64, i64) = s
            .reader
            .call(|c| {
                Ok((
                    c.query_row("SELECT count(*) FROM search_docs", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'one OR two OR first OR second'", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(left, (0, 0));
    });
}

#[test]
fn cjk_and_accents_are_found() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let (_, ja) = chat(&s, "ja", "q", vec![text("私は東京タワーに行きました")]).await;
        let (_, zh) = chat(&s, "zh", "q", vec![text("我们明天去北京大学看看")]).await;
        let (_, ko) = chat(&s, "ko", "q", vec![text("서울에서 만나요")]).await;
        let (_, fr) = chat(&s, "fr", "q", vec![text("Une crème brûlée au café, naïve")]).await;
        for (query, id) in [
            ("東京", &ja),
            ("タワー", &ja),
            ("行き", &ja),
            ("北京", &zh),
            ("大学", &zh),
            ("北", &zh),
            ("서울", &ko),
            ("creme brulee", &fr),
            ("CAFÉ", &fr),
            ("cafe", &fr),
            ("naive", &fr),
            ("\"crème brûlée\"", &fr),
        ] {
            let r = find(&s, q(query)).await;
            assert_eq!(messages(&r), vec![id.0.clone()], "{query}");
            assert!(
                r.hits[0].snippet.iter().any(|p| p.hit),
                "{query}: {:?}",
                r.hits[0].snippet
            );
        }
        // Characters apart are not a phrase.
        assert!(find(&s, q("東北")).await.hits.is_empty());
    });
}

#[test]
fn operators_and_markup_in_a_query_are_plain_words() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let (_, a) = chat(
            &s,
            "c",
            "q",
            vec![text("cats OR dogs NEAR the <b>barn</b> AND \"quoted\"")],
        )
        .await;
        chat(&s, "d", "q", vec![text("cats only")]).await;
        for query in [
            "OR",
            "NEAR",
            "AND",
            "cats OR",
            "NOT",
            "\"",
            "(",
            ")",
            "*",
            "^cats",
            "text:cats",
            "cats)",
            "\"dogs",
            "dogs\"\"",
            "{barn}",
            "<b>",
            "barn*",
            "-cats",
            "cats -only",
            "''",
            "\\",
            "%",
            "_",
            "NEAR(cats dogs, 1)",
            "cats AND NOT dogs",
        ] {
            let r = s.search(q(query)).await;
            assert!(r.is_ok(), "{query}: {:?}", r.err());
        }
        assert_eq!(messages(&find(&s, q("OR")).await), vec![a.0.clone()]);
        assert_eq!(
            messages(&find(&s, q("cats -only")).await),
            vec![a.0.clone()]
        );
        assert_eq!(messages(&find(&s, q("barn*")).await), vec![a.0.clone()]);
        assert_eq!(find(&s, q("cats")).await.hits.len(), 2);
        let snippet = &find(&s, q("barn")).await.hits[0].snippet;
        let shown: String = snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(
            shown.contains("<b>barn</b>"),
            "markup is shown as text: {shown}"
        );
    });
}

#[test]
fn ranking_and_filters() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let (_, weak) = chat(
            &s,
            "a",
            "q",
            vec![text(&format!("lemur {}", "filler ".repeat(200)))],
        )
        .await;
        let (_, strong) = chat(
            &s,
            "b",
            "q",
            vec![text("lemur lemur lemur, all about the lemur")],
        )
        .await;
        let r = find(&s, q("lemur")).await;
        assert_eq!(
            messages(&r),
            vec![strong.0.clone(), weak.0.clone()],
            "denser first"
        );
        assert!(r.by_relevance && !r.capped);
        // A phrase within one chat: newest first (bm25 would count it in every chat).
        let r = find(
            &s,
            SearchQuery {
                chat: Some(ChatId("b".into())),
                ..q("\"all about\"")
            },
        )
        .await;
        assert_eq!(messages(&r), vec![strong.0.clone()]);
        assert!(!r.by_relevance);

        let sid = ChatId("f".into());
        s.create_chat(sid.clone(), "Filters".into()).await.unwrap();
        let (fu, fa) = answer(
            &s,
            &sid,
            "ocelot question",
            "gpt-x",
            vec![text("ocelot answer")],
            None,
        )
        .await;
        let (_, tools) = answer(
            &s,
            &sid,
            "run it",
            "claude-y",
            vec![
                Part::ToolCall {
                    call_id: "1".into(),
                    name: "shell".into(),
                    arguments: "{}".into(),
                    status: ToolCallStatus::Completed,
                },
                text("ocelot after tools"),
            ],
            None,
        )
        .await;
        let base = q("ocelot");
        let with = |f: &dyn Fn(&mut SearchQuery)| {
            let mut x = base.clone();
            f(&mut x);
            x
        };
        assert_eq!(find(&s, base.clone()).await.hits.len(), 3);
        let r = find(&s, with(&|x| x.role = Some(Role::User))).await;
        assert_eq!(messages(&r), vec![fu.0.clone()]);
        let r = find(&s, with(&|x| x.model = Some("gpt-x".into()))).await;
        assert_eq!(messages(&r), vec![fa.0.clone()]);
        let r = find(&s, with(&|x| x.has_tool_calls = true)).await;
        assert_eq!(messages(&r), vec![tools.0.clone()]);
        let r = find(&s, with(&|x| x.provider = Some("nobody".into()))).await;
        assert!(r.hits.is_empty());
        let r = find(&s, with(&|x| x.chat = Some(ChatId("a".into())))).await;
        assert!(r.hits.is_empty());
        let r = find(&s, with(&|x| x.since = Some(i64::MAX - 1))).await;
        assert!(r.hits.is_empty());
        let r = find(&s, with(&|x| x.until = Some(i64::MAX))).await;
        assert_eq!(r.hits.len(), 3);
        let r = find(&s, with(&|x| x.limit = Some(1))).await;
        assert_eq!(r.hits.len(), 1);
    });
}

#[test]
fn a_word_found_everywhere_shows_the_newest_first_and_says_so() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        let n = parley_protocol::SEARCH_RANKED_AT_MOST as i64 + 10;
        s.writer
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "INSERT INTO sessions(id, title, created_at, updated_at) VALUES ('c', 'Many', 0, 0)",
                    [],
                )?;
                for i in 0..n {
                    tx.execute(
                        "INSERT INTO messages(id, session_id, role, created_at) VALUES (?1, 'c', 'user', ?2)",
                        rusqlite::params![format!("m{i:05}"), i],
                    )?;
                    tx.execute(
                        "INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', 'common word here')",
                        [format!("m{i:05}")],
                    )?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
            .unwrap();
        let r = find(&s, q("common")).await;
        assert!(r.capped && !r.by_relevance);
        assert_eq!(r.hits.len(), 50);
        let newest: Vec<String> = (0..50).map(|i| format!("m{:05}", n - 1 - i)).collect();
        assert_eq!(messages(&r), newest);
        let r = find(&s, SearchQuery { limit: Some(5), ..q("\"common word\"") }).await;
        assert!(r.capped);
        assert_eq!(r.ranked_at_most, parley_protocol::SEARCH_PHRASE_RANKED_AT_MOST);
        assert_eq!(messages(&r)[0], format!("m{:05}", n - 1));
    });
}
