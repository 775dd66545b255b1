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
    assert!(matches!(c.take(&t.id, &nonce), Some(ProviderChange::Remove(n)) if n == "a"));
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
