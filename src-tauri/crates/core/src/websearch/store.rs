//! Web search queries (table `web_search`, schema v16): the one backend searches go to.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{params, OptionalExtension};

/// The saved backend: kind, address, what its key is bound to (`None`: no key).
pub(super) type Row = (String, String, Option<String>);

impl Store {
    /// The backend, if one is set.
    pub(super) async fn search_backend(&self) -> Result<Option<Row>, StoreError> {
        self.reader
            .call(|c| {
                Ok(c.query_row(
                    "SELECT kind, url, key_host FROM web_search WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?)
            })
            .await
    }

    /// Sets the backend (replacing the one before).
    pub(super) async fn put_search_backend(&self, row: Row) -> Result<(), StoreError> {
        let now = crate::util::now_ms();
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO web_search(id, kind, url, key_host, updated_at)
                     VALUES (1, ?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET kind = ?1, url = ?2, key_host = ?3, updated_at = ?4",
                    params![row.0, row.1, row.2, now],
                )?;
                Ok(())
            })
            .await
    }

    /// Turns web search off.
    pub(super) async fn delete_search_backend(&self) -> Result<(), StoreError> {
        self.writer
            .call(|c| {
                c.execute("DELETE FROM web_search", [])?;
                Ok(())
            })
            .await
    }
}
