//! Parley desktop: a thin adapter over parley-core. It opens the core on the platform data
//! folder, holds it in one `AppState`, and shows the web UI. Commands and streaming arrive with
//! the desktop milestone; nothing here makes security or storage decisions of its own.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use parley_core::secrets::KeyringStore;
use parley_core::{Core, CoreOptions};
use std::sync::Arc;

/// Everything the commands share.
pub struct AppState {
    /// The core (sessions, providers, turns).
    pub core: Core,
}

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

fn main() {
    let Some(data_dir) = parley_core::paths::data_dir(data_dir_arg()) else {
        eprintln!(
            "Parley could not find a folder for its data. Set PARLEY_DATA_DIR and start it again."
        );
        std::process::exit(1);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Parley could not start its runtime: {e}");
            std::process::exit(1);
        }
    };
    let core = runtime.block_on(Core::open(CoreOptions {
        data_dir: data_dir.clone(),
        secrets: Arc::new(KeyringStore),
        http: Default::default(),
    }));
    let core = match core {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "Parley could not open its data in {}: {}",
                data_dir.display(),
                e.to_info().message
            );
            std::process::exit(1);
        }
    };
    let _guard = runtime.enter();
    let result = tauri::Builder::default()
        .manage(AppState { core })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Parley's window failed: {e}");
        std::process::exit(1);
    }
}
