//! Signing in to a remote server with OAuth (the MCP authorization spec), through rmcp's
//! authorization manager: the server's protected-resource and authorization-server metadata
//! discovered, Parley registered as a client (dynamically, as a native app), the authorization
//! code flow with PKCE (S256) in the system browser, its redirect caught on a loopback address
//! (`http://127.0.0.1:<port>/callback`, a port of the moment, only for this sign-in), the state
//! checked, the code exchanged. The tokens go to the keychain (`oauth_store`), bound to the
//! server's address; each connection then sends the access token and refreshes it with the
//! refresh token when it expires (rmcp's `AuthClient`, saving the new tokens). Signing out
//! forgets them. Discovery follows rmcp's address rules: metadata may name a loopback or
//! private host only when the server's own address is one.

use super::oauth_store::KeychainCredentials;
use crate::error::CoreError;
use rmcp::transport::auth::AuthorizationSession;
use rmcp::transport::auth::{AuthClient, AuthorizationManager, AuthorizationRequest};
use std::time::Duration;
use tokio::net::TcpListener;
pub use tokio_util::sync::CancellationToken;

/// How long a sign-in waits for the browser to come back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// Opens an address in the system browser (the desktop's opener, or the CLI's).
pub type Opener = Box<dyn FnOnce(&str) -> Result<(), String> + Send>;

/// Opens `url` with the browser named by `$BROWSER` (the Unix convention; tests name a
/// stand-in), not waiting for it; its errors go to this process's stderr. `None` when
/// `$BROWSER` is not set (the caller uses the platform's opener).
pub fn open_with_env_browser(url: &str) -> Option<Result<(), String>> {
    let browser = std::env::var_os("BROWSER").filter(|b| !b.is_empty())?;
    Some(
        std::process::Command::new(browser)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("the browser named by $BROWSER could not be started: {e}")),
    )
}

fn failed(what: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidInput(format!(
        "Signing in failed {what}: {}",
        crate::secrets::redact_known(&e.to_string())
    ))
}

/// Whether the browser may be sent to `url`: https, or http to this computer (a server on
/// loopback). Anything else (`file:`, another program's scheme) is never handed to the
/// system's opener.
fn may_open(url: &str) -> Result<url::Url, CoreError> {
    let parsed =
        url::Url::parse(url).map_err(|e| failed("reading the sign-in page's address", e))?;
    match parsed.scheme() {
        _ if crate::net::https_or_loopback(&parsed) => Ok(parsed),
        other => Err(CoreError::InvalidInput(format!(
            "The server's sign-in page is at a {other}: address ({}), which Parley does not open: only https (or http on this computer).",
            parley_protocol::visible::mark_hidden(&url.chars().take(200).collect::<String>())
        ))),
    }
}

/// Signs in to the server at `url`, the tokens saved in `creds`: the browser opened with
/// `open` on the authorization page, the redirect awaited (within SIGN_IN_WAIT), the code
/// exchanged, and only then the browser told how it went. `cancel` ends it at any step.
/// Returns the address the browser was sent to.
pub async fn sign_in(
    url: &str,
    creds: KeychainCredentials,
    open: Opener,
    cancel: CancellationToken,
) -> Result<String, CoreError> {
    tokio::select! {
        r = flow(url, creds, open) => r,
        _ = cancel.cancelled() => Err(CoreError::InvalidInput("Signing in was cancelled.".into())),
    }
}

/// One step of a sign-in, recorded in the ledger as one request to the host it reaches (rmcp
/// makes them with its own client, whose address checks would be lost by replacing it; the
/// token refreshes a signed-in connection makes inside rmcp are not listed).
async fn step<T, E>(
    at: &str,
    method: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let purpose = Some(parley_protocol::OutboundPurpose::McpSignIn);
    let tally = url::Url::parse(at)
        .ok()
        .and_then(|u| crate::ledger::begin(method, &u, 0, purpose, None));
    let r = f.await;
    if let (Some(t), Err(_)) = (&tally, &r) {
        t.failed("failed");
    }
    r
}

/// [`sign_in`]'s steps.
async fn flow(url: &str, creds: KeychainCredentials, open: Opener) -> Result<String, CoreError> {
    crate::net::install_tls_provider();
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| failed("at the server's address", e))?;
    manager.set_credential_store(creds);
    let metadata = step(url, "GET", manager.resolve_metadata())
        .await
        .map_err(|e| failed("finding how the server signs in", e))?;
    let registration = metadata.metadata.registration_endpoint.clone();
    let token_endpoint = metadata.metadata.token_endpoint.clone();
    manager.set_metadata(metadata.metadata);
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| failed("opening a local address for the browser to come back to", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| failed("opening a local address", e))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let request = AuthorizationRequest::new(redirect).with_client_name("Parley");
    let registering = AuthorizationSession::new(manager, request);
    let session = step(registration.as_deref().unwrap_or(url), "POST", registering)
        .await
        .map_err(|(_, e)| failed("registering Parley with the server", e))?;
    let auth_url = may_open(session.get_authorization_url())?.to_string();
    let state = query_value(&auth_url, "state").unwrap_or_default();
    open(&auth_url).map_err(|e| failed("opening the browser", e))?;
    let (callback, browser) =
        tokio::time::timeout(SIGN_IN_WAIT, super::oauth_callback::wait(&listener, &state))
            .await
            .map_err(|_| {
                CoreError::InvalidInput(format!(
                    "Signing in was not finished within {} minutes; try again.",
                    SIGN_IN_WAIT.as_secs() / 60
                ))
            })??;
    let exchanged = step(
        &token_endpoint,
        "POST",
        session.handle_callback_url(&callback),
    )
    .await
    .map_err(|e| failed("exchanging the code for tokens", e));
    browser
        .tell(match &exchanged {
            Ok(_) => "Signed in. You can close this window and return to Parley.",
            Err(_) => "Signing in failed; Parley says why. You can close this window.",
        })
        .await;
    exchanged?;
    Ok(auth_url)
}

/// The HTTP client of a connection to a server signed in to: the access token sent, refreshed
/// when it expires. An error when the sign-in is gone (tokens missing, or made for another
/// address).
pub async fn client(
    url: &str,
    creds: KeychainCredentials,
) -> Result<AuthClient<reqwest_mcp::Client>, String> {
    crate::net::install_tls_provider();
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| e.to_string())?;
    manager.set_credential_store(creds);
    match manager.initialize_from_store().await {
        Ok(true) => Ok(AuthClient::new(super::client::http_client()?, manager)),
        Ok(false) => Err("its sign-in is gone; sign in again".into()),
        Err(e) => Err(format!(
            "its sign-in could not be used ({e}); sign in again"
        )),
    }
}

/// The value of `key` in the query of `url`.
pub(super) fn query_value(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl super::McpService {
    /// Signs in to the remote server `name` (see the module): its tokens saved in the
    /// keychain, its connections started anew with them. A server removed or moved to another
    /// address meanwhile is not signed in (the new tokens are forgotten). Returns the address
    /// the browser was sent to.
    pub async fn sign_in(
        &self,
        name: &str,
        open: Opener,
        cancel: CancellationToken,
    ) -> Result<String, CoreError> {
        let server = self.get(name).await?;
        let parley_protocol::McpTransport::Http { url } = &server.transport else {
            return Err(CoreError::InvalidInput(format!(
                "\"{}\" is a local server: only a server reached at an address signs in.",
                server.name
            )));
        };
        let secrets = self.shared.secrets.clone();
        let creds = KeychainCredentials::new(secrets.clone(), &server.id, &server.transport);
        super::oauth_store::signed_in_again(&server.id);
        let (purpose, cause) = (
            parley_protocol::OutboundPurpose::McpSignIn,
            format!("MCP server {}", server.name),
        );
        let signing = sign_in(url, creds, open, cancel);
        let signed = crate::ledger::within(&self.shared.ledger, purpose, cause, signing).await;
        // Now, as it is: it may have been removed or changed during the wait.
        let now = self.list().await?.into_iter().find(|s| s.id == server.id);
        let Some(mut now) = now.filter(|s| s.transport == server.transport && signed.is_ok())
        else {
            if !server.signed_in {
                let _ = super::oauth_store::delete(secrets.as_ref(), &server.id);
            }
            signed?;
            return Err(CoreError::InvalidInput(format!(
                "\"{}\" was removed or moved to another address while you signed in: the sign-in was not kept.",
                server.name
            )));
        };
        self.log_of(&now.id).note("signed in");
        now.signed_in = true;
        self.shared.store.put_mcp_server(now.clone()).await?;
        self.close_server(&now.id).await;
        signed
    }

    /// Signs out of server `name`: its tokens forgotten (first: when the keychain cannot
    /// forget them, the server stays signed in), its connections ended; a connection still
    /// finishing a call saves no refreshed token.
    pub async fn sign_out(&self, name: &str) -> Result<parley_protocol::McpServer, CoreError> {
        let mut server = self.get(name).await?;
        super::oauth_store::signed_out(&server.id);
        super::oauth_store::delete(self.shared.secrets.as_ref(), &server.id)?;
        self.log_of(&server.id).note("signed out");
        server.signed_in = false;
        self.shared.store.put_mcp_server(server.clone()).await?;
        self.close_server(&server.id).await;
        Ok(server)
    }
}

#[cfg(test)]
mod tests {
    use super::may_open;

    #[test]
    fn the_browser_is_sent_only_to_https_or_to_this_computer() {
        for ok in [
            "https://auth.example.com/authorize?state=s",
            "http://127.0.0.1:8080/authorize",
            "http://localhost/authorize",
            "http://[::1]:9/a",
        ] {
            assert!(may_open(ok).is_ok(), "{ok}");
        }
        for refused in [
            "file:///etc/passwd?response_type=code",
            "http://auth.example.com/authorize",
            "javascript:alert(1)",
            "ms-settings:privacy",
            "smb://host/share",
            "http://127.0.0.1.evil.example/a",
            "not an address",
        ] {
            assert!(may_open(refused).is_err(), "{refused}");
        }
    }
}
