//! The contract between Parley's core, desktop app, CLI and UI: the data every layer passes —
//! chats, messages made of typed [`Part`]s, turns and their statuses, providers, approvals,
//! assistants, settings, [`ErrorInfo`] — and the events a turn streams out ([`Event`]).
//! Requests in are the core services' methods (one per desktop command, same name), taking
//! these types; there is no separate request enum.
//!
//! Types and the few pure rules every layer must apply the same way ([`limits`], [`visible`]):
//! no I/O, no async runtime. Everything serialises with serde as
//! `{"type": "snake_case_variant", ...}`; ids are strings on the wire and times are unix ms.
//! One module per topic, re-exported at the root.

// Test code may run long (a scenario reads top to bottom). Everything else keeps to 80 lines
// (clippy.toml): the build without cfg(test), which `clippy --all-targets` checks too, has
// no such allowance.
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod approvals;
mod artifacts;
mod assistants;
mod attachments;
mod chats;
mod context;
mod errors;
mod events;
mod export;
mod history;
mod ids;
pub mod ledger;
pub mod limits;
mod mcp;
mod models;
mod prompts;
mod providers;
mod queue;
mod search;
mod settings;
mod tools;
mod updates;
mod usage;
pub mod visible;
mod websearch;

pub use approvals::*;
pub use artifacts::*;
pub use assistants::*;
pub use attachments::*;
pub use chats::*;
pub use context::*;
pub use errors::*;
pub use events::*;
pub use export::*;
pub use history::*;
pub use ids::{ChatId, MessageId, TurnId};
pub use ledger::*;
pub use limits::{NumberLimit, ParamLimits, MAX_MESSAGE_BYTES, PARAM_LIMITS};
pub use mcp::*;
pub use models::*;
pub use prompts::*;
pub use providers::*;
pub use queue::*;
pub use search::*;
pub use settings::*;
pub use tools::*;
pub use updates::*;
pub use usage::*;
pub use websearch::*;

/// Milliseconds since the unix epoch.
pub type UnixMs = i64;

#[cfg(test)]
mod tests;
