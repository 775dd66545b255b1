//! More of [`super::code`]: where a program named by a path lives, the dynamic loader, and the
//! options and nested subcommands that make otherwise quiet programs run one (`sort
//! --compress-program`, `split --filter`, bundled `tar -cIsh`, compiler `@file`s and plugins,
//! `groff -U`, pandoc filters, `openssl engine`, `kubectl --kubeconfig`, `helm
//! --post-renderer`, `docker image build`, `go env -w`).

use super::code_tables::{DOCKER_QUIET_NESTED, SYSTEM_FOLDERS};

/// `path` with empty and `.` components removed, or `None` when it has a `..` component (it
/// may climb out of any folder it names: `/usr/../tmp/x`, `/usr/bin/../../x`) or is relative.
pub(super) fn normalised(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\\') {
        return None;
    }
    let mut out = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return None;
        }
        out.push('/');
        out.push_str(part);
    }
    Some(out)
}

/// True when `path` names a program directly inside one of the system folders, after
/// lexical normalisation.
pub(super) fn system_program(path: &str) -> bool {
    normalised(path).is_some_and(|p| {
        p.rsplit_once('/')
            .is_some_and(|(folder, name)| !name.is_empty() && SYSTEM_FOLDERS.contains(&folder))
    })
}

/// True for the dynamic loader (`ld-linux-x86-64.so.2`, `ld.so`, `ld-musl-x86_64.so.1`,
/// `ld64.so.2`) and `ldd` (which may run the program it is given): they run any binary.
pub(super) fn is_loader(lower: &str) -> bool {
    lower == "ldd" || (lower.starts_with("ld") && lower.contains(".so"))
}

/// True when `arg` is the long option `full` (`--name`) or an abbreviation of it of at least
/// `min` letters (GNU programs accept any unambiguous one), with or without `=value`.
pub(super) fn long_opt(arg: &str, full: &str, min: usize) -> bool {
    let Some(name) = arg.strip_prefix("--") else {
        return false;
    };
    let name = name.split('=').next().unwrap_or(name);
    name.len() >= min && full.trim_start_matches('-').starts_with(name)
}

/// True when `arg` is a bundle of short options (`-cIsh`) holding one of `letters`.
fn short_bundle(arg: &str, letters: &str) -> bool {
    arg.strip_prefix('-')
        .is_some_and(|rest| !rest.starts_with('-') && rest.chars().any(|c| letters.contains(c)))
}

fn is_compiler(name: &str) -> bool {
    const COMPILERS: &[&str] = &[
        "cc", "c++", "gcc", "g++", "clang", "clang++", "clang-cl", "cpp", "icc", "icx", "icpx",
        "ld", "ld.bfd", "ld.gold", "ld.lld", "lld", "gold", "mold",
    ];
    COMPILERS.contains(&name)
        || ["-gcc", "-g++", "-clang", "-clang++", "-cc", "-c++", "-ld"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Compilers and linkers: response files (`@opts`, which may hold any option), and the options
/// that run or load a program (`-wrapper`, `-fplugin`, `-B`, `-fuse-ld`, `-Xclang -load`…).
fn compiler_runs_code(args: &[&str]) -> bool {
    args.iter().any(|a| {
        a.starts_with('@')
            || [
                "-wrapper",
                "-fplugin",
                "-fpass-plugin",
                "-B",
                "--prefix",
                "-specs",
                "--specs",
                "-fuse-ld",
                "--ld-path",
                "-Xclang",
                "-Xlinker",
                "-plugin",
                "--plugin",
                "-load",
                "--load",
                "--gcc-toolchain",
                "--gcc-install-dir",
                "-ccc-",
                "-iplugindir",
            ]
            .iter()
            .any(|o| a.starts_with(o))
            || (a.starts_with("-Wl,") && (a.contains("plugin") || a.contains('@')))
    })
}

fn tar_runs_code(args: &[&str]) -> bool {
    const LONG: &[&str] = &[
        "--to-command",
        "--checkpoint-action",
        "--use-compress-program",
        "--info-script",
        "--new-volume-script",
        "--rsh-command",
        "--rmt-command",
    ];
    args.iter().enumerate().any(|(i, a)| {
        LONG.iter().any(|o| long_opt(a, o, 3))
            || short_bundle(a, "IF")
            // The old style: the first word is a bundle without a dash (`tar cIf prog x .`).
            || (i == 0 && !a.starts_with('-') && a.chars().any(|c| c == 'I' || c == 'F'))
    })
}

/// `docker`/`podman`: global options that point it at another configuration or daemon, and a
/// management command's second word (`image build`, `container run`).
fn docker_runs_code(args: &[&str]) -> bool {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.starts_with('-') {
            break;
        }
        if ["--config", "--context", "-c", "-H", "--host", "--tls"]
            .iter()
            .any(|o| a.starts_with(o))
        {
            return true;
        }
        i += 1;
    }
    let words: Vec<String> = args[i..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    match DOCKER_QUIET_NESTED.iter().find(|(m, _)| m == first) {
        Some((_, quiet)) => words.get(1).is_some_and(|s| !quiet.contains(&s.as_str())),
        None => false,
    }
}

/// The first word that is not an option, lower case.
fn sub(args: &[&str]) -> String {
    args.iter()
        .find(|a| !a.starts_with('-'))
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Why `name` with `args` runs code through one of the options or nested subcommands above.
pub(super) fn options_run_code(name: &str, args: &[&str]) -> Option<&'static str> {
    let has = |f: &dyn Fn(&str) -> bool| args.iter().any(|a| f(a));
    let runs = match name {
        "sort" | "gsort" => has(&|a| long_opt(a, "--compress-program", 2)),
        "split" | "gsplit" => has(&|a| long_opt(a, "--filter", 1)),
        "tar" | "gtar" | "bsdtar" => tar_runs_code(args),
        "groff" | "troff" | "nroff" | "gtroff" | "gnroff" | "gsoelim" => {
            has(&|a| short_bundle(a, "U"))
        }
        "pandoc" => has(&|a| {
            a.contains(".lua")
                || short_bundle(a, "FLd")
                || ["--filter", "--lua-filter", "--pdf-engine", "--defaults"]
                    .iter()
                    .any(|o| long_opt(a, o, 3))
        }),
        "openssl" => {
            sub(args) == "engine"
                || has(&|a| {
                    ["-engine", "-provider", "-config", "-conf", "-keyform"]
                        .iter()
                        .any(|o| a.starts_with(o))
                })
        }
        "kubectl" | "oc" => has(&|a| a.starts_with("--kubeconfig")),
        "helm" => has(&|a| a.starts_with("--post-renderer") || a.starts_with("--kubeconfig")),
        "gh" => {
            let words: Vec<String> = args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .take(2)
                .map(|a| a.to_ascii_lowercase())
                .collect();
            matches!(
                (
                    words.first().map(String::as_str),
                    words.get(1).map(String::as_str)
                ),
                (Some("pr"), Some("checkout")) | (Some("repo"), Some("clone" | "fork"))
            ) || has(&|a| a.starts_with("--shell"))
        }
        "docker" | "podman" | "nerdctl" => docker_runs_code(args),
        "go" => sub(args) == "env" && has(&|a| matches!(a, "-w" | "--w" | "-u" | "--u")),
        n if is_compiler(n) => compiler_runs_code(args),
        _ => false,
    };
    runs.then_some("its options or subcommand make it run a program or a project's code (sort --compress-program, split --filter, tar -I, a compiler's @file or plugin, docker image build, go env -w, helm --post-renderer, kubectl --kubeconfig…)")
}
