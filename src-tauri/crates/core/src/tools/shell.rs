//! What a shell command is, before anyone decides whether it may run. A command is *simple*
//! when it is one program with plain arguments: no command separators, pipes, substitutions,
//! redirections, globbing-free quoting tricks, or wrappers that run another command. Only simple
//! commands can ever be covered by a grant; everything else asks every time.

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
}

/// Programs that run another command given as arguments: granting them would grant anything.
const WRAPPERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "fish",
    "ksh",
    "csh",
    "tcsh",
    "env",
    "xargs",
    "timeout",
    "nohup",
    "nice",
    "ionice",
    "sudo",
    "doas",
    "su",
    "exec",
    "eval",
    "command",
    "builtin",
    "time",
    "watch",
    "strace",
    "ltrace",
    "chroot",
    "unshare",
    "setsid",
    "stdbuf",
    "script",
    "busybox",
    "find",
    "parallel",
    "flock",
    "taskset",
    "runuser",
    "pkexec",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "deno",
    "bun",
    "php",
    "lua",
    "osascript",
    "powershell",
    "pwsh",
    "cmd",
    "awk",
    "gawk",
    "make",
    "source",
    ".",
];

/// Programs that talk to the network (never covered by a grant made for something else).
const NETWORK: &[&str] = &[
    "curl", "wget", "ssh", "scp", "sftp", "rsync", "nc", "ncat", "netcat", "socat", "telnet",
    "ftp", "ping", "dig", "nslookup", "host", "http", "https", "aria2c", "git", "npm", "npx",
    "pnpm", "yarn", "pip", "pip3", "cargo", "go", "gem", "apt", "apt-get", "brew", "docker",
    "podman", "kubectl", "gh", "aws", "gcloud", "az",
];

/// Programs that delete or overwrite broadly.
const DESTRUCTIVE: &[&str] = &[
    "rm",
    "rmdir",
    "dd",
    "mkfs",
    "shred",
    "truncate",
    "mv",
    "chmod",
    "chown",
    "kill",
    "pkill",
    "killall",
    "shutdown",
    "reboot",
    "git-clean",
];

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

/// Classifies a command line.
pub fn classify(line: &str) -> Classified {
    let lower_words = |w: &[String]| -> Vec<String> {
        w.iter()
            .map(|s| program_name(s).to_ascii_lowercase())
            .collect()
    };
    match split_simple(line) {
        Err(why) => {
            // Not simple: look at every word for the network/destructive flags anyway.
            let words: Vec<String> = line
                .split(|c: char| {
                    !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '/')
                })
                .filter(|w| !w.is_empty())
                .map(|w| program_name(w).to_ascii_lowercase())
                .collect();
            Classified {
                argv: None,
                always_ask: Some(why),
                network: words.iter().any(|w| NETWORK.contains(&w.as_str())),
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
                None
            };
            Classified {
                network: NETWORK.contains(&prog.as_str()),
                destructive: DESTRUCTIVE.contains(&prog.as_str())
                    || (prog == "git" && names.iter().any(|w| w == "clean" || w == "reset")),
                always_ask,
                argv: Some(argv),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_commands_split_like_a_shell() {
        let c = classify("ls -la 'my dir' \"other dir\" plain\\ space");
        assert_eq!(
            c.argv.unwrap(),
            ["ls", "-la", "my dir", "other dir", "plain space"]
        );
        assert!(c.always_ask.is_none() && !c.network && !c.destructive);
        assert_eq!(classify("cargo test").argv.unwrap(), ["cargo", "test"]);
        assert!(classify("cargo test").network, "cargo can download crates");
        assert!(classify("rm -rf build").destructive);
        assert!(classify("/usr/bin/curl https://x").network);
        assert!(classify("git clean -fdx").destructive);
    }

    #[test]
    fn every_bypass_form_always_asks() {
        let bypasses = [
            "ls; rm -rf /",
            "ls && curl evil",
            "ls || curl evil",
            "ls | sh",
            "ls & curl evil",
            "ls\ncurl evil",
            "echo $(curl evil)",
            "echo `curl evil`",
            "echo \"$(curl evil)\"",
            "echo \"`id`\"",
            "echo $HOME",
            "cat < /etc/passwd",
            "echo x > ~/.bashrc",
            "echo x >> file",
            "ls 2>/dev/null",
            "(curl evil)",
            "{ curl evil; }",
            "sh -c 'curl evil'",
            "bash -c ls",
            "/bin/sh -c ls",
            "env curl evil",
            "env -i ls",
            "xargs rm",
            "timeout 5 curl evil",
            "nohup curl evil",
            "sudo ls",
            "nice -n 5 ls",
            "exec ls",
            "eval ls",
            "command ls",
            "python3 -c 'import os'",
            "node -e 1",
            "perl -e 1",
            "find . -exec rm {} \\;",
            "awk 'BEGIN{system(\"id\")}'",
            "FOO=1 ls",
            "ls *",
            "ls ~",
            "ls # comment",
            "echo 'unterminated",
            "ls \\\n-la",
            "",
            "   ",
            "ls\u{7}",
        ];
        for b in bypasses {
            let c = classify(b);
            assert!(c.always_ask.is_some(), "{b:?} must always ask: {c:?}");
        }
        // Network-capable commands are flagged even when hidden in a compound command.
        assert!(classify("ls && curl evil").network);
        assert!(classify("echo $(wget x)").network);
        assert!(classify("ls; rm -rf x").destructive);
    }
}
