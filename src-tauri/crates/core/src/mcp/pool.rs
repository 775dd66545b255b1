//! Servers in use by chats: one live connection per server and workspace (a server's roots are
//! the chat's workspace), started on first use and shared by the turns of every chat in that
//! workspace; its tools listed again at every turn (a definition that changed is caught before
//! the model is offered it, whether or not the server says so), the gauge reading the last list. A connection that
//! died is dropped and started again on the next use — after a pause that doubles with each
//! failure in a row (1 s up to a minute), so a server that crashes at once is not restarted in
//! a loop; the pause and the reason are what the chat is told meanwhile. Every connection ends
//! when Parley does (`close_all`), and a local server's process group with it.

use super::client::{self, Connection, Context};
use super::McpService;
use crate::error::CoreError;
use crate::tools::tool::ToolError;
use parley_protocol::{McpServer, McpToolState};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one call may take before it is given up (and cancelled at the server).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(600);
/// The most text of one result the model gets.
pub const RESULT_MAX: usize = 256 * 1024;

/// A live connection and what it listed.
struct Live {
    conn: Arc<Connection>,
    tools: Vec<McpToolState>,
}

/// Failures in a row of one server and workspace, and when it may be tried again.
struct Backoff {
    failures: u32,
    until: Instant,
    why: String,
}

/// Stops listening for a call's progress when the call ends (or is dropped).
struct Forget<'a>(&'a super::progress::Progress, &'a str);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.forget(self.1);
    }
}

/// The live connections, by server id and workspace.
#[derive(Default)]
pub struct Pool {
    live: tokio::sync::Mutex<HashMap<String, Live>>,
    backoff: std::sync::Mutex<HashMap<String, Backoff>>,
}

fn key(server: &McpServer, root: &str) -> String {
    format!("{}\n{root}", server.id)
}

impl McpService {
    /// The tools of `server` for a chat in workspace `root` (a file:// URI), each against its
    /// pin. With `connect` (a turn): connected first when it is not live, and listed anew;
    /// without (the gauge): the last list, none when it is not live.
    pub(crate) async fn live_tools(
        &self,
        server: &McpServer,
        root: &str,
        connect: bool,
    ) -> Result<Vec<McpToolState>, CoreError> {
        let k = key(server, root);
        let mut live = self.pool.live.lock().await;
        if let Some(l) = live.get(&k) {
            if l.conn.is_closed() {
                live.remove(&k);
            } else if !connect && !l.conn.tools_changed.load(Ordering::SeqCst) {
                return Ok(l.tools.clone());
            }
        }
        let conn = match live.remove(&k) {
            Some(l) => l.conn,
            None if !connect => return Ok(Vec::new()),
            None => Arc::new(self.start(server, root, &k).await?),
        };
        conn.tools_changed.store(false, Ordering::SeqCst);
        let listed = match client::list_tools(&conn, &self.log_of(&server.id)).await {
            Ok(l) => l,
            Err(e) => {
                // A server that cannot list its tools is dropped and waits like one that
                // could not start (not tried again at once, every turn).
                self.failed(server, &k, &e);
                return Err(e);
            }
        };
        // Started and listed: its failures in a row are over.
        crate::util::lock(&self.pool.backoff).remove(&k);
        let tools = self.check_pins(server, listed).await?;
        live.insert(
            k,
            Live {
                conn,
                tools: tools.clone(),
            },
        );
        Ok(tools)
    }

    /// The live connection of `server` for workspace `root`: started (its tools listed and
    /// checked) when it is not.
    pub(crate) async fn connection(
        &self,
        server: &McpServer,
        root: &str,
    ) -> Result<Arc<Connection>, CoreError> {
        let live_conn = |live: &HashMap<String, Live>| {
            live.get(&key(server, root))
                .map(|l| l.conn.clone())
                .filter(|c| !c.is_closed())
        };
        if let Some(c) = live_conn(&*self.pool.live.lock().await) {
            return Ok(c);
        }
        self.live_tools(server, root, true).await?;
        live_conn(&*self.pool.live.lock().await).ok_or_else(|| {
            CoreError::InvalidInput(format!(
                "The MCP server \"{}\" is not running.",
                server.name
            ))
        })
    }

    /// Starts a connection, unless the server failed lately (then: why, and when it is tried
    /// again).
    async fn start(
        &self,
        server: &McpServer,
        root: &str,
        k: &str,
    ) -> Result<Connection, CoreError> {
        if let Some(b) = crate::util::lock(&self.pool.backoff).get(k) {
            if Instant::now() < b.until {
                let secs = b.until.saturating_duration_since(Instant::now()).as_secs() + 1;
                return Err(CoreError::InvalidInput(format!(
                    "{} It is tried again in {secs} s.",
                    b.why
                )));
            }
        }
        let values = self.values(server)?;
        let ctx = Context {
            process_log: self.shared.process_log.clone(),
            ledger: self.shared.ledger.clone(),
            log: self.log_of(&server.id),
            // No workspace (the CLI's listings): no roots.
            roots: if root.is_empty() {
                Vec::new()
            } else {
                vec![root.to_owned()]
            },
            asks: self.asks.clone(),
            sampler: self.sampler.clone(),
        };
        match client::connect(server, &values, ctx).await {
            Ok(conn) => {
                self.remember_protocol(server, &conn.protocol_version).await;
                Ok(conn)
            }
            Err(e) => {
                self.failed(server, k, &e);
                Err(e)
            }
        }
    }

    /// Records that server `server` (for pool key `k`) failed: it is not tried again before a
    /// pause that doubles with each failure in a row (1 s up to a minute).
    fn failed(&self, server: &McpServer, k: &str, e: &CoreError) {
        let mut all = crate::util::lock(&self.pool.backoff);
        let failures = all.get(k).map_or(0, |b| b.failures) + 1;
        let pause = Duration::from_secs((1u64 << (failures - 1).min(6)).min(60));
        all.insert(
            k.to_owned(),
            Backoff {
                failures,
                until: Instant::now() + pause,
                why: e.to_string(),
            },
        );
        drop(all);
        self.log_of(&server.id).note(&format!(
            "failed; tried again in {} s at the earliest",
            pause.as_secs()
        ));
    }

    /// Calls tool `tool` of `server` (live for workspace `root`) with `arguments`, racing
    /// `cancel` (the Stop button: the call is cancelled at the server) and CALL_TIMEOUT.
    pub(crate) async fn call(
        &self,
        server: &McpServer,
        root: &str,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        cancel: tokio_util::sync::CancellationToken,
        caller: super::progress::Caller,
    ) -> crate::tools::tool::RunResult {
        let conn = {
            let live = self.pool.live.lock().await;
            live.get(&key(server, root)).map(|l| l.conn.clone())
        };
        let Some(conn) = conn.filter(|c| !c.is_closed()) else {
            return Err(ToolError::RespondToModel(format!(
                "The MCP server \"{}\" is not running any more; the call was not made.",
                server.name
            )));
        };
        let mut params =
            rmcp::model::CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        // The call's mark: the server's progress reports for it reach its running card.
        let mark = uuid::Uuid::now_v7().simple().to_string();
        // Every call is known while it runs: a server may ask the person or the model only then.
        conn.progress.watch(&mark, caller);
        let _listening = Forget(&conn.progress, &mark);
        let mut meta = rmcp::model::RequestMetaObject::new();
        meta.0
             .0
            .insert(super::progress::MARK.into(), mark.clone().into());
        params.meta = Some(meta);
        // Listening before the call is sent: a result too long to be read is dropped by the
        // transport, and this call is told at once instead of waiting for its timeout.
        let oversize = conn.oversize.notified();
        tokio::pin!(oversize);
        oversize.as_mut().enable();
        let result = tokio::select! {
            r = tokio::time::timeout(CALL_TIMEOUT, conn.service.call_tool(params)) => r,
            _ = cancel.cancelled() => return Err(ToolError::RespondToModel("Stopped by the user.".into())),
            _ = oversize => return Err(ToolError::RespondToModel(format!(
                "The MCP server \"{}\" sent a message longer than {} MB, which Parley does not read; the call's result was dropped.",
                server.name,
                super::stdio::LINE_MAX / (1024 * 1024)
            ))),
        };
        match result {
            Err(_) => Err(ToolError::RespondToModel(format!(
                "The MCP server \"{}\" did not answer within {} s; the call was cancelled.",
                server.name,
                CALL_TIMEOUT.as_secs()
            ))),
            Ok(Err(e)) => Err(ToolError::RespondToModel(format!(
                "The MCP server \"{}\" could not run {tool}: {}",
                server.name,
                crate::secrets::redact_known(&e.to_string())
            ))),
            Ok(Ok(r)) => super::results::output_of(&r),
        }
    }

    /// Ends the connections of server `id` (its sign-in changed: the next use connects anew,
    /// at once).
    pub(crate) async fn close_server(&self, id: &str) {
        let prefix = format!("{id}\n");
        let mut ended = Vec::new();
        {
            let mut live = self.pool.live.lock().await;
            let keys: Vec<String> = live
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for k in keys {
                ended.extend(live.remove(&k));
            }
        }
        crate::util::lock(&self.pool.backoff).retain(|k, _| !k.starts_with(&prefix));
        for l in ended {
            if let Ok(conn) = Arc::try_unwrap(l.conn) {
                conn.close().await;
            }
        }
    }

    /// Ends every connection (Parley is quitting), and each local server's process group.
    pub async fn close_all(&self) {
        let all: Vec<Live> = self
            .pool
            .live
            .lock()
            .await
            .drain()
            .map(|(_, l)| l)
            .collect();
        for l in all {
            if let Ok(conn) = Arc::try_unwrap(l.conn) {
                conn.close().await;
            }
        }
    }
}
