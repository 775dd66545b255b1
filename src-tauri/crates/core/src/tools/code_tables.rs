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
    "vite-node", "npm-run-all", "nodemon",
    // Macro processors and typesetters that run commands (m4 `syscmd`, TeX `\write18`).
    "m4", "gm4", "tex", "etex", "pdftex", "xetex", "luatex", "lualatex", "latex", "pdflatex",
    "xelatex", "context", "latexmk", "tectonic", "lilypond", "arara",
    // Package runners and version managers that run a tool or a project's pinned program.
    "uvx", "micromamba", "corepack", "mise", "asdf", "rtx", "yarn", "yarnpkg", "pnpm", "rustup",
    // Rust toolchain proxies: a `rust-toolchain.toml` (`path = …`) or `.cargo/config.toml` in
    // the workspace chooses the program they run (`rustc-wrapper`, a linker, a toolchain).
    "cargo", "rustc", "rustdoc", "rustfmt", "clippy-driver", "rust-analyzer", "rust-gdb",
    "rust-lldb", "miri", "maturin", "wasm-pack", "trunk", "cross",
    // Programs that run the command or binary they are given.
    "hyperfine", "watchexec", "wine", "wine64", "wineconsole", "sshpass", "dbus-launch",
    "envdir", "envuidgid", "setuidgid", "softlimit", "setlock", "pgrphack", "fghack", "runsv",
    "runsvdir", "trickle", "pee", "ifne", "mpirun", "mpiexec", "orterun", "srun", "salloc",
    "sbatch", "schroot", "fakechroot", "fakeroot", "run0", "cpulimit", "rr", "alias",
    // Linters, test runners, doc and bundle tools whose config or plugins are code.
    "sphinx-build", "sphinx-autobuild", "mkdocs", "eslint", "prettier", "pylint", "mypy", "dmypy",
    "stubtest", "flake8", "coverage", "pydoc", "pdoc", "webpack", "webpack-cli", "vite", "rollup",
    "esbuild", "parcel", "turbo", "nx", "lerna", "babel", "stylelint", "postcss", "tailwindcss",
    "jsdoc", "typedoc", "karma", "cypress", "playwright", "ava", "nyc", "c8", "rubocop", "rails",
    "rackup", "foreman", "honcho", "invoke", "inv", "fab", "doit", "snakemake", "alembic",
    "django-admin", "uvicorn", "gunicorn", "flask", "celery", "golangci-lint", "goreleaser",
    "mage", "air", "phpstan", "psalm", "ld.so"
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
    // Not `docs`, `help`, `config`, `fund`, `doctor`, `login`: they open a browser, an editor
    // or run the `git` a project's `.npmrc` names; not `rm`/`ci`/`install`: scripts run.
    ("npm", &[
        "view", "v", "info", "show", "ls", "list", "ll", "la", "outdated", "search", "s", "find",
        "whoami", "ping", "root", "prefix", "bin", "explain", "why", "query", "cache",
    ]),
    // `env -w`/`-u` are looked at apart ([`super::code_opts`]).
    ("go", &[
        "mod", "get", "list", "doc", "fmt", "version", "env", "help", "clean", "work", "telemetry",
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
    // Management commands (`image`, `container`…) are judged by their second word too:
    // [`DOCKER_QUIET_NESTED`].
    ("docker", &[
        "ps", "images", "image", "container", "inspect", "logs", "pull", "push", "tag", "logout",
        "version", "info", "stop", "kill", "rm", "rmi", "network", "volume", "system", "search",
        "history", "stats", "top", "port", "diff", "events",
    ]),
    ("terraform", &["version", "fmt", "validate", "help", "output", "show"]),
    ("kubectl", &[
        "get", "describe", "logs", "version", "explain", "api-resources", "top", "delete",
        "apply", "diff", "rollout", "scale", "label", "annotate", "cluster-info", "auth",
        "create", "patch",
    ]),
    // Not `plugin` nor an unknown word (a plugin); `--post-renderer` is looked at apart.
    ("helm", &[
        "list", "ls", "status", "history", "get", "show", "inspect", "search", "repo", "version",
        "env", "help", "template", "lint", "install", "upgrade", "uninstall", "rollback",
        "dependency", "dep", "pull", "push", "package", "verify", "create", "registry", "test",
    ]),
    // Not `alias`, `extension`/`ext`, `config`, `browse`, `codespace` nor an unknown word (an
    // alias or an extension); `pr checkout`/`repo clone` run git hooks (looked at apart).
    ("gh", &[
        "api", "issue", "pr", "repo", "release", "run", "workflow", "search", "status", "label",
        "gist", "cache", "ruleset", "variable", "secret", "org", "project", "version", "help",
        "auth", "completion", "attestation",
    ]),
];

/// Docker management commands and their quiet second words; any other (`image build`,
/// `container run`, `buildx`, `compose`, `builder`) builds or runs a container.
#[rustfmt::skip]
pub(super) const DOCKER_QUIET_NESTED: &[(&str, &[&str])] = &[
    ("image", &["ls", "list", "inspect", "history", "pull", "push", "rm", "remove", "tag", "prune"]),
    ("container", &[
        "ls", "list", "ps", "inspect", "logs", "stop", "kill", "rm", "remove", "port", "top",
        "stats", "diff", "prune",
    ]),
    ("network", &["ls", "list", "inspect", "rm", "remove", "prune"]),
    ("volume", &["ls", "list", "inspect", "rm", "remove", "prune"]),
    ("system", &["df", "info", "events", "prune"]),
];

/// Git global options that run nothing and point git nowhere else; any other before the
/// subcommand (`-C`, `--git-dir`, `--work-tree`, `--bare`, `--exec-path`, `-c`) runs code: a
/// folder the model wrote becomes a repository whose config runs programs (`core.fsmonitor`,
/// `diff.external`, textconv, hooks, `core.sshCommand`).
#[rustfmt::skip]
pub(super) const GIT_SAFE_GLOBALS: &[&str] = &[
    "--no-pager", "-P", "-p", "--paginate", "--no-replace-objects", "--literal-pathspecs",
    "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs", "--no-optional-locks",
    "--no-advice", "--version", "--help", "-v", "-h",
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
    "vim", "qemu-", "cargo-", "ld-linux", "ld.so", "wine", "mpiexec", "mpirun", "dbus-",
];

/// Interpreters also matched by the end of their name: the whole awk family (`original-awk`,
/// `goawk`, `bioawk`, `busybox-awk`).
pub(super) const INTERPRETER_SUFFIXES: &[&str] = &["awk"];

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
    "CARGO_BUILD_RUSTC_WRAPPER", "RUSTC_WRAPPER", "RUSTC", "CC", "CXX", "TAR_OPTIONS",
    "KUBECONFIG", "OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "GOFLAGS", "GOENV",
    "RUSTUP_TOOLCHAIN", "RUSTDOC", "RUSTFLAGS", "RUSTDOCFLAGS", "DOCKER_CONFIG", "DOCKER_HOST",
    "GH_CONFIG_DIR", "HELM_PLUGINS", "M4PATH", "TEXINPUTS", "GCONV_PATH", "HOSTALIASES",
    // Where programs find their configuration (`HOME=. git status` reads `./.gitconfig`).
    "HOME", "ZDOTDIR", "INPUTRC", "GNUPGHOME", "SHELL", "TMUX_TMPDIR", "TERMINFO",
];

/// Variable prefixes with the same power (`CARGO_TARGET_<triple>_RUNNER`, `npm_config_…`).
#[rustfmt::skip]
pub(super) const CODE_VARIABLE_PREFIXES: &[&str] = &[
    "LD_", "DYLD_", "GIT_", "BASH_FUNC_", "CARGO_", "NPM_CONFIG_", "YARN_", "PNPM_", "RUSTUP_",
    "XDG_", "PIP_", "PYTHON", "PERL", "RUBY", "NODE_", "GEM_", "BUNDLE_", "DOCKER_", "KUBE",
    "HELM_", "GH_", "OPENSSL_", "GO", "JAVA", "MAVEN_", "GRADLE_", "CONDA", "MAMBA", "UV_",
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
    "bunx", "cmake", "meson", "scons", "bazel", "bazelisk", "cargo", "rustc", "rustdoc",
    "rustfmt", "clippy-driver", "rust-analyzer", "miri", "yarn", "yarnpkg", "pnpm", "corepack",
    "mise", "asdf", "rtx", "uvx", "eslint", "prettier", "pylint", "mypy", "flake8", "webpack",
    "vite", "rollup", "mkdocs", "sphinx-build",
];

/// Folders whose programs are judged by their name: a program named by a path is one of them
/// only when its lexically normalised folder is exactly one of these (no `..` anywhere). Any
/// other path (`./x`, `bin/x`, `/home/u/ws/x`, `/usr/lib/…/ld-linux.so.2`, `/usr/../tmp/x`)
/// may have been written in the workspace, so running it runs code.
#[rustfmt::skip]
pub(super) const SYSTEM_FOLDERS: &[&str] = &[
    "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
    "/opt/homebrew/bin",
];
