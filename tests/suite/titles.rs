//! Generated titles and the chat list: a scripted model names a chat after its first answer in
//! the background, the first words stay until then, a failing or missing title model leaves
//! them, a user's rename wins over a late title, "Regenerate title" replaces any title; the
//! list shows pinned chats first, hides empty ones, filters archived and per assistant.

use super::engine::{env, run_turn};
use parley_protocol::{ChatFilter, ChatId, ChatParams, EventMsg};
use parley_tests::*;
use std::time::Duration;

/// Waits for the chat's title to become `want` (the title is written in the background).
async fn title_becomes(core: &parley_core::Core, id: &ChatId, want: &str) {
    for _ in 0..100 {
        if core.chats().get_chat(id).await.unwrap().title == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = core.chats().get_chat(id).await.unwrap().title;
    panic!("the title stayed {got:?}, wanted {want:?}");
}

#[tokio::test]
async fn a_chat_is_titled_after_its_first_answer_in_the_background() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(
        &["Bonjour ! Comment ", "puis-je aider ?"],
        0,
    )));
    server.push(Reply::sse(text_answer(
        &["\"Salutations en français.\""],
        0,
    )));
    let e = env(&server).await;
    e.core.chats().set_background_titles(true);
    let mut events = e.core.chats().attach_events();
    let s = e.core.chats().create_chat(None).await.unwrap();
    run_turn(&e.core, &s.id, "Salut, tu parles français ?").await;
    // The first words are the title until the generated one arrives.
    title_becomes(&e.core, &s.id, "Salutations en français").await;
    // The window hears of it.
    let mut heard = false;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        if let EventMsg::TitleChanged { title, .. } = ev.msg {
            assert_eq!(title, "Salutations en français");
            heard = true;
            break;
        }
    }
    assert!(heard, "no TitleChanged event");
    // What the title model was asked: the conversation, and to answer in its language.
    let asked = server.received().last().unwrap().json();
    let text = asked.to_string();
    assert!(text.contains("Salut, tu parles fran"), "{text}");
    assert!(text.contains("language the user wrote in"), "{text}");
    // A second answer does not ask again.
    server.push(Reply::sse(text_answer(&["Oui."], 0)));
    run_turn(&e.core, &s.id, "Encore ?").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.received().len(), 3, "a title was asked for again");
}

#[tokio::test]
async fn a_failing_title_model_leaves_the_first_words_and_no_error() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Hi."], 0)));
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let e = env(&server).await;
    e.core.chats().set_background_titles(true);
    let s = e.core.chats().create_chat(None).await.unwrap();
    let events = run_turn(&e.core, &s.id, "Hello there").await;
    assert!(matches!(
        events.last(),
        Some(EventMsg::TurnCompleted { .. })
    ));
    // The title request went out and failed.
    for _ in 0..100 {
        if server.received().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.received().len(), 2, "no title request");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        e.core.chats().get_chat(&s.id).await.unwrap().title,
        "Hello there"
    );
    // Asked on demand, the failure is told, and the title still stays.
    server.push(Reply::json(401, r#"{"error":{"message":"bad key"}}"#));
    let err = e.core.chats().retitle(&s.id).await.unwrap_err();
    assert!(!err.to_info().message.is_empty());
    assert_eq!(
        e.core.chats().get_chat(&s.id).await.unwrap().title,
        "Hello there"
    );
}

#[tokio::test]
async fn a_title_model_that_is_not_configured_leaves_the_title() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Hi."], 0)));
    let e = env(&server).await;
    let mut settings = e.core.settings().get_settings().await.unwrap();
    settings.title_provider = Some("gone".into());
    settings.title_model = Some("m".into());
    e.core.settings().save_settings(settings).await.unwrap();
    e.core.chats().set_background_titles(true);
    let s = e.core.chats().create_chat(None).await.unwrap();
    run_turn(&e.core, &s.id, "Plan a trip").await;
    let err = e.core.chats().retitle(&s.id).await.unwrap_err();
    assert!(err.to_info().message.contains("gone"), "{err:?}");
    assert_eq!(
        e.core.chats().get_chat(&s.id).await.unwrap().title,
        "Plan a trip"
    );
    assert_eq!(server.received().len(), 1, "no request for a missing model");
}

#[tokio::test]
async fn a_rename_wins_over_a_late_title_and_retitle_replaces_any() {
    let server = MockServer::start().await;
    server.push(Reply::sse(text_answer(&["Hi."], 0)));
    // The title model is slow: the user renames the chat meanwhile.
    let mut slow = vec![sleep_ms(600)];
    slow.extend(text_answer(&["Late title"], 0));
    server.push(Reply::sse(slow));
    let e = env(&server).await;
    e.core.chats().set_background_titles(true);
    let s = e.core.chats().create_chat(None).await.unwrap();
    run_turn(&e.core, &s.id, "Question").await;
    // The rename lands while the title request waits for its (slow) reply. (Renamed before the
    // background task looks, the chat is not titled at all: no request is made.) Waiting for
    // the request also keeps the retitle below from taking the late reply.
    let t0 = std::time::Instant::now();
    while server.received().len() < 2 {
        assert!(t0.elapsed() < Duration::from_secs(30), "no title request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    e.core.chats().rename_chat(&s.id, "Mine").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(e.core.chats().get_chat(&s.id).await.unwrap().title, "Mine");
    // On request, a new title replaces even the user's.
    server.push(Reply::sse(text_answer(&["Title: **Asked for**."], 0)));
    assert_eq!(e.core.chats().retitle(&s.id).await.unwrap(), "Asked for");
    assert_eq!(
        e.core.chats().get_chat(&s.id).await.unwrap().title,
        "Asked for"
    );
}

#[tokio::test]
async fn the_list_puts_pinned_first_hides_empty_chats_and_filters() {
    let server = MockServer::start().await;
    let e = env(&server).await;
    let chats = e.core.chats();
    let mut ids = Vec::new();
    for q in ["one", "two", "three"] {
        server.push(Reply::sse(text_answer(&["ok"], 0)));
        let s = chats.create_chat(None).await.unwrap();
        run_turn(&e.core, &s.id, q).await;
        ids.push(s.id);
    }
    let empty = chats.create_chat(None).await.unwrap();
    let all = ChatFilter::default();
    let titles = |l: Vec<parley_protocol::ChatSummary>| -> Vec<String> {
        l.into_iter().map(|s| s.title).collect()
    };
    assert_eq!(
        titles(chats.list_chats(all.clone(), 10, 0).await.unwrap()),
        ["three", "two", "one"]
    );
    let one = chats.get_chat(&ids[0]).await.unwrap();
    chats
        .set_pinned(&ids[0], true, Some(one.revision))
        .await
        .unwrap();
    let two = chats.get_chat(&ids[1]).await.unwrap();
    chats
        .set_archived(&ids[1], true, Some(two.revision))
        .await
        .unwrap();
    assert_eq!(
        titles(chats.list_chats(all.clone(), 10, 0).await.unwrap()),
        ["one", "three"]
    );
    let archived = ChatFilter {
        archived: true,
        ..ChatFilter::default()
    };
    assert_eq!(
        titles(chats.list_chats(archived, 10, 0).await.unwrap()),
        ["two"]
    );
    // Per assistant.
    let params = ChatParams {
        assistant: Some("coder".into()),
        ..ChatParams::default()
    };
    chats.set_chat_params(&ids[2], params).await.unwrap();
    let coder = ChatFilter {
        assistant: Some("coder".into()),
        ..ChatFilter::default()
    };
    assert_eq!(
        titles(chats.list_chats(coder, 10, 0).await.unwrap()),
        ["three"]
    );
    let counts = chats.chat_counts().await.unwrap();
    assert_eq!((counts.active, counts.archived), (2, 1));
    assert_eq!(counts.per_assistant, vec![("coder".to_owned(), 1)]);
    // Paging: one at a time, in order, none twice.
    let mut paged = Vec::new();
    for off in 0..3 {
        paged.extend(titles(chats.list_chats(all.clone(), 1, off).await.unwrap()));
    }
    assert_eq!(paged, ["one", "three"]);
    // Pages of every size put together give the whole list, pinned chats first.
    server.push(Reply::sse(text_answer(&["ok"], 0)));
    let four = chats.create_chat(None).await.unwrap();
    run_turn(&e.core, &four.id, "four").await;
    let r = chats.get_chat(&ids[2]).await.unwrap().revision;
    chats.set_pinned(&ids[2], true, Some(r)).await.unwrap();
    let whole = titles(chats.list_chats(all.clone(), 100, 0).await.unwrap());
    assert_eq!(whole, ["three", "one", "four"]);
    for size in 1..=4u32 {
        let mut got = Vec::new();
        let mut off = 0;
        loop {
            let page = titles(chats.list_chats(all.clone(), size, off).await.unwrap());
            if page.is_empty() {
                break;
            }
            off += page.len() as u32;
            got.extend(page);
        }
        assert_eq!(got, whole, "pages of {size}");
    }
    // By creation (newest first) and by title (A to Z, without regard to case); pinned first,
    // and pages put together give the whole list in each order.
    chats.rename_chat(&ids[0], "banana").await.unwrap();
    chats.rename_chat(&four.id, "Apple").await.unwrap();
    chats.rename_chat(&ids[2], "cherry").await.unwrap();
    let sorted = |sort| ChatFilter {
        sort,
        ..ChatFilter::default()
    };
    for (sort, want) in [
        (
            parley_protocol::ChatSort::Created,
            ["cherry", "banana", "Apple"],
        ),
        (
            parley_protocol::ChatSort::Title,
            ["banana", "cherry", "Apple"],
        ),
        (
            parley_protocol::ChatSort::Updated,
            ["cherry", "banana", "Apple"],
        ),
    ] {
        let whole = titles(chats.list_chats(sorted(sort), 100, 0).await.unwrap());
        assert_eq!(whole, want, "{sort:?}");
        let mut got = Vec::new();
        for off in 0..3 {
            got.extend(titles(
                chats.list_chats(sorted(sort), 1, off).await.unwrap(),
            ));
        }
        assert_eq!(got, want, "{sort:?} paged");
    }
    // Unpinned, by title: A to Z.
    for id in [&ids[0], &ids[2]] {
        let r = chats.get_chat(id).await.unwrap().revision;
        chats.set_pinned(id, false, Some(r)).await.unwrap();
    }
    let by_title = titles(
        chats
            .list_chats(sorted(parley_protocol::ChatSort::Title), 100, 0)
            .await
            .unwrap(),
    );
    assert_eq!(by_title, ["Apple", "banana", "cherry"]);
    // The empty chat is still there, just not listed.
    assert!(chats.get_chat(&empty.id).await.is_ok());
}
