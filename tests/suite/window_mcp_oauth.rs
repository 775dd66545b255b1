//! Real window: signing in to a remote MCP server behind OAuth (tests/mcp_servers/oauth.py) in
//! Settings. The system browser is the stand-in the window suite names in $BROWSER; the
//! keychain is the suite's gnome-keyring. A sign-in the server refuses says so on the server's
//! row; a sign-in that succeeds shows "Signed in", and Test then reaches the server's tool;
//! Sign out puts the Sign in button back.

use super::mcp_oauth::Guarded;
use super::window::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb + tauri-driver: run by `cargo xtask test`"]
async fn window_mcp_sign_in_refused_then_signed_in_and_out() {
    let e = env();
    let (data, _server, s) = launch_with_local(&e).await;
    let guarded = Guarded::start(data.path(), 3600);
    let url = format!("http://127.0.0.1:{}/mcp", guarded.port);
    cli(data.path(), &["mcp", "add", "guarded", "--url", &url]);
    let deny = guarded.events.with_extension("txt.deny");
    std::fs::write(&deny, "").unwrap();
    s.wait_for("[data-testid=new-session]").await;
    s.click_css("[data-testid=settings-button]").await;
    let row = "[data-testid=mcp-server][data-server=guarded]";

    // Refused at the authorization page: the server's words on the row.
    s.click(
        &s.wait_for(&format!("{row} [data-testid=mcp-sign-in]"))
            .await,
    )
    .await;
    let said = s
        .wait_text(&format!("{row} [data-testid=mcp-sign-in-error]"), 30, |t| {
            t.contains("refused")
        })
        .await;
    assert!(said.contains("access_denied"), "{said}");
    s.script(&format!(
        "document.querySelector('{row}').scrollIntoView({{ block: 'center' }})"
    ))
    .await;
    shot(&s, &e, "mcp-20-sign-in-refused").await;

    // Allowed: signed in, the tokens in the keychain; Test reaches the tool.
    std::fs::remove_file(&deny).unwrap();
    s.click_css(&format!("{row} [data-testid=mcp-sign-in]"))
        .await;
    s.wait_for(&format!("{row} [data-testid=mcp-signed-in]"))
        .await;
    assert!(
        guarded.events().contains("token granted"),
        "{}",
        guarded.events()
    );
    s.click_css(&format!("{row} [data-testid=mcp-test]")).await;
    s.wait_for("[data-testid=mcp-tool][data-tool=whoami]").await;
    s.script(&format!(
        "document.querySelector('{row}').scrollIntoView({{ block: 'center' }})"
    ))
    .await;
    shot(&s, &e, "mcp-21-signed-in").await;

    // Signed out: the button is back, and the server refuses again.
    s.click_css(&format!("{row} [data-testid=mcp-sign-out]"))
        .await;
    s.wait_for(&format!("{row} [data-testid=mcp-sign-in]"))
        .await;
    s.click_css(&format!("{row} [data-testid=mcp-test]")).await;
    s.wait_text(&format!("{row} [data-testid=mcp-test-error]"), 30, |t| {
        t.contains("Sign in")
    })
    .await;
    s.quit().await;
}
