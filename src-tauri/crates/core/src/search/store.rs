//! The search query: FTS5 match, filters, ranking among the most recent matches, snippets.

use super::text::{carry, parse_query, snippet, Query};
use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{
    Role, SearchField, SearchHit, SearchQuery, SearchResults, SessionId, SEARCH_RANKED_AT_MOST,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

impl Store {
    /// Runs a search (see [`super::SearchService::search`]).
    pub async fn search(&self, query: SearchQuery) -> Result<SearchResults, StoreError> {
        self.reader.call(move |c| search(c, &query)).await
    }
}

/// A matching entry, before its snippet is cut.
struct Found {
    session: String,
    message: Option<String>,
    idx: Option<i64>,
    chunk: Option<i64>,
    role: Option<String>,
    model: Option<String>,
    provider: Option<String>,
    at: i64,
    title: String,
    archived: bool,
}

fn search(c: &Connection, q: &SearchQuery) -> Result<SearchResults, StoreError> {
    let started = Instant::now();
    let Some(parsed) = parse_query(&q.text) else {
        return Ok(SearchResults::default());
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500) as usize;
    // Filters on messages leave titles out: a title has no role, model or time of its own.
    let message_filters = q.role.is_some()
        || q.model.is_some()
        || q.provider.is_some()
        || q.since.is_some()
        || q.until.is_some()
        || q.has_tool_calls;
    let mut sql = String::from(
        "SELECT d.session_id, d.message_id, d.idx, d.chunk, m.role, m.model, m.provider,
                coalesce(m.created_at, s.updated_at), s.title, s.archived, bm25(search_fts)
         FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid
         JOIN sessions s ON s.id = d.session_id
         LEFT JOIN messages m ON m.id = d.message_id
         WHERE search_fts MATCH ?1",
    );
    let mut args: Vec<Value> = vec![Value::Text(parsed.expression.clone())];
    let mut filter = |clause: &str, v: Value, args: &mut Vec<Value>| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(chat) = &q.chat {
        filter(
            " AND d.session_id = ?",
            Value::Text(chat.0.clone()),
            &mut args,
        );
    }
    if let Some(role) = q.role {
        filter(
            " AND m.role = ?",
            Value::Text(role.as_str().into()),
            &mut args,
        );
    }
    if let Some(model) = &q.model {
        filter(" AND m.model = ?", Value::Text(model.clone()), &mut args);
    }
    if let Some(provider) = &q.provider {
        filter(
            " AND m.provider = ?",
            Value::Text(provider.clone()),
            &mut args,
        );
    }
    if let Some(assistant) = &q.assistant {
        filter(
            " AND json_extract(s.params, '$.assistant') = ?",
            Value::Text(assistant.clone()),
            &mut args,
        );
    }
    if let Some(since) = q.since {
        filter(" AND m.created_at >= ?", Value::Integer(since), &mut args);
    }
    if let Some(until) = q.until {
        filter(" AND m.created_at < ?", Value::Integer(until), &mut args);
    }
    if message_filters {
        sql.push_str(" AND d.message_id IS NOT NULL");
    }
    if q.has_tool_calls {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM parts t WHERE t.message_id = m.id AND t.kind = 'tool_call')",
        );
    }
    // The most recent matches (entries are numbered as they are written), ranked by bm25:
    // a word found in most of a large history costs no more than a rare one.
    let sql = format!(
        "SELECT * FROM ({sql} ORDER BY search_fts.rowid DESC LIMIT {})
         ORDER BY 11, 8 DESC",
        SEARCH_RANKED_AT_MOST + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(Found {
            session: r.get(0)?,
            message: r.get(1)?,
            idx: r.get(2)?,
            chunk: r.get(3)?,
            role: r.get(4)?,
            model: r.get(5)?,
            provider: r.get(6)?,
            at: r.get(7)?,
            title: r.get(8)?,
            archived: r.get(9)?,
        })
    })?;
    let mut matched = 0usize;
    let mut seen = HashSet::new();
    let mut best = Vec::new();
    for row in rows {
        let f = row?;
        matched += 1;
        // One result per message (its best entry), one per title.
        let key = (f.session.clone(), f.message.clone());
        if best.len() < limit && seen.insert(key) {
            best.push(f);
        }
    }
    let mut paths: HashMap<String, HashSet<String>> = HashMap::new();
    let mut hits = Vec::with_capacity(best.len());
    for f in best {
        hits.push(hit(c, &parsed, f, &mut paths)?);
    }
    Ok(SearchResults {
        hits,
        capped: matched > SEARCH_RANKED_AT_MOST as usize,
        took_ms: started.elapsed().as_millis().min(u32::MAX as u128) as u32,
    })
}

/// A result with its snippet, cut from the stored text of the entry that matched.
fn hit(
    c: &Connection,
    q: &Query,
    f: Found,
    paths: &mut HashMap<String, HashSet<String>>,
) -> Result<SearchHit, StoreError> {
    let (field, text) = match (&f.message, f.idx, f.chunk) {
        (None, _, _) => (SearchField::Title, f.title.clone()),
        (Some(m), Some(idx), chunk) => {
            let (kind, body, meta): (String, String, Option<String>) = c
                .prepare_cached(
                    "SELECT kind, body, meta FROM parts WHERE message_id = ?1 AND idx = ?2",
                )?
                .query_row(params![m, idx], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .unwrap_or_default();
            let text = match chunk {
                Some(chunk) => {
                    let (before, this): (String, String) = c
                        .prepare_cached(
                            "SELECT ?4 || coalesce((SELECT group_concat(body, '' ORDER BY id) FROM (
                                 SELECT id, body FROM part_chunks WHERE message_id = ?1
                                     AND idx = ?2 AND id < ?3 ORDER BY id DESC LIMIT 8)), ''),
                                 coalesce((SELECT body FROM part_chunks WHERE id = ?3), '')",
                        )?
                        .query_row(params![m, idx, chunk, body], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    format!("{}{this}", carry(&before))
                }
                None if kind == "tool_call" => {
                    let name = meta
                        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
                        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                        .unwrap_or_default();
                    format!("{name} {body}")
                }
                None => body,
            };
            (field_of(&kind), text)
        }
        (Some(_), None, _) => (SearchField::Text, String::new()),
    };
    let on_selected_path = match &f.message {
        None => true,
        Some(m) => {
            if !paths.contains_key(&f.session) {
                paths.insert(f.session.clone(), selected_path(c, &f.session)?);
            }
            paths.get(&f.session).is_some_and(|p| p.contains(m))
        }
    };
    Ok(SearchHit {
        session_id: SessionId(f.session),
        title: f.title,
        message_id: f.message.map(parley_protocol::MessageId),
        role: f.role.as_deref().and_then(Role::parse),
        model: f.model,
        provider: f.provider,
        at: f.at,
        field,
        snippet: snippet(&text, &q.terms),
        on_selected_path,
        archived: f.archived,
    })
}

fn field_of(kind: &str) -> SearchField {
    match kind {
        "reasoning" => SearchField::Reasoning,
        "tool_call" => SearchField::ToolCall,
        "tool_result" => SearchField::ToolResult,
        "file" => SearchField::File,
        _ => SearchField::Text,
    }
}

/// The ids of the messages on a chat's selected path.
fn selected_path(c: &Connection, session: &str) -> Result<HashSet<String>, StoreError> {
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE path(id) AS (
             SELECT head_message_id FROM sessions WHERE id = ?1 AND head_message_id IS NOT NULL
             UNION ALL
             SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id
             WHERE m.parent_id IS NOT NULL)
         SELECT id FROM path",
    )?;
    let ids = stmt.query_map([session], |r| r.get::<_, String>(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}
