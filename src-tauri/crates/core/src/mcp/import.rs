//! Reading the `mcpServers` files other desktop clients write — Claude Desktop's
//! `claude_desktop_config.json`, the common `mcp.json` (`{"mcpServers": {…}}`), and VS Code's
//! (`{"servers": {…}}`) — into servers to add. Each entry stands alone: a sound one becomes a
//! server, one that is not (wrong types, no program or address, variables Parley does not
//! expand, a transport it does not speak) is reported with its reason, and fields Parley does
//! not use are reported by name. Nothing of a file is trusted: names are made plain, text
//! shown without hidden characters.

use super::config::{shown, usable_name};
use parley_protocol::{McpServerInput, McpSkipped, McpTransport, NamedValue};
use serde_json::{Map, Value};

/// The largest configuration file read.
pub const FILE_MAX: usize = 1024 * 1024;
/// The most entries one file may hold.
const ENTRIES_MAX: usize = 500;

/// What a file holds: servers to add (with the entry's name in the file), entries left out,
/// fields left out.
#[derive(Debug, Default)]
pub struct Parsed {
    pub servers: Vec<(String, McpServerInput)>,
    pub skipped: Vec<McpSkipped>,
    pub ignored_fields: Vec<String>,
}

/// The fields of an entry Parley reads; any other is reported.
const KNOWN: [&str; 7] = [
    "command", "args", "env", "url", "headers", "type", "disabled",
];

/// Parses a configuration file's text. An error is about the file as a whole.
pub fn parse(text: &str) -> Result<Parsed, String> {
    if text.len() > FILE_MAX {
        return Err("The file is over 1 MB; an MCP configuration is a few kilobytes.".into());
    }
    let root: Value =
        serde_json::from_str(text).map_err(|e| format!("The file is not valid JSON ({e})."))?;
    let entries = root
        .get("mcpServers")
        .or_else(|| root.get("servers"))
        .and_then(Value::as_object)
        .ok_or("The file has no \"mcpServers\" (or \"servers\") object: it is not an MCP configuration.")?;
    if entries.len() > ENTRIES_MAX {
        return Err(format!(
            "The file lists {} servers; Parley reads up to {ENTRIES_MAX}.",
            entries.len()
        ));
    }
    let mut out = Parsed::default();
    for (raw_name, entry) in entries {
        let fail = |reason: String| McpSkipped {
            name: shown(raw_name),
            reason,
        };
        let Some(name) = usable_name(raw_name) else {
            out.skipped.push(fail(
                "its name has no letters or digits Parley can use".into(),
            ));
            continue;
        };
        let Some(fields) = entry.as_object() else {
            out.skipped.push(fail("it is not an object".into()));
            continue;
        };
        let unknown: Vec<&str> = fields
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN.contains(k))
            .collect();
        if !unknown.is_empty() {
            let listed: Vec<String> = unknown.iter().map(|k| shown(k)).collect();
            out.ignored_fields
                .push(format!("{}: {}", shown(raw_name), listed.join(", ")));
        }
        match entry_of(fields) {
            Ok(input) => out
                .servers
                .push((raw_name.clone(), McpServerInput { name, ..input })),
            Err(reason) => out.skipped.push(fail(reason)),
        }
    }
    Ok(out)
}

/// One entry as a server (its name set by the caller).
fn entry_of(fields: &Map<String, Value>) -> Result<McpServerInput, String> {
    let kind = match fields.get("type") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err("\"type\" is not text".into()),
    };
    let enabled = match fields.get("disabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(_) => return Err("\"disabled\" is not true or false".into()),
    };
    let transport = match (fields.get("command"), fields.get("url"), kind) {
        (Some(_), Some(_), _) => return Err("it has both a \"command\" and a \"url\"".into()),
        (Some(command), None, None | Some("stdio")) => McpTransport::Stdio {
            command: text(command, "command")?,
            args: strings(fields.get("args"), "args")?,
        },
        (None, Some(_), Some("sse")) => {
            return Err("it uses the older SSE transport, which Parley does not speak: if the server also offers streamable HTTP, add it with that address".into())
        }
        (None, Some(url), None | Some("http" | "streamable-http" | "streamableHttp")) => {
            McpTransport::Http {
                url: text(url, "url")?,
            }
        }
        (_, _, Some(other))
            if !["stdio", "http", "streamable-http", "streamableHttp", "sse"].contains(&other) =>
        {
            return Err(format!(
                "its transport {} is not one Parley speaks (stdio, http, sse)",
                shown(other)
            ))
        }
        (None, None, _) => return Err("it has neither a \"command\" nor a \"url\"".into()),
        _ => return Err("its \"type\" does not match its \"command\" or \"url\"".into()),
    };
    let mut input = McpServerInput {
        name: String::new(),
        transport,
        env: pairs(fields.get("env"), "env")?,
        headers: pairs(fields.get("headers"), "headers")?,
        enabled,
    };
    if let Some(v) = unexpanded(&input) {
        return Err(format!(
            "it uses {} — a variable for its client to fill in, which Parley does not expand; add the server with its real value",
            shown(v)
        ));
    }
    input.transport =
        super::config::check_transport(&input.transport).map_err(|e| e.to_string())?;
    super::config::check_env(&input.env).map_err(|e| e.to_string())?;
    super::config::check_headers(&input.headers).map_err(|e| e.to_string())?;
    Ok(input)
}

fn text(v: &Value, field: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("\"{field}\" is not text"))
}

fn strings(v: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|i| text(i, field)).collect(),
        Some(_) => Err(format!("\"{field}\" is not a list of text")),
    }
}

fn pairs(v: Option<&Value>, field: &str) -> Result<Vec<NamedValue>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("\"{field}\" {} is not text", shown(name))),
                };
                Ok(NamedValue {
                    name: name.clone(),
                    value,
                })
            })
            .collect(),
        Some(_) => Err(format!("\"{field}\" is not an object of names and values")),
    }
}

/// A `${…}` placeholder (VS Code's `${input:…}`, `${env:…}`) anywhere in the entry.
fn unexpanded(input: &McpServerInput) -> Option<&str> {
    let mut all: Vec<&str> = input
        .env
        .iter()
        .chain(&input.headers)
        .map(|v| v.value.as_str())
        .collect();
    match &input.transport {
        McpTransport::Stdio { command, args } => {
            all.push(command);
            all.extend(args.iter().map(String::as_str));
        }
        McpTransport::Http { url } => all.push(url),
    }
    all.into_iter().find(|s| s.contains("${"))
}
