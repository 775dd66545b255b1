//! Ids of chats from another app's export, namespaced per data folder. ChatGPT's and Claude's
//! conversation and message ids are known to whoever has the conversation (a shared link, an
//! export passed around), so ids built from them alone would let a crafted file name a chat
//! imported earlier. A chat's id becomes `<app>-<uuid v5 of the app's id>` in a namespace that
//! is a random value kept in this data folder's settings: stable here (importing the same
//! export again adds nothing), unknown to anyone else. Its messages' and turns' ids are the
//! chat's followed by the app's own (an id too long or not in Parley's form then gives the
//! whole chat fresh ids in the merge).

use super::foreign::Source;
use crate::error::StoreError;
use crate::settings::SettingsService;
use parley_protocol::ChatExport;
use uuid::Uuid;

/// The setting that holds this data folder's namespace.
const NAMESPACE_SETTING: &str = "import_namespace";

/// This data folder's namespace for other apps' ids, made (random) and saved on first use.
pub(super) async fn namespace(settings: &SettingsService) -> Result<Uuid, StoreError> {
    if let Some(ns) = settings
        .value::<String>(NAMESPACE_SETTING)
        .await?
        .and_then(|s| Uuid::parse_str(&s).ok())
    {
        return Ok(ns);
    }
    // Two v7 uuids carry 148 random bits; folded into one, 122 of them remain.
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let ns = Uuid::new_v5(&a, b.as_bytes());
    settings
        .save_value(NAMESPACE_SETTING, &ns.to_string())
        .await?;
    Ok(ns)
}

/// Renames every id of a chat read from `source` (not Parley's own format, whose ids are kept)
/// into the namespace `ns`, keeping every link inside the chat.
pub(super) fn namespace_chat(chat: &mut ChatExport, source: Source, ns: &Uuid) {
    let prefix = match source {
        Source::Parley => return,
        Source::ChatGpt => "chatgpt",
        Source::Claude => "claude",
    };
    // The chat's own id, and each of its messages' and turns' under it: a chat's rows stay
    // together in the database's indexes (random ids would scatter every insert).
    let sid = format!(
        "{prefix}-{}",
        Uuid::new_v5(ns, chat.session.id.0.as_bytes())
    );
    // The app's own id after the chat's: unguessable as a whole (the chat's part is), and in
    // the app's order, so a chat's rows are written in key order.
    let map = |s: &mut String| {
        let own = s.strip_prefix(prefix).and_then(|t| t.strip_prefix('-'));
        *s = format!("{sid}-{}", own.unwrap_or(s.as_str()));
    };
    chat.session.id.0.clone_from(&sid);
    chat.session.forked_from = None;
    chat.head.iter_mut().for_each(|h| map(&mut h.0));
    for m in &mut chat.messages {
        map(&mut m.id.0);
        m.chat_id.0.clone_from(&sid);
        m.parent_id.iter_mut().for_each(|p| map(&mut p.0));
        m.turn_id.iter_mut().for_each(|t| map(&mut t.0));
    }
    for t in &mut chat.turns {
        map(&mut t.id.0);
        t.chat_id.0.clone_from(&sid);
        map(&mut t.user_message_id.0);
        t.assistant_message_id
            .iter_mut()
            .for_each(|a| map(&mut a.0));
        t.context_from.iter_mut().for_each(|c| map(&mut c.0));
    }
}
