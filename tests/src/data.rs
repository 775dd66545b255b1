//! Data sets at real sizes, written straight into a Parley database (schema from the store
//! itself): thousands of chats, chats of thousands of messages, answers of megabytes. Shared by
//! the real-window tests and `cargo xtask bench`.

use rusqlite::params;
use std::path::Path;

/// The database file of a data folder, created with the current schema.
pub fn database(data_dir: &Path) -> std::path::PathBuf {
    let path = data_dir.join("parley.db");
    drop(parley_core::open_store(&path).expect("create the database"));
    path
}

/// Adds `n` chats titled `Chat 0000` … (the highest number the most recent), each with one
/// question and one answer. Returns their ids, oldest first.
pub fn chats(data_dir: &Path, n: usize) -> Vec<String> {
    let c = rusqlite::Connection::open(database(data_dir)).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN;").unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let sid = format!("chat-{i:06}");
        let t = 1_700_000_000_000i64 + i as i64 * 60_000;
        c.execute(
            "INSERT INTO sessions(id, title, created_at, updated_at, head_message_id, message_count)
             VALUES (?1, ?2, ?3, ?3, ?4, 2)",
            params![sid, format!("Chat {i:04}"), t, format!("{sid}-a")],
        )
        .unwrap();
        message(&c, &sid, &format!("{sid}-q"), None, "user", t, "A question");
        message(
            &c,
            &sid,
            &format!("{sid}-a"),
            Some(&format!("{sid}-q")),
            "assistant",
            t + 1,
            "An answer",
        );
        ids.push(sid);
    }
    c.execute_batch("COMMIT;").unwrap();
    ids
}

/// Adds one chat of `n` messages (user and assistant in turn), the text of message `i`
/// (0-based) given by `text`. Returns the message ids, oldest first.
pub fn long_chat(
    data_dir: &Path,
    sid: &str,
    title: &str,
    n: usize,
    text: impl Fn(usize) -> String,
) -> Vec<String> {
    let c = rusqlite::Connection::open(database(data_dir)).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN;").unwrap();
    let t0 = 1_800_000_000_000i64;
    c.execute(
        "INSERT INTO sessions(id, title, created_at, updated_at, message_count) VALUES (?1, ?2, ?3, ?3, ?4)",
        params![sid, title, t0, n as i64],
    )
    .unwrap();
    let mut ids = Vec::with_capacity(n);
    let mut parent: Option<String> = None;
    for i in 0..n {
        let id = format!("{sid}-m{i:06}");
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        message(
            &c,
            sid,
            &id,
            parent.as_deref(),
            role,
            t0 + i as i64,
            &text(i),
        );
        parent = Some(id.clone());
        ids.push(id);
    }
    c.execute(
        "UPDATE sessions SET head_message_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![sid, parent, t0 + n as i64],
    )
    .unwrap();
    c.execute_batch("COMMIT;").unwrap();
    ids
}

fn message(
    c: &rusqlite::Connection,
    sid: &str,
    id: &str,
    parent: Option<&str>,
    role: &str,
    at: i64,
    text: &str,
) {
    let (provider, model) = if role == "assistant" {
        (Some("local"), Some("smol"))
    } else {
        (None, None)
    };
    c.prepare_cached(
        "INSERT INTO messages(id, session_id, parent_id, role, provider, model, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .unwrap()
    .execute(params![id, sid, parent, role, provider, model, at])
    .unwrap();
    c.prepare_cached("INSERT INTO parts(message_id, idx, kind, body) VALUES (?1, 0, 'text', ?2)")
        .unwrap()
        .execute(params![id, text])
        .unwrap();
}

/// Message `i` of a long technical chat: short questions; answers mostly short with a list,
/// every tenth one ~3 KB of markdown with code.
pub fn chat_line(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("Question {i}: how does step {i} work?")
    } else if i % 20 == 1 {
        format!("Answer {i}.\n\n{}", long_markdown(3000))
    } else {
        format!("Answer {i}: it doubles the value and adds **{i}**.\n\n- one\n- two\n")
    }
}

/// Markdown of about `bytes` bytes: paragraphs, lists and code, like a long technical answer.
pub fn long_markdown(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 512);
    let mut i = 0;
    while out.len() < bytes {
        match i % 5 {
            0 => out.push_str(&format!("## Section {i}\n\n")),
            1 => out.push_str("This paragraph explains the step in some detail, with **bold** words, `inline code` and a [link](https://example.com/docs) to read further.\n\n"),
            2 => out.push_str("- first point of the list\n- second point, a little longer\n- third\n\n"),
            3 => out.push_str(&format!("```rust\nfn step_{i}(x: u32) -> u32 {{\n    x * 2 + {i}\n}}\n```\n\n")),
            _ => out.push_str("Another paragraph of plain prose that carries the explanation forward and ends here.\n\n"),
        }
        i += 1;
    }
    out
}

/// Distinct test pictures of `w`×`h` with varied content (gradients, rings, stripes, noise),
/// encoded as PNG (even `k`) or JPEG (odd `k`): (bytes, MIME type).
pub fn picture(k: usize, w: u32, h: u32) -> (Vec<u8>, &'static str) {
    let k32 = k as u32;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (cx, cy) = (x as i64 - w as i64 / 2, y as i64 - h as i64 / 2);
        let ring = ((cx * cx + cy * cy) as f64).sqrt() as u32 / (8 + 4 * k32);
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ k32) % 32;
        image::Rgb([
            ((x * 255 / w.max(1)) as u8).wrapping_add((k32 * 60) as u8),
            ((y * 255 / h.max(1)) as u8) ^ ((ring % 2) as u8 * 90),
            (((x / (16 + k32)) + (y / 24)) % 2 * 120 + noise) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let (format, mime) = if k.is_multiple_of(2) {
        (image::ImageFormat::Png, "image/png")
    } else {
        (image::ImageFormat::Jpeg, "image/jpeg")
    };
    img.write_to(&mut out, format)
        .expect("encode a test picture");
    (out.into_inner(), mime)
}

/// Gives every `every`-th user message of a chat seeded by `long_chat` (its ids, oldest first)
/// an image after its text (part idx 1), as attaching one stores it: `distinct` pictures of
/// 1200×800 stored once each (blob and thumbnail rows), reused in turn. Returns how many
/// messages got one.
pub fn images_in_chat(data_dir: &Path, ids: &[String], every: usize, distinct: usize) -> usize {
    let c = rusqlite::Connection::open(database(data_dir)).unwrap();
    parley_core::search::register(&c).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN;").unwrap();
    let mut metas = Vec::new();
    for k in 0..distinct.max(1) {
        let (bytes, mime) = picture(k, 1200, 800);
        let sha = parley_core::attachments::sha256_hex(&bytes);
        let thumb = image::load_from_memory(&bytes)
            .expect("decode a test picture")
            .thumbnail(256, 256);
        let mut png = std::io::Cursor::new(Vec::new());
        thumb
            .write_to(&mut png, image::ImageFormat::Png)
            .expect("encode a thumbnail");
        c.execute(
            "INSERT OR IGNORE INTO attachment_blobs(sha256, mime, width, height, size, created_at, attached_at, bytes)
             VALUES (?1, ?2, 1200, 800, ?3, 1800000000000, 1800000000000, ?4)",
            params![sha, mime, bytes.len() as i64, bytes],
        )
        .unwrap();
        c.execute(
            "INSERT OR IGNORE INTO attachment_thumbnails(sha256, png) VALUES (?1, ?2)",
            params![sha, png.into_inner()],
        )
        .unwrap();
        let ext = if mime == "image/png" { "png" } else { "jpg" };
        let meta = serde_json::json!({
            "mime": mime, "name": format!("picture-{k}.{ext}"),
            "width": 1200, "height": 800, "size": bytes.len(),
        });
        metas.push((sha, meta.to_string()));
    }
    let mut n = 0;
    for (i, id) in ids.iter().enumerate().step_by(2) {
        if !(i / 2).is_multiple_of(every.max(1)) {
            continue;
        }
        let (sha, meta) = &metas[n % metas.len()];
        c.prepare_cached(
            "INSERT INTO parts(message_id, idx, kind, body, meta) VALUES (?1, 1, 'image', ?2, ?3)",
        )
        .unwrap()
        .execute(params![id, sha, meta])
        .unwrap();
        n += 1;
    }
    c.execute_batch("COMMIT;").unwrap();
    n
}
