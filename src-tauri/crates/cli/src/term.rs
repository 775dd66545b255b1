//! The one way the CLI writes to the terminal. Everything `parley` prints — lists, search
//! results, trees, chats, usage, exports, errors, warnings, logs — goes through these
//! functions, and the crate's lints (`clippy.toml` beside `Cargo.toml`: `println!`, `eprint!`,
//! `std::io::stdout()`, `std::io::stderr()` are refused outside this module) keep it so: no
//! command can forget it.
//!
//! - [`out`] and [`err`] show every character a terminal would act on as a marker
//!   (`visible::terminal_safe`: C0 and C1 controls, so escape sequences — clipboard writes,
//!   screen erases, concealed text, titles — carriage returns and backspaces; bidi
//!   embeddings, overrides and isolates), on a terminal or not.
//! - [`field`] is for one-line values inside a line (titles, ids, model, provider and tool
//!   names): every invisible character of the shared table marked (`visible::mark_hidden`,
//!   zero-width and bidi marks too), line breaks and tabs escaped.
//! - [`json`] writes JSON whose strings spell every hidden character as a `\u` escape: a
//!   program reads the exact value, a terminal sees none of them (serde escapes only C0).
//! - [`out_exact`] writes bytes as they are, for what the user asked to have exactly:
//!   `--raw`, and an export to a file or a pipe (see [`stdout_is_terminal`]); [`err_exact`]
//!   the same on standard error, for `ask --raw`'s reasoning.

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_macros,
    clippy::print_stdout,
    clippy::print_stderr
)]

use crate::{invalid, Failure};
use parley_protocol::visible::{is_hidden, is_terminal_control, mark_hidden, terminal_safe};
use std::io::{IsTerminal, Write};

/// Prints `text` to standard output, terminal controls shown as markers.
pub(crate) fn out(text: &str) -> Result<(), Failure> {
    out_exact(&terminal_safe(text))
}

/// Prints `text` to standard output exactly as it is: only for `--raw` and for an export that
/// goes to a file or a pipe, never for a terminal unasked.
pub(crate) fn out_exact(text: &str) -> Result<(), Failure> {
    out_bytes(text.as_bytes())
}

/// Writes `bytes` to standard output exactly (a file's bytes into a pipe or a file: never for
/// a terminal).
pub(crate) fn out_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`parley ... | head`) is not an error worth a message.
    let _ = stdout.write_all(bytes);
    let _ = stdout.flush();
    Ok(())
}

/// Prints `text` to standard error, terminal controls shown as markers.
pub(crate) fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(terminal_safe(text).as_bytes());
    let _ = stderr.flush();
}

/// Prints `text` to standard error exactly as it is: only for `--raw`.
pub(crate) fn err_exact(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Prints `text` to standard error dimmed (reasoning), its own controls shown as markers:
/// the only escape sequences are Parley's.
pub(crate) fn err_dim(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\x1b[2m{}\x1b[0m", terminal_safe(text));
    let _ = stderr.flush();
}

/// Whether standard output is a terminal (an export is made inert for one, exact otherwise).
pub(crate) fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether standard error is a terminal (prompts, dimmed reasoning).
pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A value shown inside a line: every hidden character marked, line breaks and tabs escaped,
/// so it stays on its line and in its column.
pub(crate) fn field(s: &str) -> String {
    mark_hidden(s).replace('\n', "\\n").replace('\t', "\\t")
}

/// `text` (serialized JSON) with every hidden or terminal-control character spelled as a `\u`
/// escape. Such characters only occur inside strings (serde writes nothing else outside
/// them), where the escape stands for the same character: the value is unchanged.
pub(crate) fn json_inert(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| is_hidden(c) || is_terminal_control(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    for c in text.chars() {
        if hidden(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints `value` as pretty JSON, hidden characters escaped ([`json_inert`]).
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| invalid(format!("could not encode output: {e}")))?;
    out_exact(&format!("{}\n", json_inert(&text)))
}

/// Prints `value` as one line of JSON, hidden characters escaped ([`json_inert`]).
pub(crate) fn json_line<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string(value)
        .map_err(|e| invalid(format!("could not encode output: {e}")))?;
    out_exact(&format!("{}\n", json_inert(&text)))
}

/// Where log lines go: standard error, one event at a time, through [`err`].
pub(crate) struct LogLine(Vec<u8>);

/// For `tracing_subscriber`'s `with_writer`.
pub(crate) fn log_line() -> LogLine {
    LogLine(Vec::new())
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.0.is_empty() {
            err(&String::from_utf8_lossy(&self.0));
            self.0.clear();
        }
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `println!` for standard output, through [`out`] (in scope in every module after `term`).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::term::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!`, through [`err`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::term::err(&format!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_the_value_and_escapes_what_a_terminal_would_act_on() {
        let values = [
            "plain",
            "\u{1b}]52;c;Y3VybCB4fHNo\u{7}",
            "\u{9b}2J\u{9d}0;t\u{9c}",
            "rtl\u{202e}txt\u{2066}x\u{2069}",
            "zero\u{200b}width\u{200d}joiner\u{feff}",
            "tag\u{e0041}\u{e007f}",
            "private\u{10fffd}",
            "line\nbreak\ttab\r\u{8}\u{7f}",
            "日本語 مرحبا 👩‍👩‍👧",
        ];
        for v in values {
            let value = serde_json::json!({ "title": v, "list": [v, 1] });
            let text = serde_json::to_string_pretty(&value).unwrap();
            let inert = json_inert(&text);
            assert!(
                !inert
                    .chars()
                    .any(|c| is_hidden(c) || is_terminal_control(c)),
                "{v:?}: {inert:?}"
            );
            let back: serde_json::Value = serde_json::from_str(&inert).unwrap();
            assert_eq!(back, value, "{v:?}");
        }
    }

    #[test]
    fn a_field_stays_on_its_line_with_nothing_hidden() {
        for (raw, shown) in [
            ("title", "title"),
            ("two\nlines", "two\\nlines"),
            ("a\tb", "a\\tb"),
            ("\u{1b}[2J", "⟦U+001B⟧[2J"),
            ("a\u{200d}b\u{200e}", "a⟦U+200D⟧b⟦U+200E⟧"),
            ("\u{202e}cba", "⟦U+202E⟧cba"),
        ] {
            assert_eq!(field(raw), shown, "{raw:?}");
        }
    }
}
