//! Tests of the classes an adversarial review found still grantable: program paths through
//! `..` or outside the system folders, options that run a program, programs that run code or
//! project configuration, and quiet subcommands made dangerous by files the model can write.
//! Each class has many spellings, each tried in every shape of [`super::tests::SHAPES`].

use super::super::code_opts::{long_opt, normalised, system_program};
use super::super::shell::classify;
use super::tests::{program_spellings, SHAPES};
use super::*;

/// Program paths that climb with `..` or leave the system folders.
const PATHS: &[&str] = &[
    "/usr/../tmp/ws/evil.sh",
    "/usr/bin/../../x",
    "/usr/bin/../../tmp/ws/python3",
    "/bin/../home/u/ws/ls",
    "/usr/local/bin/../../../tmp/x",
    "/usr//bin/..//..//tmp/x",
    "/usr/./bin/../../x",
    "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 ./evil",
    "/lib64/ld-linux-x86-64.so.2 ./evil",
    "/lib/ld-musl-x86_64.so.1 ./evil",
    "/usr/share/ws/evil.sh",
    "/usr/src/ws/build.sh",
    "/usr/local/src/ws/x",
    "/usr/bin/ws/evil",
    "/usr/bin/X11/evil",
    "/System/Library/x/evil",
    "/opt/homebrew/Cellar/x/evil",
];

/// Variables that point programs at configuration the model may have written, and programs
/// named by a pattern.
const VARIABLES: &[&str] = &[
    "HOME=. git status",
    "XDG_CONFIG_HOME=. git status",
    "GIT_CONFIG_GLOBAL=x git status",
    "PIP_CONFIG_FILE=x pip list",
    "NPM_CONFIG_USERCONFIG=x npm ls",
    "CARGO_HOME=. ls",
    "KUBECONFIG=k kubectl get pods",
    "TAR_OPTIONS=-Ish tar -tf x",
    "GOFLAGS=-toolexec=./x go list",
    "/usr/bin/pyth?n3 -c x",
    "/usr/*/python3 -c x",
    "/usr/bin/[p]ython3 -c x",
];

/// Options that make a quiet program run one, in several spellings each.
const OPTIONS: &[&str] = &[
    "sort --compress-program=sh x",
    "sort --compress-program sh x",
    "sort -S 1 --compress-program=sh x",
    "sort --compress-prog=sh x",
    "sort --compress=sh x",
    "sort --co=sh x",
    "sort -n --compress-pro sh x",
    "split --filter=sh x",
    "split --filter 'sh -c id' x",
    "split --filt=sh x",
    "split -l 1 --fi=sh x",
    "ld.so ./evil",
    "ld-linux-x86-64.so.2 ./evil",
    "ld-linux.so.2 ./evil",
    "ld64.so.2 ./evil",
    "ldd ./evil",
    "tar -cIsh -f x .",
    "tar -xIsh -f x",
    "tar -I sh -xf x",
    "tar -xf x -Ish",
    "tar cIf sh x .",
    "tar xFf script x",
    "tar --use-compress-program=sh -xf x",
    "tar --use-compress=sh -xf x",
    "tar --use=sh -xf x",
    "tar xf x.tar --use-compress-program sh",
    "tar -cf x.tar --to-command=id .",
    "tar --to-com=id -xf x",
    "tar --checkpoint-act=exec=id -cf x .",
    "tar --info-script=x -cf x .",
    "tar --new-volume-script=x -cf x .",
    "tar --rsh-command=x -cf h:x .",
    "gcc @opts x.c",
    "cc @opts x.c",
    "g++ -c @args x.cc",
    "clang @x x.c",
    "gcc-13 @opts x.c",
    "x86_64-linux-gnu-gcc @opts x.c",
    "aarch64-linux-gnu-g++ -wrapper sh x.c",
    "gcc -wrapper sh,-c,id x.c",
    "gcc -fplugin=./x.so x.c",
    "clang -fpass-plugin=./x.so x.c",
    "gcc -B./bin x.c",
    "gcc -B ./bin x.c",
    "clang --prefix=./bin x.c",
    "gcc -fuse-ld=./ld x.c",
    "clang --ld-path=./ld x.c",
    "clang -Xclang -load -Xclang ./x.so x.c",
    "gcc -Wl,-plugin,./x.so x.c",
    "gcc -Wl,@opts x.c",
    "ld -plugin ./x.so a.o",
    "ld.gold --plugin ./x.so a.o",
    "rustc -C linker=sh x.rs",
    "rustc -Clinker=sh x.rs",
    "rustc --codegen linker=sh x.rs",
    "rustc x.rs",
    "rustc --version",
    "rustdoc --test x.rs",
    "rustfmt x.rs",
    "groff -U x.ms",
    "groff -Tutf8 -U x.ms",
    "groff -UT utf8 x.ms",
    "troff -U x",
    "pandoc --lua-filter=x.lua x.md",
    "pandoc -F ./x x.md",
    "pandoc --filter ./x x.md",
    "pandoc -d defaults.yaml",
    "pandoc -t writer.lua x.md",
    "pandoc --pdf-engine=./x x.md -o x.pdf",
    "openssl engine -t dynamic -pre SO_PATH:./x.so",
    "openssl req -config ./x.cnf -new",
    "openssl s_client -engine ./x.so -connect h:443",
    "openssl x509 -provider-path . -provider x -in c",
];

/// Programs that run code, or run their project's configuration or plugins.
const PROGRAMS: &[&str] = &[
    "m4 x.m4",
    "gm4 x.m4",
    "pdflatex x.tex",
    "pdflatex --shell-escape x.tex",
    "latex x.tex",
    "xelatex x.tex",
    "lualatex x.tex",
    "latexmk x.tex",
    "tectonic x.tex",
    "original-awk 'BEGIN{system(\"id\")}'",
    "goawk 'BEGIN{system(\"id\")}'",
    "bioawk '{print}' f",
    "uvx ruff",
    "micromamba run -n x python",
    "mamba run -n x id",
    "conda run -n x id",
    "corepack yarn",
    "mise run x",
    "mise exec -- id",
    "asdf exec id",
    "rtx exec id",
    "hyperfine id",
    "watchexec -- id",
    "entr id",
    "wine evil.exe",
    "wine64 evil.exe",
    "qemu-x86_64 ./evil",
    "qemu-aarch64-static ./evil",
    "qemu-system-x86_64 -kernel x",
    "sshpass -p x id",
    "dbus-launch id",
    "dbus-run-session id",
    "envdir d id",
    "chpst -u u id",
    "setuidgid u id",
    "softlimit -m 1 id",
    "trickle -d 1 id",
    "pee id id",
    "ifne id",
    "mpirun id",
    "mpiexec -n 2 id",
    "srun id",
    "salloc id",
    "sbatch x.sh",
    "schroot -- id",
    "fakechroot id",
    "fakeroot",
    "fakeroot id",
    "run0 id",
    "cpulimit -l 5 -- id",
    "rr record id",
    "sphinx-build . out",
    "mkdocs build",
    "eslint .",
    "eslint --version",
    "prettier --check .",
    "pylint x.py",
    "mypy x.py",
    "flake8 .",
    "pytest -q",
    "tox -e py",
    "nox",
    "jest",
    "vitest run",
    "mocha",
    "webpack",
    "vite build",
    "rollup -c",
    "esbuild --bundle x.js",
    "alias x=python3",
    "{python3,-c,1}",
    "{sh,-c,id}",
];

/// Quiet-looking subcommands that read files the model can write (a repository's config,
/// `.cargo/config.toml`, `rust-toolchain.toml`, `yarnPath`, `.npmrc`), or that build, run,
/// or install.
const SUBCOMMANDS: &[&str] = &[
    "git -C evil status",
    "git -C . status",
    "git -Cevil status",
    "git --git-dir=evil status",
    "git --git-dir evil log",
    "git --git-dir=. log",
    "git --git-dir=evil fetch",
    "git --work-tree=. diff",
    "git --work-tree . diff",
    "git --bare log",
    "git --exec-path=. status",
    "git --no-pager -C evil diff",
    "git -p -C evil log",
    "git -c core.fsmonitor=id status",
    "GIT_DIR=evil git status",
    "GIT_WORK_TREE=. git diff",
    "docker image build .",
    "docker image import x",
    "docker container run x",
    "docker container exec x id",
    "docker builder build .",
    "docker buildx build .",
    "docker buildx bake",
    "docker compose up",
    "docker compose run x",
    "docker --config ./cfg ps",
    "docker -H ssh://h ps",
    "docker --context x ps",
    "podman image build .",
    "nerdctl container run x",
    "cargo metadata",
    "cargo tree",
    "cargo fetch",
    "cargo fmt",
    "cargo --version",
    "cargo +evil tree",
    "cargo-clippy",
    "cargo-fmt",
    "yarn info x",
    "yarn --version",
    "yarn list",
    "pnpm ls",
    "pnpm --version",
    "npm rm x",
    "npm uninstall x",
    "npm ci",
    "npm install",
    "npm i x",
    "npm rebuild",
    "npm exec x",
    "npm x y",
    "npm docs",
    "npm help ls",
    "npm config edit",
    "go env -w GOFLAGS=-toolexec=./x",
    "go env -u GOFLAGS",
    "go build",
    "go build ./...",
    "go install .",
    "go test ./...",
    "go run .",
    "go generate",
    "go vet",
    "go tool x",
    "kubectl --kubeconfig=k.yaml get pods",
    "kubectl --kubeconfig k.yaml get pods",
    "kubectl get pods --kubeconfig=k.yaml",
    "kubectl config set-credentials x --exec-command=./x",
    "kubectl edit pod x",
    "helm template --post-renderer sh x",
    "helm install x . --post-renderer=./x",
    "helm plugin install ./x",
    "helm evil",
    "gh alias set --shell x id",
    "gh alias set x 'pr list'",
    "gh extension install ./x",
    "gh ext exec x",
    "gh evil",
    "gh config set browser ./x",
    "gh browse",
    "gh pr checkout 1",
    "gh repo clone x",
    "rustup run stable id",
    "rustup toolchain link evil .",
];

/// The classes stay narrow: their plain forms do not run code.
const PLAIN: &[&str] = &[
    "/usr/bin/ls",
    "/usr/bin//ls",
    "/usr/bin/./ls",
    "//bin/cat f",
    "/usr/local/bin/rg x",
    "sort -n f",
    "sort -u --output=out f",
    "sort -k 2 --check f",
    "split -l 10 f",
    "split --lines=10 f",
    "tar -cf x.tar dir",
    "tar -tvf x.tar",
    "tar xzf x.tgz",
    "tar --totals -cf x dir",
    "gcc -O2 -o x x.c",
    "cc -c x.c -Wl,-rpath,/usr/lib",
    "clang -Wall x.c",
    "groff -Tutf8 -man x.1",
    "pandoc x.md -o x.html",
    "openssl x509 -in c.pem -noout -text",
    "openssl dgst -sha256 f",
    "docker image ls",
    "docker image",
    "docker container ls",
    "docker volume ls",
    "go list ./...",
    "go env GOPATH",
    "go version",
    "npm ls",
    "npm view x",
    "kubectl get pods",
    "helm list",
    "gh pr list",
    "gh repo view",
    "git status",
    "git --no-pager log",
    "git log -C",
    "git diff -C -M",
    "ls -la",
    "echo {a,b}",
    "[ -f x ]",
    "test -f x && ls",
    "[[ -f x ]] && ls",
];

fn assert_runs_code_in_every_shape(table: &[&str]) -> usize {
    let mut checked = 0;
    for cmd in table {
        for spelled in program_spellings(cmd) {
            for shape in SHAPES {
                let line = shape.replace("{}", &spelled);
                let c = classify(&line);
                assert!(
                    c.runs_code.is_some() && c.always_ask.is_some(),
                    "{line:?}: {c:?}"
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn program_paths_are_normalised_and_must_be_in_a_system_folder() {
    assert!(assert_runs_code_in_every_shape(PATHS) > 500);
    assert_eq!(normalised("/usr//bin/./ls").as_deref(), Some("/usr/bin/ls"));
    assert_eq!(normalised("/usr/bin/../ls"), None);
    assert_eq!(normalised("bin/ls"), None);
    assert!(system_program("/usr/bin/ls") && system_program("/bin/cat"));
    assert!(!system_program("/usr/bin/../../tmp/x") && !system_program("/usr/lib/x"));
}

#[test]
fn variables_and_patterns_run_code() {
    assert!(assert_runs_code_in_every_shape(VARIABLES) > 200);
    for line in [
        "export HOME=.; git status",
        "export GIT_DIR=evil && git log",
        "HOME=.; git status",
        "declare -x XDG_CONFIG_HOME=.; git status",
        "readonly GIT_DIR=x; git log",
    ] {
        assert!(runs_code(line).is_some(), "{line}");
    }
    for plain in ["export LANG=C", "TERM=dumb ls", "LC_ALL=C sort f"] {
        assert_eq!(runs_code(plain), None, "{plain}");
    }
}

#[test]
fn options_that_run_a_program_run_code() {
    assert!(assert_runs_code_in_every_shape(OPTIONS) > 2000);
    assert!(long_opt("--compress-prog=x", "--compress-program", 2));
    assert!(!long_opt("--output=x", "--compress-program", 2));
    assert!(!long_opt("-c", "--compress-program", 2));
}

#[test]
fn programs_that_run_code_or_project_config_run_code() {
    assert!(assert_runs_code_in_every_shape(PROGRAMS) > 2000);
}

#[test]
fn quiet_subcommands_pointed_at_model_written_files_run_code() {
    assert!(assert_runs_code_in_every_shape(SUBCOMMANDS) > 3000);
    // After changing folder, a program that reads its project's configuration runs code.
    for line in [
        "cd evil && git status",
        "cd evil; git log",
        "pushd evil && npm ls",
        "cd x\ngo list ./...",
        "(cd evil && docker ps)",
        "cd evil && gh pr list",
    ] {
        assert!(runs_code(line).is_some(), "{line}");
    }
    assert_eq!(runs_code("cd sub && ls"), None);
}

#[test]
fn plain_forms_of_the_classes_do_not_run_code() {
    for plain in PLAIN {
        assert_eq!(runs_code(plain), None, "{plain}");
    }
    for grantable in [
        "git status",
        "git log -C",
        "ls -la",
        "sort -n f",
        "split -l 10 f",
    ] {
        assert_eq!(classify(grantable).always_ask, None, "{grantable}");
    }
}

#[test]
fn a_program_inside_the_workspace_runs_code_even_under_a_system_folder() {
    let root = std::path::Path::new("/usr/bin");
    for line in ["/usr/bin/evil", "/usr/bin/./evil x", "ls; /usr//bin/evil"] {
        assert!(
            runs_code(line).is_none(),
            "{line} is a system path by itself"
        );
        assert!(workspace_program(line, root).is_some(), "{line}");
    }
    let root = std::path::Path::new("/usr");
    assert!(workspace_program("/usr/bin/ls", root).is_some());
    assert!(workspace_program("/usr/bin/ls", std::path::Path::new("/home/u/ws")).is_none());
    assert!(workspace_program("ls", root).is_none());
}

#[test]
fn git_in_a_workspace_that_looks_like_a_bare_repository_runs_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lines = [
        "git status",
        "git log",
        "ls && git diff",
        "/usr/bin/git show",
    ];
    for line in lines {
        assert!(bare_workspace_git(line, root).is_none(), "{line}");
    }
    std::fs::write(root.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    for line in lines {
        assert!(bare_workspace_git(line, root).is_some(), "{line}");
    }
    assert!(bare_workspace_git("ls", root).is_none());
    // An empty `.git` is no repository: git goes on to take the root for one.
    std::fs::create_dir(root.join(".git")).unwrap();
    assert!(bare_workspace_git("git status", root).is_some());
    std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    for line in lines {
        assert!(
            bare_workspace_git(line, root).is_none(),
            "{line}: .git is found first"
        );
    }
}

#[test]
fn the_shell_tool_labels_git_in_a_bare_looking_workspace_runs_code() {
    use super::super::run::{RunShell, RunShellInput};
    use super::super::tool::{Risk, Tool, ToolContext};
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(
        super::super::paths::Workspace::new(dir.path()).unwrap(),
        Default::default(),
    );
    let input = |c: &str| RunShellInput {
        command: c.to_owned(),
        timeout_secs: None,
    };
    assert_eq!(RunShell.risk(&input("git status"), &ctx), Risk::Network);
    std::fs::write(dir.path().join("HEAD"), "ref: refs/heads/main\n").unwrap();
    assert_eq!(RunShell.risk(&input("git status"), &ctx), Risk::RunsCode);
    let why = RunShell.always_ask(&input("git status"), &ctx).unwrap();
    assert!(why.contains("once only") && why.contains("HEAD"), "{why}");
    assert_eq!(RunShell.risk(&input("ls"), &ctx), Risk::Mutating);
}
