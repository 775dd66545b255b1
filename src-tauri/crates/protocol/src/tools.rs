//! Tools as settings and assistants list them.

use crate::*;
use serde::{Deserialize, Serialize};

/// A built-in tool, as settings list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ToolInfo {
    /// The name the model calls it by.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its lowest risk (a given call may be riskier).
    pub risk: ToolRisk,
}
