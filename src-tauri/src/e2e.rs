//! Hooks for the real-window tests, which WebDriver cannot give a native dialog an answer:
//! the path a dialog "returns" comes from a `PARLEY_E2E_*` variable of the app's environment,
//! and WebKit keeps compositing (`parley::rendering`). They exist only in builds with the `e2e` feature
//! (`cargo xtask window` and `cargo xtask test` build the window suite's app with it); in
//! every other build — the app users get — these functions answer `None`/`false` whatever the
//! environment says.

use std::path::PathBuf;

/// The path the window tests set in `var` instead of answering a native dialog. `None`
/// without the `e2e` feature.
pub fn chosen_path(var: &str) -> Option<PathBuf> {
    #[cfg(feature = "e2e")]
    return std::env::var_os(var).map(PathBuf::from);
    #[cfg(not(feature = "e2e"))]
    {
        let _ = var;
        None
    }
}

/// The files the window tests set in `var` (joined like `PATH`) instead of answering a native
/// multi-file dialog. `None` without the `e2e` feature.
pub fn chosen_paths(var: &str) -> Option<Vec<PathBuf>> {
    #[cfg(feature = "e2e")]
    return std::env::var_os(var).map(|v| std::env::split_paths(&v).collect());
    #[cfg(not(feature = "e2e"))]
    {
        let _ = var;
        None
    }
}

/// Whether the window tests asked WebKit to keep compositing (see `choose_rendering` in
/// `main.rs`). `false` without the `e2e` feature.
pub fn keep_compositing() -> bool {
    #[cfg(feature = "e2e")]
    return std::env::var_os("PARLEY_E2E_KEEP_COMPOSITING").is_some();
    #[cfg(not(feature = "e2e"))]
    false
}

/// The folder the native folder dialog "returns" (`--e2e-pick-folder DIR`, given by whoever
/// starts the app, never by the webview): the variable `pick_folder` reads. Ignored without
/// the `e2e` feature.
pub fn take_pick_folder_arg(dir: Option<PathBuf>) {
    #[cfg(feature = "e2e")]
    if let Some(dir) = dir {
        // Before any thread exists: nothing else reads the environment yet.
        std::env::set_var("PARLEY_E2E_PICK_FOLDER", dir);
    }
    #[cfg(not(feature = "e2e"))]
    let _ = dir;
}

/// The files the native attach dialog "returns" (`--e2e-pick-attachments A:B`, given by whoever
/// starts the app, never by the webview): the variable `pick_attachments` reads. Ignored
/// without the `e2e` feature.
pub fn take_pick_attachments_arg(files: Option<PathBuf>) {
    #[cfg(feature = "e2e")]
    if let Some(files) = files {
        // Before any thread exists: nothing else reads the environment yet.
        std::env::set_var("PARLEY_E2E_PICK_ATTACHMENTS", files);
    }
    #[cfg(not(feature = "e2e"))]
    let _ = files;
}

/// The model file the native dialog of Settings → Models "returns" (`--e2e-pick-model FILE`,
/// given by whoever starts the app, never by the webview): the variable `pick_local_model`
/// reads. Ignored without the `e2e` feature.
pub fn take_pick_model_arg(file: Option<PathBuf>) {
    #[cfg(feature = "e2e")]
    if let Some(file) = file {
        // Before any thread exists: nothing else reads the environment yet.
        std::env::set_var("PARLEY_E2E_PICK_MODEL", file);
    }
    #[cfg(not(feature = "e2e"))]
    let _ = file;
}

/// Where updates come from in the window tests (`--e2e-update-endpoint URL
/// --e2e-update-pubkey KEY`: a loopback release server and a test key, given by whoever starts
/// the app, never by the webview), read by `commands::updates`. Ignored without the `e2e`
/// feature: a release checks only its own source, against its own key.
pub fn take_update_source_args(endpoint: Option<PathBuf>, pubkey: Option<PathBuf>) {
    #[cfg(feature = "e2e")]
    if let (Some(endpoint), Some(pubkey)) = (endpoint, pubkey) {
        // Before any thread exists: nothing else reads the environment yet.
        std::env::set_var("PARLEY_E2E_UPDATE_ENDPOINT", endpoint);
        std::env::set_var("PARLEY_E2E_UPDATE_PUBKEY", pubkey);
    }
    #[cfg(not(feature = "e2e"))]
    let _ = (endpoint, pubkey);
}

#[cfg(all(test, not(feature = "e2e")))]
mod tests {
    /// The app users get (no `e2e` feature) never takes a path from its environment instead
    /// of asking, and never keeps the tests' rendering.
    #[test]
    fn a_default_build_has_no_test_hooks() {
        for var in [
            "PARLEY_E2E_PICK_FILE",
            "PARLEY_E2E_PICK_IMPORT",
            "PARLEY_E2E_SAVE_FILE",
            "PARLEY_E2E_PICK_FOLDER",
            "PARLEY_E2E_PICK_ATTACHMENTS",
            "PARLEY_E2E_PICK_MODEL",
            "PARLEY_E2E_KEEP_COMPOSITING",
        ] {
            std::env::set_var(var, "/tmp/chosen-by-the-environment");
            assert_eq!(super::chosen_path(var), None, "{var}");
            assert_eq!(super::chosen_paths(var), None, "{var}");
        }
        assert!(!super::keep_compositing());
        super::take_pick_folder_arg(Some("/tmp/elsewhere".into()));
        super::take_pick_attachments_arg(Some("/tmp/elsewhere".into()));
        assert_eq!(
            std::env::var("PARLEY_E2E_PICK_FOLDER").as_deref(),
            Ok("/tmp/chosen-by-the-environment")
        );
        assert_eq!(
            std::env::var("PARLEY_E2E_PICK_ATTACHMENTS").as_deref(),
            Ok("/tmp/chosen-by-the-environment")
        );
    }
}
