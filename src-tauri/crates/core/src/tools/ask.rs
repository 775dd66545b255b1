//! `ask_user`: the model asks the user a question; the answer is the call's result.

use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

/// Arguments of `ask_user`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskUserInput {
    /// The question, in plain words.
    pub question: String,
}

/// Asks the user.
pub struct AskUser;

impl Tool for AskUser {
    type Input = AskUserInput;

    fn name(&self) -> &'static str {
        "ask_user"
    }

    fn description(&self) -> &'static str {
        "Ask the user a question and wait for the answer. Use it when you need a decision or a fact only the user has."
    }

    fn base_risk(&self) -> Risk {
        Risk::ReadOnly
    }

    fn risk(&self, _input: &AskUserInput, _ctx: &ToolContext) -> Risk {
        Risk::ReadOnly
    }

    fn run(
        &self,
        input: AskUserInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        Box::pin(async move {
            if input.question.trim().is_empty() {
                return Err(ToolError::RespondToModel("The question is empty.".into()));
            }
            let Some(asker) = ctx.asker.clone() else {
                return Err(ToolError::RespondToModel(
                    "There is no one to ask here; continue without the answer.".into(),
                ));
            };
            match asker.ask(&ctx.call_id, &input.question).await {
                Some(a) if !a.trim().is_empty() => Ok(a),
                _ => Err(ToolError::RespondToModel(
                    "The user did not answer; continue without the answer or ask differently."
                        .into(),
                )),
            }
        })
    }
}
