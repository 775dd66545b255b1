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

/// On Linux without a GPU render node, WebKit's compositing and painting run through software
/// GL: Parley turns compositing off, or, where it is kept (the user's
/// `WEBKIT_DISABLE_COMPOSITING_MODE`, the window tests), has Skia paint on the CPU. WebKit's own
/// variables always win. Why and the figures: `parley::rendering`.
#[cfg(target_os = "linux")]
fn choose_rendering() {
    use parley::rendering::{choice, COMPOSITING, CPU_PAINTING};
    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    // The real-window suite keeps WebKit's default: WebKitWebDriver's clicks hung there without
    // compositing while a CSS animation ran (the "Writing…" dot of a streaming answer).
    if let Some((var, value)) = choice(
        std::env::var_os(COMPOSITING).is_some(),
        std::env::var_os(CPU_PAINTING).is_some(),
        parley::e2e::keep_compositing(),
        render_node,
    ) {
        // Before any thread exists: nothing else reads the environment yet.
        std::env::set_var(var, value);
    }
}

/// The log file (`parley_core::logs`: the OS's log folder, or beside a data folder given with
/// `--data-dir`), and panics written into it as well as to the terminal.
fn start_log(data_dir: &std::path::Path) {
    let explicit = flag_arg("--data-dir");
    let Some(dir) = parley_core::logs::log_dir(explicit.as_deref()) else {
        return;
    };
    if let Err(e) = parley_core::logs::init(&dir, false) {
        eprintln!("{e}");
        return;
    }
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Where it happened; what it said (which may quote a message) with details only.
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        tracing::error!("panic at {}", at.unwrap_or_default());
        tracing::debug!(target: parley_core::logs::CONTENT, "panic: {info}");
        default(info);
    }));
    tracing::info!(
        "Parley {} started ({} {}); data folder {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        data_dir.display()
    );
}

fn main() {
    #[cfg(target_os = "linux")]
    choose_rendering();
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
    // For E2E tests only (builds with the `e2e` feature): the folder the native folder dialog
    // "returns" (WebDriver cannot reach a native dialog). Set by whoever starts the app, never
    // by the webview.
    parley::e2e::take_pick_folder_arg(flag_arg("--e2e-pick-folder"));
    parley::e2e::take_pick_attachments_arg(flag_arg("--e2e-pick-attachments"));
    parley::e2e::take_pick_model_arg(flag_arg("--e2e-pick-model"));
    parley::e2e::take_update_source_args(
        flag_arg("--e2e-update-endpoint"),
        flag_arg("--e2e-update-pubkey"),
    );
    let Some(data_dir) = parley_core::paths::data_dir(flag_arg("--data-dir")) else {
        fail(
            "Parley could not find a folder for its data. Set PARLEY_DATA_DIR and start it again."
                .into(),
        )
    };
    start_log(&data_dir);
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
    // For E2E tests only: scripted model servers answer requests in order, and a background
    // title request would take a reply meant for a turn. Set by whoever starts the app.
    let no_titles = std::env::args().any(|a| a == "--e2e-no-titles");
    core.chats().set_background_titles(!no_titles);
    // Messages queued while a chat answers go as its answers end (the CLI only queues).
    tauri::async_runtime::block_on(async { core.queue().start_draining() });
    if let Err(e) = parley::run(core) {
        fail(format!("Parley's window failed: {e}"));
    }
}
