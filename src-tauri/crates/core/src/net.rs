//! What every outbound request shares: the timeouts and retries of HTTP (the one client is
//! built from them by `providers::http::client`, the one place requests leave from).

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
