//! Parley desktop entry point: find the data folder, open the core, start the window.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use parley_core::secrets::KeyringStore;
use parley_core::{Core, CoreOptions};
use std::sync::Arc;

/// `--data-dir DIR` (or `--data-dir=DIR`), as the CLI accepts it.
fn data_dir_arg() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(Into::into);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--data-dir=")) {
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
    let Some(data_dir) = parley_core::paths::data_dir(data_dir_arg()) else {
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
