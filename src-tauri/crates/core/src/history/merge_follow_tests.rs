//! The merge that follows an import's reading: a file refused or an import cancelled late adds
//! nothing; a chat that comes in as a copy (fresh ids) keeps every part, whatever ids the file
//! shares between its chats, messages and turns.

use super::import::CANCELLED;
use super::import_tests::{
    core, parley_chat, parley_file, parley_many, parley_message, rt, staging_left, write,
};
use super::ImportControl;
use serde_json::{json, Value};

/// The merge follows the reading (`merge::Follow`): a file refused or an import cancelled
/// late, after many chats were merged, still adds nothing and leaves no staging file.
#[test]
fn a_file_refused_or_an_import_cancelled_late_adds_nothing() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let core = core(&data).await;
        let many = parley_many(20_000);
        assert!(
            many.len() > 2 * super::import::COMMIT_BYTES as usize,
            "{}",
            many.len()
        );
        let nothing_added = || async {
            let chats = core.chats().recent_chats(100_000, 0).await.unwrap();
            assert!(chats.is_empty(), "{} chats were added", chats.len());
            assert!(staging_left(&data).is_empty(), "{:?}", staging_left(&data));
        };
        let late = write(
            dir.path(),
            "late.json",
            &many.replace("\"c19990-m0\"", "\"c5-m0\""),
        );
        for dry_run in [true, false] {
            let err = core.history().import(&late, dry_run).await.unwrap_err();
            let err = err.to_info().message;
            assert!(err.contains("repeated id (c5-m0)"), "{err}");
            nothing_added().await;
        }
        let file = write(dir.path(), "many.json", &many);
        let control = ImportControl::new();
        let c = control.clone();
        let control = control.on_progress(move |p| {
            if p.bytes_read > p.bytes_total * 3 / 4 {
                c.cancel();
            }
        });
        let err = core.history().import_with(&file, false, &control).await;
        let err = err.unwrap_err().to_info().message;
        assert!(err.contains(CANCELLED), "{err}");
        nothing_added().await;
        // Cancelled once the file is read, while the merge goes on: what the import says and
        // what it did agree (nothing added; or, were the Cancel after the commit, all of it).
        let control = ImportControl::new();
        let c = control.clone();
        let control = control.on_progress(move |p| {
            if p.merging {
                c.cancel();
            }
        });
        match core.history().import_with(&file, false, &control).await {
            Err(e) => {
                assert!(e.to_info().message.contains(CANCELLED), "{e}");
                nothing_added().await;
            }
            Ok(report) => {
                assert_eq!(report.chats_added, 20_000);
                let chats = core.chats().recent_chats(100_000, 0).await.unwrap();
                assert_eq!(chats.len(), 20_000);
                return;
            }
        }
        // And the same file, not cancelled, comes in whole.
        let report = core.history().import(&file, false).await.unwrap();
        assert_eq!(
            (report.chats_added, report.messages_added),
            (20_000, 40_000)
        );
    });
}

/// A chat of two messages (`ids`: the chat's, the question's, the answer's, and the turn's if
/// any), each with one text part.
fn clash_chat(ids: [&str; 4], words: &str) -> Value {
    let [chat, question, answer, turn] = ids;
    let turn_id = (!turn.is_empty()).then_some(turn);
    let turns = match turn_id {
        Some(t) => json!([{"id": t, "session_id": chat, "user_message_id": question,
            "assistant_message_id": answer, "status": "completed", "started_at": 1, "ended_at": 2}]),
        None => json!([]),
    };
    json!({"session": {"id": chat, "title": "clash", "created_at": 0, "updated_at": 0,
                       "message_count": 2, "params": {}},
           "head": answer,
           "messages": [
               {"id": question, "session_id": chat, "parent_id": null, "role": "user",
                "turn_id": turn_id, "created_at": 1, "parts": [{"type": "text", "text": format!("{words} asked")}]},
               {"id": answer, "session_id": chat, "parent_id": question, "role": "assistant",
                "turn_id": turn_id, "created_at": 2, "parts": [{"type": "text", "text": format!("{words} answered")}]}],
           "turns": turns})
}

/// A chat that comes in as a copy (fresh ids) keeps every part, whatever ids the file used
/// for its chat, messages and turns: one id for a chat and one of its messages, or for a turn
/// and a message, once made the whole import fail (parts written under the wrong new id).
#[test]
fn a_copy_keeps_its_parts_whatever_ids_the_file_shares() {
    let cases: [(&str, [&str; 4], bool); 4] = [
        (
            "chat and its question one id",
            ["dup", "dup", "dup-2", ""],
            true,
        ),
        (
            "chat and its answer one id, not in Parley's form",
            ["not clean", "nc-1", "not clean", ""],
            false,
        ),
        (
            "turn and its answer one id",
            ["turn clash", "tc-u", "tc-a", "tc-a"],
            false,
        ),
        (
            "turn and its question one id",
            ["tq", "tq-u", "tq-a", "tq-u"],
            true,
        ),
    ];
    rt().block_on(async {
        for (name, ids, twice) in cases {
            let dir = tempfile::tempdir().unwrap();
            let core = core(&dir.path().join("data")).await;
            // And a plain chat beside it, which must come in too.
            let plain = parley_chat("plain", vec![parley_message("plain", 0, None)]);
            let mut files = vec![parley_file(vec![clash_chat(ids, "first"), plain])];
            if twice {
                // The same ids, other words: here already, so it comes in as a copy.
                files.push(parley_file(vec![clash_chat(ids, "second")]));
            }
            for (i, text) in files.iter().enumerate() {
                let file = write(dir.path(), &format!("f{i}.json"), text);
                let report = core.history().import(&file, false).await;
                let report = report.unwrap_or_else(|e| panic!("{name}: {}", e.to_info().message));
                assert!(
                    report.set_aside.is_empty(),
                    "{name}: {:?}",
                    report.set_aside
                );
            }
            let chats = core.history().export(None).await.unwrap().chats;
            assert_eq!(chats.len(), if twice { 3 } else { 2 }, "{name}");
            for c in &chats {
                let n = if c.session.title == "clash" { 2 } else { 1 };
                assert_eq!(c.messages.len(), n, "{name}");
                for m in &c.messages {
                    assert_eq!(m.parts.len(), 1, "{name}: {m:?}");
                }
            }
            let words: Vec<String> = chats
                .iter()
                .flat_map(|c| &c.messages)
                .flat_map(|m| &m.parts)
                .filter_map(|p| match p {
                    parley_protocol::Part::Text { text } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            for w in ["first asked", "first answered"] {
                assert!(words.iter().any(|t| t == w), "{name}: {words:?}");
            }
            if twice {
                assert!(words.iter().any(|t| t == "second answered"), "{name}");
            }
        }
    });
}
