//! The snippet shown for a match: the part of the text around its first match, with every
//! match in it marked, matched the way the index matches (folded words, `text.rs`).

use super::text::{fold, is_cjk};
use parley_protocol::SnippetPiece;

/// Characters shown before the first match.
const LEAD: usize = 60;
/// Characters in a snippet.
const WIDTH: usize = 220;

/// The part of `text` around its first match of `terms`, with every match in it marked. Line
/// breaks and runs of spaces become one space. Without a match, the start of the text.
pub fn snippet(text: &str, terms: &[(Vec<char>, bool)]) -> Vec<SnippetPiece> {
    // A long text (a whole tool output, a document) is not folded whole: its first match is
    // looked for as plain lower-case ASCII, and the snippet is cut from around it.
    if text.len() > LONG_TEXT {
        if let Some(at) = ascii_find(text, terms) {
            let mut start = at.saturating_sub(2 * WIDTH);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (at + 4 * WIDTH).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let mut pieces = snippet_of(&text[start..end], terms);
            if start > 0 && pieces.first().is_some_and(|p| !p.text.starts_with('…')) {
                pieces.insert(
                    0,
                    SnippetPiece {
                        text: "…".into(),
                        hit: false,
                    },
                );
            }
            if end < text.len() && pieces.last().is_some_and(|p| !p.text.ends_with('…')) {
                pieces.push(SnippetPiece {
                    text: "…".into(),
                    hit: false,
                });
            }
            return pieces;
        }
    }
    snippet_of(text, terms)
}

/// Texts longer than this are searched for a snippet without folding them whole.
const LONG_TEXT: usize = 64 * 1024;

/// The byte offset of the first ASCII term found in `text`, ignoring ASCII case.
fn ascii_find(text: &str, terms: &[(Vec<char>, bool)]) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    terms
        .iter()
        .filter(|(t, _)| t.iter().all(char::is_ascii))
        .filter_map(|(t, _)| lower.find(&t.iter().collect::<String>()))
        .min()
}

fn snippet_of(text: &str, terms: &[(Vec<char>, bool)]) -> Vec<SnippetPiece> {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold(c)).collect();
    let matches = |i: usize| -> Option<usize> {
        terms.iter().find_map(|(t, prefix)| {
            let n = t.len();
            if n == 0 || i + n > folded.len() || folded[i..i + n] != t[..] {
                return None;
            }
            if t.iter().any(|&c| is_cjk(c)) {
                return Some(n);
            }
            let starts = i == 0 || !folded[i - 1].is_alphanumeric() || is_cjk(folded[i - 1]);
            let ends = *prefix
                || i + n == folded.len()
                || !folded[i + n].is_alphanumeric()
                || is_cjk(folded[i + n]);
            (starts && ends).then_some(n)
        })
    };
    let first = (0..folded.len()).find(|&i| matches(i).is_some());
    let mut start = first.map_or(0, |f| f.saturating_sub(LEAD));
    if let Some(f) = first {
        // Begin at a word when one starts shortly after the cut.
        if start > 0 {
            if let Some(space) = (start..f.min(start + 20)).find(|&i| chars[i].is_whitespace()) {
                start = space + 1;
            }
        }
    }
    let end = (start + WIDTH).min(chars.len());
    let mut pieces: Vec<SnippetPiece> = Vec::new();
    let mut push = |s: &str, hit: bool| match pieces.last_mut() {
        Some(last) if last.hit == hit => last.text.push_str(s),
        _ => pieces.push(SnippetPiece {
            text: s.to_owned(),
            hit,
        }),
    };
    if start > 0 {
        push("…", false);
    }
    let mut i = start;
    let mut last_space = false;
    while i < end {
        if let Some(n) = matches(i) {
            let n = n.min(end - i);
            push(&chars[i..i + n].iter().collect::<String>(), true);
            last_space = false;
            i += n;
            continue;
        }
        let c = chars[i];
        if c.is_whitespace() || c.is_control() {
            if !last_space {
                push(" ", false);
            }
            last_space = true;
        } else {
            let mut buf = [0u8; 4];
            push(c.encode_utf8(&mut buf), false);
            last_space = false;
        }
        i += 1;
    }
    if end < chars.len() {
        push("…", false);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::text::parse_query;

    fn render(p: &[SnippetPiece]) -> String {
        p.iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn snippets_mark_the_words_that_matched() {
        let terms = parse_query("cafe").unwrap().terms;
        assert_eq!(
            render(&snippet("Le Café\nest ouvert", &terms)),
            "Le [Café] est ouvert"
        );
        let terms = parse_query("conf*").unwrap().terms;
        assert_eq!(
            render(&snippet("my config, reconfig", &terms)),
            "my [conf]ig, reconfig"
        );
        let terms = parse_query("東京").unwrap().terms;
        assert_eq!(render(&snippet("私は東京に", &terms)), "私は[東京]に");
        let long = format!("{} needle {}", "word ".repeat(100), "tail ".repeat(100));
        let s = render(&snippet(&long, &parse_query("needle").unwrap().terms));
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("[needle]"),
            "{s}"
        );
        assert!(s.chars().count() < 240);
        let s = render(&snippet(
            "<script>alert(1)</script>",
            &parse_query("alert").unwrap().terms,
        ));
        assert_eq!(s, "<script>[alert](1)</script>");
    }
}
