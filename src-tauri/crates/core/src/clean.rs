//! What a file says, made fit to be a chat's title or an id here. A title from a file follows
//! the rules every title follows (generated ones in `chats/titles.rs`, first words in
//! `chats/store.rs`): one line, nothing a reader cannot see — no control characters (C0, C1,
//! escape sequences), no bidi embeddings, overrides, isolates or marks, no zero-width or other
//! invisible formatting (the shared table, `parley_protocol::visible`) — and at most
//! [`MAX_TITLE`] characters. An id is never altered (two ids must never become one): it is
//! taken when it is made of a strict set of characters, else refused.

use parley_protocol::visible::is_hidden;

/// The longest title kept (longer ones are cut and end with `…`).
pub(crate) const MAX_TITLE: usize = 80;
/// The title of a chat whose title is empty once cleaned.
pub(crate) const UNTITLED: &str = "New chat";
/// The longest id taken from a file.
pub(crate) const MAX_ID: usize = 128;

/// `s` on one line with nothing a reader cannot see: each run of whitespace of any kind (line
/// breaks, tabs, no-break and ideographic spaces, line separators) becomes one space; control
/// and invisible characters are dropped; no space at either end.
pub(crate) fn visible_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if !c.is_control() && !is_hidden(c) {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `s`; a cut one ends with `…`.
pub(crate) fn cap(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// A title read from a file, fit to be shown: [`visible_line`], at most [`MAX_TITLE`]
/// characters, [`UNTITLED`] when nothing is left.
pub(crate) fn clean_title(raw: &str) -> String {
    let line = visible_line(raw);
    if line.is_empty() {
        return UNTITLED.to_owned();
    }
    cap(&line, MAX_TITLE)
}

/// Whether `id` is made only of ASCII letters, digits, `-`, `_`, `:` and `.`, and is 1 to
/// [`MAX_ID`] characters long (every id Parley makes is: uuid v7 strings, `chatgpt-<id>`,
/// `claude-<uuid>`).
pub(crate) fn is_clean_id(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

/// `id` when it [`is_clean_id`], unchanged; `None` otherwise (the caller gives a fresh id).
/// Never repaired: two different ids in a file must not become the same id here.
pub(crate) fn clean_id(id: &str) -> Option<String> {
    is_clean_id(id).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an attacker can put in a title, and what is shown of it.
    #[test]
    fn titles_from_a_file_are_one_visible_line() {
        let cases: &[(&str, &str)] = &[
            ("Meeting notes", "Meeting notes"),
            ("  padded  ", "padded"),
            ("two\nlines\r\nhere", "two lines here"),
            ("tab\there", "tab here"),
            ("a\u{2028}b\u{2029}c\u{85}d", "a b c d"),
            (
                "wide\u{3000}space\u{a0}nbsp\u{202f}narrow",
                "wide space nbsp narrow",
            ),
            ("\u{1b}[2Jerased", "[2Jerased"),
            (
                "\u{1b}]52;c;Y3VybCB4fHNo\u{7}clip",
                "]52;c;Y3VybCB4fHNoclip",
            ),
            ("\u{1b}[8mconcealed\u{1b}[0m", "[8mconcealed[0m"),
            ("\u{9b}2J\u{9d}0;t\u{9c}c1", "2J0;tc1"),
            ("bell\u{7}back\u{8}\u{8}space\u{7f}", "bellbackspace"),
            ("carriage\rreturn", "carriage return"),
            ("invoice\u{202e}fdp.exe", "invoicefdp.exe"),
            ("\u{202a}\u{202b}\u{202c}\u{202d}emb", "emb"),
            ("\u{2066}\u{2067}\u{2068}iso\u{2069}", "iso"),
            ("l\u{200e}r\u{200f}a\u{61c}m", "lram"),
            (
                "zero\u{200b}width\u{200c}non\u{200d}joiner\u{2060}",
                "zerowidthnonjoiner",
            ),
            ("\u{feff}bom", "bom"),
            ("soft\u{ad}hyphen", "softhyphen"),
            ("\u{e0041}\u{e0042}tags", "tags"),
            ("vs\u{fe0f}\u{e0100}", "vs"),
            ("\u{115f}\u{3164}\u{ffa0}filler", "filler"),
            ("nul\u{0}byte", "nulbyte"),
            ("東京旅行の計画", "東京旅行の計画"),
            ("مرحبا بالعالم", "مرحبا بالعالم"),
            ("é (e\u{301})", "é (e\u{301})"),
            ("", UNTITLED),
            ("   \n\t ", UNTITLED),
            ("\u{202e}\u{200b}\u{1b}\u{7}", UNTITLED),
        ];
        for (raw, want) in cases {
            let got = clean_title(raw);
            assert_eq!(&got, want, "{raw:?}");
            assert!(
                !got.chars().any(|c| c.is_control() || is_hidden(c)),
                "{raw:?} -> {got:?}"
            );
        }
        let long = clean_title(&"word ".repeat(100));
        assert_eq!(long.chars().count(), MAX_TITLE + 1);
        assert!(long.ends_with('…'));
        // Cutting counts characters, not bytes: no multi-byte character is split.
        let wide = clean_title(&"語".repeat(200));
        assert_eq!(wide, format!("{}…", "語".repeat(MAX_TITLE)));
        assert_eq!(clean_title(&"x".repeat(MAX_TITLE)), "x".repeat(MAX_TITLE));
    }

    #[test]
    fn ids_are_taken_only_in_a_strict_character_set() {
        let made_here = [
            crate::new_id(),
            crate::new_id(),
            "chatgpt-6751c4d2-7f30-8005-a5a1-d0c8e3f0c3a1".to_owned(),
            "chatgpt-client-created-root".to_owned(),
            "chatgpt-aaa-bbb-ccc".to_owned(),
            "claude-28d595a3-5db0-492d-a49a-af74f13de505".to_owned(),
            "a".to_owned(),
            "x".repeat(MAX_ID),
            "ns:chat.v2_1".to_owned(),
        ];
        for id in &made_here {
            assert!(is_clean_id(id), "{id:?}");
            assert_eq!(clean_id(id).as_deref(), Some(id.as_str()));
        }
        let hostile = [
            String::new(),
            "x".repeat(MAX_ID + 1),
            "\u{1b}[2J".into(),
            "id\u{1b}]52;c;eA==\u{7}".into(),
            "id\u{9b}31m".into(),
            "abc\u{202e}fed".into(),
            "a\u{2066}b".into(),
            "a\u{200b}b".into(),
            "a\u{200d}b".into(),
            "tab\tid".into(),
            "new\nline".into(),
            "cr\rid".into(),
            "back\u{8}space".into(),
            "nul\u{0}".into(),
            "with space".into(),
            "../../etc/passwd".into(),
            "a/b".into(),
            "a\\b".into(),
            "quote\"d".into(),
            "semi;colon".into(),
            "percent%20".into(),
            "ｆｕｌｌｗｉｄｔｈ".into(),
            "café".into(),
            "ѕcam".into(),
            "emoji😀".into(),
            "tag\u{e0041}".into(),
            "\u{feff}bom".into(),
            "a\u{a0}b".into(),
        ];
        for id in &hostile {
            assert!(!is_clean_id(id), "{id:?}");
            assert_eq!(clean_id(id), None, "{id:?}");
        }
    }

    #[test]
    fn visible_line_and_cap_are_what_the_title_rules_share() {
        assert_eq!(visible_line(" \u{1b}a \n\n b\u{200b} "), "a b");
        assert_eq!(cap("abc", 2), "ab…");
        assert_eq!(cap("ab", 2), "ab");
        assert_eq!(cap("", 0), "");
    }
}
