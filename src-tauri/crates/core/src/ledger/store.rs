//! The ledger's table (`outbound`, schema v13): one row per request, bounded to the newest.

use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{OutboundEntry, OutboundPurpose};
use rusqlite::params;

fn purpose_name(p: OutboundPurpose) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn purpose_of(name: &str) -> OutboundPurpose {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or(OutboundPurpose::Other)
}

impl Store {
    /// Records a request without waiting, then keeps only the newest `keep`.
    pub(super) fn submit_outbound(&self, token: i64, e: OutboundEntry, keep: i64) {
        self.writer.submit(move |c| {
            let purpose = purpose_name(e.purpose);
            let inserted = c.execute(
                "INSERT INTO outbound(token, at, host, method, purpose, cause, bytes_up, bytes_down, status, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![token, e.at, e.host, e.method, purpose, e.cause, e.bytes_up as i64, e.bytes_down as i64, e.status, e.error],
            );
            if let Err(err) = inserted {
                tracing::warn!("a request could not be recorded in the ledger: {err}");
                return;
            }
            let id = c.last_insert_rowid();
            if id % 100 == 0 {
                let _ = c.execute("DELETE FROM outbound WHERE id <= ?1", [id - keep]);
            }
        });
    }

    /// How a recorded request ended: its status or failure, and the bytes read.
    pub(super) fn submit_outbound_end(&self, token: i64, e: OutboundEntry) {
        self.writer.submit(move |c| {
            let updated = c.execute(
                "UPDATE outbound SET bytes_down = ?2, status = ?3, error = ?4 WHERE token = ?1",
                params![token, e.bytes_down as i64, e.status, e.error],
            );
            if let Err(err) = updated {
                tracing::warn!("the end of a request could not be recorded in the ledger: {err}");
            }
        });
    }

    /// Requests since `since`, newest first.
    pub(super) async fn outbound(
        &self,
        since: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboundEntry>, StoreError> {
        self.reader
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT at, host, method, purpose, cause, bytes_up, bytes_down, status, error
                     FROM outbound WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![since.unwrap_or(0), limit], |r| {
                    Ok(OutboundEntry {
                        at: r.get(0)?,
                        host: r.get(1)?,
                        method: r.get(2)?,
                        purpose: purpose_of(&r.get::<_, String>(3)?),
                        cause: r.get(4)?,
                        bytes_up: r.get::<_, i64>(5)? as u64,
                        bytes_down: r.get::<_, i64>(6)? as u64,
                        status: r.get(7)?,
                        error: r.get(8)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }
}
