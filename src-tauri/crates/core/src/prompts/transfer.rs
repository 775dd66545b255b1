//! Prompts as JSON: `{"parley_prompts": 1, "prompts": [{"name": …, "body": …}]}` out; that, or
//! a plain list of `{name, body}` (or `{title, content}`/`{name, prompt}` as other apps write
//! them), in.

use parley_protocol::{Prompt, PromptDraft};

/// The largest file read.
pub const FILE_MAX: usize = 8 * 1024 * 1024;
/// The most entries read.
const ENTRIES_MAX: usize = 5000;

pub(super) fn to_json(prompts: &[Prompt]) -> String {
    let list: Vec<_> = prompts
        .iter()
        .map(|p| serde_json::json!({"name": p.name, "body": p.body}))
        .collect();
    let doc = serde_json::json!({"parley_prompts": 1, "prompts": list});
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The entries of `text`: each a draft, or why it is not one.
pub(super) fn from_json(text: &str) -> Result<Vec<Result<PromptDraft, String>>, String> {
    if text.len() > FILE_MAX {
        return Err(format!(
            "The file is over {} MB: not a prompt list.",
            FILE_MAX / (1024 * 1024)
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("The file is not JSON: {e}."))?;
    let list = match &doc {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => match o.get("prompts") {
            Some(serde_json::Value::Array(a)) => a,
            _ => return Err("The file has no list of prompts.".into()),
        },
        _ => return Err("The file has no list of prompts.".into()),
    };
    if list.len() > ENTRIES_MAX {
        return Err(format!("The file lists over {ENTRIES_MAX} prompts."));
    }
    Ok(list.iter().enumerate().map(|(i, e)| entry(i, e)).collect())
}

fn entry(i: usize, e: &serde_json::Value) -> Result<PromptDraft, String> {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| e.get(*n).and_then(|v| v.as_str()))
    };
    let name = field(&["name", "title"]);
    let body = field(&["body", "content", "prompt", "text"]);
    match (name, body) {
        (Some(name), Some(body)) => Ok(PromptDraft {
            id: None,
            name: name.to_owned(),
            body: body.to_owned(),
        }),
        _ => Err(format!("Entry {} has no name and text.", i + 1)),
    }
}
