//! The usage ledger: the tokens each answer's provider reported (kept with its turn), added
//! up per chat, branch, model, provider and day, and priced by a local table (`prices.rs`).
//! Nothing is guessed: an answer without reported usage is counted as "not reported".

pub mod prices;
mod store;

#[cfg(test)]
pub(crate) use store::UsageTables;

use crate::error::CoreError;
use crate::settings::SettingsService;
use crate::shared::Shared;
use parley_protocol::{ChatId, ChatUsage, Price, UnixMs, UsageReport};
use std::sync::Arc;

/// Reads the ledger and the price table.
#[derive(Clone)]
pub struct UsageService {
    shared: Arc<Shared>,
    /// Where the user's own prices are kept.
    settings: SettingsService,
}

/// The settings key of the user's own prices.
const PRICES: &str = "prices";

impl UsageService {
    pub(crate) fn new(shared: Arc<Shared>, settings: SettingsService) -> Self {
        UsageService { shared, settings }
    }

    /// Totals since `since` (ms; everything when absent) per day, model, provider and chat.
    /// Answers that came with imported or restored chats are totalled apart (`imported`) and
    /// counted in the rest only when `include_imported`.
    pub async fn report(
        &self,
        since: Option<UnixMs>,
        include_imported: bool,
    ) -> Result<UsageReport, CoreError> {
        let table = self.prices().await?;
        Ok(self
            .shared
            .store
            .usage_report(since, include_imported, table)
            .await?)
    }

    /// One chat's totals: every answer, and those on its selected branch.
    pub async fn chat_usage(&self, id: &ChatId) -> Result<ChatUsage, CoreError> {
        let table = self.prices().await?;
        self.shared
            .store
            .chat_usage(id, table)
            .await?
            .ok_or_else(|| crate::error::no_chat(id))
    }

    /// What one answer of `model` with this usage cost (US dollars), `None` when the model
    /// has no price. `anthropic`: its provider reports cache reads beside the input.
    pub async fn answer_cost(
        &self,
        model: &str,
        usage: &parley_protocol::Usage,
        anthropic: bool,
    ) -> Result<Option<f64>, CoreError> {
        let table = self.prices().await?;
        Ok(prices::find(&table, model).map(|p| prices::cost(p, usage, !anthropic)))
    }

    /// The price table in use: the user's figures and the shipped estimates for other models.
    pub async fn prices(&self) -> Result<Vec<Price>, CoreError> {
        let user = self.settings.value::<Vec<Price>>(PRICES).await?;
        Ok(prices::merged(user.unwrap_or_default()))
    }

    /// Saves the user's figures (entries marked `"default"` that are unchanged are the shipped
    /// ones and are not saved). Returns the table in use.
    pub async fn save_prices(&self, table: Vec<Price>) -> Result<Vec<Price>, CoreError> {
        prices::validate(&table).map_err(CoreError::InvalidInput)?;
        let shipped = prices::defaults();
        let today = prices::day_of(crate::now_ms());
        let user: Vec<Price> = table
            .into_iter()
            .filter(|p| !shipped.contains(p))
            .map(|mut p| {
                if p.source != "user" {
                    p.source = "user".into();
                    p.as_of = today.clone();
                }
                p
            })
            .collect();
        self.settings.save_value(PRICES, &user).await?;
        self.prices().await
    }
}

#[cfg(test)]
mod tests;
