//! The text the index sees and the query it is asked (the snippet shown for a match is in
//! `snippet.rs`).
//!
//! The index's tokenizer (`unicode61`, diacritics removed) splits words at spaces and
//! punctuation. Chinese and Japanese are not written with spaces, so each of their characters
//! (and each Hangul syllable) is made a word of its own before indexing: a search for "東京"
//! is then the phrase "東 京", found wherever the two stand together.

use std::borrow::Cow;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Characters indexed one by one: CJK ideographs, kana, Hangul, bopomofo.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3040..=0x30FF | 0x3100..=0x312F | 0x3130..=0x318F
        | 0x31A0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F | 0x20000..=0x3134F)
}

/// `text` with a space between a CJK character and the word character next to it.
pub fn spaced(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(is_cjk) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = prev {
            if (is_cjk(c) && p.is_alphanumeric()) || (is_cjk(p) && c.is_alphanumeric()) {
                out.push(' ');
            }
        }
        out.push(c);
        prev = Some(c);
    }
    Cow::Owned(out)
}

/// How many bytes of the previous chunk a streamed chunk is indexed with: a word (or a short
/// phrase) cut by a flush is found whole in the next chunk's entry.
const CARRY_BYTES: usize = 160;

/// The words the index keeps for a part (or a piece of its streamed text), as indexed: the
/// text of [`searchable`] with CJK characters spaced.
pub fn index_text(
    kind: Option<&str>,
    body: &str,
    meta: Option<&str>,
    before: Option<&str>,
) -> String {
    if kind != Some("tool_call") && before.is_none() {
        return spaced(body).into_owned();
    }
    spaced(&searchable(kind, body, meta, before)).into_owned()
}

/// The text an index entry stands for (snippets are cut from it): a tool call's name before
/// its arguments; a piece of streamed text after the end of the text before it.
pub fn searchable(
    kind: Option<&str>,
    body: &str,
    meta: Option<&str>,
    before: Option<&str>,
) -> String {
    let mut text = String::new();
    if kind == Some("tool_call") {
        if let Some(name) = meta
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        {
            text.push_str(&name);
            text.push(' ');
        }
    }
    if let Some(before) = before {
        text.push_str(carry(before));
    }
    text.push_str(body);
    text
}

/// The end of `before` worth repeating: its last `CARRY_BYTES`, from a word's start.
pub fn carry(before: &str) -> &str {
    if before.len() <= CARRY_BYTES {
        return before;
    }
    let mut start = before.len() - CARRY_BYTES;
    while !before.is_char_boundary(start) {
        start += 1;
    }
    let tail = &before[start..];
    match tail.find(char::is_whitespace) {
        Some(i) => &tail[i..],
        None => tail,
    }
}

/// A search's words: what the index is asked, and what a snippet highlights.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The FTS5 expression. Every word is quoted, so nothing the user types is syntax.
    pub expression: String,
    /// The words to highlight (folded), and whether each is a prefix.
    pub terms: Vec<(Vec<char>, bool)>,
    /// Whether a wanted element is a phrase of several words (CJK characters are words).
    pub phrase: bool,
    /// Every word the index is asked for, wanted and excluded, each alone as an FTS5 string
    /// (the last word of a prefix with its `*`): counted before matches are ranked (`store.rs`).
    pub elements: Vec<String>,
    /// How many words the index is asked for, wanted and excluded (each CJK character is a
    /// word): see [`MAX_WORDS`].
    pub words: usize,
    /// How many of the elements are prefixes (`conf*`): see [`MAX_PREFIXES`].
    pub prefixes: usize,
    /// The first prefix shorter than [`MIN_PREFIX_CHARS`], as typed.
    pub short_prefix: Option<String>,
}

/// The most words one search may ask the index for (wanted and excluded; each CJK character is
/// a word). Each is a lookup in the index: 1,300 words or prefixes took seconds before this
/// cap. The costliest searches within it, of common words seldom found together, are stopped
/// at the time a search may take (`store.rs`; docs/PERFORMANCE.md).
pub const MAX_WORDS: usize = 32;
/// The most prefixes (`conf*`) one search may hold. A prefix of two or three characters is
/// looked up in the index's own lists of them (schema v9); a longer one is expanded to every
/// indexed word that starts with it, which only a long prefix keeps cheap.
pub const MAX_PREFIXES: usize = 2;
/// The fewest characters a prefix may have (a CJK character, a word of its own, may stand
/// alone): a one-letter prefix stands for a twentieth of all words, which the index merges
/// (`l*`: 210 ms on the bench database).
pub const MIN_PREFIX_CHARS: usize = 2;

impl Query {
    /// Why the index is not asked this query (too many words or prefixes, a prefix too short),
    /// as a sentence; `None` when it may be.
    pub fn too_big(&self) -> Option<String> {
        if self.prefixes > MAX_PREFIXES {
            return Some(format!(
                "A search can hold at most {MAX_PREFIXES} prefixes (words ending in *); this one has {}. Leave some out.",
                self.prefixes
            ));
        }
        if let Some(short) = &self.short_prefix {
            return Some(format!(
                "A prefix needs at least {MIN_PREFIX_CHARS} letters or digits before the *; \"{short}*\" has fewer. Type more of the word."
            ));
        }
        if self.words > MAX_WORDS {
            return Some(format!(
                "A search can hold at most {MAX_WORDS} words; this one has {}. Leave some out.",
                self.words
            ));
        }
        None
    }
}

/// Whether a prefix (as typed, without its `*`) is too short: its last word, as the index
/// splits it, has fewer than [`MIN_PREFIX_CHARS`] characters and is not a CJK character.
fn too_short(word: &str) -> bool {
    let spaced = spaced(word);
    let last = spaced
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or("");
    last.chars().count() < MIN_PREFIX_CHARS && !last.chars().any(is_cjk)
}

/// The query's next item: whether it is excluded (`-word`), the word or quoted phrase, whether
/// a `*` after it asks for a prefix, and what follows it.
fn next_item(rest: &str) -> (bool, &str, bool, &str) {
    let (negative, body) = match rest.strip_prefix('-') {
        Some(b) if !b.starts_with(char::is_whitespace) && !b.is_empty() => (true, b),
        _ => (false, rest),
    };
    let (word, after) = if let Some(inner) = body.strip_prefix('"') {
        match inner.find('"') {
            Some(end) => (&inner[..end], &inner[end + 1..]),
            None => (inner, ""),
        }
    } else {
        let end = body.find(char::is_whitespace).unwrap_or(body.len());
        (&body[..end], &body[end..])
    };
    // A `*` right after the word (or the phrase) asks for a prefix.
    match after.strip_prefix('*') {
        Some(a) => (negative, word, true, a),
        None => match word.strip_suffix('*') {
            Some(w) => (negative, w.trim_end_matches('*'), true, after),
            None => (negative, word, false, after),
        },
    }
}

/// Reads what the user typed: words, `"phrases"`, `prefix*` and `-excluded` words. `None`
/// when it holds nothing to look for (no letter or digit outside excluded words).
pub fn parse_query(input: &str) -> Option<Query> {
    let mut wanted = Vec::new();
    let mut unwanted = Vec::new();
    let mut terms = Vec::new();
    let mut phrase = false;
    let (mut count, mut prefixes) = (0, 0);
    let mut short_prefix = None;
    let mut elements = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let (negative, word, prefix, after) = next_item(rest);
        rest = after.trim_start();
        if !word.chars().any(char::is_alphanumeric) {
            continue;
        }
        let quoted = format!(
            "\"{}\"{}",
            spaced(word).replace('"', "\"\""),
            if prefix { "*" } else { "" }
        );
        let spaced_word = spaced(word);
        let tokens: Vec<&str> = spaced_word
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let in_index = tokens.len();
        for (i, token) in tokens.iter().enumerate() {
            let star = if prefix && i + 1 == in_index { "*" } else { "" };
            elements.push(format!("\"{token}\"{star}"));
        }
        count += in_index;
        prefixes += usize::from(prefix);
        if prefix && short_prefix.is_none() && too_short(word) {
            short_prefix = Some(word.to_owned());
        }
        if negative {
            unwanted.push(quoted);
        } else {
            phrase |= in_index > 1;
            wanted.push(quoted);
            terms.extend(words(word).into_iter().map(|w| (w, false)));
            if prefix {
                if let Some(last) = terms.last_mut() {
                    last.1 = true;
                }
            }
        }
    }
    if wanted.is_empty() {
        return None;
    }
    let mut expression = format!("({})", wanted.join(" "));
    for u in unwanted {
        expression.push_str(" NOT ");
        expression.push_str(&u);
    }
    Some(Query {
        expression,
        terms,
        phrase,
        elements,
        words: count,
        prefixes,
        short_prefix,
    })
}

/// A word's folded characters: lower case, accents taken off ("É" -> "e").
pub fn fold(c: char) -> char {
    let mut base = None;
    decompose_canonical(c, |d| {
        if base.is_none() && !is_combining_mark(d) {
            base = Some(d);
        }
    });
    base.unwrap_or(c).to_lowercase().next().unwrap_or(c)
}

/// The folded words of `text`: runs of letters and digits; a CJK run is one word, matched
/// anywhere.
fn words(text: &str) -> Vec<Vec<char>> {
    let mut out: Vec<Vec<char>> = Vec::new();
    let mut current: Vec<char> = Vec::new();
    let mut cjk = false;
    for c in text.chars() {
        let word_char = c.is_alphanumeric();
        if (!word_char || is_cjk(c) != cjk) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if word_char {
            cjk = is_cjk(c);
            current.push(fold(c));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(q: &str) -> Option<String> {
        parse_query(q).map(|q| q.expression)
    }

    #[test]
    fn what_the_user_types_is_never_syntax_by_accident() {
        let cases: &[(&str, Option<&str>)] = &[
            ("hello", Some(r#"("hello")"#)),
            ("hello world", Some(r#"("hello" "world")"#)),
            ("a OR b", Some(r#"("a" "OR" "b")"#)),
            ("NEAR(a b)", Some(r#"("NEAR(a" "b)")"#)),
            ("title:x", Some(r#"("title:x")"#)),
            ("^start", Some(r#"("^start")"#)),
            ("say \"hi\" now", Some(r#"("say" "hi" "now")"#)),
            ("it\"s", Some(r#"("it""s")"#)),
            ("\"unclosed phrase", Some(r#"("unclosed phrase")"#)),
            ("conf*", Some(r#"("conf"*)"#)),
            ("\"big da\"*", Some(r#"("big da"*)"#)),
            ("cats -dogs", Some(r#"("cats") NOT "dogs""#)),
            ("-dogs", None),
            ("- dogs", Some(r#"("dogs")"#)),
            ("***", None),
            ("(((", None),
            ("", None),
            ("   ", None),
            ("NOT", Some(r#"("NOT")"#)),
            ("a AND NOT b", Some(r#"("a" "AND" "NOT" "b")"#)),
            ("東京", Some(r#"("東 京")"#)),
            ("東京タワー", Some(r#"("東 京 タ ワ ー")"#)),
            ("x*y", Some(r#"("x*y")"#)),
            (
                "'; DROP TABLE parts; --",
                Some(r#"("DROP" "TABLE" "parts;")"#),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(expr(input).as_deref(), *want, "{input:?}");
        }
    }

    #[test]
    fn words_and_prefixes_are_counted_and_capped() {
        let size = |q: &str| {
            let p = parse_query(q).unwrap();
            (p.words, p.prefixes, p.too_big().is_some())
        };
        for (q, want) in [
            ("one", (1, 0, false)),
            ("one two -three", (3, 0, false)),
            ("conf* \"a phrase\"*", (3, 2, false)),
            ("東京タワー", (5, 0, false)),
            ("-- ** \"\" lone", (1, 0, false)),
        ] {
            assert_eq!(size(q), want, "{q}");
        }
        let words = |n: usize, each: &str| {
            (0..n)
                .map(|i| each.replace('N', &i.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for (q, refused) in [
            (words(MAX_WORDS, "wN"), false),
            (words(MAX_WORDS + 1, "wN"), true),
            (format!("keep {}", words(MAX_WORDS, "-wN")), true),
            ("東".repeat(MAX_WORDS + 1), true),
            (format!("\"{}\"", words(MAX_WORDS + 1, "wN")), true),
            (words(MAX_PREFIXES, "pN*"), false),
            (words(MAX_PREFIXES + 1, "pN*"), true),
            (words(1300, "aN*"), true),
            (format!("keep {}", words(MAX_PREFIXES + 1, "-pN*")), true),
        ] {
            let p = parse_query(&q).unwrap();
            assert_eq!(p.too_big().is_some(), refused, "{q}");
            if let Some(why) = p.too_big() {
                assert!(why.starts_with("A search can hold at most"), "{why}");
            }
        }
    }

    #[test]
    fn phrases_are_told_apart() {
        let phrase = |q: &str| parse_query(q).unwrap().phrase;
        assert!(!phrase("one two"));
        assert!(phrase("\"one two\""));
        assert!(phrase("foo-bar"));
        assert!(phrase("東京"));
        assert!(!phrase("x -\"not this\""));
    }

    #[test]
    fn cjk_characters_become_words() {
        assert_eq!(spaced("東京に行く"), "東 京 に 行 く");
        assert_eq!(spaced("iPhone的电池"), "iPhone 的 电 池");
        assert_eq!(spaced("plain text"), "plain text");
        assert_eq!(spaced("한국어 문장"), "한 국 어 문 장");
    }

    #[test]
    fn a_chunk_carries_the_words_before_it() {
        let before = format!("{} ending hel", "x".repeat(400));
        let t = index_text(None, "lo world", None, Some(&before));
        assert!(t.ends_with(" ending hello world"), "{t}");
        assert!(!t.contains(&"x".repeat(200)));
        assert_eq!(
            index_text(
                Some("tool_call"),
                "{\"path\":\"a\"}",
                Some("{\"name\":\"read_file\"}"),
                None
            ),
            "read_file {\"path\":\"a\"}"
        );
    }

    #[test]
    fn folding_takes_accents_off() {
        let f: String = "Crème Brûlée ÅNGSTRÖM".chars().map(fold).collect();
        assert_eq!(f, "creme brulee angstrom");
    }
}
