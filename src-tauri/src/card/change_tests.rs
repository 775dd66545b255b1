use super::*;
use parley_core::providers::ChangePreview;

fn preview(title: &str, value: &str) -> ChangePreview {
    ChangePreview {
        title: title.into(),
        rows: vec![("Address".into(), value.into())],
        warnings: vec!["<b>careful</b>".into()],
        destructive: false,
    }
}

#[test]
fn the_change_card_shows_only_escaped_text() {
    let p = preview(
        "Add the provider “<script>alert(1)</script>”",
        "https://evil.example/v1\u{202e}\"><img src=x onerror=alert(1)>",
    );
    let html = change_html("id\"><script>", "n", "\"><script>", &p);
    assert!(html.contains("data-theme=\"system\""));
    let body = &html[html.find("<body>").unwrap()..html.rfind("<script src").unwrap()];
    for bad in ["<script>", "<img", "<b>", "id\">"] {
        assert!(!body.contains(bad), "{bad} leaked: {body}");
    }
    assert!(html.contains("⟦U+202E⟧"), "hidden characters are marked");
    assert!(
        html.contains("data-testid=\"change-confirm\" disabled"),
        "armed later"
    );
}

#[test]
fn a_change_is_made_only_with_its_cards_nonce_once() {
    let c = Changes::default();
    let t = c
        .propose(
            ProviderChange::Remove("a".into()),
            preview("Remove the provider “a”", "x"),
        )
        .unwrap();
    assert_eq!(t.id.len(), 24);
    let (_, nonce) = c.shown(&t.id).unwrap();
    assert_eq!(nonce.len(), 32);
    for wrong in ["", "0", &nonce[..31], &nonce.to_uppercase(), &t.id] {
        assert!(c.take(&t.id, wrong).is_none(), "{wrong:?}");
    }
    assert!(c.take("other", &nonce).is_none());
    assert!(
        matches!(c.take(&t.id, &nonce), Some(Change::Provider(ProviderChange::Remove(n))) if n == "a")
    );
    assert!(c.take(&t.id, &nonce).is_none(), "used once");
    assert!(c.shown(&t.id).is_none(), "its card is gone");
}

#[test]
fn waiting_changes_are_bounded_oldest_first() {
    let c = Changes::default();
    let ids: Vec<String> = (0..MAX_WAITING + 3)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(2));
            c.propose(
                ProviderChange::ClearKey(format!("p{i}")),
                preview("Delete", "x"),
            )
            .unwrap()
            .id
        })
        .collect();
    assert_eq!(c.map().len(), MAX_WAITING);
    for old in &ids[..3] {
        assert!(c.shown(old).is_none(), "the oldest were dropped");
    }
    assert!(c.shown(&ids[MAX_WAITING + 2]).is_some());
}

#[tokio::test]
async fn the_settings_panel_learns_how_a_change_ended() {
    let c = std::sync::Arc::new(Changes::default());
    assert_eq!(c.wait("never-proposed").await, ChangeOutcome::Cancelled);
    let ids: Vec<String> = (0..3)
        .map(|i| {
            c.propose(
                ProviderChange::Remove(format!("p{i}")),
                preview("Remove", "x"),
            )
            .unwrap()
            .id
        })
        .collect();
    // A waiter started before the answer wakes up with it.
    let waiter = {
        let (c, id) = (c.clone(), ids[0].clone());
        tokio::spawn(async move { c.wait(&id).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished(), "nothing was answered yet");
    c.end(&ids[0], ChangeOutcome::Done);
    let got = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, ChangeOutcome::Done);
    assert!(c.shown(&ids[0]).is_none(), "an ended change has no card");
    // An answer given before anyone waits is kept for the waiter, once.
    let failed = ChangeOutcome::Failed {
        error: "no keychain".into(),
    };
    c.end(&ids[1], failed.clone());
    assert_eq!(c.wait(&ids[1]).await, failed);
    assert_eq!(c.wait(&ids[1]).await, ChangeOutcome::Cancelled);
    // The window sees exactly this shape.
    assert_eq!(
        serde_json::to_value(&failed).unwrap(),
        serde_json::json!({"outcome": "failed", "error": "no keychain"})
    );
    assert_eq!(
        serde_json::to_value(ChangeOutcome::Done).unwrap(),
        serde_json::json!({"outcome": "done"})
    );
    // Ended outcomes nobody asks for are bounded.
    for i in 0..MAX_WAITING * 2 {
        c.end(&format!("gone{i}"), ChangeOutcome::Cancelled);
    }
    assert!(c.ended().len() <= MAX_WAITING);
}
