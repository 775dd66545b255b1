//! What a shell command is, before anyone decides whether it may run. A command is *simple*
//! when it is one program with plain arguments: no command separators, pipes, substitutions,
//! redirections, globbing-free quoting tricks, or wrappers that run another command. Only simple
//! commands can ever be covered by a grant; everything else asks every time.

use super::shell_tables::{CREDENTIALS, DESTRUCTIVE, ESCAPES, NETWORK, NETWORK_PREFIXES, WRAPPERS};

/// The verdict on one command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The words of a simple command (quotes removed), or `None` when it is not simple.
    pub argv: Option<Vec<String>>,
    /// Why it always asks, when it does.
    pub always_ask: Option<&'static str>,
    /// True when the command can reach the network.
    pub network: bool,
    /// True when it can delete or overwrite things broadly.
    pub destructive: bool,
    /// Why it runs code (see [`super::code`]), when one of its commands does: it is labelled
    /// "runs code", always asks and can be allowed once only.
    pub runs_code: Option<&'static str>,
}

/// Splits a command line into words the way a POSIX shell would for a *simple* command, or
/// says why it is not one.
fn split_simple(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err("it has an unterminated quote"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('$') | Some('`') => {
                            return Err("it expands variables or commands inside quotes")
                        }
                        Some('\\') => match chars.next() {
                            Some(x) => cur.push(x),
                            None => return Err("it ends with a backslash"),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("it has an unterminated quote"),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => return Err("it continues over several lines"),
                Some(x) => {
                    in_word = true;
                    cur.push(x)
                }
            },
            ';' | '&' | '|' | '\n' | '\r' => {
                return Err("it chains several commands (;, &&, ||, |, & or a new line)")
            }
            '>' | '<' => return Err("it redirects input or output"),
            '$' => return Err("it expands variables or runs a command substitution"),
            '`' => return Err("it runs a command substitution (backticks)"),
            '(' | ')' | '{' | '}' => return Err("it uses a subshell or a command group"),
            '*' | '?' | '[' | ']' | '~' => return Err("it uses shell patterns or ~"),
            '#' if !in_word => return Err("it contains a comment"),
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c if c.is_control() => return Err("it contains control characters"),
            c => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err("it is empty");
    }
    Ok(words)
}

fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Why a simple command (its lower-cased program names and its words) must ask every time,
/// if it must: it runs other programs, writes anywhere, or reads credentials through options a
/// plain-looking command line hides.
fn hidden_power(prog: &str, argv: &[String]) -> Option<&'static str> {
    let args = &argv[1..];
    let has = |f: &dyn Fn(&str) -> bool| args.iter().any(|a| f(a.as_str()));
    let sub = subcommand(prog, args);
    if CREDENTIALS.contains(&prog) || prog.starts_with("docker-credential-") {
        return Some("it reads stored credentials (a keychain or password manager)");
    }
    if prog.starts_with("nc.") || prog.starts_with("ncat.") {
        return None; // network, see `NETWORK_PREFIXES`
    }
    if ESCAPES.contains(&prog) {
        return Some("it can run commands or write files through its options or script (shell escapes, sed e/w, tar --to-command, editors and pagers)");
    }
    if credential_subcommand(prog, &sub, args) {
        return Some("it reads or changes stored credentials");
    }
    match prog {
        "git" => git_hidden_power(&sub, args),
        "rg" | "ripgrep" => has(&|a| a == "--pre" || a.starts_with("--pre="))
            .then_some("rg --pre runs a program on every file"),
        "grep" | "egrep" | "fgrep" => None,
        _ => None,
    }
}

/// Whether `prog`'s subcommand `sub` (or an option among `args`) reads or changes the
/// credentials that program keeps.
fn credential_subcommand(prog: &str, sub: &str, args: &[String]) -> bool {
    let has = |f: &dyn Fn(&str) -> bool| args.iter().any(|a| f(a.as_str()));
    match prog {
        "gh" => sub == "auth",
        "aws" => matches!(sub, "configure" | "sts" | "sso" | "ecr" | "secretsmanager"),
        "gcloud" => sub == "auth" || has(&|a| a.contains("print-access-token")),
        "az" => sub == "account" || has(&|a| a.contains("get-access-token")),
        "git" => sub.starts_with("credential"),
        "docker" | "podman" => sub == "login",
        "npm" | "pnpm" | "yarn" => sub == "token" || sub == "config",
        "kubectl" => sub == "config",
        "heroku" => sub.starts_with("auth"),
        _ => false,
    }
}

/// Why `git` with subcommand `sub` and `args` must ask: options that run programs or write
/// elsewhere, subcommands that run hooks or programs, or another repository.
fn git_hidden_power(sub: &str, args: &[String]) -> Option<&'static str> {
    let has = |f: &dyn Fn(&str) -> bool| args.iter().any(|a| f(a.as_str()));
    let dangerous_opt = has(&|a| {
        a == "-c"
            || (a.starts_with("-c") && !a.starts_with("--") && a.contains('='))
            || [
                "--config-env",
                "--exec-path",
                "--output",
                "--upload-pack",
                "--receive-pack",
                "--exec",
                "--extcmd",
                "--template",
                "--open-files-in-pager",
                "--ext-diff",
                "--textconv",
            ]
            .iter()
            .any(|o| a == *o || a.starts_with(&format!("{o}=")))
            || a.starts_with("-O")
            || a.contains("ext::")
    });
    let runs = matches!(
        sub,
        "config"
            | "filter-branch"
            | "bisect"
            | "submodule"
            | "difftool"
            | "mergetool"
            | "daemon"
            | "instaweb"
            | "rebase"
            | "am"
            | "apply"
            | "archive"
            | "send-email"
            | "hook"
            | "worktree"
    );
    // Global options that point git at another repository (before the subcommand;
    // `git log -C` finds copies).
    let elsewhere = args.iter().take_while(|a| a.starts_with('-')).any(|a| {
        a.starts_with("-C")
            || ["--git-dir", "--work-tree", "--bare", "--exec-path"]
                .iter()
                .any(|o| a.starts_with(o))
    });
    (dangerous_opt || runs || elsewhere)
        .then_some("git runs other programs or writes outside its repository with these options (-c, --config-env, --output, --exec, hooks, config)")
}

/// The subcommand: the first word that is not an option, lower case; for `git`, after its
/// global options and their values (`git -C DIR status` → `status`, not `DIR`).
fn subcommand(prog: &str, args: &[String]) -> String {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.starts_with('-') {
            break;
        }
        let valued = prog == "git"
            && matches!(
                a.as_str(),
                "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env"
            );
        i += if valued { 2 } else { 1 };
    }
    args.get(i)
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_network(prog: &str) -> bool {
    NETWORK.contains(&prog) || NETWORK_PREFIXES.iter().any(|p| prog.starts_with(p))
}

/// The interpreter a command line is run by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpreter {
    /// `/bin/sh -c` (Linux, macOS).
    Posix,
    /// `cmd.exe /D /S /C` (Windows).
    Cmd,
}

impl Interpreter {
    /// The one this build runs commands with.
    pub const HERE: Interpreter = if cfg!(windows) {
        Interpreter::Cmd
    } else {
        Interpreter::Posix
    };
}

/// Why `cmd.exe` would do more with `line` than run one program, if it would: its own
/// metacharacters (`& | < > ^ %`, delayed `!`, parentheses, line breaks) act even inside what a
/// POSIX shell would read as single quotes; PowerShell and script hosts run anything.
fn cmd_reason(line: &str) -> Option<&'static str> {
    if line
        .chars()
        .any(|c| matches!(c, '&' | '|' | '<' | '>' | '\n' | '\r'))
    {
        return Some("cmd.exe chains, pipes or redirects with & | < > (quotes do not stop it)");
    }
    if line.chars().any(|c| matches!(c, '^' | '%' | '!')) {
        return Some("cmd.exe expands variables or escapes with % ! ^");
    }
    if line.chars().any(|c| matches!(c, '(' | ')' | '@')) {
        return Some("cmd.exe treats ( ) and @ specially");
    }
    let first = line
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == '"')
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let first = first.strip_suffix(".exe").unwrap_or(&first).to_owned();
    let runs = [
        "powershell",
        "pwsh",
        "cmd",
        "wscript",
        "cscript",
        "mshta",
        "rundll32",
        "regsvr32",
        "start",
        "call",
        "schtasks",
        "reg",
        "wmic",
        "msiexec",
        "bitsadmin",
        "certutil",
        "forfiles",
        "runas",
        "sc",
    ];
    runs.contains(&first.as_str())
        .then_some("it runs another program or script host (PowerShell, cmd, start, wscript…)")
}

/// Classifies a command line for the interpreter that will run it: for `cmd.exe`, its own
/// rules are applied on top of the POSIX ones (whatever either finds, it asks).
pub fn classify_for(line: &str, interpreter: Interpreter) -> Classified {
    let mut c = classify(line);
    if interpreter == Interpreter::Cmd {
        if let Some(why) = cmd_reason(line) {
            c.always_ask = Some(why);
            c.argv = None;
        }
    }
    c
}

/// Classifies a command line as `/bin/sh` reads it. A command that runs code always asks,
/// and is looked at whole for the network and destructive flags (what a wrapper or an
/// interpreter runs is among its words).
pub fn classify(line: &str) -> Classified {
    let mut c = classify_structure(line);
    c.runs_code = super::code::runs_code(line);
    if let Some(why) = c.runs_code {
        let words = loose_words(line);
        c.always_ask = c.always_ask.or(Some(why));
        c.network |= words.iter().any(|w| is_network(w));
        c.destructive |= words.iter().any(|w| DESTRUCTIVE.contains(&w.as_str()));
    }
    c
}

/// Every word-like piece of `line`, as a lower-case program name.
fn loose_words(line: &str) -> Vec<String> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '/'))
        .filter(|w| !w.is_empty())
        .map(|w| program_name(w).to_ascii_lowercase())
        .collect()
}

fn classify_structure(line: &str) -> Classified {
    let lower_words = |w: &[String]| -> Vec<String> {
        w.iter()
            .map(|s| program_name(s).to_ascii_lowercase())
            .collect()
    };
    match split_simple(line) {
        Err(why) => {
            // Not simple: look at every word for the network/destructive flags anyway.
            let words = loose_words(line);
            Classified {
                runs_code: None,
                argv: None,
                always_ask: Some(why),
                network: words.iter().any(|w| is_network(w)),
                destructive: words.iter().any(|w| DESTRUCTIVE.contains(&w.as_str())),
            }
        }
        Ok(argv) => {
            let names = lower_words(&argv);
            let prog = names.first().cloned().unwrap_or_default();
            let assignment = argv[0].contains('=');
            let always_ask = if assignment {
                Some("it sets environment variables for the command")
            } else if WRAPPERS.contains(&prog.as_str()) {
                Some("it runs another program or script through a wrapper or interpreter")
            } else {
                hidden_power(&prog, &argv)
            };
            Classified {
                runs_code: None,
                network: is_network(&prog),
                destructive: DESTRUCTIVE.contains(&prog.as_str())
                    || (prog == "git" && names.iter().any(|w| w == "clean" || w == "reset")),
                always_ask,
                argv: Some(argv),
            }
        }
    }
}

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
