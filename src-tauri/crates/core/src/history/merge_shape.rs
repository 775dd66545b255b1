//! Before the merge reads a file: its tables must be the tables Parley writes. A crafted file
//! can put a view where a table belongs (an endless recursive query, millions of made-up rows
//! recomputed at every read) or drop an index so that every chat's read scans the whole file;
//! either would hold the one writer for as long as the file likes. So the tables the merge
//! reads, their columns and the indexes it relies on are compared with those of a database
//! made by this Parley's own migrations, and a file that differs is refused whole.

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// The tables the merge reads.
const TABLES: [&str; 6] = [
    "sessions",
    "messages",
    "parts",
    "part_chunks",
    "turns",
    "attachment_blobs",
];
/// The indexes its reads use (beside the tables' own keys).
const INDEXES: [&str; 3] = [
    "messages_by_session",
    "messages_by_parent",
    "part_chunks_by_part",
];

/// Refuses `src` unless its tables and indexes have the shape this Parley writes.
pub(super) fn check_shape(src: &Connection) -> Result<(), StoreError> {
    let reference = Connection::open_in_memory()?;
    crate::search::register(&reference)?;
    for m in crate::store::schema::MIGRATIONS {
        reference.execute_batch(m)?;
    }
    let want = shape(&reference)?;
    let have = shape(src).map_err(|e| bad(format!("its tables cannot be read ({e})")))?;
    match want.iter().zip(&have).find(|(w, h)| w != h) {
        None if want.len() == have.len() => Ok(()),
        Some((w, _)) => Err(bad(format!("{} is not what Parley writes", w.0))),
        None => Err(bad("its tables are not what Parley writes".into())),
    }
}

fn bad(why: String) -> StoreError {
    StoreError::BadFile(format!(
        "This file is not a Parley database this Parley can read: {why}. Nothing of it was added."
    ))
}

/// Each table's and index's kind and columns, as (what, description) pairs.
fn shape(c: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    for t in TABLES {
        let kind: Option<String> = c
            .query_row("SELECT type FROM sqlite_schema WHERE name = ?1", [t], |r| {
                r.get(0)
            })
            .optional()?;
        let mut columns = c.prepare(
            "SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
        )?;
        let columns: Vec<String> = columns
            .query_map([t], |r| {
                Ok(format!(
                    "{} {} {} {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?
                ))
            })?
            .collect::<Result<_, _>>()?;
        out.push((
            format!("the table `{t}`"),
            format!("{kind:?}: {}", columns.join(", ")),
        ));
    }
    for i in INDEXES {
        // A partial index (`WHERE …`) would not serve every row: its `partial` flag counts.
        let on: Option<(String, String, i64)> = c
            .query_row(
                "SELECT s.type, s.tbl_name,
                        coalesce((SELECT l.partial FROM pragma_index_list(s.tbl_name) l
                                  WHERE l.name = s.name), -1)
                 FROM sqlite_schema s WHERE s.name = ?1",
                [i],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let mut columns = c.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
        let columns: Vec<String> = columns
            .query_map([i], |r| r.get::<_, Option<String>>(0))?
            .map(|n| n.map(Option::unwrap_or_default))
            .collect::<Result<_, _>>()?;
        out.push((
            format!("the index `{i}`"),
            format!("{on:?}: {}", columns.join(", ")),
        ));
    }
    Ok(out)
}
