//! What every outbound request shares: the timeouts and retries of HTTP (the one client is
//! built from them by `providers::http::client`, the one place requests leave from).

use crate::error::ProviderError;
use std::time::Duration;

/// Settings shared by every HTTP provider.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// How long to wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// How long to wait for the response headers.
    pub response_timeout: Duration,
    /// The longest gap between stream events (keep-alive comments do not count as events).
    pub idle_timeout: Duration,
    /// Total tries for a request that fails before its first byte (1 = no retry).
    pub max_attempts: u32,
    /// The longest wait between tries, whatever Retry-After says.
    pub max_retry_delay: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
            max_attempts: 3,
            max_retry_delay: Duration::from_secs(60),
        }
    }
}

/// The TLS provider of the process (ring), installed once: MCP's HTTP client (rmcp's, on a
/// newer reqwest built without a provider of its own) takes the process's default, and so
/// does the providers' client.
pub(crate) fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How a client is built (`providers::http::client` and the like).
pub(crate) type BuildClient = fn(&HttpSettings) -> Result<reqwest::Client, ProviderError>;

/// An HTTP client built on first use. Building one reads every certificate the system trusts
/// (the bundle and each file of the certificates folder: 30–140 ms here), which a run that
/// makes no such request — most CLI commands, a chat with the built-in engine — should not
/// pay, nor pay once for each client.
pub(crate) struct LazyClient {
    settings: HttpSettings,
    build: BuildClient,
    cell: std::sync::OnceLock<reqwest::Client>,
}

impl LazyClient {
    pub fn new(settings: HttpSettings, build: BuildClient) -> LazyClient {
        LazyClient {
            settings,
            build,
            cell: std::sync::OnceLock::new(),
        }
    }

    /// The client, built now if it was not yet (a build that fails says why, each time).
    pub fn get(&self) -> Result<reqwest::Client, ProviderError> {
        if let Some(c) = self.cell.get() {
            return Ok(c.clone());
        }
        let built = (self.build)(&self.settings)?;
        Ok(self.cell.get_or_init(|| built).clone())
    }
}

/// Whether `url` may be fetched or opened without a key crossing a network in the clear: https
/// to anywhere, or http to this computer (`localhost`, a loopback address).
pub(crate) fn https_or_loopback(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Whether `url` names this computer (`localhost`, a loopback address).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `scheme://host:port` (the port written out, default or not): what a saved key is bound
/// to. A key goes only where it was saved for; changing any of the three leaves it behind.
pub(crate) fn key_host(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}
