//! The user's settings: theme, idle timeout, approval timeout, tool-round limit, daily backups. The query is
//! in `store.rs`.

mod store;

use crate::error::{CoreError, StoreError};
use crate::shared::Shared;
use parley_protocol::Settings;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// Reads and saves the settings.
#[derive(Clone)]
pub struct SettingsService {
    shared: Arc<Shared>,
}

impl SettingsService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        SettingsService { shared }
    }

    /// The user's settings (defaults until saved once).
    pub async fn get_settings(&self) -> Result<Settings, CoreError> {
        Ok(self
            .shared
            .store
            .settings()
            .await?
            .unwrap_or_else(|| Settings {
                idle_timeout_secs: self.shared.http.idle_timeout.as_secs().clamp(10, 3600) as u32,
                ..Default::default()
            }))
    }

    /// Saves the user's settings.
    pub async fn save_settings(&self, settings: Settings) -> Result<(), CoreError> {
        if !(10..=3600).contains(&settings.idle_timeout_secs) {
            return Err(CoreError::InvalidInput(
                "The idle timeout must be between 10 and 3600 seconds.".into(),
            ));
        }
        if !(10..=86_400).contains(&settings.approval_timeout_secs) {
            return Err(CoreError::InvalidInput(
                "The approval timeout must be between 10 seconds and 24 hours.".into(),
            ));
        }
        if !(1..=200).contains(&settings.max_tool_rounds) {
            return Err(CoreError::InvalidInput(
                "The tool-round limit must be between 1 and 200.".into(),
            ));
        }
        if settings.daily_backups > 365 {
            return Err(CoreError::InvalidInput(
                "Keep at most 365 daily backups (0 turns them off).".into(),
            ));
        }
        if settings.title_provider.is_some() != settings.title_model.is_some() {
            return Err(CoreError::InvalidInput(
                "Choose both the provider and the model that write titles, or neither (the chat's own model).".into(),
            ));
        }
        let details = settings.log_details;
        self.shared.store.save_settings(settings).await?;
        crate::logs::set_details(details);
        Ok(())
    }

    /// The log writes message text only when the saved settings say so.
    pub(crate) async fn apply_to_log(&self) {
        if let Ok(Some(s)) = self.saved().await {
            crate::logs::set_details(s.log_details);
        }
    }

    /// The settings as the user saved them, `None` until saved once (the chats' turns and
    /// titles, the providers' idle timeout: unsaved, the core's own defaults hold).
    pub(crate) async fn saved(&self) -> Result<Option<Settings>, StoreError> {
        self.shared.store.settings().await
    }

    /// A value another topic keeps in the settings table under its own `key` (JSON; `None`
    /// when none was saved or it no longer reads): the usage topic's prices, the history
    /// topic's import namespace.
    pub(crate) async fn value<T: DeserializeOwned + Send + 'static>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.shared.store.setting(key).await
    }

    /// Saves `value` (as JSON) under `key` (see [`SettingsService::value`]).
    pub(crate) async fn save_value<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.shared.store.save_setting(key, value).await
    }
}
