//! The search query: FTS5 match, filters, ranking among the most recent matches, snippets.

use super::index::{chunks_after, text_before};
use super::snippet::snippet;
use super::text::{parse_query, searchable, Query};
use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::{
    ChatId, Role, SearchField, SearchHit, SearchQuery, SearchResults, SEARCH_PHRASE_RANKED_AT_MOST,
    SEARCH_RANKED_AT_MOST,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

impl Store {
    /// Runs a search (see [`super::SearchService::search`]).
    pub(in crate::search) async fn search(
        &self,
        query: SearchQuery,
    ) -> Result<SearchResults, StoreError> {
        self.reader.call(move |c| search(c, &query)).await
    }

    /// Whether a chat with this id exists (a search within one chat must name one). Search
    /// sits below the chats topic, so it reads the row itself.
    pub(in crate::search) async fn chat_exists(&self, id: &ChatId) -> Result<bool, StoreError> {
        let id = id.0.clone();
        self.reader
            .call(move |c| {
                let found = c
                    .query_row("SELECT 1 FROM sessions WHERE id = ?1", [&id], |_| Ok(()))
                    .optional()?;
                Ok(found.is_some())
            })
            .await
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
    let Some((sql, args)) = matching(c, q, &parsed)? else {
        return Ok(SearchResults::default());
    };
    let ranked_at_most = if parsed.phrase {
        SEARCH_PHRASE_RANKED_AT_MOST
    } else {
        SEARCH_RANKED_AT_MOST
    };
    // The most recent matches first (entries are numbered as they are written): cheap
    // whatever the word, the index reads its newest entries and stops.
    let want = ranked_at_most as usize + 1;
    let (mut found, stopped) = newest_first(c, &sql, &args, want)?;
    if stopped && found.len() < limit {
        // Stopped at the time a search may take with less than a page: the words are common
        // and seldom together, and what was found would look like all there is.
        return Err(StoreError::SearchTooCostly(TOO_COSTLY.into()));
    }
    let capped = found.len() > ranked_at_most as usize;
    // bm25 first counts every document holding each phrase, in the whole history: a word
    // found everywhere, or a phrase of common words, costs that count whatever the scope. So
    // relevance orders only few matches, and not a phrase within one chat.
    // And bm25 runs the query a second time: only when the words are rare enough that
    // counting them all is cheap (a few common words seldom together have few matches, but
    // counting them read every entry of each: 115 ms for six such words).
    // Nothing found is nothing to rank (and not a second pass over the index).
    let by_relevance = !(capped || stopped || (parsed.phrase && q.chat.is_some()))
        && (found.is_empty() || cheap_to_rank(c, &parsed, RANK_COUNTS_AT_MOST)?);
    if capped {
        found.truncate(ranked_at_most as usize);
    }
    if by_relevance && !found.is_empty() {
        rank_by_relevance(c, &sql, &args, &mut found)?;
    }
    let best = one_per_message(found, limit);
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

/// The query's matches as SQL from `FROM` on, with its arguments (the match, then each filter
/// the query sets), or `None` when the chat it is limited to has written no index entry.
fn matching(
    c: &Connection,
    q: &SearchQuery,
    parsed: &Query,
) -> Result<Option<(String, Vec<Value>)>, StoreError> {
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
    if let Some(chat) = &q.chat {
        // The index is asked for the span of entries the chat wrote (it seeks to it), so a
        // word common everywhere costs what the chat's span costs, not the whole history.
        let span: (Option<i64>, Option<i64>) = c
            .prepare_cached("SELECT min(id), max(id) FROM search_docs WHERE session_id = ?1")?
            .query_row([&chat.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (Some(first), Some(last)) = span else {
            return Ok(None);
        };
        let (sql, args) = (&mut sql, &mut args);
        filter(
            sql,
            args,
            " AND search_fts.rowid >= ?",
            Value::Integer(first),
        );
        filter(
            sql,
            args,
            " AND search_fts.rowid <= ?",
            Value::Integer(last),
        );
        filter(
            sql,
            args,
            " AND d.session_id = ?",
            Value::Text(chat.0.clone()),
        );
    }
    message_filter_clauses(q, &mut sql, &mut args);
    if message_filters {
        sql.push_str(" AND d.message_id IS NOT NULL");
    }
    if q.has_tool_calls {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM parts t WHERE t.message_id = d.message_id AND t.kind = 'tool_call')",
        );
    }
    Ok(Some((sql, args)))
}

/// Adds one filter to the query: `clause`'s `?` becomes the number of `v` among the arguments.
fn filter(sql: &mut String, args: &mut Vec<Value>, clause: &str, v: Value) {
    args.push(v);
    sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
}

/// Adds the filters on role, model, provider, assistant and time that the query sets.
fn message_filter_clauses(q: &SearchQuery, sql: &mut String, args: &mut Vec<Value>) {
    if let Some(role) = q.role {
        filter(
            sql,
            args,
            " AND d.role = ?",
            Value::Text(role.as_str().into()),
        );
    }
    if let Some(model) = &q.model {
        filter(sql, args, " AND d.model = ?", Value::Text(model.clone()));
    }
    if let Some(provider) = &q.provider {
        filter(
            sql,
            args,
            " AND d.provider = ?",
            Value::Text(provider.clone()),
        );
    }
    if let Some(assistant) = &q.assistant {
        filter(
            sql,
            args,
            " AND d.session_id IN (SELECT id FROM sessions WHERE json_extract(params, '$.assistant') = ?)",
            Value::Text(assistant.clone()),
        );
    }
    if let Some(since) = q.since {
        filter(sql, args, " AND d.at >= ?", Value::Integer(since));
    }
    if let Some(until) = q.until {
        filter(sql, args, " AND d.at < ?", Value::Integer(until));
    }
}

/// Orders the matches by relevance (bm25), the newest first among equals.
fn rank_by_relevance(
    c: &Connection,
    sql: &str,
    args: &[Value],
    found: &mut [(i64, Found)],
) -> Result<(), StoreError> {
    let rank: HashMap<i64, f64> = c
        .prepare_cached(&format!("SELECT d.id, bm25(search_fts) {sql}"))?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let of = |id: &i64| rank.get(id).copied().unwrap_or(0.0);
    found.sort_by(|(a, fa), (b, fb)| of(a).total_cmp(&of(b)).then(fb.at.cmp(&fa.at)));
    Ok(())
}

/// The first `limit` matches in order, one per message (its best entry) and one per title.
fn one_per_message(found: Vec<(i64, Found)>, limit: usize) -> Vec<Found> {
    let mut seen = HashSet::new();
    let mut best = Vec::new();
    for (_, f) in found {
        if best.len() < limit && seen.insert((f.session.clone(), f.message.clone())) {
            best.push(f);
        }
    }
    best
}

/// How many index entries bm25 may count, all the query's elements together. Counting them
/// here reads at most as many (a few ms at most).
const RANK_COUNTS_AT_MOST: i64 = 60_000;

/// Whether every element of the query together is in at most `at_most` index entries (each is
/// counted up to what is left).
pub(super) fn cheap_to_rank(c: &Connection, q: &Query, at_most: i64) -> Result<bool, StoreError> {
    let mut left = at_most;
    for element in &q.elements {
        let n: i64 = c
            .prepare_cached(
                "SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 LIMIT ?2)",
            )?
            .query_row(params![element, left + 1], |r| r.get(0))?;
        if n > left {
            return Ok(false);
        }
        left -= n;
    }
    Ok(true)
}

/// How long the newest-first pass may read the index (on the bench database's worst searches
/// allowed, the whole search then takes at most ~45 ms: docs/PERFORMANCE.md).
const FIRST_PASS_AT_MOST: Duration = Duration::from_millis(30);

/// Why a search stopped.
const TOO_COSTLY: &str = "This search takes too long: its words are in most messages but seldom \
     together. Add a rarer word, or leave some of them out.";

/// The newest `want` matches of the query (`sql` from `FROM`, with `args`), newest first, and
/// whether it was stopped before them: the query is interrupted once [`FIRST_PASS_AT_MOST`]
/// has passed (FTS5 reads on until it finds a match, however far back that is), and the
/// newest matches found so far are all there is then.
fn newest_first(
    c: &Connection,
    sql: &str,
    args: &[Value],
    want: usize,
) -> Result<(Vec<(i64, Found)>, bool), StoreError> {
    let newest = format!(
        "SELECT d.id, d.session_id, d.message_id, d.idx, d.chunk, d.role, d.model, d.provider, d.at
         {sql} ORDER BY search_fts.rowid DESC LIMIT {want}"
    );
    let mut stmt = c.prepare_cached(&newest)?;
    let alarm = Alarm::set(c, FIRST_PASS_AT_MOST);
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
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
    });
    let mut found = Vec::new();
    let mut stopped = false;
    match rows {
        Ok(rows) => {
            for r in rows {
                match r {
                    Ok(f) => found.push(f),
                    Err(e) if interrupted(&e) => {
                        stopped = true;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Err(e) if interrupted(&e) => stopped = true,
        Err(e) => return Err(e.into()),
    }
    drop(alarm);
    Ok((found, stopped))
}

fn interrupted(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted)
}

/// Interrupts the connection's statement when `after` has passed, unless dropped first (on
/// every path out of the statement: a later one is never interrupted).
pub(super) struct Alarm {
    done: std::sync::Arc<std::sync::Mutex<bool>>,
    /// `None` when no thread could be started (the search then runs unbounded).
    thread: Option<std::thread::Thread>,
}

impl Alarm {
    pub(super) fn set(c: &Connection, after: Duration) -> Alarm {
        let handle = c.get_interrupt_handle();
        let done = std::sync::Arc::new(std::sync::Mutex::new(false));
        let flag = done.clone();
        let at = Instant::now() + after;
        let thread = std::thread::Builder::new()
            .name("parley-search-alarm".into())
            .spawn(move || loop {
                let now = Instant::now();
                // Under the lock: once dropped, no statement is interrupted (and SQLite clears
                // a flag set while none runs when the next one begins).
                let done = flag.lock().unwrap_or_else(|e| e.into_inner());
                if *done {
                    return;
                }
                if now >= at {
                    handle.interrupt();
                    return;
                }
                drop(done);
                std::thread::park_timeout(at - now);
            })
            .ok()
            .map(|t| t.thread().clone());
        Alarm { done, thread }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        if let Some(t) = &self.thread {
            t.unpark();
        }
    }
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
        chat_id: ChatId(f.session),
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

tables_door! {
    /// Search's query for the bench (which times it on a large database); no code outside
    /// `search` names it (`tests/suite/doors.rs`).
    #[doc(hidden)]
    pub trait SearchTables {
        fn search(&self, query: SearchQuery) -> Result<SearchResults, StoreError>;
    }
}
