//! Third-party licenses: the notices a bundle ships (and About shows), made from the Rust and
//! npm dependency trees by maintained tools — cargo-about for the crates, license-checker for
//! the UI's packages — and the check that fails on a license not on the allowed list
//! (`about.toml`'s `accepted`, the one list both tools are given).

use crate::setup::Setup;
use crate::{cargo, sh};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CARGO_ABOUT: &str = "0.8.4";
const NPM_LICENSES: &str = "license-checker-rseidelsohn@4.4.2";

/// Where the notices are written (the bundle takes them from here).
pub const NOTICES: &str = "target/THIRD-PARTY-NOTICES.txt";

/// The licenses allowed, from about.toml (`accepted = [ … ]`).
pub fn allowed(root: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(root.join("about.toml")).map_err(|e| format!("about.toml: {e}"))?;
    let start = text
        .find("accepted")
        .and_then(|i| text[i..].find('[').map(|j| i + j + 1))
        .ok_or("about.toml has no `accepted = [...]` list")?;
    let end = text[start..]
        .find(']')
        .map(|j| start + j)
        .ok_or("about.toml's `accepted` list is not closed")?;
    Ok(text[start..end]
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

impl Setup {
    /// cargo-about, installed once into the tool cache.
    fn cargo_about(&self) -> Result<PathBuf, String> {
        let bin = self
            .tools
            .join("bin")
            .join(format!("cargo-about{}", std::env::consts::EXE_SUFFIX));
        let stamp = self.tools.join("cargo-about.version");
        if bin.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(CARGO_ABOUT) {
            return Ok(bin);
        }
        eprintln!(
            "Installing cargo-about {CARGO_ABOUT} into {} (once).",
            self.tools.display()
        );
        sh(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "install",
                    "cargo-about",
                    "--version",
                    CARGO_ABOUT,
                    "--locked",
                    "--root",
                ])
                .arg(&self.tools),
        )?;
        std::fs::write(&stamp, CARGO_ABOUT).map_err(|e| e.to_string())?;
        Ok(bin)
    }

    /// license-checker (the maintained fork), installed once into the tool cache.
    fn npm_licenses(&self) -> Result<PathBuf, String> {
        let bin = self.npm_tool("npm-licenses", &[NPM_LICENSES])?;
        let exe = if cfg!(windows) { ".cmd" } else { "" };
        Ok(bin.join(format!("license-checker-rseidelsohn{exe}")))
    }
}

/// Runs a tool and returns its standard output; on failure its standard error is shown.
fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n$ {shown}");
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("`{shown}` wrote no UTF-8: {e}"))
}

/// The crates of one program (`manifest`), with their licenses (fails on one not allowed).
fn crate_licenses(root: &Path, about: &Path, manifest: &str) -> Result<serde_json::Value, String> {
    let mut cmd = cargo(root);
    // cargo-about is a cargo subcommand: cargo finds it on PATH.
    let path = std::env::join_paths(
        std::iter::once(about.parent().unwrap_or(Path::new(".")).to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ),
    )
    .map_err(|e| e.to_string())?;
    cmd.env("PATH", path).args([
        "about",
        "generate",
        "--format",
        "json",
        "--fail",
        "--frozen",
        "-c",
        "about.toml",
        "-m",
    ]);
    cmd.arg(manifest);
    serde_json::from_str(&output(&mut cmd)?).map_err(|e| format!("cargo-about: {e}"))
}

/// The crates the app and the CLI ship, each license text once with every crate under it.
/// Crates for every platform are fetched first (from the registry), so that cargo-about reads
/// only files on disk: it never looks anything up elsewhere.
fn rust_licenses(root: &Path, setup: &Setup) -> Result<serde_json::Value, String> {
    let about = setup.cargo_about()?;
    sh(cargo(root).args(["fetch", "--locked"]))?;
    let mut all = crate_licenses(root, &about, "Cargo.toml")?;
    let cli = crate_licenses(root, &about, "src-tauri/crates/cli/Cargo.toml")?;
    let list = all["licenses"]
        .as_array_mut()
        .ok_or("cargo-about gave no licenses")?;
    for l in cli["licenses"].as_array().into_iter().flatten() {
        let same = list
            .iter_mut()
            .find(|k| k["id"] == l["id"] && k["text"] == l["text"]);
        let Some(same) = same else {
            list.push(l.clone());
            continue;
        };
        let users = same["used_by"]
            .as_array_mut()
            .ok_or("cargo-about: used_by")?;
        for u in l["used_by"].as_array().into_iter().flatten() {
            let known = users.iter().any(|k| {
                k["crate"]["name"] == u["crate"]["name"]
                    && k["crate"]["version"] == u["crate"]["version"]
            });
            if !known {
                users.push(u.clone());
            }
        }
    }
    Ok(all)
}

/// The UI's production packages with their licenses (fails on one not allowed).
fn npm_licenses(root: &Path, setup: &Setup) -> Result<serde_json::Value, String> {
    let tool = setup.npm_licenses()?;
    let allowed = allowed(root)?.join(";");
    let text = output(
        Command::new(tool)
            .current_dir(root.join("ui"))
            .args([
                "--production",
                "--json",
                "--excludePrivatePackages",
                "--onlyAllow",
            ])
            .arg(allowed),
    )?;
    serde_json::from_str(&text).map_err(|e| format!("license-checker: {e}"))
}

/// `cargo xtask licenses`: the check, and the notices written to `NOTICES`.
pub fn notices(root: &Path, setup: &Setup) -> Result<(), String> {
    let rust = rust_licenses(root, setup)?;
    let npm = npm_licenses(root, setup)?;
    let mut text = String::from(
        "Parley — third-party notices\n\nParley includes the software below. Each part is used under the license shown with it.\n",
    );
    write_rust(&mut text, &rust);
    write_npm(&mut text, &npm);
    write_engine(root, &mut text)?;
    let path = root.join(NOTICES);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("Third-party notices: {}", path.display());
    Ok(())
}

const RULE: &str =
    "\n--------------------------------------------------------------------------------\n";

/// The crates, grouped by license text (cargo-about's `licenses`, each with who uses it).
fn write_rust(text: &mut String, about: &serde_json::Value) {
    let _ = write!(text, "{RULE}Rust crates{RULE}");
    for l in about["licenses"].as_array().into_iter().flatten() {
        let users: Vec<String> = l["used_by"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|u| {
                format!(
                    "{} {}",
                    u["crate"]["name"].as_str().unwrap_or("?"),
                    u["crate"]["version"].as_str().unwrap_or("")
                )
            })
            .collect();
        let _ = write!(
            text,
            "\n{} ({})\nUsed by: {}\n\n{}\n{RULE}",
            l["name"].as_str().unwrap_or("?"),
            l["id"].as_str().unwrap_or("?"),
            users.join(", "),
            l["text"].as_str().unwrap_or("").trim_end()
        );
    }
}

/// The UI's packages, each with its license file when it has one.
fn write_npm(text: &mut String, packages: &serde_json::Value) {
    let _ = write!(text, "{RULE}User interface (npm packages){RULE}");
    for (name, p) in packages.as_object().into_iter().flatten() {
        let license = p["licenses"]
            .as_str()
            .map_or_else(|| p["licenses"].to_string(), str::to_owned);
        let body = p["licenseFile"]
            .as_str()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_else(|| format!("License: {license}"));
        let _ = write!(text, "\n{name} ({license})\n\n{}\n{RULE}", body.trim_end());
    }
}

/// The built-in engine (llama.cpp's llama-server, a bundled program, MIT).
fn write_engine(root: &Path, text: &mut String) -> Result<(), String> {
    let path = root.join("docs/licenses/llama.cpp.txt");
    let body = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let _ = write!(
        text,
        "{RULE}The built-in engine{RULE}\nllama.cpp (MIT)\n\n{}\n",
        body.trim_end()
    );
    Ok(())
}
