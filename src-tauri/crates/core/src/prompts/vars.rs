//! `{{variables}}` in a prompt: found, checked (every `{{` closed, every name plain), filled.
//! Pure: the one place these rules live (the window fills through the core). `\{{` is a literal
//! `{{`; a `}}` outside a variable is text.

/// The longest variable name.
const NAME_MAX: usize = 40;

/// The variables of `body` in order of first use, each once; a sentence when a `{{` is not
/// closed, a `}}` was never opened, or a name is empty, too long or not plain.
pub fn variables(body: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for piece in pieces(body)? {
        if let Piece::Var(name) = piece {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        }
    }
    Ok(out)
}

/// `body` with each variable replaced by its value in `values` (name, value); a sentence
/// naming what is missing.
pub fn fill(body: &str, values: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut missing = Vec::new();
    for piece in pieces(body)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(name) => match values.iter().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    if !missing.contains(&name) {
                        missing.push(name);
                    }
                }
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "No value for {}.",
            missing
                .iter()
                .map(|m| format!("{{{{{m}}}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// `body` cut into text and variables. A `}}` outside a variable is text (JSON, code); `\{{`
/// is a literal `{{`.
fn pieces(body: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let (text, after) = rest.split_at(open);
        if let Some(before) = text.strip_suffix('\\') {
            // Escaped: the text, then `{{` as it is.
            out.push(Piece::Text(before));
            out.push(Piece::Text("{{"));
            rest = &after[2..];
            continue;
        }
        out.push(Piece::Text(text));
        let after = &after[2..];
        let Some(close) = after.find("}}") else {
            return Err(format!(
                "A {{{{ is not closed: “{}…” (write \\{{{{ for a literal {{{{).",
                snippet(after)
            ));
        };
        let inner = &after[..close];
        if inner.contains("{{") {
            return Err(format!(
                "A {{{{ is not closed before the next one: “{}”.",
                snippet(inner)
            ));
        }
        let name = inner.trim();
        check_name(name)?;
        out.push(Piece::Var(name));
        rest = &after[close + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let plain = name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ' || c == '.');
    if name.is_empty() {
        return Err("A variable has no name: write it as {{name}}.".into());
    }
    if name.chars().count() > NAME_MAX || !plain {
        return Err(format!(
            "“{}” is not a variable name: up to {NAME_MAX} letters, digits, spaces, dots, dashes or underscores.",
            snippet(name)
        ));
    }
    Ok(())
}

/// At most 30 characters of `s`, on one line, hidden characters marked.
fn snippet(s: &str) -> String {
    let line: String = s
        .chars()
        .take(30)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    parley_protocol::visible::mark_hidden(&line)
}
