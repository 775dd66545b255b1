//! The bundle as users get it: the .deb `cargo xtask bundle` makes is installed on this
//! machine with dpkg, its programs run from /usr/bin — the CLI's `--version` and `chats list`,
//! a chat answered by the bundled engine with no network and nothing else installed, the app
//! itself under Xvfb to its first paint — and it is uninstalled, leaving the user's data folder
//! and keychain entries as they were.
//!
//! `cargo xtask test` runs this in its "installed bundle" step (as root, or with sudo that
//! needs no password), with `PARLEY_INSTALL_DEB` naming the package.

use parley_core::secrets::{provider_account, KeyringStore, Secret, SecretStore};
use parley_tests::webdriver::Session;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn var(k: &str) -> String {
    std::env::var(k)
        .unwrap_or_else(|_| panic!("{k} is not set: run this through `cargo xtask test`"))
}

/// `args` as root: directly when this is root, else through sudo that needs no password.
fn as_root(args: &[&str]) -> Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut cmd = if root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", args[0]]);
        c
    };
    cmd.args(&args[1..]).output().expect("dpkg runs")
}

fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The installed CLI on `data`, with a PATH of system folders only (no llama-server there:
/// an answer can only come from the bundled engine) and no engine named by the environment.
fn parley(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new("/usr/bin/parley")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("PATH", "/usr/bin:/bin")
        .env_remove("PARLEY_ENGINE")
        .env_remove("PARLEY_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the installed parley starts");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("stdin written");
    }
    drop(input);
    child.wait_with_output().expect("parley ends")
}

/// A keychain entry this test made, removed when it ends.
struct KeyGuard(String);

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let _ = KeyringStore.delete(&self.0);
    }
}

/// An installed package, removed if the test ends before its own uninstall step.
struct Installed(Option<String>);

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = as_root(&["dpkg", "-r", &p]);
        }
    }
}

/// The package's name, as it declares it.
fn package_name(deb: &Path) -> String {
    ok(
        "dpkg-deb -f",
        &Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb)
            .arg("Package")
            .output()
            .expect("dpkg-deb"),
    )
    .trim()
    .to_owned()
}

/// What the package puts on the system.
fn check_installed_files() {
    for program in [
        "/usr/bin/parley-desktop",
        "/usr/bin/parley",
        "/usr/bin/parley-engine",
    ] {
        assert!(Path::new(program).is_file(), "{program} is not installed");
    }
    let entry =
        std::fs::read_to_string("/usr/share/applications/Parley.desktop").expect("a desktop entry");
    assert!(entry.contains("Exec=parley-desktop"), "{entry}");
    assert!(entry.contains("Icon=parley-desktop"), "{entry}");
    assert!(Path::new("/usr/share/icons/hicolor/128x128/apps/parley-desktop.png").is_file());
    let notices = std::fs::read_to_string("/usr/lib/Parley/THIRD-PARTY-NOTICES.txt")
        .expect("the third-party notices are installed");
    assert!(
        notices.contains("llama.cpp") && notices.contains("tokio"),
        "notices are whole"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "installs a package: run by `cargo xtask test`"]
async fn installed_deb_runs_chats_offline_and_uninstalls_leaving_the_data() {
    let deb = PathBuf::from(var("PARLEY_INSTALL_DEB"));
    let model = var("PARLEY_LLAMA_MODEL");
    let shots = PathBuf::from(var("PARLEY_E2E_SHOTS"));
    let data = tempfile::tempdir().unwrap();
    let data = data.path();

    // A Parley installed here already is not this test's to replace or remove.
    let package = package_name(&deb);
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", &package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        !status.contains("install ok installed"),
        "{package} is installed on this machine: this test installs and removes it; uninstall it first"
    );
    // Removed at the end whatever happens (a half-installed package too).
    let mut installed = Installed(Some(package.clone()));
    ok(
        "dpkg -i",
        &as_root(&["dpkg", "-i", &deb.display().to_string()]),
    );
    check_installed_files();

    // The CLI: its version is the workspace's, and it reads an empty data folder.
    let version = ok("parley --version", &parley(data, &["--version"], None));
    assert_eq!(
        version.trim(),
        format!("parley {}", env!("CARGO_PKG_VERSION"))
    );
    ok("parley chats list", &parley(data, &["chats", "list"], None));

    // A chat answered by the bundled engine: no provider, no network, nothing else installed.
    ok(
        "models add",
        &parley(data, &["models", "add", &model, "--name", "smol"], None),
    );
    let answer = ok("parley ask", &parley(data, &["ask", "Say hello."], None));
    assert!(!answer.trim().is_empty(), "the bundled engine answered");
    let chats = ok(
        "chats list",
        &parley(data, &["chats", "list", "--json"], None),
    );
    assert!(
        chats.contains("\"message_count\":2") || chats.contains("\"message_count\": 2"),
        "{chats}"
    );

    // A key in the keychain, which the uninstall must leave, under a name of its own (the
    // keychain is the user's), removed when the test ends whatever happens.
    let kept_name = format!("installed-test-{}", std::process::id());
    let key_guard = KeyGuard(provider_account(&kept_name));
    let key = format!("sk-installed-{}", std::process::id());
    let add = [
        "providers",
        "add",
        kept_name.as_str(),
        "--kind",
        "openai-compatible",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--key-stdin",
    ];
    ok("providers add", &parley(data, &add, Some(&key)));

    // The installed app, to its first paint (the chat list shows the chat asked above).
    let started = Instant::now();
    let s = Session::start(
        &var("PARLEY_WEBDRIVER_URL"),
        Path::new("/usr/bin/parley-desktop"),
        &["--data-dir".into(), data.display().to_string()],
    )
    .await;
    s.wait_count("[data-testid=session-item]", 1).await;
    eprintln!(
        "installed app: first paint with its chat list after {:?}",
        started.elapsed()
    );
    s.screenshot(&shots.join("installed-01-first-paint.png"))
        .await;
    s.quit().await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Its log, beside this data folder: it started and painted; no message text in it.
    let log = std::fs::read_to_string(data.join("logs/parley.log")).expect("the app's log");
    assert!(
        log.contains(&format!("Parley {} started", env!("CARGO_PKG_VERSION"))),
        "{log}"
    );
    assert!(log.contains("window painted"), "{log}");
    assert!(!log.contains("Say hello"), "{log}");

    // Uninstalled: its programs are gone; the data folder and the key are as they were.
    installed.0 = None;
    ok("dpkg -r", &as_root(&["dpkg", "-r", &package]));
    for program in [
        "/usr/bin/parley-desktop",
        "/usr/bin/parley",
        "/usr/bin/parley-engine",
    ] {
        assert!(
            !Path::new(program).exists(),
            "{program} is left after the uninstall"
        );
    }
    assert!(data.join("parley.db").is_file(), "the chats are kept");
    let store = KeyringStore;
    let kept = store
        .get(&provider_account(&kept_name))
        .expect("the keychain answers");
    assert_eq!(kept, Some(Secret::new(key)), "the key is kept");
    drop(key_guard);
}
