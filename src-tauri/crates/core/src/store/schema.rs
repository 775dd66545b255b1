//! The schema, as an ordered list of migrations. Migration N sets `PRAGMA user_version = N`
//! in the same transaction as its DDL, so a crash mid-migration leaves the previous version.

/// Each entry upgrades the schema by one version; index 0 is version 1.
pub const MIGRATIONS: &[&str] = &[
    // v1: sessions, the message tree, typed parts, turns, providers, settings.
    r#"
    CREATE TABLE sessions (
        id              TEXT PRIMARY KEY,
        title           TEXT NOT NULL DEFAULT '',
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        head_message_id TEXT,
        message_count   INTEGER NOT NULL DEFAULT 0,
        provider        TEXT,
        model           TEXT,
        system_prompt   TEXT
    );
    CREATE INDEX sessions_by_activity ON sessions(updated_at DESC, id DESC);

    -- A conversation is a tree: parent_id links each message to the one it follows.
    CREATE TABLE messages (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        parent_id   TEXT REFERENCES messages(id) ON DELETE CASCADE,
        role        TEXT NOT NULL,
        turn_id     TEXT,
        provider    TEXT,
        model       TEXT,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX messages_by_session ON messages(session_id, created_at);
    CREATE INDEX messages_by_parent ON messages(parent_id);

    -- Parts in order. `body` holds the growing text (text, reasoning, tool arguments, tool
    -- output) so streaming appends touch one small row; `meta` holds the other fields as JSON.
    CREATE TABLE parts (
        message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        body        TEXT NOT NULL DEFAULT '',
        meta        TEXT,
        PRIMARY KEY (message_id, idx)
    ) WITHOUT ROWID;

    CREATE TABLE turns (
        id                   TEXT PRIMARY KEY,
        session_id           TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        user_message_id      TEXT NOT NULL,
        assistant_message_id TEXT,
        status               TEXT NOT NULL,
        owner                TEXT,
        provider             TEXT,
        model                TEXT,
        started_at           INTEGER NOT NULL,
        ended_at             INTEGER,
        usage                TEXT,
        stop_reason          TEXT,
        finish_reason_raw    TEXT,
        error                TEXT
    );
    CREATE INDEX turns_by_session ON turns(session_id, started_at);
    CREATE INDEX turns_active ON turns(status) WHERE status IN ('pending', 'streaming');

    -- Provider configuration. The API key is NOT here: only the host it was saved for.
    CREATE TABLE providers (
        name          TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        base_url      TEXT NOT NULL,
        default_model TEXT,
        key_host      TEXT,
        created_at    INTEGER NOT NULL
    );

    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // v2: per-session generation settings; each provider's model list, cached.
    r#"
    ALTER TABLE sessions ADD COLUMN params TEXT;

    CREATE TABLE model_lists (
        provider    TEXT PRIMARY KEY REFERENCES providers(name) ON DELETE CASCADE ON UPDATE CASCADE,
        models      TEXT NOT NULL,
        fetched_at  INTEGER,
        error       TEXT
    );
    "#,
    // v3: "always allow" grants (exact tool + canonical arguments); assistants.
    r#"
    CREATE TABLE grants (
        id          INTEGER PRIMARY KEY,
        tool        TEXT NOT NULL,
        arguments   TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        UNIQUE (tool, arguments)
    );

    CREATE TABLE assistants (
        id          TEXT PRIMARY KEY,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    "#,
    // v4: where the model's view of a long chat began (older messages left out of a request).
    r#"
    ALTER TABLE turns ADD COLUMN context_from TEXT;
    "#,
    // v5: a grant belongs to the workspace it was given in (its canonical root). Grants saved
    // before keep an empty workspace: listed, revocable, and applied nowhere.
    r#"
    CREATE TABLE grants_v5 (
        id          INTEGER PRIMARY KEY,
        workspace   TEXT NOT NULL,
        tool        TEXT NOT NULL,
        arguments   TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        UNIQUE (workspace, tool, arguments)
    );
    INSERT INTO grants_v5(id, workspace, tool, arguments, created_at)
        SELECT id, '', tool, arguments, created_at FROM grants;
    DROP TABLE grants;
    ALTER TABLE grants_v5 RENAME TO grants;
    "#,
    // v6: streamed output is appended as chunk rows (each flush writes only its new bytes), so a
    // long answer is not rewritten on every flush. A part's text is its body followed by its
    // chunks in `id` order (a new row's id is above every existing one); short parts are folded
    // into the body when their turn ends. A rowid table keeps a flush of up to ~4 KB in its
    // leaf page (an index-organized one spills anything over ~1 KB to an overflow page).
    r#"
    CREATE TABLE part_chunks (
        id          INTEGER PRIMARY KEY,
        message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,
        body        TEXT NOT NULL
    );
    CREATE INDEX part_chunks_by_part ON part_chunks(message_id, idx, id);
    "#,
    // v7: the conversation is a tree the user steers. `revision` counts every change to a chat
    // (a change made on an older one is refused); pinned and archived chats; where a chat was
    // branched from; whether its title was written by the user (a generated one never
    // replaces it).
    r#"
    ALTER TABLE sessions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN forked_from_session TEXT;
    ALTER TABLE sessions ADD COLUMN forked_from_message TEXT;
    ALTER TABLE sessions ADD COLUMN title_source TEXT NOT NULL DEFAULT 'first-words';
    CREATE TABLE session_changes (
        session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        revision    INTEGER NOT NULL,
        what        TEXT NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (session_id, revision)
    ) WITHOUT ROWID;
    "#,
    // v8: full-text search. Every text a chat holds — titles, message text, reasoning, tool
    // calls (name and arguments), tool results, attached files' text — is in `search_fts`,
    // kept current in the same transaction as the write: by triggers for titles and parts
    // (an edit replaces its entry, a deleted chat leaves nothing), and for streamed chunks by
    // the journal (`search::index_streamed`): a part's streamed text is indexed in pieces — at
    // once for its first flush, then when 64 KB are waiting or a second has passed, and the
    // rest when the turn ends — since an index entry per flush would write ~40 KB of pages
    // per flush. A piece begins with the end of the text before it, so a word a flush cut in
    // two is found whole.
    // The index keeps no copy of the text (`content=''`): `search_docs` says where each entry
    // came from (a part's own row, the streamed chunks up to `chunk` after the previous
    // entry's, or the chat's title), with its message's role, model, provider and time
    // (filters read one row per match), and snippets are cut from the stored text.
    // `parley_search_text` (registered on every connection Parley opens) puts a space between
    // CJK characters, which are written without spaces, and prefixes a tool call's name. The
    // schema's SQL stays readable by older SQLite tools (no `group_concat(... ORDER BY ...)`):
    // an older `sqlite3` that cannot parse a trigger cannot open the file at all.
    r#"
    CREATE TABLE search_docs (
        id          INTEGER PRIMARY KEY,
        session_id  TEXT NOT NULL,
        message_id  TEXT,
        idx         INTEGER,
        chunk       INTEGER,
        role        TEXT,
        model       TEXT,
        provider    TEXT,
        at          INTEGER,
        written     INTEGER
    );
    -- Two indexes, as every streamed flush writes a leaf page of each: a part's entries (its
    -- own row's, then its chunks'), and a chat's.
    CREATE INDEX search_docs_by_part ON search_docs(message_id, idx, chunk) WHERE message_id IS NOT NULL;
    CREATE INDEX search_docs_by_session ON search_docs(session_id, message_id);
    CREATE VIRTUAL TABLE search_fts USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 16);
    CREATE TRIGGER search_docs_gone AFTER DELETE ON search_docs BEGIN
        DELETE FROM search_fts WHERE rowid = old.id;
    END;

    CREATE TRIGGER search_part_added AFTER INSERT ON parts
    WHEN new.kind IN ('text', 'reasoning', 'tool_call', 'tool_result', 'file') BEGIN
        INSERT INTO search_docs(session_id, message_id, idx, role, model, provider, at)
            SELECT session_id, new.message_id, new.idx, role, model, provider, created_at
            FROM messages WHERE id = new.message_id;
        INSERT INTO search_fts(rowid, text)
            VALUES (last_insert_rowid(), parley_search_text(new.kind, new.body, new.meta, NULL));
    END;
    CREATE TRIGGER search_part_changing BEFORE UPDATE OF kind, body, meta ON parts BEGIN
        DELETE FROM search_docs
            WHERE message_id = old.message_id AND idx = old.idx AND chunk IS NULL;
    END;
    CREATE TRIGGER search_part_changed AFTER UPDATE OF kind, body, meta ON parts
    WHEN new.kind IN ('text', 'reasoning', 'tool_call', 'tool_result', 'file') BEGIN
        INSERT INTO search_docs(session_id, message_id, idx, role, model, provider, at)
            SELECT session_id, new.message_id, new.idx, role, model, provider, created_at
            FROM messages WHERE id = new.message_id;
        INSERT INTO search_fts(rowid, text)
            VALUES (last_insert_rowid(), parley_search_text(new.kind, new.body, new.meta, NULL));
    END;
    CREATE TRIGGER search_part_gone AFTER DELETE ON parts BEGIN
        DELETE FROM search_docs
            WHERE message_id = old.message_id AND idx = old.idx AND chunk IS NULL;
    END;

    CREATE TRIGGER search_chunk_gone AFTER DELETE ON part_chunks BEGIN
        DELETE FROM search_docs
            WHERE message_id = old.message_id AND idx = old.idx AND chunk = old.id;
    END;

    CREATE TRIGGER search_message_gone AFTER DELETE ON messages BEGIN
        DELETE FROM search_docs WHERE message_id = old.id;
    END;

    CREATE TRIGGER search_title_added AFTER INSERT ON sessions WHEN new.title <> '' BEGIN
        INSERT INTO search_docs(session_id) VALUES (new.id);
        INSERT INTO search_fts(rowid, text)
            VALUES (last_insert_rowid(), parley_search_text(NULL, new.title, NULL, NULL));
    END;
    CREATE TRIGGER search_title_changing BEFORE UPDATE OF title ON sessions BEGIN
        DELETE FROM search_docs WHERE session_id = old.id AND message_id IS NULL;
    END;
    CREATE TRIGGER search_title_changed AFTER UPDATE OF title ON sessions
    WHEN new.title <> '' BEGIN
        INSERT INTO search_docs(session_id) VALUES (new.id);
        INSERT INTO search_fts(rowid, text)
            VALUES (last_insert_rowid(), parley_search_text(NULL, new.title, NULL, NULL));
    END;
    CREATE TRIGGER search_chat_gone AFTER DELETE ON sessions BEGIN
        DELETE FROM search_docs WHERE session_id = old.id;
    END;

    -- What is already there.
    INSERT INTO search_docs(session_id) SELECT id FROM sessions WHERE title <> '';
    INSERT INTO search_fts(rowid, text)
        SELECT d.id, parley_search_text(NULL, s.title, NULL, NULL)
        FROM search_docs d JOIN sessions s ON s.id = d.session_id;
    INSERT INTO search_docs(session_id, message_id, idx, role, model, provider, at)
        SELECT m.session_id, p.message_id, p.idx, m.role, m.model, m.provider, m.created_at
        FROM parts p JOIN messages m ON m.id = p.message_id
        WHERE p.kind IN ('text', 'reasoning', 'tool_call', 'tool_result', 'file');
    INSERT INTO search_fts(rowid, text)
        SELECT d.id, parley_search_text(p.kind, p.body, p.meta, NULL)
        FROM search_docs d JOIN parts p ON p.message_id = d.message_id AND p.idx = d.idx
        WHERE d.chunk IS NULL;
    INSERT INTO search_docs(session_id, message_id, idx, chunk, role, model, provider, at)
        SELECT m.session_id, c.message_id, c.idx, c.id, m.role, m.model, m.provider, m.created_at
        FROM part_chunks c
        JOIN messages m ON m.id = c.message_id ORDER BY c.id;
    INSERT INTO search_fts(rowid, text)
        SELECT d.id, parley_search_text(NULL, c.body, NULL,
            coalesce((SELECT p.body FROM parts p WHERE p.message_id = c.message_id AND p.idx = c.idx), '')
            || coalesce((SELECT group_concat(body, '') FROM (SELECT body FROM (
                   SELECT b.id, b.body FROM part_chunks b WHERE b.message_id = c.message_id
                       AND b.idx = c.idx AND b.id < c.id ORDER BY b.id DESC LIMIT 8) ORDER BY id)), ''))
        FROM search_docs d JOIN part_chunks c ON c.id = d.chunk;
    "#,
    // v9: answers that came with a chat from a file (an import or a restore) are marked: their
    // usage is what the file said, kept apart from the user's own and out of costs unless
    // included.
    // And the index keeps every word's first two and first three characters too (`prefix`),
    // so a prefix search (`ka*`) reads one list instead of merging the lists of the thousands
    // of words it stands for (docs/PERFORMANCE.md, search caps). FTS5 cannot add them to an
    // index that exists, and a contentless one cannot rebuild itself: the index is made anew
    // and every entry of `search_docs` (ids kept) indexed again from the stored text, as v8
    // and `search::index_streamed` indexed it — a title; a part; a streamed piece, the chunks
    // after the part's previous piece up to its own, after the end of the text before them.
    r#"
    ALTER TABLE turns ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;

    DROP TABLE search_fts;
    CREATE VIRTUAL TABLE search_fts USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2',
        prefix = '2 3'
    );
    INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 16);
    INSERT INTO search_fts(rowid, text)
        SELECT d.id, parley_search_text(NULL, s.title, NULL, NULL)
        FROM search_docs d JOIN sessions s ON s.id = d.session_id
        WHERE d.message_id IS NULL;
    INSERT INTO search_fts(rowid, text)
        SELECT d.id, parley_search_text(p.kind, p.body, p.meta, NULL)
        FROM search_docs d JOIN parts p ON p.message_id = d.message_id AND p.idx = d.idx
        WHERE d.chunk IS NULL;
    INSERT INTO search_fts(rowid, text)
        SELECT id, parley_search_text(NULL,
            coalesce((SELECT group_concat(body, '') FROM (SELECT body FROM part_chunks b
                WHERE b.message_id = e.message_id AND b.idx = e.idx
                    AND b.id > e.done AND b.id <= e.chunk ORDER BY b.id)), ''),
            NULL,
            coalesce((SELECT p.body FROM parts p WHERE p.message_id = e.message_id AND p.idx = e.idx), '')
            || coalesce((SELECT group_concat(body, '') FROM (SELECT body FROM (
                   SELECT b.id, b.body FROM part_chunks b WHERE b.message_id = e.message_id
                       AND b.idx = e.idx AND b.id <= e.done ORDER BY b.id DESC LIMIT 8) ORDER BY id)), ''))
        FROM (SELECT d.id, d.message_id, d.idx, d.chunk,
                  coalesce((SELECT max(x.chunk) FROM search_docs x WHERE x.message_id = d.message_id
                      AND x.idx = d.idx AND x.chunk < d.chunk), 0) AS done
              FROM search_docs d WHERE d.chunk IS NOT NULL) e;
    "#,
    // v10: attachments (the attachments topic's tables). An attached image's bytes are
    // stored once, addressed by their SHA-256 (lowercase hex), whichever messages show it: a
    // message's image part holds the address as its body (`kind = 'image'`). `attached_at` is
    // when the bytes were last attached or sent: bytes no part refers to are removed after a
    // grace period counted from it (`attachments::gc`), so an image attached but not yet sent
    // survives until it is. The bytes are the row's last column: reading an image's details
    // never touches their pages. Thumbnails (PNG) are a cache, made again when missing.
    // Image parts are indexed by address (a partial index: only image rows), so the clean-up
    // reads the image parts, never every part.
    // Image rows written before (body = base64, meta = the MIME type) are moved into
    // `attachment_blobs` by `attachments::gc::convert_inline` at the next start, through the
    // same checks as an attached file.
    r#"
    CREATE TABLE attachment_blobs (
        sha256      TEXT PRIMARY KEY,
        mime        TEXT NOT NULL,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        size        INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        attached_at INTEGER NOT NULL,
        bytes       BLOB NOT NULL
    );
    CREATE TABLE attachment_thumbnails (
        sha256      TEXT PRIMARY KEY REFERENCES attachment_blobs(sha256) ON DELETE CASCADE,
        png         BLOB NOT NULL
    );
    CREATE INDEX parts_images ON parts(body) WHERE kind = 'image';
    "#,
    // v11: MCP servers (`mcp`): the configuration as JSON, names unique without regard to case.
    // The values of their environment variables and headers are in the keychain, never here.
    // Each tool's pinned definition (`mcp::pins`): the SHA-256 of its name, title, description,
    // schemas and hints when it was first seen or last accepted, and that definition, so that
    // a change can be shown before it is accepted.
    r#"
    CREATE TABLE mcp_servers (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE mcp_tool_pins (
        server_id   TEXT NOT NULL REFERENCES mcp_servers(id) ON DELETE CASCADE,
        tool        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        definition  TEXT NOT NULL,
        pinned_at   INTEGER NOT NULL,
        PRIMARY KEY (server_id, tool)
    );
    "#,
    // v12: local models (`models`): each installed model's description as JSON (its file is
    // used in place, or is in Parley's models folder when downloaded), and the built-in
    // engine's settings.
    r#"
    CREATE TABLE local_models (
        name        TEXT PRIMARY KEY COLLATE NOCASE,
        path        TEXT NOT NULL,
        body        TEXT NOT NULL,
        added_at    INTEGER NOT NULL
    );
    CREATE TABLE engine_settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );
    "#,
    // v13: the outbound ledger (`ledger`): one row per network request Parley made (when, the
    // host, why, what caused it, the bytes each way, how it ended; never a body or a key),
    // written as it leaves and completed when it ends (`token` pairs the two), the newest
    // 20,000 kept.
    r#"
    CREATE TABLE outbound (
        id          INTEGER PRIMARY KEY,
        token       INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        host        TEXT NOT NULL,
        method      TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        cause       TEXT NOT NULL,
        bytes_up    INTEGER NOT NULL,
        bytes_down  INTEGER NOT NULL,
        status      INTEGER,
        error       TEXT
    );
    CREATE INDEX outbound_at ON outbound(at);
    CREATE INDEX outbound_token ON outbound(token);
    "#,
    // v14: saved prompts (`prompts`): a name (unique without regard to case) and a text with
    // `{{variables}}`, reached with `/` in the composer and `parley prompts`.
    r#"
    CREATE TABLE prompts (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    "#,
    // v15: the queue (`queue`): messages typed while a chat answers, sent in `seq` order as
    // its turns end; gone with their chat.
    r#"
    CREATE TABLE queued_messages (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        text        TEXT NOT NULL,
        provider    TEXT,
        model       TEXT,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX queued_by_chat ON queued_messages(session_id, seq);
    "#,
    // v16: web search (`websearch`): the one backend the `web_search` tool uses (none: off);
    // its key, if any, is in the keychain, bound to `key_host`.
    r#"
    CREATE TABLE web_search (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        kind        TEXT NOT NULL,
        url         TEXT NOT NULL,
        key_host    TEXT,
        updated_at  INTEGER NOT NULL
    );
    "#,
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
