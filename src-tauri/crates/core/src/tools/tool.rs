//! Typed tools, erased once (STYLE.md §5–6). A tool's input is a Rust struct; the JSON schema
//! the model sees is derived from that struct, so the schema and the parser cannot drift. Risk is
//! decided from the parsed input. Failures the model can recover from become error results;
//! only broken invariants are fatal.

use super::paths::Workspace;
use crate::providers::ToolSpec;
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How much a call can change or reach. Ordered: a later variant is a higher bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Reads inside the workspace only.
    ReadOnly,
    /// Changes files inside the workspace.
    Mutating,
    /// Reaches the network.
    Network,
    /// Deletes or overwrites broadly, or runs arbitrary commands.
    Destructive,
}

/// What a call runs with.
#[derive(Clone)]
pub struct ToolContext {
    /// The session's workspace.
    pub workspace: Workspace,
    /// Cancelled when the user stops the turn.
    pub cancel: CancellationToken,
}

/// Why a call produced no normal result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The model gets this text as an error result and can try something else.
    #[error("{0}")]
    RespondToModel(String),
    /// A broken invariant: the turn ends.
    #[error("{0}")]
    Fatal(String),
}

/// A tool with a typed input.
pub trait Tool: Send + Sync + 'static {
    /// Its arguments.
    type Input: DeserializeOwned + JsonSchema + Send + 'static;
    /// The name the model calls it by.
    fn name(&self) -> &'static str;
    /// What it does, for the model.
    fn description(&self) -> &'static str;
    /// The risk of this exact call. When in doubt: [`Risk::Mutating`].
    fn risk(&self, input: &Self::Input, ctx: &ToolContext) -> Risk;
    /// Runs the call.
    fn run(
        &self,
        input: Self::Input,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>>;
}

/// A tool call whose arguments parsed: its risk is known and it can run.
pub struct Prepared {
    /// The risk of this exact call.
    pub risk: Risk,
    run: Box<dyn FnOnce(ToolContext) -> BoxFuture<'static, Result<String, ToolError>> + Send>,
}

impl Prepared {
    /// Runs it.
    pub fn run(self, ctx: ToolContext) -> BoxFuture<'static, Result<String, ToolError>> {
        (self.run)(ctx)
    }
}

/// A tool with its input type erased.
pub trait AnyTool: Send + Sync {
    /// The name the model calls it by.
    fn name(&self) -> &'static str;
    /// What the model is told about it.
    fn spec(&self) -> ToolSpec;
    /// Parses the raw arguments against the tool's input type. An `Err` is a sentence for the
    /// model: the call never runs.
    fn prepare(&self, arguments: &str, ctx: &ToolContext) -> Result<Prepared, String>;
}

/// The JSON schema of a tool input, as providers take it (no `$schema`, no title).
pub fn input_schema<T: JsonSchema>() -> serde_json::Value {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
    }
    v
}

struct Erased<T>(Arc<T>);

impl<T: Tool> AnyTool for Erased<T> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.0.name().into(),
            description: self.0.description().into(),
            parameters: input_schema::<T::Input>(),
        }
    }

    fn prepare(&self, arguments: &str, ctx: &ToolContext) -> Result<Prepared, String> {
        let raw = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let input: T::Input = serde_json::from_str(raw)
            .map_err(|e| format!("The arguments for {} are not valid: {e}.", self.0.name()))?;
        let risk = self.0.risk(&input, ctx);
        let tool = self.0.clone();
        Ok(Prepared {
            risk,
            run: Box::new(move |ctx| tool.run(input, ctx)),
        })
    }
}

/// The tools offered in a session, by name.
#[derive(Clone, Default)]
pub struct Registry {
    tools: BTreeMap<&'static str, Arc<dyn AnyTool>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool (replacing one of the same name).
    pub fn add<T: Tool>(&mut self, tool: T) -> &mut Self {
        let erased: Arc<dyn AnyTool> = Arc::new(Erased(Arc::new(tool)));
        self.tools.insert(erased.name(), erased);
        self
    }

    /// What the model is told, sorted by name.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.values().map(|t| t.spec()).collect()
    }

    /// Looks a call up and parses its arguments. An unknown tool or bad arguments give a
    /// sentence for the model; nothing runs.
    pub fn prepare(
        &self,
        name: &str,
        arguments: &str,
        ctx: &ToolContext,
    ) -> Result<Prepared, String> {
        match self.tools.get(name) {
            Some(t) => t.prepare(arguments, ctx),
            None => Err(format!(
                "There is no tool named {name:?}. Available tools: {}.",
                self.tools.keys().copied().collect::<Vec<_>>().join(", ")
            )),
        }
    }
}
