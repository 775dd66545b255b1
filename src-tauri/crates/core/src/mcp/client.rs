//! One connection to one server, with rmcp (the official SDK): a local program started in a
//! process group of its own (recorded with the orphan machinery of `tools::orphans`, so it never
//! outlives Parley), its stderr read into the server's bounded log; or a remote server over
//! streamable HTTP with its headers. The protocol era is negotiated per server: `server/discover`
//! first (the stateless 2026-07-28 revision), the initialize handshake when the server does not
//! know it. A local server gets a small environment — what programs need to run (PATH, HOME,
//! locale, temporary folders) and the variables configured for it — never all of Parley's,
//! which may hold keys of its own.

use super::asks::Asks;
use super::handler::Handler;
use super::ServerValues;
use crate::error::CoreError;
use crate::proclog::ProcLog as ServerLog;
use parley_protocol::{McpServer, McpToolHints, McpToolInfo, McpTransport, NamedValue};
use rmcp::model::ProtocolVersion;
use rmcp::service::RunningService;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// How long starting a server may take (a first `npx` run downloads its package).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long listing its tools may take.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// A live connection.
pub struct Connection {
    pub service: RunningService<RoleClient, Handler>,
    pub protocol_version: String,
    pub stateless: bool,
    pub server_info: Option<String>,
    pub instructions: Option<String>,
    /// Set when the server says its tools changed.
    pub tools_changed: Arc<AtomicBool>,
    /// Told when the server sent a message too long to be read (it was dropped).
    pub oversize: Arc<tokio::sync::Notify>,
    /// The running calls that listen for progress.
    pub progress: Arc<super::progress::Progress>,
    /// The local server's process group, as recorded for the orphan machinery.
    group: Option<(PathBuf, u32)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Dropped without `close` (rmcp ends the process): its group is no longer recorded.
        if let Some((log, pgid)) = self.group.take() {
            crate::tools::orphans::forget(&log, pgid);
        }
    }
}

impl Connection {
    /// Whether the server went away (its process exited, its address closed the session).
    pub fn is_closed(&self) -> bool {
        self.service.is_closed() || self.service.is_transport_closed()
    }

    /// Ends the connection: the session closed, a local server's group ended.
    pub async fn close(mut self) {
        let _ = self
            .service
            .close_with_timeout(Duration::from_secs(8))
            .await;
        if let Some((log, pgid)) = self.group.take() {
            crate::tools::orphans::forget(&log, pgid);
        }
    }
}

/// Where a connection records a local server's group, and where its lines go.
pub struct Context {
    pub process_log: PathBuf,
    /// Where the connection's HTTP requests are recorded (`ledger`).
    pub ledger: crate::ledger::Ledger,
    pub log: Arc<ServerLog>,
    pub roots: Vec<String>,
    pub asks: Arc<Asks>,
    pub sampler: Arc<super::sampling::Sampler>,
}

/// Connects to `server` with its `values`, negotiating the era; an error says what happened
/// with the last lines of the server's log. Its HTTP requests are recorded in the ledger as
/// the server's.
pub async fn connect(
    server: &McpServer,
    values: &ServerValues,
    ctx: Context,
) -> Result<Connection, CoreError> {
    let ledger = ctx.ledger.clone();
    let cause = format!("MCP server {}", server.name);
    let purpose = parley_protocol::OutboundPurpose::Mcp;
    crate::ledger::within(&ledger, purpose, cause, connect_in(server, values, ctx)).await
}

async fn connect_in(
    server: &McpServer,
    values: &ServerValues,
    ctx: Context,
) -> Result<Connection, CoreError> {
    let tools_changed = Arc::new(AtomicBool::new(false));
    let oversize = Arc::new(tokio::sync::Notify::new());
    let progress = Arc::new(super::progress::Progress::default());
    let handler = Handler {
        roots: Arc::new(ctx.roots.clone()),
        log: ctx.log.clone(),
        tools_changed: tools_changed.clone(),
        server: server.name.clone(),
        asks: ctx.asks.clone(),
        progress: progress.clone(),
        sampler: ctx.sampler.clone(),
        asking: Arc::default(),
    };
    let mut group = None;
    let mut stderr_reader = None;
    let started = match &server.transport {
        McpTransport::Stdio { command, args } => {
            let (transport, pid, reader) =
                super::stdio::spawn(command, args, &values.env, &ctx.log, oversize.clone())?;
            stderr_reader = reader;
            if let Some(pid) = pid {
                crate::tools::orphans::watch(pid);
                crate::tools::orphans::record(&ctx.process_log, pid);
                group = Some((ctx.process_log.clone(), pid));
            }
            serve(handler, transport, &progress).await
        }
        McpTransport::Http { url } => {
            let remote = Remote {
                url,
                values,
                oversize: &oversize,
                log: &ctx.log,
            };
            serve_http(handler, remote, &progress).await?
        }
    };
    let service = match started {
        Ok(service) => service,
        Err(why) => {
            if let Some((log, pgid)) = &group {
                crate::tools::orphans::forget(log, *pgid);
            }
            // A process that exited: its last words on stderr are read before they are quoted.
            if let Some(reader) = stderr_reader {
                let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
            }
            return Err(failure(&server.name, &why, &ctx.log));
        }
    };
    let mut conn = connected(service, tools_changed, group).await;
    conn.oversize = oversize;
    conn.progress = progress;
    ctx.log
        .note(&format!("connected, protocol {}", conn.protocol_version));
    Ok(conn)
}

/// A remote server's address and what reaching it takes.
struct Remote<'a> {
    url: &'a str,
    values: &'a ServerValues,
    oversize: &'a Arc<tokio::sync::Notify>,
    log: &'a ServerLog,
}

/// Starts a session with a remote server: streamable HTTP (with the access token when signed
/// in); when that fails at once (not a timeout, not a sign-in) and a GET at the address opens
/// a legacy event stream, over the legacy HTTP+SSE transport. The outer error: the address
/// or a header cannot be used at all.
async fn serve_http(
    handler: Handler,
    r: Remote<'_>,
    progress: &Arc<super::progress::Progress>,
) -> Result<Result<RunningService<RoleClient, Handler>, String>, CoreError> {
    use rmcp::transport::StreamableHttpClientTransport as Http;
    let config = http_config(r.url, &r.values.headers)?;
    let client = match http_client() {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let Some(creds) = &r.values.oauth else {
        let plain = Http::with_client(super::recorded::Recorded::new(client), config);
        let started = serve(handler.clone(), plain, progress).await;
        let Err(why) = started else {
            return Ok(started);
        };
        if why.starts_with("it did not answer") || why.contains("Auth required") {
            return Ok(Err(why));
        }
        let headers = header_map(&r.values.headers)?;
        return Ok(
            match super::sse::LegacySse::connect(r.url, headers, r.oversize.clone()).await {
                Ok(legacy) => {
                    r.log
                        .note("the server has the legacy HTTP+SSE transport only: using it");
                    serve(handler, legacy, progress).await
                }
                Err(no) => Err(format!("{why} (nor is it a legacy HTTP+SSE server: {no})")),
            },
        );
    };
    // Signed in: the access token sent, refreshed when it expires.
    Ok(match super::oauth::client(r.url, creds.clone()).await {
        Ok(client) => {
            let client = super::recorded::Recorded::new(client);
            serve(handler, Http::with_client(client, config), progress).await
        }
        Err(why) => Err(why),
    })
}

/// Starts the session over `transport` (its calls tapped for their progress tokens), the era
/// negotiated: `server/discover` first, the initialize handshake for a server that does not
/// know it. An error says why, its secrets redacted.
async fn serve<T, E>(
    handler: Handler,
    transport: T,
    progress: &Arc<super::progress::Progress>,
) -> Result<RunningService<RoleClient, Handler>, String>
where
    T: rmcp::transport::Transport<RoleClient, Error = E> + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let mode = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    };
    let transport = super::progress::Tapped {
        inner: transport,
        progress: progress.clone(),
    };
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        handler.serve_with_lifecycle(transport, mode),
    )
    .await
    {
        Err(_) => Err(format!(
            "it did not answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(crate::secrets::redact_known(&e.to_string()).into_owned()),
        Ok(Ok(service)) => Ok(service),
    }
}

/// A connection just made: what the server said about itself, and rmcp's list cache off
/// (every listing asks the server: no cached list stands in for one that failed or changed).
async fn connected(
    service: RunningService<RoleClient, Handler>,
    tools_changed: Arc<AtomicBool>,
    group: Option<(PathBuf, u32)>,
) -> Connection {
    let (protocol_version, stateless, server_info, instructions) = match service.peer_info() {
        Some(info) => (
            info.protocol_version.to_string(),
            !info.protocol_version.has_initialize(),
            info.server_info
                .as_ref()
                .map(|i| format!("{} {}", i.name, i.version)),
            info.instructions.clone(),
        ),
        None => (String::new(), false, None, None),
    };
    service
        .set_response_cache_config(rmcp::ClientCacheConfig::disabled())
        .await;
    Connection {
        service,
        protocol_version,
        stateless,
        server_info,
        instructions,
        tools_changed,
        oversize: Arc::default(),
        progress: Arc::default(),
        group,
    }
}

/// The error for a server that could not be reached or started, with its last log lines.
fn failure(name: &str, why: &str, log: &ServerLog) -> CoreError {
    let tail = log.tail(8);
    let lines = if tail.is_empty() {
        String::new()
    } else {
        format!(" Its last lines:\n{}", tail.join("\n"))
    };
    // A server that wants a sign-in says so with 401 (rmcp: "Auth required").
    let sign_in = if why.contains("Auth required")
        || why.contains("authorization required")
        || why.contains("sign in again")
    {
        format!(" Sign in to it: Settings → MCP servers → Sign in, or `parley mcp login {name}`.")
    } else {
        String::new()
    };
    CoreError::InvalidInput(format!(
        "MCP server \"{name}\" could not be used: {why}.{sign_in}{lines}"
    ))
}

/// The streamable HTTP transport's settings for `url`, with the server's headers (marked
/// sensitive: never in a debug print).
fn http_config(
    url: &str,
    headers: &[NamedValue],
) -> Result<rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig, CoreError>
{
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    crate::net::install_tls_provider();
    let map = header_map(headers)?
        .into_iter()
        .filter_map(|(n, v)| Some((n?, v)))
        .collect();
    Ok(StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(map))
}

/// The HTTP client of remote servers (rmcp's reqwest): redirects are not followed, so a
/// server cannot send Parley's messages and headers to another address (reqwest keeps custom
/// headers across hosts); a connection is made within 10 s.
pub(super) fn http_client() -> Result<reqwest_mcp::Client, String> {
    crate::net::install_tls_provider();
    reqwest_mcp::Client::builder()
        .redirect(reqwest_mcp::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("its HTTP client could not be made: {e}"))
}

/// The server's headers for rmcp's HTTP client, marked sensitive (never in a debug print).
fn header_map(headers: &[NamedValue]) -> Result<reqwest_mcp::header::HeaderMap, CoreError> {
    use reqwest_mcp::header::{HeaderName, HeaderValue};
    let mut map = reqwest_mcp::header::HeaderMap::new();
    for v in headers {
        let name = HeaderName::from_bytes(v.name.as_bytes());
        let value = HeaderValue::from_str(&v.value);
        match (name, value) {
            (Ok(n), Ok(mut val)) => {
                val.set_sensitive(true);
                map.insert(n, val);
            }
            _ => {
                return Err(CoreError::InvalidInput(format!(
                    "The header {} cannot be sent.",
                    v.name
                )))
            }
        }
    }
    Ok(map)
}

/// The most pages of tools read from one server (a server that always names a next page must
/// not make Parley read forever).
const PAGES_MAX: usize = 50;
/// The most tools kept from one server (the model gets every offered tool at every turn).
pub const TOOLS_MAX: usize = 256;

/// Every tool the server lists (following its pages, within PAGES_MAX and TOOLS_MAX), as Parley
/// shows them; a name listed twice is kept once (the first), the rest noted in the log.
pub async fn list_tools(conn: &Connection, log: &ServerLog) -> Result<Vec<McpToolInfo>, CoreError> {
    let listing = async {
        let mut out: Vec<McpToolInfo> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..PAGES_MAX {
            let params = rmcp::model::PaginatedRequestParams::default().with_cursor(cursor.take());
            let page = conn.service.list_tools(Some(params)).await.map_err(|e| {
                CoreError::InvalidInput(format!("The server could not list its tools: {e}."))
            })?;
            for t in &page.tools {
                if out.iter().any(|o| o.name == t.name) {
                    log.note(&format!(
                        "the tool {:?} is listed twice: the first is kept",
                        t.name
                    ));
                } else if out.len() < TOOLS_MAX {
                    out.push(info_of(t));
                }
            }
            match page.next_cursor {
                Some(next) if out.len() < TOOLS_MAX => cursor = Some(next),
                _ => return Ok::<_, CoreError>(out),
            }
        }
        log.note(&format!(
            "the tool list goes on past {PAGES_MAX} pages: the rest is not read"
        ));
        Ok(out)
    };
    let out: Vec<McpToolInfo> =
        tokio::time::timeout(LIST_TIMEOUT, listing)
            .await
            .map_err(|_| {
                CoreError::InvalidInput(format!(
                    "The server did not list its tools within {} s.",
                    LIST_TIMEOUT.as_secs()
                ))
            })??;
    if out.len() >= TOOLS_MAX {
        log.note(&format!(
            "the server lists more than {TOOLS_MAX} tools: the first {TOOLS_MAX} are kept"
        ));
    }
    Ok(out)
}

fn info_of(t: &rmcp::model::Tool) -> McpToolInfo {
    let hints = t
        .annotations
        .as_ref()
        .map_or_else(McpToolHints::default, |a| McpToolHints {
            read_only: a.read_only_hint,
            destructive: a.destructive_hint,
            idempotent: a.idempotent_hint,
            open_world: a.open_world_hint,
        });
    McpToolInfo {
        name: t.name.to_string(),
        title: t.title.clone(),
        description: t.description.as_deref().unwrap_or_default().to_owned(),
        input_schema: serde_json::to_string(t.input_schema.as_ref()).unwrap_or_default(),
        output_schema: t
            .output_schema
            .as_ref()
            .map(|s| serde_json::to_string(s.as_ref()).unwrap_or_default()),
        hints,
    }
}
