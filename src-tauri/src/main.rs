//! Parley desktop entry point: find the data folder, open the core, start the window.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use parley_core::secrets::KeyringStore;
use parley_core::{Core, CoreOptions};
use std::sync::Arc;

/// `--NAME VALUE` (or `--NAME=VALUE`).
fn flag_arg(name: &str) -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    let eq = format!("{name}=");
    while let Some(a) = args.next() {
        if a == name {
            return args.next().map(Into::into);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix(eq.as_str())) {
            return Some(v.into());
        }
    }
    None
}

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--export-bindings") {
        let Some(path) = std::env::args().nth(2) else {
            fail("usage: parley-desktop --export-bindings FILE".into())
        };
        match parley::bindings_typescript().map(|ts| std::fs::write(&path, ts)) {
            Ok(Ok(())) => return,
            Ok(Err(e)) => fail(format!("could not write {path}: {e}")),
            Err(e) => fail(format!("could not generate bindings: {e}")),
        }
    }
    // For E2E tests only: the folder the native folder dialog "returns" (WebDriver cannot
    // reach a native dialog). Set by whoever starts the app, never by the webview.
    if let Some(dir) = flag_arg("--e2e-pick-folder") {
        std::env::set_var("PARLEY_E2E_PICK_FOLDER", dir);
    }
    let Some(data_dir) = parley_core::paths::data_dir(flag_arg("--data-dir")) else {
        fail(
            "Parley could not find a folder for its data. Set PARLEY_DATA_DIR and start it again."
                .into(),
        )
    };
    let core = tauri::async_runtime::block_on(Core::open(CoreOptions {
        data_dir: data_dir.clone(),
        secrets: Arc::new(KeyringStore),
        http: Default::default(),
    }));
    let core = match core {
        Ok(c) => c,
        Err(e) => fail(format!(
            "Parley could not open its data in {}: {}",
            data_dir.display(),
            e.to_info().message
        )),
    };
    if let Err(e) = parley::run(core) {
        fail(format!("Parley's window failed: {e}"));
    }
}
