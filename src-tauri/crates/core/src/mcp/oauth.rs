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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
pub use tokio_util::sync::CancellationToken;

/// How long a sign-in waits for the browser to come back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// The most bytes of a request read on the loopback address.
const REQUEST_MAX: usize = 16 * 1024;

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

/// Signs in to the server at `url`, the tokens saved in `creds`: the browser opened with
/// `open` on the authorization page, the redirect awaited (within SIGN_IN_WAIT, or until
/// `cancel`). Returns the address the browser was sent to.
pub async fn sign_in(
    url: &str,
    creds: KeychainCredentials,
    open: Opener,
    cancel: CancellationToken,
) -> Result<String, CoreError> {
    crate::net::install_tls_provider();
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| failed("at the server's address", e))?;
    manager.set_credential_store(creds);
    let metadata = manager
        .resolve_metadata()
        .await
        .map_err(|e| failed("finding how the server signs in", e))?;
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
    let session = AuthorizationSession::new(manager, request)
        .await
        .map_err(|(_, e)| failed("registering Parley with the server", e))?;
    let auth_url = session.get_authorization_url().to_owned();
    let state = query_value(&auth_url, "state").unwrap_or_default();
    open(&auth_url).map_err(|e| failed("opening the browser", e))?;
    let callback = tokio::select! {
        r = tokio::time::timeout(SIGN_IN_WAIT, callback(&listener, &state)) => r.map_err(|_| {
            CoreError::InvalidInput(format!(
                "Signing in was not finished within {} minutes; try again.",
                SIGN_IN_WAIT.as_secs() / 60
            ))
        })??,
        _ = cancel.cancelled() => return Err(CoreError::InvalidInput("Signing in was cancelled.".into())),
    };
    session
        .handle_callback_url(&callback)
        .await
        .map_err(|e| failed("exchanging the code for tokens", e))?;
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
        Ok(true) => Ok(AuthClient::new(reqwest_mcp::Client::new(), manager)),
        Ok(false) => Err("its sign-in is gone; sign in again".into()),
        Err(e) => Err(format!(
            "its sign-in could not be used ({e}); sign in again"
        )),
    }
}

/// The value of `key` in the query of `url`.
fn query_value(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Waits for the browser's redirect on `listener`: a GET of `/callback` carrying `state`.
/// Anything else is answered and ignored (another page poking the port ends nothing); a
/// redirect that says the user refused ends the sign-in with the server's words. Returns the
/// redirect's whole address.
async fn callback(listener: &TcpListener, state: &str) -> Result<String, CoreError> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let target = read_target(&mut stream).await;
        let full = format!("http://127.0.0.1{}", target.as_deref().unwrap_or("/"));
        let is_callback = target
            .as_deref()
            .is_some_and(|t| t.starts_with("/callback?"));
        let ours = query_value(&full, "state").is_some_and(|s| s == state);
        if !(is_callback && ours) {
            let _ = respond(&mut stream, "404 Not Found", "Nothing here.").await;
            continue;
        }
        if let Some(error) = query_value(&full, "error") {
            let _ = respond(
                &mut stream,
                "200 OK",
                "Signing in was refused. You can close this window and return to Parley.",
            )
            .await;
            let said = query_value(&full, "error_description").unwrap_or_default();
            let said: String = format!("{error} {said}")
                .chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect();
            return Err(CoreError::InvalidInput(format!(
                "The server refused the sign-in: {}",
                said.trim()
            )));
        }
        let _ = respond(
            &mut stream,
            "200 OK",
            "Signed in. You can close this window and return to Parley.",
        )
        .await;
        return Ok(full);
    }
}

/// The target of the request's first line (`GET <target> HTTP/1.1`), within REQUEST_MAX bytes
/// and 10 s.
async fn read_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < REQUEST_MAX {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next()?;
    let mut words = line.split(' ');
    match (words.next(), words.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
        _ => None,
    }
}

/// A small page (the words are Parley's own: nothing from the request is echoed).
async fn respond(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    words: &str,
) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Parley</title><p style=\"font:16px system-ui;margin:3em\">{words}</p>"
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

impl super::McpService {
    /// Signs in to the remote server `name` (see the module): its tokens saved in the
    /// keychain, its connections started anew with them. Returns the address the browser
    /// was sent to.
    pub async fn sign_in(
        &self,
        name: &str,
        open: Opener,
        cancel: CancellationToken,
    ) -> Result<String, CoreError> {
        let mut server = self.get(name).await?;
        let parley_protocol::McpTransport::Http { url } = &server.transport else {
            return Err(CoreError::InvalidInput(format!(
                "\"{}\" is a local server: only a server reached at an address signs in.",
                server.name
            )));
        };
        let creds =
            KeychainCredentials::new(self.shared.secrets.clone(), &server.id, &server.transport);
        let sent_to = sign_in(url, creds, open, cancel).await?;
        self.log_of(&server.id).note("signed in");
        server.signed_in = true;
        self.shared.store.put_mcp_server(server.clone()).await?;
        self.close_server(&server.id).await;
        Ok(sent_to)
    }

    /// Signs out of server `name`: its tokens forgotten (first: when the keychain cannot
    /// forget them, the server stays signed in), its connections ended.
    pub async fn sign_out(&self, name: &str) -> Result<parley_protocol::McpServer, CoreError> {
        let mut server = self.get(name).await?;
        super::oauth_store::delete(self.shared.secrets.as_ref(), &server.id)?;
        self.log_of(&server.id).note("signed out");
        server.signed_in = false;
        self.shared.store.put_mcp_server(server.clone()).await?;
        self.close_server(&server.id).await;
        Ok(server)
    }
}
