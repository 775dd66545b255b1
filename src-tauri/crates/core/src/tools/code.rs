//! Which shell commands *run code*: an interpreter with inline code or a script, a program
//! whose options or scripts run commands (`sqlite3`, `gdb -ex`, `ssh -o ProxyCommand`, `git`
//! aliases and hooks, `java -jar`, builds), or a wrapper that runs the command it is given
//! (`env`, `nice`, `chrt`, `timeout`, `sudo`…). Such a call can do anything the user can: it is
//! labelled "runs code", always asks and can be allowed once only.
//!
//! A command line is cut into the simple commands the shell would run ([`super::code_parse`]):
//! every one of them — after `;`, `&&`, `|`, inside `$(…)`, backticks, subshells, and inside
//! the `-c` string of a nested shell — is looked up in the tables below. Programs are matched
//! by their base name ([`base_name`]): any path, `.exe`, letter case and version suffix
//! (`python3.12`, `perl5.36`, `node18`, `lua5.4`) removed.

use super::code_parse::{segments, Word};

/// Shells and interpreters: any use runs code (a `-c`/`-e` string, a script, standard input).
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "fish", "ksh", "mksh", "pdksh", "csh", "tcsh", "ash", "yash",
    "rc", "es", "elvish", "nu", "xonsh", "powershell", "pwsh", "cmd", "python", "pypy", "ipython",
    "perl", "ruby", "irb", "jruby", "node", "nodejs", "deno", "bun", "ts-node", "tsx", "php",
    "lua", "luajit", "rscript", "r", "julia", "tclsh", "wish", "expect", "guile", "racket",
    "sbcl", "clisp", "ecl", "ocaml", "ghci", "runghc", "runhaskell", "elixir", "iex", "erl",
    "escript", "swift", "kotlin", "kotlinc", "scala", "groovy", "jshell", "jrunscript", "jjs",
    "java", "javaw", "mono", "osascript", "wscript", "cscript", "mshta", "awk", "gawk", "mawk",
    "nawk", "sqlite", "sqlite3", "duckdb", "psql", "mysql", "mariadb", "mongosh", "mongo", "gdb",
    "gdb-multiarch", "lldb", "make", "gmake", "bmake", "nmake", "ninja", "cmake", "meson", "scons",
    "just", "task", "rake", "mvn", "mvnw", "gradle", "gradlew", "ant", "sbt", "lein", "mix",
    "rebar3", "cabal", "stack", "bazel", "bazelisk", "buck", "pants", "pytest", "py.test", "tox",
    "nox", "jest", "vitest", "mocha", "phpunit", "rspec", "npx", "pnpx", "bunx", "poetry", "pdm",
    "hatch", "pipenv", "pipx", "conda", "mamba", "py", "bundle", "bundler", "jupyter", "source", ".",
    "eval", "exec", "command", "builtin", "trap", "vi", "vim", "nvim", "view", "ex", "ed", "emacs",
    "nano", "pico", "less", "more", "most", "pg", "man", "crontab", "at", "batch", "systemd-run",
    "launchctl", "schtasks", "patch",
];

/// Wrappers and schedulers: they run the command they are given (classified too).
const WRAPPERS: &[&str] = &[
    "env", "xargs", "timeout", "gtimeout", "nohup", "nice", "ionice", "chrt", "taskset", "setsid",
    "stdbuf", "unshare", "nsenter", "flock", "time", "watch", "sudo", "doas", "su", "runuser",
    "pkexec", "strace", "ltrace", "chroot", "script", "parallel", "firejail", "bwrap", "valgrind",
    "faketime", "fakeroot", "proxychains", "proxychains4", "torsocks", "catchsegv", "entr",
    "caffeinate", "numactl", "cgexec", "prlimit", "setpriv", "setarch", "linux32", "linux64",
    "unbuffer", "rlwrap", "nocache", "ssh-agent", "dbus-run-session", "xvfb-run", "busybox",
    "chpst", "sg", "newgrp", "daemonize", "start-stop-daemon", "perf",
];

/// Programs whose subcommands run the project's code (build scripts, package scripts, tests,
/// containers), with the subcommands that do not. A subcommand not listed runs code (an alias,
/// a plugin, a package script).
const QUIET_SUBCOMMANDS: &[(&str, &[&str])] = &[
    (
        "cargo",
        &[
            "metadata", "tree", "search", "fmt", "clean", "new", "init", "add", "remove", "update",
            "fetch", "vendor", "locate-project", "pkgid", "version", "help", "owner", "yank",
            "generate-lockfile", "read-manifest", "report", "info", "login", "logout",
        ],
    ),
    (
        "npm",
        &[
            "view", "v", "info", "show", "ls", "list", "ll", "la", "outdated", "search", "s",
            "find", "help", "config", "whoami", "ping", "docs", "home", "bugs", "repo", "root",
            "prefix", "bin", "fund", "doctor", "explain", "why", "query", "token", "login",
            "logout", "uninstall", "remove", "rm", "un", "cache",
        ],
    ),
    (
        "pnpm",
        &[
            "view", "info", "ls", "list", "ll", "outdated", "search", "help", "config", "why",
            "root", "bin", "store", "audit", "licenses", "remove", "rm", "uninstall", "un",
        ],
    ),
    (
        "yarn",
        &[
            "info", "list", "why", "outdated", "help", "config", "licenses", "owner", "cache",
            "remove", "npm",
        ],
    ),
    (
        "go",
        &[
            "build", "install", "mod", "get", "list", "doc", "fmt", "version", "env", "help",
            "clean", "work", "telemetry",
        ],
    ),
    (
        "pip",
        &[
            "list", "show", "freeze", "check", "search", "config", "cache", "index", "inspect",
            "uninstall", "help", "hash", "debug", "completion",
        ],
    ),
    ("uv", &["version", "self", "cache", "help", "venv", "python"]),
    ("gem", &["list", "search", "info", "help", "env", "which", "uninstall", "contents", "query", "specification"]),
    ("dotnet", &["--info", "--list-sdks", "--list-runtimes", "help", "list", "nuget", "sln"]),
    (
        "docker",
        &[
            "ps", "images", "image", "inspect", "logs", "pull", "push", "tag", "login", "logout",
            "version", "info", "stop", "kill", "rm", "rmi", "network", "volume", "system", "search",
            "history", "stats", "top", "port", "diff", "events", "context",
        ],
    ),
    ("kubectl", &["get", "describe", "logs", "version", "config", "explain", "api-resources", "top", "delete", "apply", "diff", "rollout", "scale", "label", "annotate", "cluster-info", "auth", "create", "edit", "patch"]),
];

/// Git subcommands that run no hooks, aliases or external programs of their own.
const GIT_QUIET: &[&str] = &[
    "add", "annotate", "apply", "archive", "blame", "branch", "bundle", "cat-file", "check-attr",
    "check-ignore", "check-mailmap", "check-ref-format", "cherry", "clean", "count-objects",
    "describe", "diff", "diff-files", "diff-index", "diff-tree", "fetch", "for-each-ref",
    "format-patch", "fsck", "grep", "hash-object", "help", "init", "log", "ls-files", "ls-remote",
    "ls-tree", "merge-base", "mktree", "mv", "name-rev", "notes", "prune", "range-diff",
    "read-tree", "reflog", "remote", "repack", "replace", "reset", "restore", "rev-list",
    "rev-parse", "rm", "shortlog", "show", "show-branch", "show-ref", "sparse-checkout", "stash",
    "status", "symbolic-ref", "tag", "update-index", "update-ref", "var", "verify-commit",
    "verify-pack", "verify-tag", "version", "whatchanged", "write-tree", "credential",
    "credential-store", "credential-cache", "pack-refs", "commit-graph", "multi-pack-index",
    "--version", "--help",
];

/// Git options that make any subcommand run a program (config values are programs: pagers,
/// editors, hooks paths, aliases, ssh commands, fsmonitors).
const GIT_CODE_OPTIONS: &[&str] = &[
    "--config-env",
    "--exec-path",
    "--upload-pack",
    "--receive-pack",
    "--exec",
    "--extcmd",
    "--ext-diff",
    "--textconv",
    "--template",
    "--open-files-in-pager",
    "--tool",
];

/// The name a program is matched by: no folder, no `.exe`, lower case, and no version suffix
/// (`python3.12` → `python`, `lua5.4` → `lua`, `node18` → `node`, `pypy3` → `pypy`).
pub fn base_name(word: &str) -> String {
    let name = word.rsplit(['/', '\\']).next().unwrap_or(word).to_ascii_lowercase();
    let name = name.strip_suffix(".exe").map(str::to_owned).unwrap_or(name);
    let bare = name.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    let suffix = &name[bare.len()..];
    let versioned = suffix.starts_with(|c: char| c.is_ascii_digit())
        || suffix.len() > 1 && suffix[1..].starts_with(|c: char| c.is_ascii_digit());
    if !bare.is_empty() && versioned && bare.ends_with(|c: char| c.is_ascii_alphabetic()) {
        bare.to_owned()
    } else {
        name
    }
}

/// Interpreters also matched by the start of their name (`python3.12-dbg`, `pythonw`,
/// `perl-5.36`, `nodemon`, `rubyw`, `php-cgi`, `luajit2`).
const INTERPRETER_PREFIXES: &[&str] = &[
    "python", "pypy", "jython", "ipython", "perl", "ruby", "php", "lua", "node", "gawk", "sqlite",
];

/// True when `word` names a program of `table`: as given, without its version, or (for
/// `prefixes`) by the start of its name.
fn listed(table: &[&str], prefixes: &[&str], word: &str) -> bool {
    let lower = word.rsplit(['/', '\\']).next().unwrap_or(word).to_ascii_lowercase();
    let lower = lower.strip_suffix(".exe").unwrap_or(&lower);
    table.contains(&lower)
        || table.contains(&base_name(word).as_str())
        || prefixes.iter().any(|p| lower.starts_with(p))
}

/// Why the command line runs code, if any of its simple commands does.
pub fn runs_code(line: &str) -> Option<&'static str> {
    segments(line)
        .iter()
        .find_map(|words| command_runs_code(program(words)))
}

/// Shell keywords that may start a simple command before its program.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac",
    "in", "!", "{", "}", "function", "select", "coproc", "[[", "]]",
];

/// The simple command from its program word on: after keywords and `NAME=value` assignments.
fn program(words: &[Word]) -> &[Word] {
    let skip = words
        .iter()
        .take_while(|w| {
            !w.dynamic && (KEYWORDS.contains(&w.text.as_str()) || is_assignment(&w.text))
        })
        .count();
    &words[skip..]
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Tools whose `--version` already loads the project's code (plugins, build files, scripts).
const NO_VERSION_EXEMPTION: &[&str] = &[
    "pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha", "phpunit", "rspec", "make",
    "gmake", "bmake", "nmake", "rake", "just", "task", "mvn", "mvnw", "gradle", "gradlew", "ant",
    "sbt", "lein", "mix", "bundle", "bundler", "poetry", "pdm", "hatch", "pipenv", "npx", "pnpx",
    "bunx", "cmake", "meson", "scons", "bazel", "bazelisk",
];

/// Only asks an interpreter for its version.
fn version_only(name: &str, args: &[Word]) -> bool {
    args.len() == 1
        && matches!(args[0].text.as_str(), "--version" | "-version" | "-V")
        && !NO_VERSION_EXEMPTION.contains(&name)
}

/// Folders whose programs are judged by their name; a program named by any other path (`./x`,
/// `bin/x`, `/home/u/ws/x`) may have been written in the workspace, so running it runs code.
const SYSTEM_FOLDERS: &[&str] = &[
    "/bin/", "/sbin/", "/usr/", "/opt/", "/nix/", "/run/current-system/", "/snap/",
    "/System/", "/Library/", "/Applications/",
];

fn command_runs_code(argv: &[Word]) -> Option<&'static str> {
    let (prog, args) = argv.split_first()?;
    if prog.dynamic {
        return Some("its program is named by an expansion ($VAR, $(…)), so it can be anything");
    }
    let path = &prog.text;
    if (path.contains('/') || path.contains('\\'))
        && !SYSTEM_FOLDERS.iter().any(|f| path.starts_with(f))
    {
        return Some("it runs a program by its path (a script or binary that may have been written in the workspace)");
    }
    let name = base_name(path);
    if listed(INTERPRETERS, INTERPRETER_PREFIXES, path) {
        if version_only(&name, args) {
            return None;
        }
        return Some("it runs code: an interpreter, shell, build tool, database shell, debugger, editor or scheduler that runs what its arguments or scripts say");
    }
    if listed(WRAPPERS, &[], path) && !args.is_empty() {
        return Some("it runs another command through a wrapper or scheduler (env, nice, chrt, timeout, sudo, xargs…)");
    }
    options_run_code(&name, args)
}

/// Programs that run code only through particular options or subcommands.
fn options_run_code(name: &str, args: &[Word]) -> Option<&'static str> {
    let texts: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    let has = |f: &dyn Fn(&str) -> bool| texts.iter().any(|a| f(a));
    let with = |opts: &[&str]| {
        has(&|a| {
            opts.iter()
                .any(|o| a == *o || (o.starts_with("--") && a.starts_with(&format!("{o}="))))
        })
    };
    match name {
        "git" => git_runs_code(&texts),
        "ssh" | "scp" | "sftp" | "slogin" => ssh_runs_code(name, &texts),
        "rsync" => (with(&["-e", "--rsh", "--rsync-path"]) || has(&|a| a.starts_with("-e")))
            .then_some("rsync -e/--rsh runs the given program"),
        "find" | "gfind" | "bfs" => with(&["-exec", "-execdir", "-ok", "-okdir"])
            .then_some("find -exec runs a command on every file"),
        "rg" | "ripgrep" => with(&["--pre"]).then_some("rg --pre runs a program on every file"),
        "tar" | "gtar" | "bsdtar" => (with(&[
            "--to-command",
            "--checkpoint-action",
            "--use-compress-program",
            "--info-script",
            "--new-volume-script",
            "--rsh-command",
            "--rmt-command",
            "-I",
            "-F",
        ]) || has(&|a| a.starts_with("-I") && a.len() > 2))
        .then_some("tar runs the program its options name (--to-command, -I, --checkpoint-action…)"),
        "zip" => with(&["-TT", "--unzip-command"]).then_some("zip -TT runs the given command"),
        "cpio" => with(&["--rsh-command"]).then_some("cpio --rsh-command runs the given command"),
        "go" => (with(&["-exec", "-toolexec", "-vettool"])
            || has(&|a| ["-exec=", "-toolexec=", "-vettool="].iter().any(|o| a.starts_with(o))))
        .then_some("go runs the program its -exec/-toolexec/-vettool option names")
        .or_else(|| subcommand_runs_code(name, &texts)),
        "sed" | "gsed" => sed_runs_code(&texts).then_some("its sed script runs commands (the e command or flag, or a script file)"),
        _ => subcommand_runs_code(name, &texts),
    }
}

/// The first argument that is not an option (the subcommand), lower case.
fn first_word(args: &[&str]) -> String {
    args.iter()
        .find(|a| !a.starts_with('-'))
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default()
}

fn subcommand_runs_code(name: &str, args: &[&str]) -> Option<&'static str> {
    let table = if name == "pip" || name == "pip3" {
        "pip"
    } else if name == "podman" || name == "nerdctl" {
        "docker"
    } else {
        name
    };
    let (_, quiet) = QUIET_SUBCOMMANDS.iter().find(|(p, _)| *p == table)?;
    let mut sub = first_word(args);
    if table == "uv" && sub == "pip" {
        // `uv pip list` is as quiet as `pip list`.
        let rest: Vec<&str> = args
            .iter()
            .skip_while(|a| !a.eq_ignore_ascii_case("pip"))
            .skip(1)
            .copied()
            .collect();
        return subcommand_runs_code("pip", &rest);
    }
    if sub.is_empty() {
        sub = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    }
    if sub.is_empty() || version_only_str(args) || quiet.contains(&sub.as_str()) {
        return None;
    }
    Some("it runs the project's code or a package's scripts (builds, tests, install scripts, containers, plugins)")
}

fn version_only_str(args: &[&str]) -> bool {
    args.len() == 1 && matches!(args[0], "--version" | "-V" | "-v" | "--help" | "-h")
}

/// `git`: options that make it run programs, and subcommands that run hooks or are aliases or
/// external `git-*` programs.
fn git_runs_code(args: &[&str]) -> Option<&'static str> {
    let option = args.iter().any(|a| {
        *a == "-c"
            || (a.starts_with("-c") && !a.starts_with("--"))
            || *a == "-x"
            || *a == "-O"
            || (a.starts_with("-O") && !a.starts_with("--"))
            || a.contains("ext::")
            || GIT_CODE_OPTIONS
                .iter()
                .any(|o| *a == *o || a.starts_with(&format!("{o}=")))
    });
    if option {
        return Some("git runs the programs its options or config name (-c, --config-env, --exec, --upload-pack, ext::…)");
    }
    // The subcommand: after the global options (some take a value).
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if matches!(a, "-C" | "--git-dir" | "--work-tree" | "--namespace" | "--super-prefix") {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let sub = args.get(i).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    if sub.is_empty() || GIT_QUIET.contains(&sub.as_str()) {
        return None;
    }
    Some("git runs hooks, aliases or external git-* programs for this subcommand (commit, merge, push, checkout, config, an alias…)")
}

/// `ssh`/`scp`/`sftp`: options that run a local command (`-o ProxyCommand=…`, `LocalCommand`,
/// `KnownHostsCommand`, a config file with `-F`, `-S` program, an `sftp -b` batch file).
fn ssh_runs_code(name: &str, args: &[&str]) -> Option<&'static str> {
    let valued: &str = match name {
        "scp" => "cDFiJlOoPSX",
        "sftp" => "BbcDFiJlOoPRSs",
        _ => "BbcDEeFIiJLlmOoPpQRSWw",
    };
    let runs_letters: &str = match name {
        "scp" => "FS",
        "sftp" => "FSbDs",
        _ => "F",
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        i += 1;
        if a == "--" || !a.starts_with('-') || a.len() < 2 {
            if name == "ssh" {
                break; // the destination: what follows runs remotely
            }
            continue;
        }
        let letters: Vec<char> = a[1..].chars().collect();
        for (k, c) in letters.iter().enumerate() {
            if !valued.contains(*c) {
                continue;
            }
            let rest: String = letters[k + 1..].iter().collect();
            let value = if rest.is_empty() {
                i += 1;
                args.get(i - 1).copied().unwrap_or_default().to_owned()
            } else {
                rest
            };
            if runs_letters.contains(*c) {
                return Some("ssh runs a local program named by its options or config file (-F, -S, an sftp batch file)");
            }
            if *c == 'o' && ssh_option_runs(&value) {
                return Some("ssh runs a local command from this option (ProxyCommand, LocalCommand, KnownHostsCommand)");
            }
            break;
        }
    }
    None
}

fn ssh_option_runs(value: &str) -> bool {
    let key: String = value
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        key.as_str(),
        "proxycommand" | "localcommand" | "permitlocalcommand" | "knownhostscommand" | "include"
    )
}

/// `sed`: a script file, or the `e` command or the `s///e` flag in a script.
fn sed_runs_code(args: &[&str]) -> bool {
    if args
        .iter()
        .any(|a| *a == "-f" || a.starts_with("--file") || (a.starts_with("-f") && a.len() > 2))
    {
        return true;
    }
    args.iter().filter(|a| !a.starts_with('-') || a.len() > 2).any(|script| {
        let chars: Vec<char> = script.chars().collect();
        chars.iter().enumerate().any(|(i, c)| {
            if *c != 'e' {
                return false;
            }
            let before = chars[..i]
                .iter()
                .rev()
                .find(|c| !c.is_whitespace() && !matches!(c, 'g' | 'p' | 'i' | 'I' | 'm' | 'M' | '0'..='9'));
            let after = chars.get(i + 1);
            let ends = after.is_none_or(|c| c.is_whitespace() || matches!(c, ';' | '}'));
            let command_start = before.is_none_or(|c| matches!(c, ';' | '{' | '}' | '\n'));
            let flag = before.is_some_and(|c| "/|#:,@!_%+".contains(*c));
            ends && (command_start || flag) || (command_start && after == Some(&' '))
        })
    })
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
