//! `cargo xtask run|test|bench`: everything needed on a fresh machine, then the app, the tests
//! or the benchmark.
//!
//! On Debian/Ubuntu missing system packages are installed with apt (as root, or with sudo when
//! it needs no password); elsewhere the exact list to install is printed. Tools that are not
//! part of the repo (tauri-driver) are installed once into a cache outside it
//! (`$PARLEY_TOOLS_DIR`, default `~/.cache/parley-dev`) and reused.

// Test code may run long (a scenario reads top to bottom). Everything else keeps to 80 lines
// (clippy.toml): the build without cfg(test), which `clippy --all-targets` checks too, has
// no such allowance.
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod bundle;
mod keyring;
mod licenses;
mod peer;
mod setup;

use setup::{Level, Setup};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
           run     set up everything and launch Parley (debug build)\n  \
           test    set up everything and run every suite (fmt, clippy, Rust, UI, keychain, LLM peer, window)\n  \
           peer    build/fetch llama-server + SmolLM2 (cached) and run only the real-peer suite\n  \
           window [FILTER]  run only the real-window suite (or the scenarios matching FILTER)\n  \
           soak [N]  build, then run the whole Rust suite N times in a row (default 10; the first with 200 random kills); stops at the first failure\n  \
           bench   build in release mode and print the benchmark table\n  \
           bench installed  the release .deb's size, and the installed app's cold start and idle memory beside a bare Tauri window\n  \
           bundle [--debug|--prepare]  release bundles for this OS (Linux: .deb and .rpm) in target/release/bundle; --prepare only makes their inputs (for the release workflow)\n  \
           installed  only the installed-bundle step: a .deb built, installed, used and uninstalled\n  \
           icons   make every icon size again from src-tauri/icons/parley.svg\n  \
           licenses  check the dependencies' licenses against about.toml and write the third-party notices\n  \
           bindings  regenerate ui/src/bindings.ts from the Rust commands"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&root),
        Some("test") => test(&root),
        Some("bench") if args.get(1).map(String::as_str) == Some("installed") => {
            bundle::bench_installed(&root)
        }
        Some("bench") => bench(&root, &args[1..]),
        Some("bindings") => bindings(&root),
        Some("bundle") => match args.get(1).map(String::as_str) {
            None => bundle::bundle(&root, true).map(|_| ()),
            Some("--debug") => bundle::bundle(&root, false).map(|_| ()),
            Some("--prepare") => bundle::prepare(&root).map(|_| ()),
            Some(_) => return usage(),
        },
        Some("icons") => bundle::icons(&root),
        Some("installed") => Setup::new(&root, Level::Test).and_then(|s| {
            s.prepare()?;
            bundle::installed_tests(&root, &s)
        }),
        Some("licenses") => {
            Setup::new(&root, Level::Run).and_then(|s| licenses::notices(&root, &s))
        }
        Some("soak") => match args.get(1).map(|n| n.parse::<u32>()) {
            None => soak(&root, 10),
            Some(Ok(n)) if n > 0 => soak(&root, n),
            Some(_) => return usage(),
        },
        Some("peer") => Setup::new(&root, Level::Test).and_then(|s| peer_tests(&root, &s)),
        Some("window") => window(&root, args.get(1).map_or("window", String::as_str)),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (two levels above this crate's manifest dir's parent).
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or(manifest)
}

/// Runs a command, echoing it; fails with its exit status.
pub fn sh(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

fn cargo(root: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root);
    c
}

fn run(root: &Path) -> Result<(), String> {
    let setup = Setup::new(root, Level::Run)?;
    setup.prepare()?;
    sh(cargo(root).args(APP_BUILD))?;
    let bin = root
        .join("target/debug")
        .join(format!("parley-desktop{}", std::env::consts::EXE_SUFFIX));
    let mut cmd = Command::new(&bin);
    let preparing = prepare_engine(root, &setup, &mut cmd)?;
    if let Some(display) = setup.headless_display()? {
        eprintln!(
            "\nNo display found: Parley runs on the virtual display {display}.\n\
             Take a screenshot with: DISPLAY={display} import -window root parley.png"
        );
        cmd.env("DISPLAY", display);
    }
    eprintln!("\nStarting Parley (close the window to quit).");
    let ran = sh(&mut cmd);
    if let Some(p) = preparing {
        if !p.is_finished() {
            eprintln!("The built-in engine is still being prepared; waiting for it (it is cached for the next run).");
        }
        match p.join() {
            Ok(Err(e)) => eprintln!("\nThe built-in engine could not be prepared: {e}"),
            Err(_) => eprintln!("\nThe built-in engine's preparation stopped unexpectedly."),
            Ok(Ok(())) => {}
        }
    }
    ran
}

/// The built-in engine and its starter model (SmolLM2-135M) for `run`: when both are cached,
/// the starter is added (once) and the app is told where the engine is. Otherwise they are
/// prepared beside the app — fetched and built into the tool cache, the output in a log the
/// app reads to show the progress (`PARLEY_ENGINE_PREPARING`) — and the starter is added when
/// it is there; the window does not wait.
fn prepare_engine(
    root: &Path,
    setup: &Setup,
    app: &mut Command,
) -> Result<Option<std::thread::JoinHandle<Result<(), String>>>, String> {
    let paths = setup.llama_paths();
    app.env("PARLEY_ENGINE", &paths.server);
    let cli = root
        .join("target/debug")
        .join(format!("parley{}", std::env::consts::EXE_SUFFIX));
    let add_starter = move |model: &Path| {
        // Already added in an earlier run: the CLI says so, and that is fine.
        let _ = Command::new(&cli)
            .args(["models", "add"])
            .arg(model)
            .args(["--name", "SmolLM2 135M (starter)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    if paths.server.is_file() && paths.template.is_file() && paths.model.is_file() {
        add_starter(&paths.model);
        return Ok(None);
    }
    let log = setup.tools.join("engine-preparing.log");
    std::fs::create_dir_all(&setup.tools).map_err(|e| e.to_string())?;
    std::fs::write(
        &log,
        "Preparing Parley's built-in engine: fetching llama.cpp and SmolLM2\n",
    )
    .map_err(|e| format!("{}: {e}", log.display()))?;
    app.env("PARLEY_ENGINE_PREPARING", &log);
    eprintln!(
        "\nPreparing the built-in engine beside the app (once, ~8 min on 2 cores); its output: {}",
        log.display()
    );
    let mut bg = Setup::new(root, Level::Run)?;
    bg.log = Some(log.clone());
    Ok(Some(std::thread::spawn(move || {
        let peer = bg.llama_peer().inspect_err(|e| {
            // The app reads this line and says so instead of "being prepared".
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log) {
                let _ = writeln!(f, "PREPARATION FAILED: {e}");
            }
        })?;
        add_starter(&peer.model);
        let _ = std::fs::remove_file(&log);
        eprintln!("\nThe built-in engine is ready: {}", peer.server.display());
        Ok(())
    })))
}

/// The binaries the tests run: the CLI, and the app with the real-window tests' hooks
/// (`e2e` feature: dialogs answered from PARLEY_E2E_* variables; never in `run`, `bindings`
/// or the bench, which build the app as users get it).
pub(crate) const WINDOW_BUILD: &[&str] = &[
    "build",
    "-p",
    "parley",
    "--features",
    "parley/e2e",
    "-p",
    "parley-cli",
];

struct Step {
    name: &'static str,
    outcome: Result<(), String>,
    seconds: f64,
}

/// Only the real-window suite (optionally one scenario: `cargo xtask window window_two`).
fn window(root: &Path, filter: &str) -> Result<(), String> {
    let setup = Setup::new(root, Level::Test)?;
    setup.prepare()?;
    sh(cargo(root).args(WINDOW_BUILD))?;
    setup.window_tests(filter)
}

/// `cargo test` of the scenarios matching `filter` that plain `cargo test` ignores (they need
/// a real peer, window, package manager…), one at a time.
pub(crate) fn ignored_tests(root: &Path, filter: &str) -> Command {
    let mut c = cargo(root);
    c.args([
        "test",
        "-p",
        "parley-tests",
        "--test",
        "all",
        filter,
        "--",
        "--ignored",
        "--test-threads=1",
    ]);
    c
}

/// The app and the CLI as users get them (no test hooks), debug build.
pub(crate) const APP_BUILD: &[&str] = &[
    "build",
    "-p",
    "parley",
    "--bin",
    "parley-desktop",
    "-p",
    "parley-cli",
];

/// The real-peer suite against llama-server + SmolLM2 (built/fetched once into the tool cache).
fn peer_tests(root: &Path, setup: &Setup) -> Result<(), String> {
    let peer = setup.llama_peer()?;
    sh(ignored_tests(root, "peer")
        .env("PARLEY_LLAMA_SERVER", &peer.server)
        .env("PARLEY_LLAMA_MODEL", &peer.model)
        .env("PARLEY_LLAMA_TEMPLATE", &peer.template))
}

/// The MCP suite against the reference servers from npm (`suite::mcp_real`).
fn mcp_tests(root: &Path, setup: &Setup) -> Result<(), String> {
    let bin = setup.mcp_servers()?;
    sh(cargo(root)
        .args([
            "test",
            "-p",
            "parley-tests",
            "--test",
            "all",
            "mcp_real",
            "--",
            "--ignored",
        ])
        .env("PARLEY_MCP_SERVERS", &bin))
}

fn test(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let setup = Setup::new(root, Level::Test)?;
    setup.prepare()?;
    let mut steps: Vec<Step> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<(), String>| {
        let t = Instant::now();
        let outcome = f();
        if let Err(e) = &outcome {
            eprintln!("\nxtask: step `{name}` FAILED: {e}");
        }
        steps.push(Step {
            name,
            outcome,
            seconds: t.elapsed().as_secs_f64(),
        });
    };

    step("cargo fmt --check", &mut || {
        sh(cargo(root).args(["fmt", "--all", "--", "--check"]))
    });
    step("cargo clippy -D warnings", &mut || {
        sh(cargo(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step("build binaries", &mut || sh(cargo(root).args(WINDOW_BUILD)));
    step("Rust tests", &mut || {
        sh(cargo(root).args(["test", "--workspace"]))
    });
    step("UI unit tests", &mut || sh(setup.npm().args(["test"])));
    step("UI type check", &mut || {
        sh(setup.npm().args(["run", "check"]))
    });
    step("keychain (real Secret Service)", &mut || {
        setup.with_keychain(cargo(root).args([
            "test",
            "-p",
            "parley-tests",
            "--test",
            "all",
            "keychain",
            "--",
            "--ignored",
        ]))
    });
    step("real LLM peer (llama-server)", &mut || {
        peer_tests(root, &setup)
    });
    step("real MCP servers (npm)", &mut || mcp_tests(root, &setup));
    step("real window (WebDriver)", &mut || {
        setup.window_tests("window")
    });
    step("licenses (cargo-about, npm)", &mut || {
        licenses::notices(root, &setup)
    });
    step("installed bundle (.deb)", &mut || {
        bundle::installed_tests(root, &setup)
    });

    summary(&steps, started)
}

/// The table of steps, and whether all passed.
fn summary(steps: &[Step], started: Instant) -> Result<(), String> {
    eprintln!("\n{:-<60}", "");
    let mut failed = 0;
    for s in steps {
        let mark = if s.outcome.is_ok() { "ok  " } else { "FAIL" };
        if s.outcome.is_err() {
            failed += 1;
        }
        eprintln!("{mark}  {:<40} {:>7.1} s", s.name, s.seconds);
    }
    eprintln!("{:-<60}", "");
    eprintln!(
        "xtask test: {} passed, {} failed ({:.0} s)",
        steps.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        return Err(format!("{failed} step(s) failed"));
    }
    Ok(())
}

/// The whole Rust suite (`cargo test --workspace`, with the binaries the CLI tests run) `runs`
/// times in a row: a flaky test shows up here. Stops at the first failing run.
fn soak(root: &Path, runs: u32) -> Result<(), String> {
    let setup = Setup::new(root, Level::Test)?;
    setup.prepare()?;
    sh(cargo(root).args(["build", "-p", "parley", "-p", "parley-cli"]))?;
    // Compile once, outside the timed runs.
    sh(cargo(root).args(["test", "--workspace", "--no-run"]))?;
    let started = Instant::now();
    for run in 1..=runs {
        let t = Instant::now();
        eprintln!("\nxtask soak: run {run} of {runs}");
        let mut test = cargo(root);
        test.args(["test", "--workspace"]);
        // The kill test in full (tests/suite/kill.rs) once per soak; the other runs use its
        // default count.
        if run == 1 {
            test.env("PARLEY_KILLS", "200");
        }
        if let Err(e) = sh(&mut test) {
            eprintln!("xtask soak: {} passed, 1 failed", run - 1);
            return Err(format!("run {run} of {runs} failed: {e}"));
        }
        eprintln!(
            "xtask soak: run {run} passed in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "\nxtask soak: {runs} passed, 0 failed ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench(root: &Path, extra: &[String]) -> Result<(), String> {
    let setup = Setup::new(root, Level::Test)?;
    setup.prepare()?;
    // `cargo xtask bench scale [SECTION…]`: only the scale figures (ask, long, streams, huge,
    // chats, scroll, follow, images), for working on one of them.
    let scale_only = extra.first().map(String::as_str) == Some("scale");
    let (extra, sections) = if scale_only {
        (&[][..], &extra[1..])
    } else {
        (extra, &[][..])
    };
    bench_core(root, extra, scale_only)?;
    if !cfg!(target_os = "linux") {
        eprintln!("The desktop figures are measured on Linux under Xvfb; skipped here.");
        return Ok(());
    }
    // Desktop figures: the release app next to a bare Tauri window built the same way.
    sh(cargo(root)
        .args(APP_BUILD)
        .args(["--release", "--bin", "parley"]))?;
    // Imports: a 100 MB export of each format through the release CLI.
    if !scale_only {
        sh(Command::new(root.join("target/release/parley-bench")).arg("import"))?;
    }
    sh(cargo(root).args([
        "build",
        "--release",
        "--manifest-path",
        "tests/bench-bare/Cargo.toml",
        "--target-dir",
        "target",
    ]))?;
    let release = root.join("target/release");
    setup.with_window_driver(|display, url| {
        if !scale_only {
            sh(Command::new(release.join("parley-bench"))
                .arg("desktop")
                .env("DISPLAY", display)
                .env("PARLEY_WEBDRIVER_URL", url)
                .env("PARLEY_DESKTOP_BIN", release.join("parley-desktop"))
                .env("PARLEY_BARE_BIN", release.join("parley-bench-bare")))?;
        }
        // Scale figures: long chats, huge answers, many chats, `parley ask` against curl.
        sh(Command::new(release.join("parley-bench"))
            .arg("scale")
            .args(sections)
            .env("DISPLAY", display)
            .env("PARLEY_WEBDRIVER_URL", url)
            .env("PARLEY_DESKTOP_BIN", release.join("parley-desktop"))
            .env("PARLEY_CLI_BIN", release.join("parley")))
    })
}

/// Builds the bench; unless only the scale figures are asked for, prints the core figures
/// (stream pipeline and journal) too.
fn bench_core(root: &Path, extra: &[String], scale_only: bool) -> Result<(), String> {
    if scale_only {
        return sh(cargo(root).args([
            "build",
            "--release",
            "-p",
            "parley-tests",
            "--bin",
            "parley-bench",
        ]));
    }
    sh(cargo(root)
        .args([
            "run",
            "--release",
            "-p",
            "parley-tests",
            "--bin",
            "parley-bench",
            "--",
        ])
        .args(extra))
}

fn bindings(root: &Path) -> Result<(), String> {
    sh(cargo(root).args(["build", "-p", "parley", "--bin", "parley-desktop"]))?;
    let bin = root
        .join("target/debug")
        .join(format!("parley-desktop{}", std::env::consts::EXE_SUFFIX));
    sh(Command::new(bin)
        .arg("--export-bindings")
        .arg(root.join("ui/src/bindings.ts")))
}
