//! parley-core: everything in Parley that is not UI. The desktop app and the `parley` CLI are
//! thin adapters over [`Core`]; nothing here depends on Tauri.
//!
//! Layout: [`store`] (SQLite, one writer thread), [`providers`] (wire formats, each a pure event
//! mapper fed by a spec-correct SSE parser), [`session`] (one active turn per session and the
//! journal that persists its output), [`secrets`] (the OS keychain), [`tools`] (the safety
//! checks tools go through), [`error`].

pub mod approvals;
pub mod error;
pub mod paths;
pub mod providers;
pub mod secrets;
pub mod session;
pub mod store;
pub mod tools;
mod util;

pub use error::{CoreError, ProviderError, ProviderErrorKind, StoreError};
pub use session::{ConnectionCheck, Core, CoreOptions, NewProvider, ProviderUpdate, TurnHandle};
pub use util::{new_id, now_ms};
