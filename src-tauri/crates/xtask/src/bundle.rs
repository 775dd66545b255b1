//! `cargo xtask bundle` (release bundles for this OS with the Tauri bundler: on Linux a .deb
//! and an .rpm) and `cargo xtask icons` (every icon size from the one source image).
//!
//! What a bundle holds beside the app (`/usr/bin/parley-desktop`): the `parley` CLI
//! (`/usr/bin/parley`) and the built-in engine (`/usr/bin/parley-engine`, llama-server's
//! portable build), both as Tauri sidecars ("external binaries", named by target triple here
//! and installed without it), and the third-party notices. The identifier and the version come
//! from Cargo.toml (`[package.metadata.parley] identifier`, the workspace version): the build
//! script hands the identifier to Tauri, and the bundler is given the same.

use crate::setup::{Level, Setup};
use crate::{cargo, sh};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Tauri CLI from the npm registry, at the version of the `tauri` crate in Cargo.lock.
const TAURI_CLI: &str = "@tauri-apps/cli@2.12.5";

/// The icon every size is made from.
pub const ICON_SOURCE: &str = "src-tauri/icons/parley.svg";

/// The sizes the bundles use (tauri.conf.json's `bundle.icon`): Linux PNGs, macOS .icns,
/// Windows .ico.
const ICONS: &[&str] = &[
    "32x32.png",
    "64x64.png",
    "128x128.png",
    "128x128@2x.png",
    "icon.png",
    "icon.icns",
    "icon.ico",
];

/// What `bundle` built.
pub struct Bundles {
    pub packages: Vec<PathBuf>,
}

impl Setup {
    /// The Tauri CLI, installed once into the tool cache.
    pub fn tauri_cli(&self) -> Result<PathBuf, String> {
        let bin = self.npm_tool("tauri-cli", &[TAURI_CLI])?;
        Ok(bin.join(if cfg!(windows) { "tauri.cmd" } else { "tauri" }))
    }
}

/// Makes every icon size from the source image into `out`.
fn make_icons(root: &Path, setup: &Setup, out: &Path) -> Result<(), String> {
    let made = tempfile_dir(root, "icons")?;
    sh(Command::new(setup.tauri_cli()?)
        .current_dir(root)
        .arg("icon")
        .arg(root.join(ICON_SOURCE))
        .arg("-o")
        .arg(&made))?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for name in ICONS {
        std::fs::copy(made.join(name), out.join(name)).map_err(|e| format!("{name}: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&made);
    Ok(())
}

/// A fresh folder under target/.
fn tempfile_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = root
        .join("target/xtask")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Where `cargo xtask icons` notes which source image the icons were made from.
const ICONS_SOURCE_NOTE: &str = "src-tauri/icons/SOURCE";

/// The note's text for the current source image: its hash, and the files made from it.
fn source_note(root: &Path) -> Result<String, String> {
    let svg = std::fs::read(root.join(ICON_SOURCE)).map_err(|e| format!("{ICON_SOURCE}: {e}"))?;
    Ok(format!(
        "{ICON_SOURCE} fnv1a64 {:016x}: {}\n",
        crate::setup::fnv1a(&svg),
        ICONS.join(" ")
    ))
}

/// `cargo xtask icons`: every icon size, made again from the source image.
pub fn icons(root: &Path) -> Result<(), String> {
    let setup = Setup::new(root, Level::Run)?;
    make_icons(root, &setup, &root.join("src-tauri/icons"))?;
    std::fs::write(root.join(ICONS_SOURCE_NOTE), source_note(root)?)
        .map_err(|e| format!("{ICONS_SOURCE_NOTE}: {e}"))?;
    eprintln!("Icons made from {ICON_SOURCE} into src-tauri/icons.");
    Ok(())
}

/// Fails when the icons in the repo were not made from the source image as it is now (the
/// note `cargo xtask icons` writes names the image's hash; the rasterised files themselves may
/// differ in a bit from machine to machine, so they are not compared).
fn icons_current(root: &Path) -> Result<(), String> {
    let missing: Vec<&str> = ICONS
        .iter()
        .copied()
        .filter(|n| !root.join("src-tauri/icons").join(n).is_file())
        .collect();
    let noted = std::fs::read_to_string(root.join(ICONS_SOURCE_NOTE)).unwrap_or_default();
    if missing.is_empty() && noted == source_note(root)? {
        return Ok(());
    }
    Err(format!(
        "the icons are not made from {ICON_SOURCE} as it is now{}: run `cargo xtask icons` and commit them",
        if missing.is_empty() { String::new() } else { format!(" ({} missing)", missing.join(", ")) }
    ))
}

/// The identifier in Cargo.toml (`[package.metadata.parley] identifier = "…"`).
pub fn identifier(root: &Path) -> Result<String, String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.parley]";
        } else if let Some(v) = line.strip_prefix("identifier").filter(|_| in_table) {
            let v = v
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            return Ok(v.to_owned());
        }
    }
    Err("Cargo.toml has no [package.metadata.parley] identifier".into())
}

/// This machine's target triple (the sidecars' file names carry it).
fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV did not say the host triple".into())
}

/// The sidecars, copied where the bundler looks for them (`NAME-TRIPLE`).
fn sidecars(root: &Path, setup: &Setup, profile: &str) -> Result<Vec<PathBuf>, String> {
    let dir = root.join("target/bundle-sidecars");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let triple = host_triple()?;
    let exe = std::env::consts::EXE_SUFFIX;
    let engine = setup.llama_peer()?.server;
    let cli = root
        .join("target")
        .join(profile)
        .join(format!("parley{exe}"));
    let mut names = Vec::new();
    for (name, from) in [("parley", cli), ("parley-engine", engine)] {
        let to = dir.join(format!("{name}-{triple}{exe}"));
        std::fs::copy(&from, &to)
            .map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))?;
        names.push(dir.join(name));
    }
    Ok(names)
}

/// The configuration merged into tauri.conf.json for a bundle.
fn bundle_config(root: &Path, bins: &[PathBuf]) -> Result<PathBuf, String> {
    let bins: Vec<String> = bins.iter().map(|p| p.display().to_string()).collect();
    let notices = root.join(crate::licenses::NOTICES);
    // A build with an update key (the release workflow's) signs its packages for the updater
    // (TAURI_SIGNING_PRIVATE_KEY; the bundler fails without it).
    let updates = std::env::var("PARLEY_UPDATE_PUBKEY").is_ok_and(|k| !k.trim().is_empty());
    let config = serde_json::json!({
        "identifier": identifier(root)?,
        "mainBinaryName": "parley-desktop",
        "bundle": {
            "createUpdaterArtifacts": updates,
            "externalBin": bins,
            "resources": { notices.display().to_string(): "THIRD-PARTY-NOTICES.txt" },
            "linux": {
                "deb": { "depends": ["libgomp1"] },
                "rpm": { "depends": ["libgomp"] }
            }
        }
    });
    let path = root.join("target/bundle-config.json");
    std::fs::write(&path, config.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The bundle's inputs for `profile`: the icons checked, the notices written, the sidecars
/// (the CLI built in that profile, the engine built once into the tool cache) copied, and the
/// configuration merged into tauri.conf.json written (`target/bundle-config.json`).
fn inputs(root: &Path, setup: &Setup, profile: &str) -> Result<PathBuf, String> {
    icons_current(root)?;
    crate::licenses::notices(root, setup)?;
    let bins = sidecars(root, setup, profile)?;
    bundle_config(root, &bins)
}

/// `cargo xtask bundle --prepare`: the inputs of a release bundle, for the release workflow
/// (the Tauri action then builds and bundles the app with `--config target/bundle-config.json`).
pub fn prepare(root: &Path) -> Result<PathBuf, String> {
    let setup = Setup::new(root, Level::Run)?;
    setup.prepare()?;
    sh(cargo(root).args(["build", "--release", "-p", "parley-cli"]))?;
    inputs(root, &setup, "release")
}

/// Builds the app and the CLI (`release` or debug, never with the tests' hooks), then the
/// bundles for this OS. Returns the packages made.
pub fn bundle(root: &Path, release: bool) -> Result<Bundles, String> {
    let setup = Setup::new(root, Level::Run)?;
    setup.prepare()?;
    bundle_with(root, &setup, release)
}

/// `bundle` on a machine already prepared (`cargo xtask test`'s installed-bundle step).
pub fn bundle_with(root: &Path, setup: &Setup, release: bool) -> Result<Bundles, String> {
    let profile = if release { "release" } else { "debug" };
    let mut build = cargo(root);
    build.args(crate::APP_BUILD);
    if release {
        build.arg("--release");
    }
    sh(&mut build)?;
    let config = inputs(root, setup, profile)?;
    let out = root.join("target").join(profile).join("bundle");
    let _ = std::fs::remove_dir_all(&out);
    let mut tauri = Command::new(setup.tauri_cli()?);
    tauri
        .current_dir(root)
        .arg("bundle")
        .arg("--config")
        .arg(&config);
    if cfg!(target_os = "linux") {
        tauri.args(["--bundles", "deb,rpm"]);
    }
    if !release {
        tauri.arg("--debug");
    }
    sh(&mut tauri)?;
    let packages = packages_in(&out);
    for p in &packages {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        eprintln!("{} ({:.1} MB)", p.display(), size as f64 / 1e6);
    }
    if packages.is_empty() {
        return Err(format!(
            "the bundler made no package under {}",
            out.display()
        ));
    }
    Ok(Bundles { packages })
}

/// The packages under the bundler's output folder (one folder per kind).
fn packages_in(out: &Path) -> Vec<PathBuf> {
    let kinds = ["deb", "rpm", "appimage", "dmg", "msi", "nsis"];
    let mut found = Vec::new();
    for kind in kinds {
        let Ok(entries) = std::fs::read_dir(out.join(kind)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if p.is_file() && ["deb", "rpm", "AppImage", "dmg", "msi", "exe"].contains(&ext) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as root: directly when this is root, else through sudo without a password.
fn as_root(program: &str) -> Command {
    if is_root() {
        return Command::new(program);
    }
    let mut c = Command::new("sudo");
    c.args(["-n", program]);
    c
}

/// Whether this process may install packages: it is root, or sudo needs no password.
fn may_install() -> bool {
    is_root()
        || Command::new("sudo")
            .args(["-n", "true"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// `cargo xtask test`'s installed-bundle step: a .deb bundle (of the debug build: the same
/// app, built faster), installed, used and uninstalled by `tests/suite/installed.rs` under a
/// virtual display with a keychain. Needs dpkg, and root or sudo without a password.
pub fn installed_tests(root: &Path, setup: &Setup) -> Result<(), String> {
    if !cfg!(target_os = "linux") || crate::setup::which("dpkg").is_none() {
        eprintln!("The installed-bundle step installs a .deb: skipped on a system without dpkg.");
        return Ok(());
    }
    if !may_install() {
        return Err("the installed-bundle step installs a .deb with dpkg: run `cargo xtask test` as root or with sudo that needs no password".into());
    }
    // (`PARLEY_INSTALL_DEB`: a package already built, to test it again.)
    let deb = match std::env::var_os("PARLEY_INSTALL_DEB") {
        Some(p) => PathBuf::from(p),
        None => bundle_with(root, setup, false)?
            .packages
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .ok_or("the bundler made no .deb")?,
    };
    let model = setup.llama_peer()?.model;
    setup.with_window_driver(|display, url| {
        sh(crate::ignored_tests(root, "installed")
            .env("DISPLAY", display)
            .env("PARLEY_WEBDRIVER_URL", url)
            .env("PARLEY_INSTALL_DEB", &deb)
            .env("PARLEY_LLAMA_MODEL", &model)
            .env("PARLEY_E2E_SHOTS", root.join("target/e2e-shots")))
    })
}

/// `cargo xtask bench installed`: the release bundles' sizes, then the installed app's cold
/// start to first paint and idle memory next to a bare Tauri window built the same way (the
/// desktop bench, run on /usr/bin/parley-desktop), then the package uninstalled.
pub fn bench_installed(root: &Path) -> Result<(), String> {
    if !cfg!(target_os = "linux") || crate::setup::which("dpkg").is_none() || !may_install() {
        return Err("the installed bench installs a .deb: it needs dpkg, and root or sudo without a password".into());
    }
    let setup = Setup::new(root, Level::Test)?;
    setup.prepare()?;
    let bundles = bundle_with(root, &setup, true)?;
    let deb = bundles
        .packages
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .ok_or("the bundler made no .deb")?;
    sh(cargo(root).args([
        "build",
        "--release",
        "-p",
        "parley-tests",
        "--bin",
        "parley-bench",
    ]))?;
    sh(cargo(root).args([
        "build",
        "--release",
        "--manifest-path",
        "tests/bench-bare/Cargo.toml",
        "--target-dir",
        "target",
    ]))?;
    sh(as_root("dpkg").arg("-i").arg(deb))?;
    let release = root.join("target/release");
    let measured = setup.with_window_driver(|display, url| {
        sh(Command::new(release.join("parley-bench"))
            .arg("desktop")
            .env("DISPLAY", display)
            .env("PARLEY_WEBDRIVER_URL", url)
            .env("PARLEY_DESKTOP_BIN", "/usr/bin/parley-desktop")
            .env("PARLEY_BARE_BIN", release.join("parley-bench-bare")))
    });
    let installed = Command::new("dpkg-query")
        .args(["-W", "-f=${Installed-Size}", "parley"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let removed = sh(as_root("dpkg").args(["-r", "parley"]));
    eprintln!("\nInstalled size (dpkg): {installed} KiB");
    for p in &bundles.packages {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        eprintln!("{}: {:.1} MiB", p.display(), size as f64 / 1048576.0);
    }
    measured.and(removed)
}
