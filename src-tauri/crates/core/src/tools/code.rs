//! Which shell commands *run code*: an interpreter with inline code or a script, a program
//! whose options or scripts run commands (`sqlite3`, `gdb -ex`, `ssh -o ProxyCommand`, `git`
//! aliases and hooks, `java -jar`, builds), or a wrapper that runs the command it is given
//! (`env`, `nice`, `chrt`, `timeout`, `sudo`…). Such a call can do anything the user can: it is
//! labelled "runs code", always asks and can be allowed once only.
//!
//! A command line is cut into the simple commands the shell would run ([`super::code_parse`]):
//! every one of them — after `;`, `&&`, `|`, inside `$(…)`, backticks and subshells — is looked
//! up in the tables of [`super::code_tables`] (a nested `sh -c '…'` is a shell: it runs code
//! whatever its string says). Programs are matched by their base name ([`base_name`]): any
//! path, `.exe`, letter case and version suffix (`python3.12`, `perl5.36`, `node18`, `lua5.4`)
//! removed. A program named by a path outside the system folders (`./x`, `bin/x`,
//! `/usr/../tmp/x`: the path is normalised lexically and any `..` runs code), by an expansion
//! (`$PY`) or a brace expansion runs code too: it may be anything, or a script written in the
//! workspace. After `cd`/`pushd` on the line, a program that reads its project's files (`git`,
//! `npm`, `go`, `docker`…) runs code whatever its subcommand: the folder may be one the model
//! wrote, whose configuration names programs.

use super::code_opts::{is_loader, normalised, system_program};
use super::code_parse::{segments, Word};
use super::code_tables::*;

/// The name a program is matched by: no folder, no `.exe`, lower case, and no version suffix
/// (`python3.12` → `python`, `lua5.4` → `lua`, `node18` → `node`, `pypy3` → `pypy`).
pub fn base_name(word: &str) -> String {
    let name = word
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(word)
        .to_ascii_lowercase();
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

/// True when `word` names a program of `table`: as given, without its version, or (for
/// `prefixes`) by the start of its name.
fn listed(table: &[&str], prefixes: &[&str], word: &str) -> bool {
    let lower = word
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(word)
        .to_ascii_lowercase();
    let lower = lower.strip_suffix(".exe").unwrap_or(&lower);
    table.contains(&lower)
        || table.contains(&base_name(word).as_str())
        || prefixes.iter().any(|p| lower.starts_with(p))
}

/// Programs that read their project's files for programs to run, whatever their subcommand,
/// once the line has changed folder.
const PROJECT_PROGRAMS: &[&str] = &["git", "pip", "pip3", "podman", "nerdctl", "gh", "helm"];

fn changes_folder(words: &[Word]) -> bool {
    program(words).first().is_some_and(|p| {
        matches!(
            base_name(&p.text).as_str(),
            "cd" | "pushd" | "popd" | "chdir"
        )
    })
}

fn project_program(words: &[Word]) -> Option<&'static str> {
    let name = base_name(&program(words).first()?.text);
    (PROJECT_PROGRAMS.contains(&name.as_str())
        || QUIET_SUBCOMMANDS.iter().any(|(p, _)| *p == name))
    .then_some("it runs a program that reads its project's configuration (git, npm, go, docker…) after changing folder, and that folder's configuration may name programs")
}

/// Why `git` on `line` runs code in the workspace `root`: with no repository in `.git`, a `HEAD` at
/// its root makes git take the workspace itself for a bare repository, whose `config` (and
/// hooks, attributes) the model may have written.
pub fn bare_workspace_git(line: &str, root: &std::path::Path) -> Option<&'static str> {
    let git = segments(line).iter().any(|words| {
        program(words)
            .first()
            .is_some_and(|p| base_name(&p.text) == "git")
    });
    // Git takes the root for a bare repository when `.git` there is neither a repository nor
    // a `gitdir:` file.
    let dot_git = root.join(".git");
    let found_first = dot_git.join("HEAD").exists() || dot_git.is_file();
    let bare = root.join("HEAD").exists() && !found_first;
    (git && bare).then_some("git would take the workspace itself for a repository (it has a HEAD and no .git), and its config may name programs")
}

/// Why a program named by an absolute path inside the workspace `root` runs code (a script
/// the model may have written), beyond [`runs_code`]: for a workspace under a system folder.
pub fn workspace_program(line: &str, root: &std::path::Path) -> Option<&'static str> {
    segments(line).iter().find_map(|words| {
        let prog = program(words).first()?;
        let path = normalised(&prog.text)?;
        std::path::Path::new(&path)
            .starts_with(root)
            .then_some("it runs a program by its path inside the workspace (a script or binary that may have been written there)")
    })
}

/// Why the command line runs code, if any of its simple commands does.
pub fn runs_code(line: &str) -> Option<&'static str> {
    let segs = segments(line);
    let moved = segs.iter().any(|w| changes_folder(w));
    segs.iter().find_map(|words| {
        assignments_run_code(words)
            .or_else(|| command_runs_code(program(words)))
            .or_else(|| if moved { project_program(words) } else { None })
    })
}

/// Why the assignments before a command make it run code, if they do (`LD_PRELOAD=…`,
/// `GIT_SSH_COMMAND=…`, `PAGER=…`).
fn assignments_run_code(words: &[Word]) -> Option<&'static str> {
    // `export`/`declare`/`readonly`/`local`/`typeset` set them for the commands after.
    let exported = program(words).first().is_some_and(|p| {
        matches!(
            p.text.as_str(),
            "export" | "declare" | "typeset" | "readonly" | "local"
        )
    });
    let leading = words
        .iter()
        .take_while(|w| w.dynamic || KEYWORDS.contains(&w.text.as_str()) || is_assignment(&w.text));
    let set: Vec<&Word> = if exported {
        words.iter().filter(|w| is_assignment(&w.text)).collect()
    } else {
        leading.collect()
    };
    set.into_iter()
        .filter_map(|w| w.text.split_once('=').map(|(name, _)| name.to_ascii_uppercase()))
        .any(|name| {
            CODE_VARIABLES.contains(&name.as_str())
                || CODE_VARIABLE_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .then_some("it sets a variable that makes the program run other code (LD_PRELOAD, GIT_DIR, GIT_SSH_COMMAND, PAGER, NODE_OPTIONS, CARGO_…)")
}

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

/// Only asks an interpreter for its version.
fn version_only(name: &str, args: &[Word]) -> bool {
    args.len() == 1
        && matches!(args[0].text.as_str(), "--version" | "-version" | "-V")
        && !NO_VERSION_EXEMPTION.contains(&name)
}

fn command_runs_code(argv: &[Word]) -> Option<&'static str> {
    let (prog, args) = argv.split_first()?;
    if prog.dynamic {
        return Some("its program is named by an expansion ($VAR, $(…)), so it can be anything");
    }
    let path = &prog.text;
    if (path.contains('/') || path.contains('\\')) && !system_program(path) {
        return Some("it runs a program by its path outside the system folders, or through `..` (a script or binary that may have been written in the workspace)");
    }
    if path.contains('{') && path.contains('}')
        || path.contains(['*', '?'])
        || (path.contains('[') && path != "[")
    {
        return Some(
            "its program is named by a brace expansion or a pattern, so it can be anything",
        );
    }
    let name = base_name(path);
    let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if is_loader(&lower) {
        return Some("it is the dynamic loader (ld.so, ldd), which runs the binary it is given");
    }
    if listed(INTERPRETERS, INTERPRETER_PREFIXES, path)
        || INTERPRETER_SUFFIXES.iter().any(|s| name.ends_with(s))
    {
        if version_only(&name, args) {
            return None;
        }
        return Some("it is an interpreter, shell, build tool, database shell, debugger, editor or scheduler, which runs what its arguments, scripts or project files say");
    }
    if listed(WRAPPERS, &[], path) && !args.is_empty() {
        return Some("it runs another command through a wrapper or scheduler (env, nice, chrt, timeout, sudo, xargs…)");
    }
    options_run_code(&name, args)
}

/// Programs that run code only through particular options or subcommands.
fn options_run_code(name: &str, args: &[Word]) -> Option<&'static str> {
    let texts: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    if let Some(why) = super::code_opts::options_run_code(name, &texts) {
        return Some(why);
    }
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
        .then_some(
            "tar runs the program its options name (--to-command, -I, --checkpoint-action…)",
        ),
        "zip" => with(&["-TT", "--unzip-command"]).then_some("zip -TT runs the given command"),
        "fd" | "fdfind" => with(&["-x", "-X", "--exec", "--exec-batch"])
            .then_some("fd -x runs a command on every file"),
        "socat" => has(&|a| {
            let u = a.to_ascii_uppercase();
            u.contains("EXEC:") || u.contains("SYSTEM:")
        })
        .then_some("socat EXEC:/SYSTEM: runs a command"),
        "nc" | "ncat" | "netcat" => with(&["-e", "-c", "--exec", "--sh-exec", "--lua-exec"])
            .then_some("nc -e/-c runs a command for the connection"),
        "aria2c" => has(&|a| a.starts_with("--on-"))
            .then_some("aria2c --on-… runs a command when a download event happens"),
        "bat" | "batcat" => has(&|a| a.starts_with("--pager"))
            .then_some("bat --pager runs the given program"),
        "gcc" | "g++" | "cc" | "c++" | "clang" | "clang++" => has(&|a| {
            a == "-wrapper" || a.starts_with("-fplugin") || a.starts_with("-B") || a.starts_with("-specs")
        })
        .then_some("the compiler runs or loads the program its options name (-wrapper, -fplugin, -B, -specs)"),
        "ssh-keygen" => with(&["-D", "-w"]).then_some("ssh-keygen loads the library its options name"),
        "cpio" => with(&["--rsh-command"]).then_some("cpio --rsh-command runs the given command"),
        "go" => (with(&["-exec", "-toolexec", "-vettool"])
            || has(&|a| {
                ["-exec=", "-toolexec=", "-vettool="]
                    .iter()
                    .any(|o| a.starts_with(o))
            }))
        .then_some("go runs the program its -exec/-toolexec/-vettool option names")
        .or_else(|| subcommand_runs_code(name, &texts)),
        "sed" | "gsed" => sed_runs_code(&texts)
            .then_some("its sed script runs commands (the e command or flag, or a script file)"),
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
        sub = args
            .first()
            .map(|a| a.to_ascii_lowercase())
            .unwrap_or_default();
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
    let global = args
        .iter()
        .take_while(|a| a.starts_with('-'))
        .any(|a| !GIT_SAFE_GLOBALS.contains(a));
    if global {
        return Some("git is pointed at another repository or program folder (-C, --git-dir, --work-tree, --bare, --exec-path), whose config may name programs (core.fsmonitor, diff.external, hooks)");
    }
    // The subcommand: after the global options (some take a value).
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if matches!(
            a,
            "-C" | "--git-dir" | "--work-tree" | "--namespace" | "--super-prefix"
        ) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let sub = args
        .get(i)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
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
        _ => "FI",
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
        "proxycommand"
            | "localcommand"
            | "permitlocalcommand"
            | "knownhostscommand"
            | "include"
            | "pkcs11provider"
            | "securitykeyprovider"
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
    args.iter()
        .filter(|a| !a.starts_with('-') || a.len() > 2)
        .any(|script| {
            let chars: Vec<char> = script.chars().collect();
            chars.iter().enumerate().any(|(i, c)| {
                if *c != 'e' {
                    return false;
                }
                let before = chars[..i].iter().rev().find(|c| {
                    !c.is_whitespace()
                        && !matches!(c, 'g' | 'p' | 'i' | 'I' | 'm' | 'M' | '0'..='9')
                });
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

#[cfg(test)]
#[path = "code_class_tests.rs"]
mod class_tests;
