//! Approvals and grants: how risky a call is, the user's decision, a saved grant.

use crate::*;
use serde::{Deserialize, Serialize};

/// How much a tool call can change or reach. Ordered: a later variant is a higher bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ToolRisk {
    /// Reads inside the workspace only.
    ReadOnly,
    /// Changes files inside the workspace.
    Mutating,
    /// Reaches the network.
    Network,
    /// Can delete or overwrite things broadly (a compound command, `rm`, a wrapper that hides
    /// what it runs).
    Destructive,
    /// Runs code the arguments carry or name (an interpreter with inline code or a script,
    /// `sqlite3`, `gdb -ex`, `ssh -o ProxyCommand`, `git` aliases and hooks, `make`, a
    /// scheduler wrapper…): it can do anything the user can. Always asks and can be allowed
    /// once only — never for the session, never always.
    RunsCode,
}

/// The user's answer to an approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run this call, this once.
    AllowOnce,
    /// Run it, and the identical call (same tool, same arguments) for the rest of the session.
    AllowSession,
    /// Run it, and the identical call from now on (saved; listed and revocable in settings).
    AllowAlways,
    /// Do not run it. The note, if any, is passed to the model.
    Deny {
        /// The user's note for the model.
        note: Option<String>,
    },
}

/// A saved "always allow" grant: one tool with its exact arguments, in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Grant {
    /// Its id (for revoking).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub id: i64,
    /// The canonical root of the workspace it was given in: it applies there only. Empty for
    /// grants saved before grants named their workspace (they apply nowhere).
    pub workspace: String,
    /// The tool.
    pub tool: String,
    /// The exact arguments, canonical JSON (keys sorted).
    pub arguments: String,
    /// When it was granted.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: UnixMs,
}
