//! API keys live only in the OS keychain (macOS Keychain, Windows Credential Manager, Secret
//! Service on Linux). When the keychain is unavailable Parley fails closed with a clear message;
//! there is no plaintext fallback. [`MemoryStore`] exists for tests.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// The keychain service name all Parley entries share.
pub const SERVICE: &str = "dev.parley.app";

/// A keychain failure, phrased for the user. Never contains the secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// No keychain could be reached or it refused access.
    #[error("The system keychain is not available ({0}). Parley keeps its secrets (API keys, MCP servers' values and sign-ins) only there, so nothing was saved. Unlock or start your keychain (on Linux: a Secret Service such as GNOME Keyring or KWallet) and try again.")]
    Unavailable(String),
    /// The keychain answered with an error.
    #[error("The system keychain reported an error: {0}")]
    Backend(String),
}

/// A secret value whose Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. Every secret Parley holds is remembered for [`redact_known`]: from then on
    /// it is cut out of tool results, provider errors and logs.
    pub fn new(value: impl Into<String>) -> Self {
        let s = value.into();
        remember(&s);
        Secret(s)
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The secrets this process has seen (the saved keys, loaded or typed), longest first.
static KNOWN: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Shorter values are not redacted as text (they would cut ordinary words).
pub const MIN_REDACTED_LEN: usize = 8;

/// Remembers a secret (and its percent-encoded form, as it appears in a URL) for
/// [`redact_known`].
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_REDACTED_LEN {
        return;
    }
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut known = KNOWN
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in [secret.to_owned(), encoded] {
        if !known.contains(&form) {
            known.push(form);
        }
    }
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every remembered secret replaced by `[redacted]`.
pub fn redact_known(text: &str) -> std::borrow::Cow<'_, str> {
    let known = KNOWN
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known.iter().any(|k| text.contains(k.as_str())) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for k in known.iter() {
        if out.contains(k.as_str()) {
            out = out.replace(k.as_str(), "[redacted]");
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Where secrets are kept.
pub trait SecretStore: Send + Sync {
    /// Reads the secret for `account`, `None` if there is none.
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError>;
    /// Saves (or replaces) the secret for `account`.
    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError>;
    /// Deletes the secret for `account`; deleting a missing one is not an error.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
}

/// The keychain account name for a provider's API key.
pub fn provider_account(provider: &str) -> String {
    format!("provider:{provider}")
}

/// The OS keychain.
#[derive(Debug, Default)]
pub struct KeyringStore;

impl KeyringStore {
    fn entry(account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, account).map_err(map_keyring)
    }
}

fn map_keyring(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(inner.to_string()),
        keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(inner.to_string()),
        other => SecretError::Backend(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        match Self::entry(account)?.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError> {
        let entry = Self::entry(account)?;
        entry.set_password(&secret.0).map_err(map_keyring)?;
        // Read it back: a backend that accepts writes but does not persist must not pass silently.
        match entry.get_password() {
            Ok(p) if p == secret.0 => Ok(()),
            Ok(_) => Err(SecretError::Backend(
                "the key read back from the keychain differs from the one saved".into(),
            )),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        match Self::entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e)),
        }
    }
}

/// An in-memory store for tests. Never used by the app or the CLI.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, String>>,
    unavailable: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that behaves like a locked or missing keychain.
    pub fn unavailable() -> Self {
        MemoryStore {
            map: Mutex::new(HashMap::new()),
            unavailable: true,
        }
    }

    fn check(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, SecretError> {
        if self.unavailable {
            return Err(SecretError::Unavailable("test keychain is locked".into()));
        }
        self.map
            .lock()
            .map_err(|_| SecretError::Backend("poisoned".into()))
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.check()?.get(account).cloned().map(Secret::new))
    }
    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError> {
        self.check()?.insert(account.to_owned(), secret.0.clone());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.check()?.remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(format!("{:?}", Secret::new("sk-123")), "Secret(***)");
    }

    #[test]
    fn memory_store_round_trip_and_locked() {
        let s = MemoryStore::new();
        s.set("a", &Secret::new("x")).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().expose(), "x");
        s.delete("a").unwrap();
        assert!(s.get("a").unwrap().is_none());
        let locked = MemoryStore::unavailable();
        assert!(matches!(
            locked.set("a", &Secret::new("x")),
            Err(SecretError::Unavailable(_))
        ));
    }
}
