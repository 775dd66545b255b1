//! A server's environment values and headers in the OS keychain: one entry per server
//! (`mcp:<id>`) holding them with the binding they were saved for (`config::binding`). They
//! are handed to the server's transport only while its program (or scheme, host and port)
//! is the one they were saved for; each value is remembered for redaction as it is read or
//! saved. Never in SQLite, logs, exports or backups.

use super::config::binding;
use crate::error::CoreError;
use crate::secrets::{Secret, SecretStore};
use parley_protocol::{McpTransport, NamedValue};
use serde::{Deserialize, Serialize};

/// The keychain account of a server's values.
pub fn account(server_id: &str) -> String {
    format!("mcp:{server_id}")
}

/// What a server's entry holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Values {
    bound: String,
    pub env: Vec<NamedValue>,
    pub headers: Vec<NamedValue>,
}

/// Saves `env` and `headers` for server `id` reached by `transport` (or deletes the entry
/// when there are none).
pub fn save(
    store: &dyn SecretStore,
    id: &str,
    transport: &McpTransport,
    env: &[NamedValue],
    headers: &[NamedValue],
) -> Result<(), CoreError> {
    if env.is_empty() && headers.is_empty() {
        return Ok(store.delete(&account(id))?);
    }
    let values = Values {
        bound: binding(transport),
        env: env.to_vec(),
        headers: headers.to_vec(),
    };
    for v in env.iter().chain(headers) {
        crate::secrets::remember(&v.value);
    }
    let body = serde_json::to_string(&values).map_err(|e| CoreError::Internal(e.to_string()))?;
    Ok(store.set(&account(id), &Secret::new(body))?)
}

/// The values of server `id` for `transport`: none when nothing is saved; an error that says
/// so when they were saved for another program or address (they are not sent).
pub fn load(
    store: &dyn SecretStore,
    id: &str,
    transport: &McpTransport,
) -> Result<Values, CoreError> {
    let Some(secret) = store.get(&account(id))? else {
        return Ok(Values::default());
    };
    let values: Values = serde_json::from_str(secret.expose()).map_err(|_| {
        CoreError::InvalidInput(
            "This server's saved values in the keychain are damaged; enter them again.".into(),
        )
    })?;
    if values.bound != binding(transport) {
        return Err(CoreError::InvalidInput(format!(
            "This server's environment values and headers were saved for {}, not {}: they are not sent. Enter them again for the new {}.",
            values.bound,
            binding(transport),
            match transport {
                McpTransport::Stdio { .. } => "program",
                McpTransport::Http { .. } => "address",
            }
        )));
    }
    for v in values.env.iter().chain(&values.headers) {
        crate::secrets::remember(&v.value);
    }
    Ok(values)
}

/// Forgets server `id`'s values.
pub fn delete(store: &dyn SecretStore, id: &str) -> Result<(), CoreError> {
    Ok(store.delete(&account(id))?)
}
