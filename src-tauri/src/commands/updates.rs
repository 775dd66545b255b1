//! Updates, opt-in (Settings → About). The release manifest and the package are fetched by the
//! core, through the ledger; tauri-plugin-updater reads the manifest, checks the package's
//! signature against the public key built into this release (and that the signature names the
//! version announced), and installs it. Nothing is kept that failed the check. The automatic
//! check runs only when the user turned it on (`Settings.check_updates`).

use super::prelude::*;
use parley_protocol::{UpdateCheck, UpdateDownload, UpdateSupport};
use std::sync::Mutex;
use tauri_plugin_updater::UpdaterExt;
use tokio_util::sync::CancellationToken;

/// Where updates come from: the release manifest's address and the key packages are signed
/// with.
struct Source {
    endpoint: url::Url,
    pubkey: String,
}

/// This build's update source: set at build time by the release workflow; the real-window
/// tests' builds (`e2e`) may name a loopback server and a test key instead.
fn source() -> Option<Source> {
    #[cfg(feature = "e2e")]
    if let (Ok(e), Ok(k)) = (
        std::env::var("PARLEY_E2E_UPDATE_ENDPOINT"),
        std::env::var("PARLEY_E2E_UPDATE_PUBKEY"),
    ) {
        return Some(Source {
            endpoint: url::Url::parse(&e).ok()?,
            pubkey: k,
        });
    }
    let endpoint = option_env!("PARLEY_UPDATE_ENDPOINT").filter(|e| !e.is_empty())?;
    let pubkey = option_env!("PARLEY_UPDATE_PUBKEY").filter(|k| !k.is_empty())?;
    Some(Source {
        endpoint: url::Url::parse(endpoint).ok()?,
        pubkey: pubkey.to_owned(),
    })
}

const NO_SOURCE: &str =
    "This copy of Parley has no update source: only release builds check for updates.";

/// Why this copy cannot install an update: one run from a build folder (not installed from a
/// package) would have its own executable replaced.
fn cannot_install() -> Option<String> {
    use tauri::utils::{config::BundleType, platform::bundle_type};
    let packaged = match bundle_type() {
        // macOS names every build an app: an installed one runs inside its bundle.
        Some(BundleType::App) => std::env::current_exe()
            .is_ok_and(|e| e.to_string_lossy().contains(".app/Contents/MacOS/")),
        Some(_) => true,
        None => false,
    };
    (!packaged).then(|| {
        "This copy of Parley runs from a build folder, not from an installed package, so it does not replace itself: install the new version from its package.".to_owned()
    })
}

/// The update found by the last check, and where its download stands.
#[derive(Default)]
pub struct Updates {
    inner: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    offer: Option<tauri_plugin_updater::Update>,
    /// A package whose signature was verified, with the update it was verified for (what
    /// install uses: never another offer's).
    package: Option<(tauri_plugin_updater::Update, Vec<u8>)>,
    download: Option<UpdateDownload>,
    /// The running download's cancel, and its number (only the newest writes its end).
    cancel: Option<(u64, CancellationToken)>,
    downloads: u64,
    /// What the last check found (shown again when About opens).
    last: Option<UpdateCheck>,
}

/// `f` on the pending update (the lock is never held across an await).
fn with<R>(app: &tauri::AppHandle, f: impl FnOnce(&mut Pending) -> R) -> R {
    use tauri::Manager;
    let updates = app.state::<Updates>();
    let mut p = updates
        .inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut p)
}

fn refused(why: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(ErrorCode::InvalidInput, why, false)
}

/// What About shows before any check: the host checks go to, whether this copy can install.
#[tauri::command]
#[specta::specta]
pub async fn update_support() -> Res<UpdateSupport> {
    Ok(UpdateSupport {
        host: source().and_then(|s| s.endpoint.host_str().map(str::to_owned)),
        cannot_install: cannot_install(),
    })
}

/// A sentence for what the updater refused (the server's words marked and bounded).
fn describe(e: &tauri_plugin_updater::Error) -> String {
    use tauri_plugin_updater::Error as E;
    let plain = |s: String| {
        let s = parley_protocol::visible::mark_hidden(&s);
        s.chars().take(300).collect::<String>()
    };
    match e {
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) => {
            "The package's signature does not match Parley's release key: it was not kept, and nothing was installed.".into()
        }
        E::SignedVersionMismatch { signed, announced } => plain(format!(
            "The package is signed as version {signed}, but the server announced {announced}: refused, and nothing was installed."
        )),
        E::MissingSignedVersion => "The package's signature names no version, so it cannot be matched to the one announced: refused, and nothing was installed.".into(),
        E::TargetNotFound(t) => plain(format!("The release has no package for this computer ({t}).")),
        E::TargetsNotFound(t) => plain(format!(
            "The release has no package for this computer ({}).",
            t.join(", ")
        )),
        E::Serialization(e) => plain(format!(
            "The update server's release description is not one Parley reads: {e}."
        )),
        other => plain(format!("The update could not be used: {other}.")),
    }
}

/// The update the manifest announces, read by the updater (the key and version rules its
/// own); `None` when it is not newer than this copy.
fn restore(
    app: &tauri::AppHandle,
    src: &Source,
    manifest: serde_json::Value,
) -> Res<Option<tauri_plugin_updater::Update>> {
    let internal = |e: tauri_plugin_updater::Error| {
        ErrorInfo::new(
            ErrorCode::Internal,
            format!("The updater could not start: {e}."),
            false,
        )
    };
    // Windows: the installer ends the process without an exit event; Parley shuts down first.
    let handle = app.clone();
    let updater = app
        .updater_builder()
        .on_before_exit(move || crate::shut_down(&handle))
        .pubkey(src.pubkey.clone())
        .endpoints(vec![src.endpoint.clone()])
        .map_err(internal)?
        .build()
        .map_err(internal)?;
    updater
        .restore_update(manifest)
        .map_err(|e| refused(describe(&e)))
}

/// Asks the release server what its newest version is.
async fn check(app: &tauri::AppHandle, cause: &str) -> Res<UpdateCheck> {
    use tauri::Manager;
    let src = source().ok_or_else(|| refused(NO_SOURCE))?;
    if with(app, |p| p.cancel.is_some()) {
        return Err(refused(
            "The update is downloading: check again once it ends.",
        ));
    }
    let core = app.state::<AppState>().core.clone();
    let manifest = core
        .updates()
        .manifest(&src.endpoint, cause)
        .await
        .map_err(|why| ErrorInfo::new(ErrorCode::Network, capitalised(&why), true))?;
    let update = match manifest {
        Some(json) => restore(app, &src, json)?,
        None => None,
    };
    let available = update.as_ref().map(|u| {
        let published = u.date.map(|d| d.unix_timestamp().saturating_mul(1000));
        parley_core::updates::offer(&u.version, u.body.as_deref(), published, &u.download_url)
    });
    let result = UpdateCheck {
        current: app.package_info().version.to_string(),
        available,
        checked_at: parley_core::now_ms(),
    };
    with(app, |p| {
        let same = |a: &tauri_plugin_updater::Update| {
            update
                .as_ref()
                .is_some_and(|b| a.version == b.version && a.signature == b.signature)
        };
        // Another offer: what was downloaded for the one before goes (a download that started
        // meanwhile writes its end only for its own offer).
        if !p.offer.as_ref().is_some_and(same) {
            p.package = None;
            if p.cancel.is_none() {
                p.download = None;
            }
        }
        p.offer = update;
        p.last = Some(result.clone());
    });
    Ok(result)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}

/// "Check now": asks the release server (a request listed in Settings → Privacy).
#[tauri::command]
#[specta::specta]
pub async fn check_update(app: tauri::AppHandle) -> Res<UpdateCheck> {
    check(&app, "Check now (Settings → About)").await
}

/// Downloads the update found by the last check and verifies its signature; only a verified
/// package is kept. The window polls [`update_download_state`] for the progress.
#[tauri::command]
#[specta::specta]
pub async fn download_update(app: tauri::AppHandle) -> Res<UpdateDownload> {
    use tauri::Manager;
    let endpoint = source()
        .map(|s| s.endpoint)
        .ok_or_else(|| refused(NO_SOURCE))?;
    let (update, number, cancel) = start_download(&app)?;
    let version = update.version.clone();
    let progress_app = app.clone();
    let progress = move |done, total| {
        let version = version.clone();
        with(&progress_app, |p| {
            if p.downloads == number {
                p.download = Some(UpdateDownload::Downloading {
                    version,
                    done,
                    total,
                });
            }
        });
    };
    let core = app.state::<AppState>().core.clone();
    let got = core
        .updates()
        .package(
            &endpoint,
            &update.download_url,
            &update.version,
            progress,
            cancel,
        )
        .await;
    let verified = got.map_err(|why| capitalised(&why)).and_then(|bytes| {
        update
            .verify(&bytes)
            .map(|()| bytes)
            .map_err(|e| describe(&e))
    });
    let version = update.version.clone();
    let state = match &verified {
        Ok(_) => UpdateDownload::Verified { version },
        Err(why) => UpdateDownload::Failed {
            version,
            why: why.clone(),
        },
    };
    with(&app, |p| {
        if p.downloads != number {
            return;
        }
        let current = p
            .offer
            .as_ref()
            .is_some_and(|o| o.signature == update.signature);
        p.package = verified
            .ok()
            .filter(|_| current)
            .map(|bytes| (update, bytes));
        p.download = Some(state.clone());
        p.cancel = None;
    });
    Ok(state)
}

/// Marks a download of the current offer as started: its update, number and cancel.
fn start_download(
    app: &tauri::AppHandle,
) -> Res<(tauri_plugin_updater::Update, u64, CancellationToken)> {
    with(app, |p| {
        if p.cancel.is_some() {
            return Err(refused("The update is already downloading."));
        }
        let update = p
            .offer
            .clone()
            .ok_or_else(|| refused("Check for updates first: no update was found."))?;
        p.downloads += 1;
        let cancel = CancellationToken::new();
        p.cancel = Some((p.downloads, cancel.clone()));
        p.package = None;
        p.download = Some(UpdateDownload::Downloading {
            version: update.version.clone(),
            done: 0,
            total: None,
        });
        Ok((update, p.downloads, cancel))
    })
}

/// Where the download stands, and what the last check found.
#[tauri::command]
#[specta::specta]
pub async fn update_download_state(
    app: tauri::AppHandle,
) -> Res<(UpdateDownload, Option<UpdateCheck>)> {
    Ok(with(&app, |p| {
        (
            p.download.clone().unwrap_or(UpdateDownload::Idle),
            p.last.clone(),
        )
    }))
}

/// Stops a download; nothing of it is kept.
#[tauri::command]
#[specta::specta]
pub async fn cancel_update_download(app: tauri::AppHandle) -> Res<()> {
    with(&app, |p| {
        if let Some((_, c)) = &p.cancel {
            c.cancel();
        }
    });
    Ok(())
}

/// Installs the verified package (the updater verifies it once more first), then restarts
/// Parley into the new version — once the person confirms it in a native dialog, which script
/// in the page cannot answer. Refused in a copy not installed from a package.
#[tauri::command]
#[specta::specta]
pub async fn install_update(app: tauri::AppHandle) -> Res<()> {
    if let Some(why) = cannot_install() {
        return Err(refused(why));
    }
    let Some((update, bytes)) = with(&app, |p| p.package.take()) else {
        return Err(refused(
            "Download the update first: only a verified package is installed.",
        ));
    };
    if !confirmed(&app, &update.version).await {
        with(&app, |p| p.package = Some((update, bytes)));
        return Err(refused("The update was not installed."));
    }
    let kept = update.clone();
    let installed = tauri::async_runtime::spawn_blocking(move || {
        let done = update.install(&bytes);
        (done, bytes)
    })
    .await;
    match installed {
        Ok((Ok(()), _)) => {
            app.request_restart();
            Ok(())
        }
        Ok((Err(e), bytes)) => {
            with(&app, |p| p.package = Some((kept, bytes)));
            Err(ErrorInfo::new(ErrorCode::Internal, describe(&e), true))
        }
        Err(e) => Err(ErrorInfo::new(
            ErrorCode::Internal,
            format!("The installer stopped: {e}."),
            true,
        )),
    }
}

/// The person's yes to installing `version` and restarting, in a native dialog.
async fn confirmed(app: &tauri::AppHandle, version: &str) -> bool {
    use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .message(format!(
            "Install Parley {version} now? Parley closes, installs it (your system may ask for your password) and starts again. Your chats are kept."
        ))
        .title("Install the update")
        .kind(MessageDialogKind::Info)
        .buttons(MessageDialogButtons::OkCancelCustom(
            "Install and restart".into(),
            "Cancel".into(),
        ))
        .show(move |yes| {
            let _ = tx.send(yes);
        });
    rx.await.unwrap_or(false)
}

/// How often the automatic check looks at its setting, and how long after the start the first
/// check waits (not in the way of the first paint).
const TICK: std::time::Duration = std::time::Duration::from_secs(60);
/// Between two automatic checks.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// After a failed automatic check, the next.
const RETRY_MS: i64 = 60 * 60 * 1000;

/// The automatic check: only while the user has it on (`Settings.check_updates`), a minute
/// after the start and then once a day; the window shows what it found.
pub fn schedule(app: &tauri::AppHandle) {
    use tauri::Manager;
    if source().is_none() {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut last: Option<i64> = None;
        loop {
            tokio::time::sleep(TICK).await;
            let core = app.state::<AppState>().core.clone();
            let on = core
                .settings()
                .get_settings()
                .await
                .is_ok_and(|s| s.check_updates);
            let due = last.is_none_or(|t| parley_core::now_ms() - t >= DAY_MS);
            if !(on && due) {
                continue;
            }
            last = Some(parley_core::now_ms());
            // The window reads what was found (`update_download_state`) and says so.
            match check(&app, "daily check (turned on in Settings → About)").await {
                Ok(c) => match c.available {
                    Some(o) => tracing::info!("update check: {} is available", o.version),
                    None => tracing::info!("update check: up to date"),
                },
                Err(e) => {
                    tracing::info!("update check: {}", e.message);
                    // Offline, or the server down: again in an hour, not a day.
                    last = Some(parley_core::now_ms() - DAY_MS + RETRY_MS);
                }
            }
        }
    });
}

#[cfg(all(test, not(feature = "e2e")))]
mod tests {
    /// The app users get checks only the source it was built with, whatever its environment
    /// says (the tests' loopback server and key are for `e2e` builds).
    #[test]
    fn a_default_build_takes_no_update_source_from_its_environment() {
        std::env::set_var("PARLEY_E2E_UPDATE_ENDPOINT", "http://127.0.0.1:1/evil.json");
        std::env::set_var("PARLEY_E2E_UPDATE_PUBKEY", "ZXZpbA==");
        crate::e2e::take_update_source_args(
            Some("http://127.0.0.1:2/evil.json".into()),
            Some("ZXZpbA==".into()),
        );
        let src = super::source();
        assert!(src.as_ref().is_none_or(|s| s.pubkey != "ZXZpbA=="));
        assert!(src.is_none_or(|s| s.endpoint.port().is_none()));
    }
}
