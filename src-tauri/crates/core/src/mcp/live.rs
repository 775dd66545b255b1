//! Servers reached for real: testing one (connect, negotiate the era, list its tools and check
//! them against their pins, close) for Settings and `parley mcp test|tools`, with each server's bounded log kept in this
//! process for Settings to show.

use super::client::{self, Context};
use super::McpService;
use crate::error::CoreError;
use crate::proclog::ProcLog as ServerLog;
use parley_protocol::McpTestReport;
use std::sync::Arc;

impl McpService {
    /// The log of server `id` in this process (made on first use).
    pub(super) fn log_of(&self, id: &str) -> Arc<ServerLog> {
        crate::util::lock(&self.logs)
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    /// The kept lines of server `name`'s log in this process.
    pub async fn log(&self, name: &str) -> Result<Vec<String>, CoreError> {
        let server = self.get(name).await?;
        Ok(self.log_of(&server.id).lines())
    }

    /// Connects to server `name` (even when it is off: the user asked), lists its tools and
    /// closes: what it speaks and offers, or why it cannot be used.
    pub async fn test(&self, name: &str) -> Result<McpTestReport, CoreError> {
        let server = self.get(name).await?;
        let values = self.values(&server)?;
        let log = self.log_of(&server.id);
        let ctx = Context {
            process_log: self.shared.process_log.clone(),
            ledger: self.shared.ledger.clone(),
            log: log.clone(),
            roots: Vec::new(),
            asks: self.asks.clone(),
            sampler: self.sampler.clone(),
        };
        let conn = client::connect(&server, &values, ctx).await?;
        self.remember_protocol(&server, &conn.protocol_version)
            .await;
        let tools = client::list_tools(&conn, &log).await;
        let report = McpTestReport {
            server: server.name.clone(),
            protocol_version: conn.protocol_version.clone(),
            era: if conn.stateless {
                "stateless"
            } else {
                "handshake"
            }
            .into(),
            server_info: conn.server_info.clone(),
            instructions: conn.instructions.clone(),
            tools: Vec::new(),
            log: Vec::new(),
        };
        conn.close().await;
        log.note("closed");
        let tools = self.check_pins(&server, tools?).await?;
        Ok(McpTestReport {
            tools,
            log: log.tail(20),
            ..report
        })
    }
}
