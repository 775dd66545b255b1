//! An export of every chat goes on past a chat it cannot read (a row Parley never writes,
//! restored or imported from a crafted file): that chat is left out and named, with why, and
//! every other chat is exported. An export of chats named by id still fails on the first
//! that cannot be read: it was asked for.

use super::export::{export_chat, keep_selected_path, markdown};
use super::HistoryService;
use crate::error::{CoreError, StoreError};
use crate::store::Store;
use parley_protocol::{
    ChatExport, ChatId, ExportFile, LeftOutChat as Unreadable, EXPORT_FORMAT, EXPORT_VERSION,
};

/// Every chat that could be read, in Parley's format, and the chats left out.
#[derive(Debug, Clone)]
pub struct EveryChat {
    /// The chats that could be read.
    pub file: ExportFile,
    /// The chats left out, each named with why.
    pub unreadable: Vec<Unreadable>,
}

impl Store {
    /// Every chat's id and title, oldest first (the title as text whatever its stored type).
    async fn chat_ids(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.reader
            .call(|c| {
                let rows = c
                    .prepare(
                        "SELECT CAST(id AS TEXT), coalesce(CAST(title AS TEXT), '')
                         FROM sessions ORDER BY created_at, id",
                    )?
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                            r.get(1)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Every chat that can be read, whole, and those that cannot (named, with why).
    pub(in crate::history) async fn export_readable(
        &self,
    ) -> Result<(Vec<ChatExport>, Vec<Unreadable>), StoreError> {
        let ids = self.chat_ids().await?;
        self.reader
            .call(move |c| {
                let mut chats = Vec::with_capacity(ids.len());
                let mut unreadable = Vec::new();
                for (id, title) in ids {
                    match export_chat(c, &id) {
                        Ok(chat) => chats.push(chat),
                        Err(e) => unreadable.push(Unreadable {
                            id: ChatId(id),
                            title,
                            why: e.to_string(),
                        }),
                    }
                }
                Ok((chats, unreadable))
            })
            .await
    }
}

impl HistoryService {
    /// Every chat in Parley's format (`branch`: only each one's selected branch), past any
    /// chat that cannot be read: those are left out and named.
    pub async fn export_every(&self, branch: bool) -> Result<EveryChat, CoreError> {
        let (mut chats, unreadable) = self.shared.store.export_readable().await?;
        self.attachments.inline_images(&mut chats).await?;
        if branch {
            chats.iter_mut().for_each(keep_selected_path);
        }
        Ok(EveryChat {
            file: ExportFile {
                format: EXPORT_FORMAT.into(),
                version: EXPORT_VERSION,
                exported_at: crate::now_ms(),
                chats,
            },
            unreadable,
        })
    }

    /// Every chat as Markdown (each one's selected path), past any chat that cannot be read:
    /// those are left out and named.
    pub async fn markdown_every(&self) -> Result<(Vec<String>, Vec<Unreadable>), CoreError> {
        let mut texts = Vec::new();
        let mut unreadable = Vec::new();
        for (id, title) in self.shared.store.chat_ids().await? {
            let id = ChatId(id);
            match self.chats.branch(&id).await {
                Ok(Some(h)) => texts.push(markdown(
                    &h.session.title,
                    &h.messages,
                    !h.versions.is_empty(),
                )),
                // Deleted meanwhile: nothing to export, nothing to say.
                Ok(None) => {}
                Err(e) => unreadable.push(Unreadable {
                    id,
                    title,
                    why: e.to_string(),
                }),
            }
        }
        Ok((texts, unreadable))
    }
}
