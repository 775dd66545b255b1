//! `parley mcp login NAME` and `logout NAME`: signing in to a remote server with OAuth. The
//! authorization page opens in the system browser (`$BROWSER` when set, else the platform's
//! opener) and its address is printed whole, to open by hand when no browser starts; Ctrl-C
//! cancels the wait. The tokens go to the system keychain.

use crate::term::field;
use crate::Failure;
use parley_core::mcp::oauth::CancellationToken;
use parley_core::Core;
use std::process::Stdio;

pub async fn login(core: &Core, name: &str) -> Result<(), Failure> {
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let opener: parley_core::mcp::oauth::Opener = Box::new(|url: &str| {
        errln!("Opening the sign-in page in your browser. If it does not open, open this address yourself:\n  {}", field(url));
        open_in_browser(url)
    });
    let watch = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let done = core.mcp().sign_in(name, opener, cancel).await;
    watch.abort();
    done?;
    errln!(
        "Signed in to \"{}\"; its tokens are in the system keychain.",
        field(name)
    );
    Ok(())
}

pub async fn logout(core: &Core, name: &str) -> Result<(), Failure> {
    let s = core.mcp().sign_out(name).await?;
    errln!(
        "Signed out of \"{}\"; its tokens are forgotten.",
        field(&s.name)
    );
    Ok(())
}

/// Starts the browser on `url` without waiting for it (its errors go to this terminal):
/// `$BROWSER` when set, else the platform's opener. A browser that cannot be started is not an
/// error: the address was printed.
fn open_in_browser(url: &str) -> Result<(), String> {
    let started = parley_core::mcp::oauth::open_with_env_browser(url).unwrap_or_else(|| {
        let mut cmd = if cfg!(target_os = "macos") {
            std::process::Command::new("open")
        } else if cfg!(windows) {
            let mut c = std::process::Command::new("rundll32");
            c.arg("url.dll,FileProtocolHandler");
            c
        } else {
            std::process::Command::new("xdg-open")
        };
        cmd.arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    if let Err(e) = started {
        errln!("note: no browser could be started ({e}).");
    }
    Ok(())
}
