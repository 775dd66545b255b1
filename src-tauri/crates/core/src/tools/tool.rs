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

/// How much a call can change or reach (ordered: a later variant is a higher bar).
pub use parley_protocol::ToolRisk as Risk;

/// Asks the user a question on the model's behalf (`ask_user`).
pub trait Asker: Send + Sync {
    /// Shows `question` for call `call_id` and waits for the answer (`None`: no answer).
    fn ask(&self, call_id: &str, question: &str) -> BoxFuture<'static, Option<String>>;
    /// Shows how far call `call_id` is (`progress` of `total`, with a message); not stored.
    fn progress(
        &self,
        _call_id: &str,
        _progress: f64,
        _total: Option<f64>,
        _message: Option<String>,
    ) {
    }
}

/// What a call runs with.
#[derive(Clone)]
pub struct ToolContext {
    /// The chat's workspace.
    pub workspace: Workspace,
    /// Cancelled when the user stops the turn.
    pub cancel: CancellationToken,
    /// The call being run (empty while preparing).
    pub call_id: String,
    /// Folders writes to which always ask: Parley's own data and configuration.
    pub protected: Arc<Vec<std::path::PathBuf>>,
    /// Who answers `ask_user` (none: the question cannot be asked).
    pub asker: Option<Arc<dyn Asker>>,
    /// True when this call was prepared with an "always asks" reason (a protected write), so a
    /// person was asked about exactly that. A write that turns out protected at write time
    /// without this is refused.
    pub asked_in_person: bool,
    /// Where this process records the process groups of running commands (see
    /// [`super::orphans`]); `None`: not recorded.
    pub process_log: Option<std::path::PathBuf>,
    /// The chat's provider and model, for a tool that asks the model itself (an MCP server's
    /// sampling request); `None` outside a turn.
    pub model: Option<(String, String)>,
}

impl ToolContext {
    /// A context for `workspace` with nothing protected beyond `.git` and no one to ask.
    pub fn new(workspace: Workspace, cancel: CancellationToken) -> Self {
        ToolContext {
            workspace,
            cancel,
            call_id: String::new(),
            protected: Arc::new(Vec::new()),
            asker: None,
            asked_in_person: false,
            process_log: None,
            model: None,
        }
    }
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

/// What a call returned: its text for the model, and the images its tool returned (an MCP
/// server's), stored by the engine as the result's images and sent with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text.
    pub text: String,
    /// The images, as returned (the engine checks and re-encodes them before storing).
    pub images: Vec<ToolImage>,
}

/// An image a tool returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolImage {
    /// The MIME type the tool gave (the bytes decide).
    pub mime: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl From<String> for ToolOutput {
    fn from(text: String) -> Self {
        ToolOutput {
            text,
            images: Vec::new(),
        }
    }
}

/// What a prepared call's run gives.
pub type RunResult = Result<ToolOutput, ToolError>;

/// A tool with a typed input.
pub trait Tool: Send + Sync + 'static {
    /// Its arguments.
    type Input: DeserializeOwned + JsonSchema + Send + 'static;
    /// The name the model calls it by.
    fn name(&self) -> &'static str;
    /// What it does, for the model.
    fn description(&self) -> &'static str;
    /// The lowest risk any call of this tool has (what settings show).
    fn base_risk(&self) -> Risk {
        Risk::Mutating
    }
    /// The risk of this exact call. When in doubt: [`Risk::Mutating`].
    fn risk(&self, input: &Self::Input, ctx: &ToolContext) -> Risk;
    /// True when this tool's "always asks" reasons need a person at the prompt (protected
    /// writes): no `--approve all` may answer them.
    fn in_person(&self) -> bool {
        false
    }
    /// Refuses a call before anyone is asked (a write outside the workspace): the sentence is
    /// the model's result and nothing runs.
    fn check(&self, _input: &Self::Input, _ctx: &ToolContext) -> Result<(), String> {
        Ok(())
    }
    /// Why this exact call must ask whatever was granted (a compound shell command, a write to
    /// `.git`), if it must.
    fn always_ask(&self, _input: &Self::Input, _ctx: &ToolContext) -> Option<String> {
        None
    }
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
    /// What approvals and grants know the tool as, when not by its name: an MCP tool is
    /// granted with the hash of its pinned definition (`server__tool#hash`), so a grant never
    /// covers a definition the user has not seen.
    pub grant_as: Option<String>,
    /// Why it asks whatever was granted, if it does.
    pub always_ask: Option<String>,
    /// Only a person at the prompt may allow it (see [`Tool::in_person`]).
    pub in_person: bool,
    run: Box<dyn FnOnce(ToolContext) -> BoxFuture<'static, RunResult> + Send>,
}

impl Prepared {
    /// A call of a tool whose input is not a Rust type (MCP): `run` does the call.
    pub fn new(
        risk: Risk,
        grant_as: Option<String>,
        run: impl FnOnce(ToolContext) -> BoxFuture<'static, RunResult> + Send + 'static,
    ) -> Self {
        Prepared {
            risk,
            grant_as,
            always_ask: None,
            in_person: false,
            run: Box::new(run),
        }
    }

    /// Runs it.
    pub fn run(self, ctx: ToolContext) -> BoxFuture<'static, RunResult> {
        (self.run)(ctx)
    }
}

/// A tool with its input type erased (a built-in tool, or one of an MCP server's).
pub trait AnyTool: Send + Sync {
    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// What the model is told about it.
    fn spec(&self) -> ToolSpec;
    /// What settings show about it.
    fn info(&self) -> parley_protocol::ToolInfo;
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
    fn name(&self) -> &str {
        self.0.name()
    }

    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.0.name().into(),
            description: self.0.description().into(),
            parameters: input_schema::<T::Input>(),
        }
    }

    fn info(&self) -> parley_protocol::ToolInfo {
        parley_protocol::ToolInfo {
            name: self.0.name().into(),
            description: self.0.description().into(),
            risk: self.0.base_risk(),
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
        self.0.check(&input, ctx)?;
        let risk = self.0.risk(&input, ctx);
        let always_ask = self.0.always_ask(&input, ctx);
        let tool = self.0.clone();
        let asked_in_person = always_ask.is_some();
        Ok(Prepared {
            risk,
            grant_as: None,
            in_person: asked_in_person && self.0.in_person(),
            always_ask,
            run: Box::new(move |mut ctx| {
                ctx.asked_in_person = asked_in_person;
                let run = tool.run(input, ctx);
                Box::pin(async move { run.await.map(ToolOutput::from) })
            }),
        })
    }
}

/// The tools offered in a chat, by name.
#[derive(Clone, Default)]
pub struct Registry {
    tools: BTreeMap<String, Arc<dyn AnyTool>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool (replacing one of the same name).
    pub fn add<T: Tool>(&mut self, tool: T) -> &mut Self {
        let erased: Arc<dyn AnyTool> = Arc::new(Erased(Arc::new(tool)));
        self.add_any(erased)
    }

    /// Adds a tool already erased (an MCP server's), replacing one of the same name.
    pub fn add_any(&mut self, tool: Arc<dyn AnyTool>) -> &mut Self {
        self.tools.insert(tool.name().to_owned(), tool);
        self
    }

    /// What the model is told, sorted by name.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.values().map(|t| t.spec()).collect()
    }

    /// What settings show, sorted by name.
    pub fn infos(&self) -> Vec<parley_protocol::ToolInfo> {
        self.tools.values().map(|t| t.info()).collect()
    }

    /// Keeps only the tools named in `enabled`.
    pub fn retain(&mut self, enabled: &[String]) {
        self.tools
            .retain(|name, _| enabled.iter().any(|e| e == name));
    }

    /// True when no tool is offered.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
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
                self.tools.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
}
