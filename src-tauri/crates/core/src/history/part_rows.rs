//! Message parts written many rows per statement, for the merge and an import's staging
//! database.
//!
//! Why not one statement per part: a statement that fires the search triggers opens a
//! savepoint on the search index, and the index writes out what it holds at every savepoint.
//! One part per statement wrote one tiny index segment per part, and an import spent most of
//! its time merging those segments (docs/PERFORMANCE.md, imports). A few hundred rows per
//! statement let the index gather a megabyte before it writes.

use crate::error::StoreError;
use crate::store::codec;
use parley_protocol::Message;
use rusqlite::Connection;

/// The most rows one statement writes (five values each, far below SQLite's limit of bound
/// values).
const MAX_ROWS: usize = 256;
/// The most text one statement carries: the rows are held (and SQLite copies them) until the
/// statement runs, so this bounds the memory a batch takes.
const MAX_BYTES: usize = 1 << 20;

/// One `parts` row, encoded.
struct Row {
    message_id: String,
    idx: i64,
    kind: &'static str,
    body: String,
    meta: Option<String>,
}

/// Gathers parts and writes them a batch at a time; [`PartRows::finish`] writes the rest.
pub(super) struct PartRows<'c> {
    conn: &'c Connection,
    rows: Vec<Row>,
    bytes: usize,
}

impl<'c> PartRows<'c> {
    pub(super) fn new(conn: &'c Connection) -> PartRows<'c> {
        PartRows {
            conn,
            rows: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds a message's parts, in order; writes a batch when one is full.
    pub(super) fn add(&mut self, m: &Message) -> Result<(), StoreError> {
        for (i, p) in m.parts.iter().enumerate() {
            let (kind, body, meta) = codec::encode_part(p)?;
            self.bytes += body.len() + meta.as_ref().map_or(0, String::len);
            self.rows.push(Row {
                message_id: m.id.0.clone(),
                idx: i as i64,
                kind,
                body,
                meta,
            });
            if self.rows.len() >= MAX_ROWS || self.bytes >= MAX_BYTES {
                self.write()?;
            }
        }
        Ok(())
    }

    /// Writes what is gathered.
    pub(super) fn finish(mut self) -> Result<(), StoreError> {
        self.write()
    }

    fn write(&mut self) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut sql = String::from("INSERT INTO parts(message_id, idx, kind, body, meta) VALUES ");
        for i in 0..self.rows.len() {
            sql.push_str(if i == 0 {
                "(?,?,?,?,?)"
            } else {
                ",(?,?,?,?,?)"
            });
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        for (i, r) in self.rows.iter().enumerate() {
            let at = i * 5;
            stmt.raw_bind_parameter(at + 1, &r.message_id)?;
            stmt.raw_bind_parameter(at + 2, r.idx)?;
            stmt.raw_bind_parameter(at + 3, r.kind)?;
            stmt.raw_bind_parameter(at + 4, &r.body)?;
            stmt.raw_bind_parameter(at + 5, &r.meta)?;
        }
        stmt.raw_execute()?;
        self.rows.clear();
        self.bytes = 0;
        Ok(())
    }
}
