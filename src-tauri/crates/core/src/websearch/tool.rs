//! The `web_search` tool: the query goes to the backend the user chose (a third party), so
//! it asks like any tool that reaches outside ([`Risk::Network`]) unless granted.

use super::WebSearchService;
use crate::tools::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

/// Arguments of `web_search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebSearchInput {
    /// What to search the web for.
    pub query: String,
    /// How many results (1–10; 5 when not given).
    #[serde(default)]
    pub count: Option<u32>,
}

/// Searches the web with the user's search service.
pub struct WebSearch {
    service: WebSearchService,
}

impl WebSearch {
    /// The tool, searching through `service`.
    pub fn new(service: WebSearchService) -> Self {
        WebSearch { service }
    }
}

impl Tool for WebSearch {
    type Input = WebSearchInput;

    fn name(&self) -> &'static str {
        parley_protocol::WEB_SEARCH_TOOL
    }

    fn description(&self) -> &'static str {
        "Search the web. Returns numbered results (title, address, snippet). Cite the ones you use as [n] with their address; fetch a page for more than its snippet."
    }

    fn base_risk(&self) -> Risk {
        Risk::Network
    }

    fn risk(&self, _input: &WebSearchInput, _ctx: &ToolContext) -> Risk {
        Risk::Network
    }

    fn check(&self, input: &WebSearchInput, _ctx: &ToolContext) -> Result<(), String> {
        if input.query.trim().is_empty() {
            return Err("The search query is empty.".into());
        }
        let max = parley_protocol::SEARCH_MAX_QUERY_CHARS;
        if input.query.chars().count() > max {
            return Err(format!(
                "The search query is longer than {max} characters; search for something shorter."
            ));
        }
        Ok(())
    }

    fn run(
        &self,
        input: WebSearchInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        let service = self.service.clone();
        Box::pin(async move {
            let count = input.count.unwrap_or(5) as usize;
            let (kind, hits) = service
                .search(&input.query, count, &ctx.cancel)
                .await
                .map_err(ToolError::RespondToModel)?;
            Ok(super::for_model(kind, &input.query, &hits))
        })
    }
}
