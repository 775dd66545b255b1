//! What an MCP server asks the person during `parley ask` (elicitation), answered on the
//! terminal: a form field by field (each checked as it is typed, the whole form again before
//! it is sent), or an address shown whole to open in a browser. Without a terminal nobody is
//! attached and the core declines every question at once.

use crate::prompts::read_raw_line;
use parley_core::mcp::asks::{Answer, Ask, AskKind};
use parley_core::mcp::form::{self, Field, Kind};
use parley_core::Core;
use serde_json::{Map, Value};

/// Answers question `id` on the terminal, if it still waits.
pub async fn answer_on_terminal(core: &Core, id: &str) {
    let asks = core.mcp().asks();
    let Some(ask) = asks.get(id) else { return };
    let answer = prompt(&ask).await;
    if let Err(e) = asks.answer(id, answer) {
        // Not taken: declined rather than left waiting.
        errln!("note: {}", shown(&e));
        let _ = asks.answer(id, Answer::Decline);
    }
}

fn shown(s: &str) -> String {
    crate::term::field(s)
}

async fn prompt(ask: &Ask) -> Answer {
    errln!(
        "\nThe MCP server \"{}\" asks: {}",
        shown(&ask.server),
        shown(&ask.message)
    );
    match &ask.kind {
        AskKind::Url { url } => {
            errln!(
                "It wants you to open this address in your browser:\n  {}",
                shown(url)
            );
            match choose("[o] I will open it  [d] decline  [c] cancel the call > ").await {
                'o' => Answer::Accept(Map::new()),
                'c' => Answer::Cancel,
                _ => Answer::Decline,
            }
        }
        AskKind::Sampling { model, request } => {
            errln!(
                "The model {} of {} would answer this (at most {} tokens), and the server gets the answer:",
                shown(&model.1),
                shown(&model.0),
                request.max_tokens
            );
            if let Some(system) = &request.system {
                errln!("  system: {}", shown(system));
            }
            for (role, text) in &request.messages {
                errln!("  {role}: {}", shown(text));
            }
            match choose("[a] let the model answer  [d] decline  [c] cancel the call > ").await {
                'a' => Answer::Accept(Map::new()),
                'c' => Answer::Cancel,
                _ => Answer::Decline,
            }
        }
        AskKind::Form { fields } => {
            match choose("[a] answer  [d] decline  [c] cancel the call > ").await {
                'a' => fill(fields).await,
                'c' => Answer::Cancel,
                _ => Answer::Decline,
            }
        }
    }
}

/// One of the letters offered (`d` at the end of input).
async fn choose(prompt: &str) -> char {
    loop {
        let Some(line) = read_raw_line(prompt).await else {
            return 'd';
        };
        match line.trim().to_lowercase().as_str() {
            "a" | "o" => return line.trim().to_lowercase().chars().next().unwrap_or('d'),
            "d" | "" => return 'd',
            "c" => return 'c',
            _ => errln!("Please type one of the letters shown."),
        }
    }
}

/// The form, field by field; declined when input ends.
async fn fill(fields: &[Field]) -> Answer {
    let mut content = Map::new();
    for f in fields {
        match field(f).await {
            Some(Some(v)) => {
                content.insert(f.name.clone(), v);
            }
            Some(None) => {}
            None => return Answer::Decline,
        }
    }
    Answer::Accept(content)
}

/// How field `f` is asked for.
fn describe(f: &Field) -> String {
    let mut s = format!(
        "\n{}{}",
        shown(&f.title),
        if f.required { " (required)" } else { "" }
    );
    if !f.description.is_empty() {
        s.push_str(&format!(" — {}", shown(&f.description)));
    }
    match &f.kind {
        Kind::Choice { options, multi, .. } => {
            for (i, (_, label)) in options.iter().enumerate() {
                s.push_str(&format!("\n  {}) {}", i + 1, shown(label)));
            }
            if *multi {
                s.push_str("\n  (numbers separated by commas)");
            }
        }
        Kind::Boolean => s.push_str(" [y/n]"),
        _ => {}
    }
    if let Some(d) = &f.default {
        s.push_str(&format!(" [default: {}]", shown(&d.to_string())));
    }
    s
}

/// What was typed for `f`, as the form's raw answer: text, a boolean, or choices by number.
fn raw(f: &Field, line: &str) -> Option<Value> {
    let t = line.trim();
    if t.is_empty() {
        return f.default.clone();
    }
    Some(match &f.kind {
        Kind::Boolean => match t.to_lowercase().as_str() {
            "y" | "yes" | "true" => Value::Bool(true),
            "n" | "no" | "false" => Value::Bool(false),
            _ => Value::String(t.to_owned()),
        },
        Kind::Choice { options, multi, .. } => {
            let pick = |s: &str| -> Value {
                match s.trim().parse::<usize>() {
                    Ok(i) if (1..=options.len()).contains(&i) => {
                        Value::String(options[i - 1].0.clone())
                    }
                    _ => Value::String(s.trim().to_owned()),
                }
            };
            if *multi {
                Value::Array(t.split(',').map(pick).collect())
            } else {
                pick(t)
            }
        }
        _ => Value::String(line.to_owned()),
    })
}

/// One field, asked until its answer is sound: `Some(value)` (`None` when left out), or
/// `None` at the end of input.
async fn field(f: &Field) -> Option<Option<Value>> {
    errln!("{}", describe(f));
    loop {
        let line = read_raw_line("> ").await?;
        let mut one = Map::new();
        if let Some(v) = raw(f, &line) {
            one.insert(f.name.clone(), v);
        }
        match form::check(std::slice::from_ref(f), &one) {
            Ok(mut checked) => return Some(checked.remove(&f.name)),
            Err(e) => errln!("{}", shown(&e)),
        }
    }
}
