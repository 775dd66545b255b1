//! The loopback address a sign-in's browser comes back to (`http://127.0.0.1:<port>/callback`).
//! Every connection is read in a task of its own, each given READ_WAIT to send its request line
//! — so connections that send nothing (another program poking the port) cannot hold the real
//! redirect back; past AT_ONCE being read, a new one is closed at once. Only a GET of `/callback` carrying this sign-in's state is
//! taken; every other request gets a fixed "nothing here" page and the wait goes on. A redirect
//! that says the user refused ends the sign-in with the server's words (hidden characters
//! marked, at most 300 characters). The browser is answered only once the code was exchanged
//! ([`Browser::tell`]); nothing from a request is echoed into a page.

use super::oauth::query_value;
use crate::error::CoreError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

/// The most bytes of a request read.
const REQUEST_MAX: usize = 16 * 1024;
/// How long a connection gets to send its request.
const READ_WAIT: Duration = Duration::from_secs(2);
/// The most connections read at once.
const AT_ONCE: usize = 64;

/// The browser that came back, waiting for its page.
pub struct Browser(TcpStream);

impl Browser {
    /// Answers the browser with `words` (Parley's own).
    pub async fn tell(mut self, words: &str) {
        let _ = respond(&mut self.0, "200 OK", words).await;
    }
}

/// What one connection was.
enum Came {
    /// The redirect of this sign-in: its whole address.
    Back(String, Browser),
    /// The redirect of this sign-in, saying the user refused.
    Refused(String),
    /// Anything else (answered already).
    Other,
}

/// Waits on `listener` for the browser's redirect carrying `state`: its whole address, and the
/// browser to answer once the code is exchanged.
pub async fn wait(listener: &TcpListener, state: &str) -> Result<(String, Browser), CoreError> {
    let (tx, mut rx) = mpsc::channel::<Came>(AT_ONCE);
    let permits = Arc::new(Semaphore::new(AT_ONCE));
    let state: Arc<str> = state.into();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            came = rx.recv() => match came {
                Some(Came::Back(url, browser)) => return Ok((url, browser)),
                Some(Came::Refused(said)) => return Err(CoreError::InvalidInput(format!("The server refused the sign-in: {said}"))),
                Some(Came::Other) | None => {}
            },
            accepted = listener.accept() => match accepted {
                // Beyond AT_ONCE connections being read, one is closed at once.
                Ok((stream, _)) => if let Ok(permit) = permits.clone().try_acquire_owned() {
                    let (tx, state) = (tx.clone(), state.clone());
                    tasks.spawn(async move {
                        let came = read(stream, &state).await;
                        drop(permit);
                        let _ = tx.send(came).await;
                    });
                },
                // Out of descriptors, say: not a busy loop.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
        }
    }
}

/// Reads one connection's request and says what it was (answering any other request).
async fn read(mut stream: TcpStream, state: &str) -> Came {
    let target = read_target(&mut stream).await;
    let full = format!("http://127.0.0.1{}", target.as_deref().unwrap_or("/"));
    let is_callback = target
        .as_deref()
        .is_some_and(|t| t.starts_with("/callback?"));
    let ours = query_value(&full, "state").is_some_and(|s| !s.is_empty() && s == state);
    if !(is_callback && ours) {
        let _ = respond(&mut stream, "404 Not Found", "Nothing here.").await;
        return Came::Other;
    }
    if let Some(error) = query_value(&full, "error") {
        let _ = respond(
            &mut stream,
            "200 OK",
            "Signing in was refused. You can close this window and return to Parley.",
        )
        .await;
        let said = query_value(&full, "error_description").unwrap_or_default();
        let said: String = format!("{error} {said}")
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        return Came::Refused(parley_protocol::visible::mark_hidden(said.trim()));
    }
    Came::Back(full, Browser(stream))
}

/// The target of the request's first line (`GET <target> HTTP/1.1`), within REQUEST_MAX bytes
/// and READ_WAIT.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < REQUEST_MAX {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_WAIT, read).await.ok()??;
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next()?;
    let mut words = line.split(' ');
    match (words.next(), words.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
        _ => None,
    }
}

/// A small page (the words are Parley's own: nothing from the request is echoed).
async fn respond(stream: &mut TcpStream, status: &str, words: &str) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Parley</title><p style=\"font:16px system-ui;margin:3em\">{words}</p>"
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(port: u16, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    }

    /// Idle connections, other paths, a wrong or missing state and a POST are answered and
    /// ignored; the redirect with the state is taken and answered only when told.
    #[tokio::test]
    async fn only_this_sign_ins_redirect_is_taken_and_idle_connections_hold_nothing_back() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let waiting = tokio::spawn(async move { wait(&listener, "S1").await });
        let mut idle = Vec::new();
        for _ in 0..20 {
            idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        }
        for other in [
            "GET / HTTP/1.1\r\n\r\n",
            "GET /callback?code=c&state=S2 HTTP/1.1\r\n\r\n",
            "GET /callback?code=c HTTP/1.1\r\n\r\n",
            "GET /callback?code=c&state= HTTP/1.1\r\n\r\n",
            "POST /callback?code=c&state=S1 HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                send(port, other).await.starts_with("HTTP/1.1 404"),
                "{other}"
            );
        }
        let started = std::time::Instant::now();
        let mut browser = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        browser
            .write_all(b"GET /callback?code=c&state=S1 HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let (url, back) = waiting.await.unwrap().unwrap();
        assert!(started.elapsed() < READ_WAIT, "{:?}", started.elapsed());
        assert_eq!(url, "http://127.0.0.1/callback?code=c&state=S1");
        back.tell("Signed in.").await;
        let mut page = String::new();
        browser.read_to_string(&mut page).await.unwrap();
        assert!(
            page.starts_with("HTTP/1.1 200") && page.contains("Signed in."),
            "{page}"
        );
        drop(idle);
    }

    #[tokio::test]
    async fn a_refusal_ends_the_wait_with_the_servers_words_made_plain() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let waiting = tokio::spawn(async move { wait(&listener, "S1").await });
        let page = send(
            port,
            "GET /callback?error=access_denied&error_description=No%E2%80%AE%0Athanks%3Cb%3E&state=S1 HTTP/1.1\r\n\r\n",
        )
        .await;
        assert!(
            page.contains("Signing in was refused") && !page.contains("thanks"),
            "{page}"
        );
        let Err(e) = waiting.await.unwrap() else {
            panic!("a refusal is an error")
        };
        let e = e.to_string();
        assert!(e.contains("access_denied No"), "{e}");
        assert!(!e.contains('\u{202E}') && !e.contains('\n'), "{e:?}");
        assert!(e.contains("thanks<b>"), "{e}");
    }
}
