//! Who answers a message (the provider and model asked for, else the chat's, else the first
//! configured), and whether a message could be sent as it is.

use super::ChatService;
use crate::error::CoreError;
use parley_protocol::{ChatId, ChatSummary, SendOptions};

impl ChatService {
    /// Which provider and model answer: the ones asked for; else the chat's last provider if it
    /// still exists (with its last model), else the first configured one; the provider's
    /// default model when none is named. Decided here once, for the window and the CLI.
    pub(super) async fn who_answers(
        &self,
        session: &ChatSummary,
        options: &SendOptions,
    ) -> Result<(crate::providers::ProviderRow, String), CoreError> {
        let provider_name = match options.provider.clone() {
            Some(p) => p,
            None => {
                let all = self.providers.names().await?;
                let last = session.provider.clone().filter(|p| all.contains(p));
                last.or_else(|| all.first().cloned())
                    .ok_or_else(|| {
                        CoreError::InvalidInput(
                            "No provider is configured. Add one first (parley providers add, or Settings)."
                                .into(),
                        )
                    })?
            }
        };
        let row = self.providers.answering_row(&provider_name).await?;
        let same_provider = session.provider.as_deref() == Some(row.name.as_str());
        let model = options
            .model
            .clone()
            .or_else(|| session.model.clone().filter(|_| same_provider))
            .or_else(|| row.default_model.clone())
            .ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "Pick a model: provider \"{}\" has no default model.",
                    row.name
                ))
            })?;
        Ok((row, model))
    }

    /// Whether a message could be sent now as it would be (`send_message`'s checks that need
    /// no turn slot): the text, the chat, who answers. "Send now" asks before it ends a turn.
    pub async fn check_send(
        &self,
        chat_id: &ChatId,
        text: &str,
        options: &SendOptions,
    ) -> Result<(), CoreError> {
        super::turns::validate_message(text, !options.attachments.is_empty())?;
        let session = self.get_chat(chat_id).await?;
        self.who_answers(&session, options).await.map(|_| ())
    }
}
