//! One connection to one server, with rmcp (the official SDK): a local program started in a
//! process group of its own (recorded with the orphan machinery of `tools::orphans`, so it never
//! outlives Parley), its stderr read into the server's bounded log; or a remote server over
//! streamable HTTP with its headers. The protocol era is negotiated per server: `server/discover`
//! first (the stateless 2026-07-28 revision), the initialize handshake when the server does not
//! know it. A local server gets a small environment — what programs need to run (PATH, HOME,
//! locale, temporary folders) and the variables configured for it — never all of Parley's,
//! which may hold keys of its own.

// Roots and logging are deprecated by the 2026 revision (SEP-2577) and still spoken by every
// server of the handshake era: Parley answers both.
#![allow(deprecated)]

use super::asks::{self, Answer, AskKind, Asks};
use super::log::ServerLog;
use super::ServerValues;
use crate::error::CoreError;
use parley_protocol::{McpServer, McpToolHints, McpToolInfo, McpTransport, NamedValue};
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationCapability, FormElicitationCapability, Implementation, ListRootsResult,
    LoggingMessageNotificationParam, ProtocolVersion, Root, RootsCapabilities,
    UrlElicitationCapability,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData as McpError, RoleClient,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long starting a server may take (a first `npx` run downloads its package).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long listing its tools may take.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// The variables of Parley's environment a local server inherits (besides its own).
const INHERITED: [&str; 22] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "XDG_RUNTIME_DIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "SYSTEMROOT",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "PATHEXT",
    "COMSPEC",
];

/// What a server may ask Parley, and what it tells it.
#[derive(Clone)]
pub struct Handler {
    /// The workspace folders a server may see (`roots/list`), as file:// URIs.
    roots: Arc<Vec<String>>,
    log: Arc<ServerLog>,
    /// Set when the server says its tools changed (they are listed again at the next use).
    pub tools_changed: Arc<AtomicBool>,
    /// The server's name, shown with what it asks.
    server: String,
    /// Where what it asks the person waits for an answer.
    asks: Arc<Asks>,
}

impl Handler {
    /// What the server asks, as Parley can show it; `None` (declined) when it cannot.
    fn ask_of(&self, request: ElicitRequestParams) -> Option<(String, AskKind)> {
        match request {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => {
                let schema = serde_json::to_value(&requested_schema).ok()?;
                match super::form::fields(&schema) {
                    Ok(fields) => Some((message, AskKind::Form { fields })),
                    Err(why) => {
                        self.log
                            .note(&format!("a form it asked for was declined: {why}"));
                        None
                    }
                }
            }
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                if asks::openable(&url) {
                    Some((message, AskKind::Url { url }))
                } else {
                    self.log.note(&format!(
                        "an address it asked to open was declined (not http or https): {}",
                        parley_protocol::visible::mark_hidden(&url)
                    ));
                    None
                }
            }
            _ => None,
        }
    }
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut roots = RootsCapabilities::default();
        roots.list_changed = Some(true);
        let mut caps = ClientCapabilities::default();
        caps.roots = Some(roots);
        caps.elicitation = Some(
            ElicitationCapability::new()
                .with_form(FormElicitationCapability::default())
                .with_url(UrlElicitationCapability::default()),
        );
        ClientConfig::new(
            caps,
            Implementation::new("parley", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn list_roots(
        &self,
        _c: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, McpError> {
        Ok(ListRootsResult::new(
            self.roots.iter().map(|u| Root::new(u.clone())).collect(),
        ))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _c: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        let Some((message, kind)) = self.ask_of(request) else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let is_url = matches!(kind, AskKind::Url { .. });
        let shown = match &kind {
            AskKind::Form { .. } => "a form",
            AskKind::Url { .. } => "an address to open",
        };
        self.log.note(&format!("it asks the person: {shown}"));
        let answer = self.asks.ask(&self.server, &message, kind).await;
        self.log.note(&format!(
            "the person's answer: {}",
            match &answer {
                Answer::Accept(_) => "accepted",
                Answer::Decline => "declined (or nobody could answer)",
                Answer::Cancel => "cancelled",
            }
        ));
        Ok(match answer {
            // An address opened carries no content.
            Answer::Accept(_) if is_url => ElicitResult::new(ElicitationAction::Accept),
            Answer::Accept(content) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(serde_json::Value::Object(content)),
            Answer::Decline => ElicitResult::new(ElicitationAction::Decline),
            Answer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    async fn on_tool_list_changed(&self, _c: NotificationContext<RoleClient>) {
        self.log.note("the server says its tools changed");
        self.tools_changed.store(true, Ordering::SeqCst);
    }

    async fn on_logging_message(
        &self,
        p: LoggingMessageNotificationParam,
        _c: NotificationContext<RoleClient>,
    ) {
        self.log.push(&format!("[{:?}] {}", p.level, p.data));
    }
}

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
    pub log: Arc<ServerLog>,
    pub roots: Vec<String>,
    pub asks: Arc<Asks>,
}

/// Connects to `server` with its `values`, negotiating the era; an error says what happened
/// with the last lines of the server's log.
pub async fn connect(
    server: &McpServer,
    values: &ServerValues,
    ctx: Context,
) -> Result<Connection, CoreError> {
    let tools_changed = Arc::new(AtomicBool::new(false));
    let oversize = Arc::new(tokio::sync::Notify::new());
    let handler = Handler {
        roots: Arc::new(ctx.roots),
        log: ctx.log.clone(),
        tools_changed: tools_changed.clone(),
        server: server.name.clone(),
        asks: ctx.asks,
    };
    let mode = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    };
    let mut group = None;
    let mut stderr_reader = None;
    let started = match &server.transport {
        McpTransport::Stdio { command, args } => {
            let (transport, pid, reader) =
                spawn(command, args, &values.env, &ctx.log, oversize.clone())?;
            stderr_reader = reader;
            if let Some(pid) = pid {
                crate::tools::orphans::watch(pid);
                crate::tools::orphans::record(&ctx.process_log, pid);
                group = Some((ctx.process_log.clone(), pid));
            }
            tokio::time::timeout(
                CONNECT_TIMEOUT,
                handler.serve_with_lifecycle(transport, mode),
            )
            .await
        }
        McpTransport::Http { url } => {
            let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
                http_config(url, &values.headers)?,
            );
            tokio::time::timeout(
                CONNECT_TIMEOUT,
                handler.serve_with_lifecycle(transport, mode),
            )
            .await
        }
    };
    let service = match started {
        Ok(Ok(service)) => service,
        failed => {
            if let Some((log, pgid)) = &group {
                crate::tools::orphans::forget(log, *pgid);
            }
            // A process that exited: its last words on stderr are read before they are quoted.
            if let Some(reader) = stderr_reader {
                let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
            }
            let why = match failed {
                Err(_) => format!("it did not answer within {} s", CONNECT_TIMEOUT.as_secs()),
                Ok(Err(e)) => crate::secrets::redact_known(&e.to_string()).into_owned(),
                Ok(Ok(_)) => unreachable!(),
            };
            return Err(failure(&server.name, &why, &ctx.log));
        }
    };
    let mut conn = connected(service, tools_changed, group).await;
    conn.oversize = oversize;
    ctx.log
        .note(&format!("connected, protocol {}", conn.protocol_version));
    Ok(conn)
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
    CoreError::InvalidInput(format!(
        "MCP server \"{name}\" could not be used: {why}.{lines}"
    ))
}

/// A started local server: its transport, its process (group) id, and the task reading its
/// stderr.
type Spawned = (
    super::stdio::LocalServer,
    Option<u32>,
    Option<tokio::task::JoinHandle<()>>,
);

/// Starts a local server in a process group of its own, its stderr read into `log`; `oversize`
/// hears of every message it sends that is too long to be read.
fn spawn(
    command: &str,
    args: &[String],
    env: &[NamedValue],
    log: &Arc<ServerLog>,
    oversize: Arc<tokio::sync::Notify>,
) -> Result<Spawned, CoreError> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args)
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for name in INHERITED {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    cmd.envs(env.iter().map(|v| (&v.name, &v.value)));
    let mut cmd = process_wrap::tokio::CommandWrap::from(cmd);
    #[cfg(unix)]
    cmd.wrap(process_wrap::tokio::ProcessGroup::leader());
    let could_not = |e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (not found: is it installed, and on PATH?)"
        } else {
            ""
        };
        CoreError::InvalidInput(format!("Could not start {command:?}{hint}: {e}."))
    };
    let mut child = cmd.spawn().map_err(could_not)?;
    let pid = child.id();
    let stderr = child.inner_mut().stderr().take();
    let transport = super::stdio::LocalServer::new(child, oversize).map_err(could_not)?;
    log.note(&format!(
        "started {command} (process {})",
        pid.map_or("?".into(), |p| p.to_string())
    ));
    let reader = stderr.map(|stderr| tokio::spawn(read_stderr(stderr, log.clone())));
    Ok((transport, pid, reader))
}

/// The most bytes of one stderr line held (the rest of a longer line is dropped unread into
/// memory: a server that writes without line breaks cannot fill it).
const STDERR_LINE_MAX: usize = 4096;

/// Reads a server's stderr into its log, line by line, each line at most STDERR_LINE_MAX bytes.
async fn read_stderr(stderr: tokio::process::ChildStderr, log: Arc<ServerLog>) {
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stderr);
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let (taken, ended) = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                let end = buf.iter().position(|&b| b == b'\n');
                let part = &buf[..end.unwrap_or(buf.len())];
                let room = STDERR_LINE_MAX.saturating_sub(line.len());
                line.extend_from_slice(&part[..part.len().min(room)]);
                cut |= part.len() > room;
                (end.map_or(buf.len(), |i| i + 1), end.is_some())
            }
        };
        reader.consume(taken);
        if ended {
            let mut text = String::from_utf8_lossy(&line).into_owned();
            if cut {
                text.push_str(" …[cut]");
            }
            log.push(&text);
            line.clear();
            cut = false;
        }
    }
    if !line.is_empty() {
        log.push(&String::from_utf8_lossy(&line));
    }
    log.note("the process closed its stderr");
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
    let mut map = std::collections::HashMap::new();
    for v in headers {
        let name = reqwest::header::HeaderName::from_bytes(v.name.as_bytes());
        let value = reqwest::header::HeaderValue::from_str(&v.value);
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
    Ok(StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(map))
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
