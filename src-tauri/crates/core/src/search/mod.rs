//! Full-text search over every chat (SQLite FTS5). The index is kept in the same transaction
//! as every write: by triggers for titles and parts (schema v8, `store/schema.rs`; this module
//! registers the function they call), and for streamed text by the journal, in pieces
//! (`index.rs`). Here too: what the user typed turned into a safe FTS5 expression
//! (`text.rs`), the ranked query with its filters (`store.rs`) and the snippet shown for each
//! match (`snippet.rs`).

mod bulk;
mod index;
mod snippet;
mod store;
pub mod text;

pub(crate) use bulk::pause as pause_indexing;
pub(crate) use index::{index_pending_of, index_streamed};
pub use store::SearchTables;

use crate::error::{CoreError, StoreError};
use crate::shared::Shared;
use parley_protocol::{SearchQuery, SearchResults};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use std::sync::Arc;

/// Registers `parley_search_text(kind, body, meta, before)`, which the index's triggers call.
/// Every connection that writes chats needs it: Parley's own do (see `store::configure`); a
/// tool writing to the database has to register it too (tests use this).
pub fn register(conn: &Connection) -> Result<(), StoreError> {
    conn.create_scalar_function(
        "parley_search_text",
        4,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            // Read in place, not copied: every indexed text passes through here.
            let arg = |i: usize| ctx.get_raw(i).as_str_or_null();
            Ok(text::index_text(
                arg(0)?,
                arg(1)?.unwrap_or_default(),
                arg(2)?,
                arg(3)?,
            ))
        },
    )?;
    Ok(())
}

/// Rewrites the parts of the index that hold deleted entries, so a deleted chat's words leave
/// the file (a delete only marks them). Bounded: FTS5 merges the segments with deleted rows
/// (`deletemerge`) a few hundred pages at a time until nothing is left to merge.
pub(crate) fn purge_deleted(conn: &Connection) -> Result<(), StoreError> {
    for _ in 0..1000 {
        let before = conn.total_changes();
        conn.execute(
            "INSERT INTO search_fts(search_fts, rank) VALUES ('merge', 500)",
            [],
        )?;
        if conn.total_changes() - before < 2 {
            break;
        }
    }
    Ok(())
}

/// Searches the chats.
#[derive(Clone)]
pub struct SearchService {
    shared: Arc<Shared>,
}

impl SearchService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        SearchService { shared }
    }

    /// The messages and titles that hold `query.text`, best first, with the filters applied.
    /// A query with nothing to look for finds nothing (no error: the palette asks as you type);
    /// one of more than [`text::MAX_WORDS`] words or [`text::MAX_PREFIXES`] prefixes, or with a
    /// prefix shorter than [`text::MIN_PREFIX_CHARS`], is refused with a sentence, and so is one
    /// whose words are too common to find within the time a search may take (`store.rs`).
    pub async fn search(&self, query: SearchQuery) -> Result<SearchResults, CoreError> {
        if query.text.len() > 4096 {
            return Err(CoreError::InvalidInput(
                "A search can be at most 4096 characters long.".into(),
            ));
        }
        // Counted before the index is asked: a query of hundreds of words or prefixes would
        // hold the reader for seconds.
        if let Some(why) = text::parse_query(&query.text).and_then(|q| q.too_big()) {
            return Err(CoreError::InvalidInput(why));
        }
        if let Some(chat) = &query.chat {
            if !self.shared.store.chat_exists(chat).await? {
                return Err(crate::error::no_chat(chat));
            }
        }
        match self.shared.store.search(query).await {
            Err(StoreError::SearchTooCostly(why)) => Err(CoreError::InvalidInput(why)),
            r => Ok(r?),
        }
    }
}

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod tests;
