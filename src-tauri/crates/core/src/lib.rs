//! parley-core: everything in Parley that is not UI. The desktop app and the `parley` CLI are
//! thin adapters over [`Core`]; nothing here depends on Tauri.
//!
//! One module per topic, each a small service with its queries next to it (docs/ARCHITECTURE.md
//! has the map): [`chats`] (chats and the turn engine), [`history`], [`providers`] (wire
//! formats, configuration, keys, model lists, discovery), [`assistants`], [`approvals`]
//! (policy, gates, grants), [`settings`], [`tools`]. Underneath: [`store`] (the SQLite database,
//! one writer thread), [`secrets`] (the OS keychain), [`error`]. [`Core`] opens the data folder
//! and owns the services.

// Test code may run long (a scenario reads top to bottom). Everything else keeps to 80 lines
// (clippy.toml): the build without cfg(test), which `clippy --all-targets` checks too, has
// no such allowance.
#![cfg_attr(test, allow(clippy::too_many_lines))]

/// SQL for a part's whole text, where `p` is its `parts` row: the folded body plus the chunks
/// streamed into it that are not folded yet (schema v6; see `chats::journal`).
macro_rules! part_body_sql {
    () => {
        "p.body || coalesce((SELECT group_concat(c.body, '' ORDER BY c.id) FROM part_chunks c
          WHERE c.message_id = p.message_id AND c.idx = p.idx), '')"
    };
}

/// The `sessions` columns `store::codec::chat_row` reads, in its order.
macro_rules! chat_columns {
    () => {
        "id, title, created_at, updated_at, message_count, provider, model, params, revision,
         pinned, archived, forked_from_session, forked_from_message"
    };
}

/// A topic's tables opened to tests (and the bench) outside the topic, and to nothing else: a
/// trait on `Store` whose methods are the named `Store` methods of the topic (same names and
/// signatures; each topic's own are `pub(in crate::topic)`). A topic's code asks the other
/// topic's service; `tests/suite/doors.rs` fails when code outside the topic names the
/// trait.
macro_rules! tables_door {
    ($(#[$meta:meta])* $vis:vis trait $door:ident {
        $(fn $f:ident(&self $(, $a:ident: $t:ty)* $(,)?) -> $r:ty;)*
    }) => {
        $(#[$meta])*
        $vis trait $door {
            $(fn $f(&self $(, $a: $t)*) -> impl std::future::Future<Output = $r> + Send;)*
        }
        impl $door for crate::store::Store {
            $(fn $f(&self $(, $a: $t)*) -> impl std::future::Future<Output = $r> + Send {
                crate::store::Store::$f(self $(, $a)*)
            })*
        }
    };
}

mod about;
pub mod approvals;
pub mod artifacts;
pub mod assistants;
pub mod attachments;
pub mod backups;
pub mod chats;
mod clean;
mod core;
pub mod error;
pub mod history;
mod hub;
mod instance;
pub mod ledger;
pub mod logs;
pub mod mcp;
pub mod models;
mod net;
pub mod paths;
mod proclog;
pub mod prompts;
pub mod providers;
pub mod queue;
pub mod search;
pub mod secrets;
pub mod settings;
mod shared;
pub mod store;
pub mod tools;
pub mod updates;
pub mod usage;
mod util;
pub mod websearch;

pub use crate::core::{open_store, Core, CoreOptions};
pub use chats::{CompareHandle, TurnHandle};
pub use error::{CoreError, ProviderError, ProviderErrorKind, StoreError};
pub use util::{create_private, new_id, now_ms};

// Last in the file: the tests' shared helpers.
#[cfg(test)]
mod test_kit;
