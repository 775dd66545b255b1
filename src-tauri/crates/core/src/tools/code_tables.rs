//! The tables of [`super::code`]: which programs run code, and the subcommands and options
//! that make the others run it. Data only; lower-case names without a version.

/// Shells and interpreters: any use runs code (a `-c`/`-e` string, a script, standard input).
#[rustfmt::skip]
pub(super) const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "fish", "ksh", "mksh", "pdksh", "csh", "tcsh", "ash", "yash",
    "rc", "es", "elvish", "nu", "xonsh", "powershell", "pwsh", "cmd", "python", "pypy", "ipython",
    "perl", "ruby", "irb", "jruby", "node", "nodejs", "deno", "bun", "ts-node", "tsx", "php",
    "lua", "luajit", "rscript", "r", "julia", "tclsh", "wish", "expect", "guile", "racket", "sbcl",
    "clisp", "ecl", "ocaml", "ghci", "runghc", "runhaskell", "elixir", "iex", "erl", "escript",
    "swift", "kotlin", "kotlinc", "scala", "groovy", "jshell", "jrunscript", "jjs", "java",
    "javaw", "mono", "osascript", "wscript", "cscript", "mshta", "awk", "gawk", "mawk", "nawk",
    "sqlite", "sqlite3", "duckdb", "psql", "mysql", "mariadb", "mongosh", "mongo", "gdb",
    "gdb-multiarch", "lldb", "make", "gmake", "bmake", "nmake", "ninja", "cmake", "meson", "scons",
    "just", "task", "rake", "mvn", "mvnw", "gradle", "gradlew", "ant", "sbt", "lein", "mix",
    "rebar3", "cabal", "stack", "bazel", "bazelisk", "buck", "pants", "pytest", "py.test", "tox",
    "nox", "jest", "vitest", "mocha", "phpunit", "rspec", "npx", "pnpx", "bunx", "poetry", "pdm",
    "hatch", "pipenv", "pipx", "conda", "mamba", "py", "bundle", "bundler", "jupyter", "source",
    ".", "eval", "exec", "command", "builtin", "trap", "vi", "vim", "nvim", "view", "ex", "ed",
    "emacs", "nano", "pico", "less", "more", "most", "pg", "man", "crontab", "at", "batch",
    "systemd-run", "launchctl", "schtasks", "patch",
    "micropython", "graalpy", "nim", "crystal", "dart", "zig", "clojure", "clj", "bb", "janet",
    "fennel", "hy", "raku", "rakudo", "perl6", "qjs", "jsc", "d8", "rhino", "tcc", "octave",
    "matlab", "sage", "gnuplot", "mlr", "dc", "open", "xdg-open", "gio", "vimdiff", "gvim",
    "emacsclient", "kak", "hx", "micro", "ctest", "xcodebuild", "msbuild", "dune", "opam", "nix",
    "nix-shell", "nix-build", "nix-env", "direnv", "pre-commit", "lefthook", "husky", "ansible",
    "ansible-playbook", "vagrant", "packer", "composer", "tofu", "terragrunt", "esno",
    "vite-node", "npm-run-all", "nodemon"
];

/// Wrappers and schedulers: they run the command they are given (classified too).
#[rustfmt::skip]
pub(super) const WRAPPERS: &[&str] = &[
    "env", "xargs", "timeout", "gtimeout", "nohup", "nice", "ionice", "chrt", "taskset", "setsid",
    "stdbuf", "unshare", "nsenter", "flock", "time", "watch", "sudo", "doas", "su", "runuser",
    "pkexec", "strace", "ltrace", "chroot", "script", "parallel", "firejail", "bwrap", "valgrind",
    "faketime", "fakeroot", "proxychains", "proxychains4", "torsocks", "catchsegv", "entr",
    "caffeinate", "numactl", "cgexec", "prlimit", "setpriv", "setarch", "linux32", "linux64",
    "unbuffer", "rlwrap", "nocache", "ssh-agent", "dbus-run-session", "xvfb-run", "busybox",
    "chpst", "sg", "newgrp", "daemonize", "start-stop-daemon", "perf",
    "toybox", "tmux", "screen", "byobu", "zellij", "xterm", "gnome-terminal", "konsole", "kitty",
    "alacritty", "wezterm", "terminator", "x-terminal-emulator", "urxvt", "nix-run"
];

/// Programs whose subcommands run the project's code (build scripts, package scripts, tests,
/// containers), with the subcommands that do not. A subcommand not listed runs code (an alias,
/// a plugin, a package script).
#[rustfmt::skip]
pub(super) const QUIET_SUBCOMMANDS: &[(&str, &[&str])] = &[
    ("cargo", &[
        "metadata", "tree", "search", "fmt", "clean", "new", "init", "add", "remove", "update",
        "fetch", "vendor", "locate-project", "pkgid", "version", "help", "owner", "yank",
        "generate-lockfile", "read-manifest", "report", "info", "login", "logout",
    ]),
    ("npm", &[
        "view", "v", "info", "show", "ls", "list", "ll", "la", "outdated", "search", "s", "find",
        "help", "config", "whoami", "ping", "docs", "home", "bugs", "repo", "root", "prefix",
        "bin", "fund", "doctor", "explain", "why", "query", "token", "login", "logout",
        "uninstall", "remove", "rm", "un", "cache",
    ]),
    ("pnpm", &[
        "view", "info", "ls", "list", "ll", "outdated", "search", "help", "config", "why", "root",
        "bin", "store", "audit", "licenses", "remove", "rm", "uninstall", "un",
    ]),
    ("yarn", &[
        "info", "list", "why", "outdated", "help", "config", "licenses", "owner", "cache",
        "remove", "npm",
    ]),
    ("go", &[
        "build", "install", "mod", "get", "list", "doc", "fmt", "version", "env", "help", "clean",
        "work", "telemetry",
    ]),
    ("pip", &[
        "list", "show", "freeze", "check", "search", "config", "cache", "index", "inspect",
        "uninstall", "help", "hash", "debug", "completion",
    ]),
    ("uv", &[
        "version", "self", "cache", "help", "venv", "python",
    ]),
    ("gem", &[
        "list", "search", "info", "help", "env", "which", "uninstall", "contents", "query",
        "specification",
    ]),
    ("dotnet", &[
        "--info", "--list-sdks", "--list-runtimes", "help", "list", "nuget", "sln",
    ]),
    ("docker", &[
        "ps", "images", "image", "inspect", "logs", "pull", "push", "tag", "login", "logout",
        "version", "info", "stop", "kill", "rm", "rmi", "network", "volume", "system", "search",
        "history", "stats", "top", "port", "diff", "events", "context",
    ]),
    ("terraform", &["version", "fmt", "validate", "help", "output", "show"]),
    ("kubectl", &[
        "get", "describe", "logs", "version", "config", "explain", "api-resources", "top",
        "delete", "apply", "diff", "rollout", "scale", "label", "annotate", "cluster-info", "auth",
        "create", "edit", "patch",
    ]),
];

/// Git subcommands that run no hooks, aliases or external programs of their own.
#[rustfmt::skip]
pub(super) const GIT_QUIET: &[&str] = &[
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
#[rustfmt::skip]
pub(super) const GIT_CODE_OPTIONS: &[&str] = &[
    "--config-env", "--exec-path", "--upload-pack", "--receive-pack", "--exec", "--extcmd",
    "--ext-diff", "--textconv", "--template", "--open-files-in-pager", "--tool",
];

/// Interpreters also matched by the start of their name (`python3.12-dbg`, `pythonw`,
/// `perl-5.36`, `nodemon`, `rubyw`, `php-cgi`, `luajit2`).
#[rustfmt::skip]
pub(super) const INTERPRETER_PREFIXES: &[&str] = &[
    "python", "pypy", "jython", "ipython", "perl", "ruby", "php", "lua", "node", "gawk", "sqlite",
    "vim",
];

/// Environment variables that make the program they are set for run other code (preloaded
/// libraries, startup scripts, pagers and editors, git's programs).
#[rustfmt::skip]
pub(super) const CODE_VARIABLES: &[&str] = &[
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH",
    "BASH_ENV", "ENV", "PROMPT_COMMAND", "PS4", "SHELLOPTS", "PYTHONSTARTUP", "PYTHONPATH",
    "PYTHONHOME", "PERL5OPT", "PERL5LIB", "PERLLIB", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS",
    "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "PAGER", "MANPAGER",
    "EDITOR", "VISUAL", "LESSOPEN", "LESSCLOSE", "BROWSER", "SSH_ASKPASS", "SUDO_ASKPASS",
    "PATH", "IFS", "LUA_INIT", "PHPRC", "R_PROFILE", "R_PROFILE_USER", "GDBINIT", "MAKEFLAGS",
    "CARGO_BUILD_RUSTC_WRAPPER", "RUSTC_WRAPPER", "RUSTC", "CC", "CXX",
];

/// Shell keywords that may start a simple command before its program.
#[rustfmt::skip]
pub(super) const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac",
    "in", "!", "{", "}", "function", "select", "coproc", "[[", "]]",
];

/// Tools whose `--version` already loads the project's code (plugins, build files, scripts).
#[rustfmt::skip]
pub(super) const NO_VERSION_EXEMPTION: &[&str] = &[
    "pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha", "phpunit", "rspec", "make",
    "gmake", "bmake", "nmake", "rake", "just", "task", "mvn", "mvnw", "gradle", "gradlew", "ant",
    "sbt", "lein", "mix", "bundle", "bundler", "poetry", "pdm", "hatch", "pipenv", "npx", "pnpx",
    "bunx", "cmake", "meson", "scons", "bazel", "bazelisk",
];

/// Folders whose programs are judged by their name; a program named by any other path (`./x`,
/// `bin/x`, `/home/u/ws/x`) may have been written in the workspace, so running it runs code.
#[rustfmt::skip]
pub(super) const SYSTEM_FOLDERS: &[&str] = &["/bin/", "/sbin/", "/usr/", "/System/"];
