//! Text and code files: decoded to UTF-8 text with `\n` newlines and no byte-order mark, refused
//! when they look binary, and given a language for the fenced block they are sent in.
//!
//! Decoding, decided: UTF-8 (with or without a BOM); UTF-16 only with its BOM; anything else
//! that is not valid UTF-8 is read as Windows-1252 (Latin-1's superset: every byte is a
//! character) with a note. A text is binary, and refused, when it has a NUL character, or when
//! more than 1 in 100 of its characters are control characters other than tab, newline,
//! carriage return, form feed and escape (terminal colours in logs).

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::error::Problem;

/// A decoded text and what was done to read it.
pub(super) struct Decoded {
    pub text: String,
    pub notes: Vec<String>,
}

/// Decodes a text file's bytes; refuses binary ones.
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, Problem> {
    let mut notes = Vec::new();
    let text = if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        utf8_or_1252(rest, &mut notes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        utf16(rest, true)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        utf16(rest, false)?
    } else {
        utf8_or_1252(bytes, &mut notes)
    };
    check_not_binary(&text)?;
    Ok(Decoded {
        text: normalise_newlines(&text),
        notes,
    })
}

fn utf8_or_1252(bytes: &[u8], notes: &mut Vec<String>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) if bytes.contains(&0) => String::from_utf8_lossy(bytes).into_owned(),
        Err(_) => {
            notes.push("It is not UTF-8; it was read as Windows-1252 (Latin-1).".to_owned());
            WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned()
        }
    }
}

fn utf16(bytes: &[u8], little_endian: bool) -> Result<String, Problem> {
    let encoding = if little_endian { UTF_16LE } else { UTF_16BE };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(Problem::Binary(
            "its UTF-16 byte-order mark is followed by invalid UTF-16".into(),
        ));
    }
    Ok(text.into_owned())
}

fn check_not_binary(text: &str) -> Result<(), Problem> {
    if text.contains('\0') {
        return Err(Problem::Binary("it contains NUL bytes".into()));
    }
    let (mut total, mut control) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b') {
            control += 1;
        }
    }
    if control * 100 > total {
        return Err(Problem::Binary(format!(
            "{control} of its {total} characters are control characters"
        )));
    }
    Ok(())
}

/// `\r\n` and lone `\r` become `\n`.
fn normalise_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The fence language and MIME type of a text file, from its name and, failing that, its
/// first line (`#!/usr/bin/env python3`). Plain text is `("text", "text/plain")`.
pub(super) fn language(name: &str, text: &str) -> (&'static str, &'static str) {
    let lower = name.to_ascii_lowercase();
    let language = by_name(&lower)
        .or_else(|| {
            lower
                .rsplit_once('.')
                .and_then(|(_, ext)| by_extension(ext))
        })
        .or_else(|| by_shebang(text))
        .unwrap_or("text");
    (language, mime_of(language))
}

fn by_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "makefile" | "gnumakefile" => "makefile",
        "dockerfile" | "containerfile" => "dockerfile",
        "cmakelists.txt" => "cmake",
        "cargo.lock" | "pipfile" => "toml",
        ".bashrc" | ".bash_profile" | ".profile" | ".zshrc" => "bash",
        "gemfile" | "rakefile" => "ruby",
        _ => return None,
    })
}

const EXTENSIONS: &[(&[&str], &str)] = &[
    (&["rs"], "rust"),
    (&["py", "pyi", "pyw"], "python"),
    (&["ts", "mts", "cts"], "typescript"),
    (&["tsx"], "tsx"),
    (&["js", "mjs", "cjs"], "javascript"),
    (&["jsx"], "jsx"),
    (&["json", "jsonc", "json5", "jsonl", "ndjson"], "json"),
    (&["md", "markdown", "mdx"], "markdown"),
    (&["toml"], "toml"),
    (&["yaml", "yml"], "yaml"),
    (&["sh", "bash", "zsh", "ksh"], "bash"),
    (&["fish"], "fish"),
    (&["ps1", "psm1"], "powershell"),
    (&["bat", "cmd"], "batch"),
    (&["c", "h"], "c"),
    (&["cpp", "cc", "cxx", "hpp", "hh", "hxx", "ino"], "cpp"),
    (&["cs"], "csharp"),
    (&["go"], "go"),
    (&["java"], "java"),
    (&["kt", "kts"], "kotlin"),
    (&["swift"], "swift"),
    (&["m", "mm"], "objectivec"),
    (&["rb"], "ruby"),
    (&["php"], "php"),
    (&["pl", "pm"], "perl"),
    (&["lua"], "lua"),
    (&["r"], "r"),
    (&["scala", "sc"], "scala"),
    (&["sql"], "sql"),
    (&["html", "htm", "xhtml"], "html"),
    (&["css"], "css"),
    (&["scss", "sass"], "scss"),
    (&["less"], "less"),
    (&["xml", "xsd", "xsl", "plist", "svg"], "xml"),
    (&["svelte"], "svelte"),
    (&["vue"], "vue"),
    (&["dart"], "dart"),
    (&["zig"], "zig"),
    (&["hs"], "haskell"),
    (&["ml", "mli"], "ocaml"),
    (&["ex", "exs"], "elixir"),
    (&["erl", "hrl"], "erlang"),
    (&["clj", "cljs", "edn"], "clojure"),
    (&["jl"], "julia"),
    (&["tex", "sty", "cls"], "latex"),
    (&["csv"], "csv"),
    (&["tsv"], "tsv"),
    (&["ini", "cfg", "conf", "properties"], "ini"),
    (&["diff", "patch"], "diff"),
    (&["proto"], "protobuf"),
    (&["graphql", "gql"], "graphql"),
    (&["tf", "hcl"], "hcl"),
    (&["nix"], "nix"),
    (&["cmake"], "cmake"),
    (&["gradle", "groovy"], "groovy"),
    (&["dockerfile"], "dockerfile"),
    (&["mk"], "makefile"),
];

fn by_extension(ext: &str) -> Option<&'static str> {
    EXTENSIONS
        .iter()
        .find(|(exts, _)| exts.contains(&ext))
        .map(|(_, language)| *language)
}

fn by_shebang(text: &str) -> Option<&'static str> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|w| !w.starts_with('-'))?;
    }
    let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    Some(match program {
        "python" | "pypy" => "python",
        "bash" | "sh" | "zsh" | "dash" | "ksh" => "bash",
        "node" | "nodejs" => "javascript",
        "deno" | "bun" | "ts-node" | "tsx" => "typescript",
        "ruby" => "ruby",
        "perl" => "perl",
        "php" => "php",
        "lua" => "lua",
        "fish" => "fish",
        "Rscript" => "r",
        "pwsh" => "powershell",
        _ => return None,
    })
}

fn mime_of(language: &str) -> &'static str {
    match language {
        "markdown" => "text/markdown",
        "json" => "application/json",
        "csv" => "text/csv",
        "html" => "text/html",
        "xml" => "text/xml",
        _ => "text/plain",
    }
}

/// Whether a text is an SVG drawing (by name or content): it is attached as its XML source,
/// never as a picture, so none of its scripts or links can run.
pub(super) fn is_svg(name: &str, text: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".svg") || lower.ends_with(".svgz") {
        return true;
    }
    let head: String = text.chars().take(4096).collect();
    let trimmed = head.trim_start();
    (trimmed.starts_with("<svg") || trimmed.starts_with("<?xml") || trimmed.starts_with("<!"))
        && head.contains("<svg")
}
