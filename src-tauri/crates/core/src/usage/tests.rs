//! The ledger on a real SQLite file: what providers reported, summed per chat, branch, model,
//! provider and day, priced; answers without usage counted as not reported, never as zero.

use super::prices;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, Placement, TurnEnd};
use crate::providers::ProviderRow;
use crate::providers::ProviderTables as _;
use crate::store::Store;
use parley_protocol::{ChatId, MessageId, Part, Price, ProviderKind, Usage};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn turn(
    s: &Store,
    sid: &ChatId,
    provider: &str,
    model: &str,
    usage: Option<Usage>,
    edit: Option<MessageId>,
) -> MessageId {
    let b = s
        .begin_turn_at(
            sid,
            "question".into(),
            provider.into(),
            model.into(),
            "me".into(),
            Placement { edit, seen: None, attachments: Vec::new() },
        )
        .await
        .unwrap();
    let mut end = TurnEnd::completed();
    end.usage = usage;
    let ops = vec![JournalOp::InsertPart {
        message_id: b.assistant_message_id.clone(),
        index: 0,
        part: Part::Text {
            text: "answer".into(),
        },
    }];
    s.finish_turn(&b.turn_id, ops, end).await.unwrap();
    b.user_message.id.clone()
}

fn usage(input: u64, output: u64, cached: Option<u64>) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: cached,
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn totals_per_chat_branch_model_provider_and_day() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = crate::open_store(&dir.path().join("parley.db")).unwrap();
        for (name, kind) in [
            ("oa", ProviderKind::Openai),
            ("an", ProviderKind::Anthropic),
        ] {
            s.insert_provider(ProviderRow {
                name: name.into(),
                kind,
                base_url: "http://x".into(),
                default_model: None,
                key_host: None,
                created_at: 0,
            })
            .await
            .unwrap();
        }
        let a = ChatId("a".into());
        s.create_chat(a.clone(), "Chat A".into()).await.unwrap();
        // gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M.
        let first = turn(
            &s,
            &a,
            "oa",
            "gpt-4o-2024-08-06",
            usage(1_000_000, 100_000, Some(200_000)),
            None,
        )
        .await;
        // An edit makes a second branch; the first answer is off the selected path.
        turn(
            &s,
            &a,
            "an",
            "claude-sonnet-4-5",
            usage(100_000, 10_000, Some(1_000_000)),
            Some(first),
        )
        .await;
        turn(&s, &a, "local", "llama3.2:1b", None, None).await;
        turn(&s, &a, "local", "llama3.2:1b", usage(500, 50, None), None).await;

        let table = prices::merged(vec![]);
        let r = s.usage_report(None, false, table.clone()).await.unwrap();
        let gpt = 0.8 * 2.5 + 0.2 * 1.25 + 0.1 * 10.0;
        // Anthropic counts cache reads beside the input: 100k fresh, 1M cached at $0.30.
        let claude = 0.1 * 3.0 + 1.0 * 0.30 + 0.01 * 15.0;
        assert_eq!(r.total.answers, 4);
        assert_eq!(r.total.not_reported, 1);
        assert_eq!(
            r.total.unpriced, 1,
            "the local model's reported answer has no price"
        );
        assert_eq!(r.total.input_tokens, 1_100_500);
        assert_eq!(r.total.cached_input_tokens, 1_200_000);
        assert!(close(r.total.cost, gpt + claude), "{}", r.total.cost);
        let models: Vec<&str> = r.by_model.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            models,
            vec!["gpt-4o-2024-08-06", "claude-sonnet-4-5", "llama3.2:1b"]
        );
        assert_eq!(r.by_provider.len(), 3);
        assert_eq!(r.by_day.len(), 1);
        assert_eq!(r.by_day[0].key, prices::day_of(crate::now_ms()));
        assert_eq!(r.by_chat[0].label, "Chat A");

        let chat = s.chat_usage(&a, table.clone()).await.unwrap().unwrap();
        assert_eq!(chat.chat.answers, 4);
        assert_eq!(
            chat.branch.answers, 3,
            "the first version's answer is another branch"
        );
        assert!(close(chat.branch.cost, claude));
        assert!(s
            .chat_usage(&ChatId("nope".into()), table.clone())
            .await
            .unwrap()
            .is_none());

        // The user's own price replaces the shipped one; a later `since` leaves all out.
        let mine = prices::merged(vec![Price {
            model: "gpt-4o".into(),
            input: 0.0,
            output: 0.0,
            cached_input: None,
            reasoning: None,
            source: "user".into(),
            as_of: "2026-12-01".into(),
        }]);
        let r = s.usage_report(None, false, mine).await.unwrap();
        assert!(close(r.total.cost, claude));
        let r = s
            .usage_report(Some(crate::now_ms() + 60_000), false, table)
            .await
            .unwrap();
        assert_eq!(r.total.answers, 0);
        assert!(r.by_day.is_empty());
    });
}
