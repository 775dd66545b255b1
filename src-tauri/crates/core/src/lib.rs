//! parley-core: everything in Parley that is not UI. The desktop app and the `parley` CLI are
//! thin adapters over [`Core`]; nothing here depends on Tauri.
//!
//! One module per topic, each a small service with its queries next to it (docs/ARCHITECTURE.md
//! has the map): [`chats`] (chats and the turn engine), [`history`], [`providers`] (wire
//! formats, configuration, keys, model lists, discovery), [`assistants`], [`approvals`]
//! (policy, gates, grants), [`settings`], [`tools`]. Underneath: [`store`] (the SQLite database,
//! one writer thread), [`secrets`] (the OS keychain), [`error`]. [`Core`] opens the data folder
//! and owns the services.

pub mod approvals;
pub mod assistants;
pub mod chats;
mod core;
pub mod error;
pub mod history;
mod instance;
pub mod paths;
pub mod providers;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod tools;
mod util;

pub use crate::core::{Core, CoreOptions};
pub use chats::TurnHandle;
pub use error::{CoreError, ProviderError, ProviderErrorKind, StoreError};
pub use util::{new_id, now_ms};
