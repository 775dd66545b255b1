//! Finding the previewable blocks of an answer: fenced code blocks (``` or ~~~, at most three
//! spaces in, closed by a fence of the same character at least as long, or by the end of the
//! text, as the window's renderer closes them) whose language is `html`, `svg`, `mermaid`, or
//! `xml` holding an `<svg>`.

use parley_protocol::ArtifactKind;

/// A line that opens or closes a fence: its character, its length and what follows it.
fn fence(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.chars().take_while(|x| *x == c).count();
    if n < 3 {
        return None;
    }
    let info = &rest[n..];
    // A backtick fence's info string may not hold a backtick (it would be inline code).
    if c == '`' && info.contains('`') {
        return None;
    }
    Some((c, n, info.trim()))
}

/// The kind of a block with this info string and text, if it is previewable.
fn kind_of(info: &str, text: &str) -> Option<ArtifactKind> {
    let lang = info.split_whitespace().next()?.to_ascii_lowercase();
    match lang.as_str() {
        "html" | "htm" | "xhtml" => Some(ArtifactKind::Html),
        "svg" => Some(ArtifactKind::Svg),
        "mermaid" => Some(ArtifactKind::Mermaid),
        "xml" if holds_svg(text) => Some(ArtifactKind::Svg),
        _ => None,
    }
}

/// Whether an XML block is an SVG picture (its first element is `<svg`).
fn holds_svg(text: &str) -> bool {
    let mut t = text.trim_start();
    if let Some(rest) = t.strip_prefix("<?xml") {
        t = rest.split_once("?>").map_or("", |(_, r)| r).trim_start();
    }
    while let Some(rest) = t.strip_prefix("<!--") {
        t = rest.split_once("-->").map_or("", |(_, r)| r).trim_start();
    }
    t.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("<svg"))
}

/// The previewable blocks of a markdown text, in order, with their text.
pub fn blocks(markdown: &str) -> Vec<(ArtifactKind, String)> {
    let mut out = Vec::new();
    let mut open: Option<(char, usize, String, Vec<&str>)> = None;
    for line in markdown.lines() {
        match &mut open {
            None => {
                if let Some((c, n, info)) = fence(line) {
                    open = Some((c, n, info.to_owned(), Vec::new()));
                }
            }
            Some((c, n, _, body)) => match fence(line) {
                Some((c2, n2, rest)) if c2 == *c && n2 >= *n && rest.is_empty() => {
                    let (_, _, info, body) = open.take().unwrap_or_default();
                    push(&mut out, &info, &body);
                }
                _ => body.push(line),
            },
        }
    }
    if let Some((_, _, info, body)) = open {
        push(&mut out, &info, &body);
    }
    out
}

fn push(out: &mut Vec<(ArtifactKind, String)>, info: &str, body: &[&str]) {
    let text = body.join("\n");
    if text.trim().is_empty() {
        return;
    }
    if let Some(kind) = kind_of(info, &text) {
        out.push((kind, text));
    }
}
