//! The search query: FTS5 match, filters, ranking among the most recent matches, snippets.

use super::index::{chunks_after, text_before};
use super::text::{parse_query, searchable, snippet, Query};
use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{
    Role, SearchField, SearchHit, SearchQuery, SearchResults, SessionId,
    SEARCH_PHRASE_RANKED_AT_MOST, SEARCH_RANKED_AT_MOST,
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
    at: Option<i64>,
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
    // Each match is one index entry and its `search_docs` row (which carries what the filters
    // read); the chat's title and flags are read for the results shown only.
    let mut sql = String::from(
        " FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid
         WHERE search_fts MATCH ?1",
    );
    let mut args: Vec<Value> = vec![Value::Text(parsed.expression.clone())];
    let mut filter = |clause: &str, v: Value, args: &mut Vec<Value>| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(chat) = &q.chat {
        // The index is asked for the span of entries the chat wrote (it seeks to it), so a
        // word common everywhere costs what the chat's span costs, not the whole history.
        let span: (Option<i64>, Option<i64>) = c
            .prepare_cached("SELECT min(id), max(id) FROM search_docs WHERE session_id = ?1")?
            .query_row([&chat.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (Some(first), Some(last)) = span else {
            return Ok(SearchResults::default());
        };
        filter(
            " AND search_fts.rowid >= ?",
            Value::Integer(first),
            &mut args,
        );
        filter(
            " AND search_fts.rowid <= ?",
            Value::Integer(last),
            &mut args,
        );
        filter(
            " AND d.session_id = ?",
            Value::Text(chat.0.clone()),
            &mut args,
        );
    }
    if let Some(role) = q.role {
        filter(
            " AND d.role = ?",
            Value::Text(role.as_str().into()),
            &mut args,
        );
    }
    if let Some(model) = &q.model {
        filter(" AND d.model = ?", Value::Text(model.clone()), &mut args);
    }
    if let Some(provider) = &q.provider {
        filter(
            " AND d.provider = ?",
            Value::Text(provider.clone()),
            &mut args,
        );
    }
    if let Some(assistant) = &q.assistant {
        filter(
            " AND d.session_id IN (SELECT id FROM sessions WHERE json_extract(params, '$.assistant') = ?)",
            Value::Text(assistant.clone()),
            &mut args,
        );
    }
    if let Some(since) = q.since {
        filter(" AND d.at >= ?", Value::Integer(since), &mut args);
    }
    if let Some(until) = q.until {
        filter(" AND d.at < ?", Value::Integer(until), &mut args);
    }
    if message_filters {
        sql.push_str(" AND d.message_id IS NOT NULL");
    }
    if q.has_tool_calls {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM parts t WHERE t.message_id = d.message_id AND t.kind = 'tool_call')",
        );
    }
    let ranked_at_most = if parsed.phrase {
        SEARCH_PHRASE_RANKED_AT_MOST
    } else {
        SEARCH_RANKED_AT_MOST
    };
    // The most recent matches first (entries are numbered as they are written): cheap
    // whatever the word, the index reads its newest entries and stops.
    let newest = format!(
        "SELECT d.id, d.session_id, d.message_id, d.idx, d.chunk, d.role, d.model, d.provider, d.at
         {sql} ORDER BY search_fts.rowid DESC LIMIT {}",
        ranked_at_most + 1
    );
    let mut found: Vec<(i64, Found)> = c
        .prepare_cached(&newest)?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((
                r.get(0)?,
                Found {
                    session: r.get(1)?,
                    message: r.get(2)?,
                    idx: r.get(3)?,
                    chunk: r.get(4)?,
                    role: r.get(5)?,
                    model: r.get(6)?,
                    provider: r.get(7)?,
                    at: r.get(8)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    let capped = found.len() > ranked_at_most as usize;
    // bm25 first counts every document holding each phrase, in the whole history: a word
    // found everywhere, or a phrase of common words, costs that count whatever the scope. So
    // relevance orders only few matches, and not a phrase within one chat.
    let by_relevance = !(capped || (parsed.phrase && q.chat.is_some()));
    if capped {
        found.truncate(ranked_at_most as usize);
    }
    if by_relevance {
        // Few enough to rank by relevance (bm25), the newest first among equals.
        let rank: HashMap<i64, f64> = c
            .prepare_cached(&format!("SELECT d.id, bm25(search_fts) {sql}"))?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let of = |id: &i64| rank.get(id).copied().unwrap_or(0.0);
        found.sort_by(|(a, fa), (b, fb)| of(a).total_cmp(&of(b)).then(fb.at.cmp(&fa.at)));
    }
    let mut seen = HashSet::new();
    let mut best = Vec::new();
    for (_, f) in found {
        // One result per message (its best entry), one per title.
        if best.len() < limit && seen.insert((f.session.clone(), f.message.clone())) {
            best.push(f);
        }
    }
    let mut paths: HashMap<String, HashSet<String>> = HashMap::new();
    let mut hits = Vec::with_capacity(best.len());
    for f in best {
        if let Some(hit) = hit(c, &parsed, f, &mut paths)? {
            hits.push(hit);
        }
    }
    Ok(SearchResults {
        hits,
        capped,
        by_relevance,
        ranked_at_most,
        took_ms: started.elapsed().as_millis().min(u32::MAX as u128) as u32,
    })
}

/// A result with its snippet, cut from the stored text of the entry that matched.
fn hit(
    c: &Connection,
    q: &Query,
    f: Found,
    paths: &mut HashMap<String, HashSet<String>>,
) -> Result<Option<SearchHit>, StoreError> {
    let Some((title, archived, updated_at)) = c
        .prepare_cached("SELECT title, archived, updated_at FROM sessions WHERE id = ?1")?
        .query_row([&f.session], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let (field, text) = match (&f.message, f.idx, f.chunk) {
        (None, _, _) => (SearchField::Title, title.clone()),
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
                    // The piece: the chunks after the part's previous piece, up to `chunk`,
                    // after the end of the text before them (as it was indexed).
                    let done: i64 = c
                        .prepare_cached(
                            "SELECT coalesce(max(chunk), 0) FROM search_docs
                             WHERE message_id = ?1 AND idx = ?2 AND chunk < ?3",
                        )?
                        .query_row(params![m, idx, chunk], |r| r.get(0))?;
                    let before = text_before(c, m, idx, done)?;
                    let piece: String = chunks_after(c, m, idx, done, chunk)?
                        .into_iter()
                        .map(|(_, b)| b)
                        .collect();
                    searchable(None, &piece, None, Some(&before))
                }
                None => searchable(Some(&kind), &body, meta.as_deref(), None),
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
    Ok(Some(SearchHit {
        session_id: SessionId(f.session),
        title,
        message_id: f.message.map(parley_protocol::MessageId),
        role: f.role.as_deref().and_then(Role::parse),
        model: f.model,
        provider: f.provider,
        at: f.at.unwrap_or(updated_at),
        field,
        snippet: snippet(&text, &q.terms),
        on_selected_path,
        archived,
    }))
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
