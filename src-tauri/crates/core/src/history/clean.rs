//! Values from a file made inert (provisional; the `inert` branch brings the full rules).

/// A title from a file: the rules generated titles follow; "Imported chat" when nothing is left.
pub(crate) fn clean_title(raw: &str) -> String {
    crate::chats::clean_title(raw).unwrap_or_else(|| "Imported chat".to_owned())
}

/// Whether an id is in Parley's form: ASCII letters, digits, `-`, `_`, `:`, `.`; 1 to 128.
pub(crate) fn is_clean_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}
