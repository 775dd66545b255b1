//! What a server's configuration may hold, checked before anything is stored: its name (it
//! prefixes the server's tool names, so it is short and plain), its transport (a program and
//! its arguments, or an http(s) address without credentials), and the names and values of its
//! environment variables and headers. Also the binding its keychain entry carries: the program
//! for a local server, `scheme://host:port` for a remote one.

use crate::error::CoreError;
use parley_protocol::{McpTransport, NamedValue};

/// The longest server name.
pub const NAME_MAX: usize = 32;
/// The longest value of an environment variable or a header (bytes).
const VALUE_MAX: usize = 64 * 1024;
/// The most arguments, variables or headers one server may have.
const LIST_MAX: usize = 256;

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidInput(message.into())
}

/// A server name: 1–32 letters, digits, `-` and `_`, starting with a letter or digit.
pub fn check_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let starts = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > NAME_MAX || !plain || !starts {
        return Err(invalid(format!(
            "{} is not a server name Parley can use: use 1–{NAME_MAX} letters, digits, - and _, starting with a letter or digit (the name prefixes the server's tools).",
            shown(name)
        )));
    }
    Ok(name.to_owned())
}

/// The name a file's entry is imported under: its characters outside the allowed ones made
/// `-`, cut to the length allowed. `None` when nothing usable is left.
pub fn usable_name(raw: &str) -> Option<String> {
    let mapped: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name: String = mapped.trim_matches('-').chars().take(NAME_MAX).collect();
    let name = name.trim_end_matches('-').to_owned();
    check_name(&name).ok()
}

/// A transport, checked (and trimmed).
pub fn check_transport(t: &McpTransport) -> Result<McpTransport, CoreError> {
    match t {
        McpTransport::Stdio { command, args } => {
            let command = command.trim();
            if command.is_empty() || command.len() > 4096 || command.contains('\0') {
                return Err(invalid(
                    "A local server needs the program to start (up to 4,096 characters).",
                ));
            }
            if args.len() > LIST_MAX || args.iter().any(|a| a.contains('\0') || a.len() > 32 * 1024)
            {
                return Err(invalid(format!(
                    "A local server takes up to {LIST_MAX} arguments of up to 32 KB each, without NUL characters."
                )));
            }
            Ok(McpTransport::Stdio {
                command: command.to_owned(),
                args: args.clone(),
            })
        }
        McpTransport::Http { url } => Ok(McpTransport::Http {
            url: check_url(url)?.to_string(),
        }),
    }
}

fn check_url(raw: &str) -> Result<url::Url, CoreError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        invalid(format!(
            "{} is not a valid address ({e}). Use a full address such as https://example.com/mcp.",
            shown(raw)
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!(
            "A remote server's address starts with http:// or https://, not {}://.",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("The server's address has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() || has_secret_query(&url) {
        return Err(invalid(
            "Do not put credentials in the server's address (it is stored and shown as it is); add them as a header instead (headers go to the keychain).",
        ));
    }
    Ok(url)
}

/// Whether an address carries what looks like a credential in its query (`?api_key=…`).
fn has_secret_query(url: &url::Url) -> bool {
    const WORDS: [&str; 8] = [
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "auth",
        "credential",
        "sig",
    ];
    url.query_pairs().any(|(k, _)| {
        let k = k.to_ascii_lowercase();
        WORDS.iter().any(|w| k.contains(w))
    })
}

/// Environment variables: names as a shell has them, values without NUL.
pub fn check_env(env: &[NamedValue]) -> Result<(), CoreError> {
    check_values(env, "environment variable", |n| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })?;
    if env.iter().any(|v| v.value.contains('\0')) {
        return Err(invalid(
            "An environment variable's value cannot hold a NUL character.",
        ));
    }
    Ok(())
}

/// Headers: HTTP token names, values without line breaks or NUL.
pub fn check_headers(headers: &[NamedValue]) -> Result<(), CoreError> {
    check_values(headers, "header", |n| {
        n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    })?;
    if headers.iter().any(|v| v.value.contains(['\r', '\n', '\0'])) {
        return Err(invalid(
            "A header's value cannot hold a line break or a NUL character.",
        ));
    }
    Ok(())
}

fn check_values(
    list: &[NamedValue],
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<(), CoreError> {
    if list.len() > LIST_MAX {
        return Err(invalid(format!("A server takes up to {LIST_MAX} {what}s.")));
    }
    for (i, v) in list.iter().enumerate() {
        if v.name.is_empty() || v.name.len() > 128 || !ok(&v.name) {
            return Err(invalid(format!(
                "{} is not a valid {what} name.",
                shown(&v.name)
            )));
        }
        if list[..i]
            .iter()
            .any(|w| w.name.eq_ignore_ascii_case(&v.name))
        {
            return Err(invalid(format!("The {what} {} is given twice.", v.name)));
        }
        if v.value.len() > VALUE_MAX {
            return Err(invalid(format!("The {what} {} is over 64 KB.", v.name)));
        }
    }
    Ok(())
}

/// What a server's keychain entry is bound to: the program of a local server, the scheme,
/// host and port of a remote one. Its values are used only while the binding still matches.
pub fn binding(t: &McpTransport) -> String {
    match t {
        McpTransport::Stdio { command, .. } => format!("stdio:{command}"),
        McpTransport::Http { url } => match url::Url::parse(url) {
            Ok(u) => format!(
                "{}://{}:{}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(0)
            ),
            Err(_) => format!("url:{url}"),
        },
    }
}

/// Text from the user or a file, quoted for a message: hidden characters shown as markers,
/// at most 80 characters.
pub fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    let more = if s.chars().count() > 80 { "…" } else { "" };
    format!("\"{}{more}\"", parley_protocol::visible::mark_hidden(&cut))
}
