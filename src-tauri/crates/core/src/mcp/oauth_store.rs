//! A remote server's OAuth tokens in the OS keychain: one entry per server (`mcp-oauth:<id>`)
//! holding rmcp's stored credentials (client id, access and refresh tokens, when they came)
//! with the address they were made for (`config::binding`: scheme, host and port). They are
//! handed to rmcp only while the server is reached at that address; each token is remembered
//! for redaction as it is read or saved. Never in SQLite, logs, exports or backups. A refresh
//! saves the new tokens here (rmcp calls `save`).

use super::config::binding;
use crate::error::CoreError;
use crate::secrets::{Secret, SecretStore};
use async_trait::async_trait;
use parley_protocol::McpTransport;
use rmcp::transport::auth::{AuthError, CredentialStore, StoredCredentials};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The keychain account of a server's tokens.
pub fn account(server_id: &str) -> String {
    format!("mcp-oauth:{server_id}")
}

/// What the entry holds.
#[derive(Serialize, Deserialize)]
struct Entry {
    bound: String,
    credentials: StoredCredentials,
}

/// The tokens of one server, as rmcp's credential store.
#[derive(Clone)]
pub struct KeychainCredentials {
    store: Arc<dyn SecretStore>,
    account: String,
    bound: String,
}

impl KeychainCredentials {
    /// The tokens of server `id` reached by `transport`.
    pub fn new(store: Arc<dyn SecretStore>, id: &str, transport: &McpTransport) -> Self {
        KeychainCredentials {
            store,
            account: account(id),
            bound: binding(transport),
        }
    }

    /// Whether tokens for this address are saved.
    pub fn present(&self) -> Result<bool, CoreError> {
        Ok(self
            .read()
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .is_some())
    }

    fn read(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let failed = |e: String| AuthError::CredentialStoreError(e);
        let Some(secret) = self
            .store
            .get(&self.account)
            .map_err(|e| failed(e.to_string()))?
        else {
            return Ok(None);
        };
        let Ok(entry) = serde_json::from_str::<Entry>(secret.expose()) else {
            tracing::warn!("the saved sign-in of an MCP server is damaged: sign in again");
            return Ok(None);
        };
        // Tokens made for another address are never sent.
        if entry.bound != self.bound {
            return Ok(None);
        }
        remember(&entry.credentials);
        Ok(Some(entry.credentials))
    }
}

/// Remembers the tokens for redaction.
fn remember(c: &StoredCredentials) {
    use oauth2::TokenResponse;
    if let Some(t) = &c.token_response {
        crate::secrets::remember(t.access_token().secret());
        if let Some(r) = t.refresh_token() {
            crate::secrets::remember(r.secret());
        }
    }
}

#[async_trait]
impl CredentialStore for KeychainCredentials {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.read()
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        remember(&credentials);
        if signed_out_list().contains(&self.account) {
            return Ok(());
        }
        let entry = Entry {
            bound: self.bound.clone(),
            credentials,
        };
        let body = serde_json::to_string(&entry)
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))?;
        self.store
            .set(&self.account, &Secret::new(body))
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.store
            .delete(&self.account)
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))
    }
}

/// Forgets server `id`'s tokens (signing out).
pub fn delete(store: &dyn SecretStore, id: &str) -> Result<(), CoreError> {
    Ok(store.delete(&account(id))?)
}

/// The servers signed out of in this process: a connection still finishing a call with the old
/// sign-in refreshes its token in memory at most, never saving it again.
static SIGNED_OUT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn signed_out_list() -> std::sync::MutexGuard<'static, Vec<String>> {
    SIGNED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Server `id` was signed out of: its tokens are saved no more.
pub fn signed_out(id: &str) {
    let account = account(id);
    let mut list = signed_out_list();
    if !list.contains(&account) {
        list.push(account);
    }
}

/// Server `id` is being signed in to again: its tokens are saved again.
pub fn signed_in_again(id: &str) {
    let account = account(id);
    signed_out_list().retain(|a| *a != account);
}
