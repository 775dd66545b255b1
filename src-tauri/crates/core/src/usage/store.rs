//! Ledger queries: the turns' reported usage summed per (chat, day, provider, model) in SQL,
//! then priced and gathered per view.

use super::prices;
use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{
    ChatId, ChatUsage, Price, UnixMs, Usage, UsageReport, UsageRow, UsageTotals,
};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;

/// Sums of one (chat, day, provider, model).
struct Group {
    session: String,
    title: String,
    day: String,
    provider: String,
    model: String,
    input_includes_cached: bool,
    /// The answers came with a chat from a file (import or restore).
    imported: bool,
    answers: u32,
    not_reported: u32,
    usage: Usage,
}

const GROUPS_SQL: &str = "
    WITH RECURSIVE path(id) AS (
        SELECT ?3 WHERE ?3 IS NOT NULL
        UNION ALL
        SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id
        WHERE m.parent_id IS NOT NULL)
    SELECT t.session_id, s.title, date(t.started_at / 1000, 'unixepoch'),
           coalesce(t.provider, ''), coalesce(t.model, ''), coalesce(p.kind, ''),
           count(*), sum(t.usage IS NULL),
           coalesce(sum(json_extract(t.usage, '$.input_tokens')), 0),
           coalesce(sum(json_extract(t.usage, '$.output_tokens')), 0),
           coalesce(sum(json_extract(t.usage, '$.cached_input_tokens')), 0),
           coalesce(sum(json_extract(t.usage, '$.reasoning_tokens')), 0),
           t.imported
    FROM turns t JOIN sessions s ON s.id = t.session_id
    LEFT JOIN providers p ON p.name = t.provider
    WHERE t.assistant_message_id IS NOT NULL
      AND (t.usage IS NOT NULL OR t.status IN ('completed', 'interrupted'))
      AND t.started_at >= ?1 AND (?2 IS NULL OR t.session_id = ?2)
      AND (?3 IS NULL OR t.assistant_message_id IN (SELECT id FROM path))
    GROUP BY 1, 3, 4, 5, t.imported";

fn groups(
    c: &Connection,
    since: i64,
    session: Option<&str>,
    path_from: Option<&str>,
) -> Result<Vec<Group>, StoreError> {
    let mut stmt = c.prepare_cached(GROUPS_SQL)?;
    let rows = stmt.query_map(rusqlite::params![since, session, path_from], |r| {
        let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        Ok(Group {
            session: r.get(0)?,
            title: r.get(1)?,
            day: r.get(2)?,
            provider: r.get(3)?,
            model: r.get(4)?,
            // Anthropic reports cache reads beside the input; the others inside it.
            input_includes_cached: r.get::<_, String>(5)? != "anthropic",
            answers: r.get::<_, i64>(6)? as u32,
            not_reported: r.get::<_, i64>(7)? as u32,
            usage: Usage {
                input_tokens: n(8)?,
                output_tokens: n(9)?,
                cached_input_tokens: Some(n(10)?),
                reasoning_tokens: Some(n(11)?),
            },
            imported: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The group's totals, priced.
fn totals(g: &Group, table: &[Price]) -> UsageTotals {
    let reported = g.answers - g.not_reported;
    let price = prices::find(table, &g.model);
    UsageTotals {
        answers: g.answers,
        not_reported: g.not_reported,
        input_tokens: g.usage.input_tokens,
        output_tokens: g.usage.output_tokens,
        cached_input_tokens: g.usage.cached_input_tokens.unwrap_or(0),
        reasoning_tokens: g.usage.reasoning_tokens.unwrap_or(0),
        cost: price.map_or(0.0, |p| prices::cost(p, &g.usage, g.input_includes_cached)),
        unpriced: if price.is_none() { reported } else { 0 },
    }
}

fn add(a: &mut UsageTotals, b: &UsageTotals) {
    a.answers += b.answers;
    a.not_reported += b.not_reported;
    a.input_tokens += b.input_tokens;
    a.output_tokens += b.output_tokens;
    a.cached_input_tokens += b.cached_input_tokens;
    a.reasoning_tokens += b.reasoning_tokens;
    a.cost += b.cost;
    a.unpriced += b.unpriced;
}

/// Rows keyed by `key`, summed.
fn rows(
    groups: &[(&Group, UsageTotals)],
    key: impl Fn(&Group) -> (String, String),
) -> Vec<UsageRow> {
    let mut by: HashMap<String, UsageRow> = HashMap::new();
    for (g, t) in groups {
        let (k, label) = key(g);
        let row = by.entry(k.clone()).or_insert_with(|| UsageRow {
            key: k,
            label,
            totals: UsageTotals::default(),
        });
        add(&mut row.totals, t);
    }
    let mut out: Vec<UsageRow> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.totals
            .cost
            .total_cmp(&a.totals.cost)
            .then(
                (b.totals.input_tokens + b.totals.output_tokens)
                    .cmp(&(a.totals.input_tokens + a.totals.output_tokens)),
            )
            .then(a.key.cmp(&b.key))
    });
    out
}

fn sum<'a>(groups: impl IntoIterator<Item = &'a Group>, table: &[Price]) -> UsageTotals {
    let mut t = UsageTotals::default();
    for g in groups {
        add(&mut t, &totals(g, table));
    }
    t
}

impl Store {
    /// The usage report (see [`super::UsageService::report`]).
    pub(in crate::usage) async fn usage_report(
        &self,
        since: Option<UnixMs>,
        include_imported: bool,
        table: Vec<Price>,
    ) -> Result<UsageReport, StoreError> {
        self.reader
            .call(move |c| {
                let (imported, own): (Vec<Group>, Vec<Group>) =
                    groups(c, since.unwrap_or(i64::MIN), None, None)?
                        .into_iter()
                        .partition(|g| g.imported);
                let imported_total = sum(&imported, &table);
                let all: Vec<Group> = if include_imported {
                    own.into_iter().chain(imported).collect()
                } else {
                    own
                };
                let priced: Vec<(&Group, UsageTotals)> =
                    all.iter().map(|g| (g, totals(g, &table))).collect();
                let mut by_day = rows(&priced, |g| (g.day.clone(), g.day.clone()));
                by_day.sort_by(|a, b| a.key.cmp(&b.key));
                let label = |s: &str| {
                    if s.is_empty() {
                        "(unknown)".to_owned()
                    } else {
                        s.to_owned()
                    }
                };
                let mut by_chat = rows(&priced, |g| {
                    let title = if g.title.trim().is_empty() {
                        "Untitled chat".into()
                    } else {
                        g.title.clone()
                    };
                    (g.session.clone(), title)
                });
                by_chat.truncate(100);
                Ok(UsageReport {
                    since,
                    total: sum(&all, &table),
                    by_day,
                    by_model: rows(&priced, |g| (g.model.clone(), label(&g.model))),
                    by_provider: rows(&priced, |g| (g.provider.clone(), label(&g.provider))),
                    by_chat,
                    imported: imported_total,
                    includes_imported: include_imported,
                })
            })
            .await
    }

    /// One chat's usage, `None` when there is no such chat.
    pub(in crate::usage) async fn chat_usage(
        &self,
        id: &ChatId,
        table: Vec<Price>,
    ) -> Result<Option<ChatUsage>, StoreError> {
        let id = id.0.clone();
        self.reader
            .call(move |c| {
                let head: Option<Option<String>> = c
                    .query_row(
                        "SELECT head_message_id FROM sessions WHERE id = ?1",
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(head) = head else { return Ok(None) };
                let all = groups(c, i64::MIN, Some(&id), None)?;
                let chat = sum(all.iter().filter(|g| !g.imported), &table);
                let imported = sum(all.iter().filter(|g| g.imported), &table);
                let branch = match &head {
                    Some(h) => sum(
                        groups(c, i64::MIN, Some(&id), Some(h))?
                            .iter()
                            .filter(|g| !g.imported),
                        &table,
                    ),
                    None => UsageTotals::default(),
                };
                Ok(Some(ChatUsage {
                    chat,
                    branch,
                    imported,
                }))
            })
            .await
    }
}

#[cfg(test)]
tables_door! {
    /// The ledger's queries for the tests of other topics (a merge's usage).
    pub(crate) trait UsageTables {
        fn usage_report(
            &self,
            since: Option<UnixMs>,
            include_imported: bool,
            table: Vec<Price>,
        ) -> Result<UsageReport, StoreError>;
        fn chat_usage(
            &self,
            id: &ChatId,
            table: Vec<Price>,
        ) -> Result<Option<ChatUsage>, StoreError>;
    }
}
