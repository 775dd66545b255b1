//! The conversation tree on a real SQLite file: edits and regenerations are versions, the
//! switcher moves the selected path, rewinding keeps the future, forks copy the path, deleting
//! a branch keeps its siblings, and revisions refuse changes made on a stale view — across
//! two connections to one file, as the app and `parley` are.

use crate::chats::{JournalOp, Placement, TurnEnd};
use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{ChatId, MessageId, Part};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sid() -> ChatId {
    ChatId("chat".into())
}

/// Finishes a begun turn with `answer` as its text.
async fn answer(s: &Store, b: &crate::chats::BegunTurn, answer: &str) {
    let ops = vec![JournalOp::InsertPart {
        message_id: b.assistant_message_id.clone(),
        index: 0,
        part: Part::Text {
            text: answer.into(),
        },
    }];
    s.finish_turn(&b.turn_id, ops, TurnEnd::completed())
        .await
        .unwrap();
}

/// Sends `q` after the selected path and answers it; returns (question, answer) ids.
async fn exchange(s: &Store, q: &str, a: &str) -> (MessageId, MessageId) {
    if s.get_chat(&sid()).await.unwrap().is_none() {
        s.create_chat(sid(), String::new()).await.unwrap();
    }
    let b = s
        .begin_turn(&sid(), q.into(), "p".into(), "m".into(), "me".into())
        .await
        .unwrap();
    answer(s, &b, a).await;
    (b.user_message.id, b.assistant_message_id)
}

async fn edit(s: &Store, of: &MessageId, q: &str, a: &str) -> (MessageId, MessageId) {
    let at = Placement {
        edit: Some(of.clone()),
        seen: None,
        attachments: Vec::new(),
    };
    let b = s
        .begin_turn_at(&sid(), q.into(), "p".into(), "m".into(), "me".into(), at)
        .await
        .unwrap();
    answer(s, &b, a).await;
    (b.user_message.id, b.assistant_message_id)
}

async fn regenerate(s: &Store, question: &MessageId, a: &str, model: &str) -> MessageId {
    let b = s
        .begin_retry(&sid(), question, "p".into(), model.into(), "me".into())
        .await
        .unwrap();
    answer(s, &b, a).await;
    b.assistant_message_id
}

/// The texts along the selected path.
async fn path(s: &Store) -> Vec<String> {
    s.history(&sid())
        .await
        .unwrap()
        .unwrap()
        .messages
        .iter()
        .map(|m| m.text())
        .collect()
}

/// The tree's invariants: exactly one selected path (a chain from a root to the head), every
/// parent present, the count stored equal to the messages there.
async fn check_tree(s: &Store) {
    let tree = s.tree(&sid()).await.unwrap().unwrap();
    let ids: std::collections::HashSet<_> = tree.nodes.iter().map(|n| &n.id).collect();
    for n in &tree.nodes {
        if let Some(p) = &n.parent_id {
            assert!(ids.contains(p), "{} has no parent {p}", n.id);
        }
    }
    let selected: Vec<_> = tree.nodes.iter().filter(|n| n.selected).collect();
    let mut at = tree.head.clone();
    let mut chain = 0;
    while let Some(id) = at {
        let n = tree.nodes.iter().find(|n| n.id == id).unwrap();
        assert!(n.selected);
        chain += 1;
        at = n.parent_id.clone();
    }
    assert_eq!(chain, selected.len(), "one selected path, head to root");
    assert_eq!(tree.session.message_count as usize, tree.nodes.len());
}

#[test]
fn edits_and_regenerations_are_versions_the_switcher_moves_between() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let (q1, _) = exchange(&s, "q1", "a1").await;
        let (q2, a2) = exchange(&s, "q2", "a2").await;
        // Edit q2: a sibling with its own answer; the path follows it.
        let (q2b, _) = edit(&s, &q2, "q2 edited", "a2b").await;
        assert_eq!(path(&s).await, ["q1", "a1", "q2 edited", "a2b"]);
        let h = s.history(&sid()).await.unwrap().unwrap();
        assert_eq!(h.versions.len(), 1);
        assert_eq!(h.versions[0].ids, vec![q2.clone(), q2b.clone()]);
        assert_eq!(h.versions[0].selected, q2b);
        // Regenerate the edited one's answer with another model: a third version of it.
        let a2c = regenerate(&s, &q2b, "a2c", "other-model").await;
        assert_eq!(path(&s).await, ["q1", "a1", "q2 edited", "a2c"]);
        let h = s.history(&sid()).await.unwrap().unwrap();
        assert_eq!(h.versions.len(), 2, "{:?}", h.versions);
        assert_eq!(h.messages[3].model.as_deref(), Some("other-model"));
        // Back to the first version of q2: the path continues to its answer.
        let head = s.switch_branch(&sid(), &q2, None).await.unwrap();
        assert_eq!(head, a2);
        assert_eq!(path(&s).await, ["q1", "a1", "q2", "a2"]);
        // And to a2c again: switching to an answer selects that answer.
        s.switch_branch(&sid(), &q2b, None).await.unwrap();
        assert_eq!(path(&s).await, ["q1", "a1", "q2 edited", "a2c"]);
        s.switch_branch(&sid(), &a2c, None).await.unwrap();
        // An edit of the first message makes a second root.
        edit(&s, &q1, "q1 again", "a1 again").await;
        assert_eq!(path(&s).await, ["q1 again", "a1 again"]);
        let h = s.history(&sid()).await.unwrap().unwrap();
        assert_eq!(h.versions[0].ids.len(), 2);
        check_tree(&s).await;
        // Only a user message can be edited or answered again.
        let at = Placement {
            edit: Some(a2.clone()),
            seen: None,
            attachments: Vec::new(),
        };
        let e = s
            .begin_turn_at(&sid(), "x".into(), "p".into(), "m".into(), "me".into(), at)
            .await
            .expect_err("an answer cannot be edited");
        assert!(matches!(e, StoreError::NotAUserMessage), "{e:?}");
        let e = s
            .begin_retry(&sid(), &a2, "p".into(), "m".into(), "me".into())
            .await
            .expect_err("an answer cannot be answered");
        assert!(matches!(e, StoreError::NotAUserMessage), "{e:?}");
        check_tree(&s).await;
    });
}

#[test]
fn rewind_keeps_the_future_and_the_next_message_becomes_its_sibling() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let (_, a1) = exchange(&s, "q1", "a1").await;
        let (q2, _) = exchange(&s, "q2", "a2").await;
        exchange(&s, "q3", "a3").await;
        s.rewind(&sid(), &a1, None).await.unwrap();
        assert_eq!(path(&s).await, ["q1", "a1"]);
        let tree = s.tree(&sid()).await.unwrap().unwrap();
        assert_eq!(tree.nodes.len(), 6, "nothing was deleted");
        assert_eq!(tree.nodes.iter().filter(|n| n.selected).count(), 2);
        // The next message is a new version beside the discarded one, which stays reachable.
        let (q2b, _) = exchange(&s, "q2 instead", "a2 instead").await;
        let h = s.history(&sid()).await.unwrap().unwrap();
        assert_eq!(h.versions[0].ids, vec![q2.clone(), q2b]);
        s.switch_branch(&sid(), &q2, None).await.unwrap();
        assert_eq!(path(&s).await, ["q1", "a1", "q2", "a2", "q3", "a3"]);
        check_tree(&s).await;
    });
}

#[test]
fn a_fork_copies_the_path_and_links_back() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        exchange(&s, "q1", "a1").await;
        let (q2, a2) = exchange(&s, "q2", "a2").await;
        edit(&s, &q2, "q2b", "a2b").await;
        exchange(&s, "q3", "a3").await;
        s.switch_branch(&sid(), &q2, None).await.unwrap();
        let new = ChatId("fork".into());
        s.fork(&sid(), &a2, new.clone()).await.unwrap();
        let h = s.history(&new).await.unwrap().unwrap();
        let texts: Vec<String> = h.messages.iter().map(|m| m.text()).collect();
        assert_eq!(
            texts,
            ["q1", "a1", "q2", "a2"],
            "only the path, up to the message"
        );
        assert!(h.versions.is_empty(), "a fork is one path");
        assert_eq!(h.session.message_count, 4);
        let origin = h.session.forked_from.unwrap();
        assert_eq!((origin.chat_id, origin.message_id), (sid(), a2.clone()));
        assert!(h.messages.iter().all(|m| m.id != a2), "new ids");
        // The original is untouched.
        assert_eq!(s.tree(&sid()).await.unwrap().unwrap().nodes.len(), 8);
        // A message of another chat: a clear error.
        let e = s
            .fork(&new, &a2, ChatId("x".into()))
            .await
            .expect_err("not in that chat");
        assert!(matches!(e, StoreError::NoSuchMessage { .. }), "{e:?}");
    });
}

#[test]
fn deleting_a_branch_keeps_its_siblings_and_never_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        exchange(&s, "q1", "a1").await;
        let (q2, _) = exchange(&s, "q2", "a2").await;
        exchange(&s, "q3", "a3").await;
        let (q2b, _) = edit(&s, &q2, "q2b", "a2b").await;
        // Delete the selected version: the other one (with what followed it) is selected.
        assert_eq!(s.delete_branch(&sid(), &q2b, None).await.unwrap(), 2);
        assert_eq!(path(&s).await, ["q1", "a1", "q2", "a2", "q3", "a3"]);
        check_tree(&s).await;
        // Delete a version that is not selected: the path does not move.
        let (q2c, _) = edit(&s, &q2, "q2c", "a2c").await;
        s.switch_branch(&sid(), &q2, None).await.unwrap();
        s.delete_branch(&sid(), &q2c, None).await.unwrap();
        assert_eq!(path(&s).await, ["q1", "a1", "q2", "a2", "q3", "a3"]);
        // Delete from the middle: the path ends before it.
        s.delete_branch(&sid(), &q2, None).await.unwrap();
        assert_eq!(path(&s).await, ["q1", "a1"]);
        check_tree(&s).await;
        let orphans: i64 = s
            .reader
            .call(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM parts WHERE message_id NOT IN (SELECT id FROM messages))
                          + (SELECT count(*) FROM turns WHERE user_message_id NOT IN (SELECT id FROM messages))
                          + (SELECT count(*) FROM pragma_foreign_key_check)",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(orphans, 0);
    });
}

#[test]
fn a_stale_revision_is_refused_with_what_changed_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path_db = dir.path().join("parley.db");
    let (app, _) = crate::open_store(&path_db).unwrap();
    // A second connection to the same file: `parley` beside the app.
    let (cli, _) = crate::open_store(&path_db).unwrap();
    rt().block_on(async {
        let (_, a1) = exchange(&app, "q1", "a1").await;
        let seen = app.get_chat(&sid()).await.unwrap().unwrap().revision;
        assert_eq!(seen, 1, "one message sent");
        // The CLI renames the chat and rewinds it; the app's view is now stale.
        assert!(cli
            .rename_chat(&sid(), "From the CLI".into(), Some(seen))
            .await
            .unwrap());
        exchange(&cli, "q2", "a2").await;
        let e = app
            .rewind(&sid(), &a1, Some(seen))
            .await
            .expect_err("stale");
        match &e {
            StoreError::Conflict { changes } => assert_eq!(
                changes,
                &vec![
                    "it was renamed to “From the CLI”".to_string(),
                    "a message was sent".to_string()
                ]
            ),
            other => panic!("{other:?}"),
        }
        let info = crate::error::CoreError::Store(e).to_info();
        assert_eq!(info.code, parley_protocol::ErrorCode::Conflict);
        assert!(info.message.contains("renamed"), "{}", info.message);
        // Nothing changed: the path still has q2.
        assert_eq!(path(&app).await, ["q1", "a1", "q2", "a2"]);
        // Every kind of change is refused the same way.
        let stale = Some(seen);
        let at = Placement {
            edit: None,
            seen: stale,
            attachments: Vec::new(),
        };
        let refused = [
            app.begin_turn_at(&sid(), "x".into(), "p".into(), "m".into(), "me".into(), at)
                .await
                .map(|_| ()),
            app.switch_branch(&sid(), &a1, stale).await.map(|_| ()),
            app.delete_branch(&sid(), &a1, stale).await.map(|_| ()),
            app.rename_chat(&sid(), "x".into(), stale).await.map(|_| ()),
            app.set_chat_flags(&sid(), Some(true), None, stale).await,
        ];
        for r in refused {
            assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
        }
        assert_eq!(path(&app).await, ["q1", "a1", "q2", "a2"]);
        // Re-synced, the app's change goes through.
        let now = app.get_chat(&sid()).await.unwrap().unwrap().revision;
        app.rewind(&sid(), &a1, Some(now)).await.unwrap();
        assert_eq!(path(&app).await, ["q1", "a1"]);
    });
}

#[test]
fn the_tree_cannot_change_under_a_running_turn() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
    rt().block_on(async {
        let (q1, a1) = exchange(&s, "q1", "a1").await;
        let _running = s
            .begin_turn(&sid(), "q2".into(), "p".into(), "m".into(), "me".into())
            .await
            .unwrap();
        let before = s.tree(&sid()).await.unwrap().unwrap();
        let at = Placement {
            edit: Some(q1.clone()),
            seen: None,
            attachments: Vec::new(),
        };
        let busy = [
            s.begin_turn_at(&sid(), "x".into(), "p".into(), "m".into(), "me".into(), at)
                .await
                .map(|_| ()),
            s.begin_retry(&sid(), &q1, "p".into(), "m".into(), "me".into())
                .await
                .map(|_| ()),
            s.switch_branch(&sid(), &a1, None).await.map(|_| ()),
            s.rewind(&sid(), &a1, None).await,
            s.delete_branch(&sid(), &a1, None).await.map(|_| ()),
        ];
        for r in busy {
            assert!(matches!(r, Err(StoreError::TurnRunning { .. })), "{r:?}");
        }
        assert_eq!(
            s.tree(&sid()).await.unwrap().unwrap(),
            before,
            "nothing stored"
        );
    });
}
