//! The legacy HTTP+SSE transport (protocol 2024-11-05), for a remote server that has only
//! that: the client opens an event stream with GET at the server's address; the server's first
//! event, `endpoint`, names where to POST messages; its answers come as `message` events on
//! the stream. Used when streamable HTTP fails at an address and a GET there opens such a
//! stream (the specification's backwards-compatibility rule). The endpoint must be on the
//! server's own origin (scheme, host and port), and redirects are not followed: a server cannot
//! send Parley's messages, and their headers, elsewhere. An event longer than LINE_MAX fails the waiting call at once
//! (`oversize`), as on stdio; the stream ending closes the connection.

use super::stdio::LINE_MAX;
use futures::StreamExt;
use reqwest_mcp::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::RoleClient;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// How long the server gets to name its endpoint.
pub const ENDPOINT_WAIT: Duration = Duration::from_secs(10);

/// A connection over the legacy transport.
pub struct LegacySse {
    client: reqwest_mcp::Client,
    endpoint: Arc<str>,
    headers: HeaderMap,
    rx: mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
    reader: tokio::task::JoinHandle<()>,
    /// The ledger's scope of the connection (its posts are sent from rmcp's own task).
    scope: Option<crate::ledger::Scope>,
}

impl Drop for LegacySse {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// An error of the legacy transport, said in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SseError(String);

/// One server-sent event.
#[derive(Debug, Default, PartialEq, Eq)]
struct Event {
    name: String,
    data: String,
}

/// Reads events from a byte stream (the event-stream format): `event:` and `data:` fields,
/// a blank line ends an event; an event growing over LINE_MAX is reported as `Err(())` the
/// moment it does (not when it ends: it may never) and the rest of it skipped.
#[derive(Default)]
struct Parser {
    line: Vec<u8>,
    current: Event,
    has_data: bool,
    too_long: bool,
}

impl Parser {
    /// Feeds `bytes`; returns the events completed (`Err(())` for one that was too long).
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Event, ()>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                if self.line.len() + self.current.data.len() < LINE_MAX {
                    self.line.push(b);
                } else if !self.too_long {
                    self.too_long = true;
                    out.push(Err(()));
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.is_empty() {
                let event = std::mem::take(&mut self.current);
                let too_long = std::mem::take(&mut self.too_long);
                if std::mem::take(&mut self.has_data) && !too_long {
                    out.push(Ok(event));
                }
                continue;
            }
            if !self.too_long {
                self.field(&String::from_utf8_lossy(line));
            }
        }
        out
    }

    fn field(&mut self, line: &str) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "event" => self.current.name = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {} // comments (keep-alives), ids, retry: not needed
        }
    }
}

impl LegacySse {
    /// Opens the event stream at `url` and waits (ENDPOINT_WAIT) for the endpoint; an error
    /// says why this is no legacy server.
    pub async fn connect(
        url: &str,
        headers: HeaderMap,
        oversize: Arc<Notify>,
    ) -> Result<LegacySse, String> {
        let base = url::Url::parse(url).map_err(|e| format!("its address is not valid: {e}"))?;
        let client = super::client::http_client()?;
        let response = tokio::time::timeout(
            ENDPOINT_WAIT,
            crate::ledger::send_mcp(
                client
                    .get(base.clone())
                    .headers(headers.clone())
                    .header(ACCEPT, "text/event-stream"),
                None,
            ),
        )
        .await
        .map_err(|_| "it did not answer a GET for an event stream".to_owned())?
        .map_err(|e| e.to_string())?;
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !response.status().is_success() || !is_stream {
            return Err(format!(
                "a GET there answered {} without an event stream",
                response.status()
            ));
        }
        let mut bytes = crate::ledger::body_mcp(response);
        let mut parser = Parser::default();
        let endpoint = tokio::time::timeout(ENDPOINT_WAIT, async {
            while let Some(chunk) = bytes.next().await {
                let chunk = chunk.map_err(|e| e.to_string())?;
                for event in parser.feed(&chunk).into_iter().flatten() {
                    if event.name == "endpoint" {
                        return Ok(event.data);
                    }
                }
            }
            Err("its event stream ended before it named its endpoint".to_owned())
        })
        .await
        .map_err(|_| "its event stream named no endpoint".to_owned())??;
        let endpoint = same_origin(&base, endpoint.trim())?;
        let (tx, rx) = mpsc::channel(256);
        let reader = tokio::spawn(read_events(bytes, parser, tx, oversize));
        Ok(LegacySse {
            client,
            endpoint: endpoint.into(),
            headers,
            rx,
            reader,
            scope: crate::ledger::current(),
        })
    }
}

/// The endpoint `named` resolved against `base`, when it is on `base`'s origin.
fn same_origin(base: &url::Url, named: &str) -> Result<String, String> {
    let endpoint = base
        .join(named)
        .map_err(|e| format!("its endpoint {named:?} is not an address: {e}"))?;
    if endpoint.origin() != base.origin() {
        return Err(format!(
            "it named an endpoint on another origin ({}), where Parley does not send its messages",
            endpoint.origin().ascii_serialization()
        ));
    }
    Ok(endpoint.to_string())
}

/// Passes the stream's `message` events to the connection until the stream ends, or until
/// an event grows over LINE_MAX: then the call waiting is told at once and the stream is
/// ended (the rest of that event would have to be read to go on; it may never end).
async fn read_events(
    mut bytes: impl futures::Stream<Item = reqwest_mcp::Result<bytes::Bytes>> + Unpin,
    mut parser: Parser,
    tx: mpsc::Sender<RxJsonRpcMessage<RoleClient>>,
    oversize: Arc<Notify>,
) {
    while let Some(Ok(chunk)) = bytes.next().await {
        for event in parser.feed(&chunk) {
            let Ok(event) = event else {
                oversize.notify_waiters();
                return;
            };
            if !(event.name.is_empty() || event.name == "message") {
                continue;
            }
            match serde_json::from_str(&event.data) {
                Ok(message) => {
                    if tx.send(message).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!("an MCP server sent an event that is no message: {e}"),
            }
        }
    }
}

impl Transport<RoleClient> for LegacySse {
    type Error = SseError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self
            .client
            .post(&*self.endpoint)
            .headers(self.headers.clone())
            .json(&item);
        let scope = self.scope.clone();
        async move {
            let response = crate::ledger::resume(scope, crate::ledger::send_mcp(request, None))
                .await
                .map_err(|e| SseError(e.to_string()))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SseError(format!(
                    "the server answered a message with {}",
                    response.status()
                )))
            }
        }
    }

    fn receive(
        &mut self,
    ) -> impl std::future::Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.rx.recv()
    }

    fn close(&mut self) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send {
        self.reader.abort();
        self.rx.close();
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_whatever_the_chunks_and_line_ends() {
        let text = b": keep-alive\r\nevent: endpoint\r\ndata: /message?s=1\r\n\r\ndata: {\"a\":\ndata: 1}\n\nevent: other\n\n";
        for size in [1, 2, 5, 7, text.len()] {
            let mut p = Parser::default();
            let got: Vec<_> = text.chunks(size).flat_map(|c| p.feed(c)).collect();
            assert_eq!(
                got,
                vec![
                    Ok(Event {
                        name: "endpoint".into(),
                        data: "/message?s=1".into()
                    }),
                    Ok(Event {
                        name: String::new(),
                        data: "{\"a\":\n1}".into()
                    }),
                ],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn an_event_over_the_bound_is_reported_at_once_and_the_next_one_read() {
        let mut p = Parser::default();
        let mut got = p.feed(b"data: ");
        for _ in 0..(LINE_MAX / (1024 * 1024) + 1) {
            got.extend(p.feed(&vec![b'x'; 1024 * 1024]));
        }
        // Reported while the line is still going (it may never end).
        assert_eq!(got, vec![Err(())]);
        got.extend(p.feed(b"\ndata: more\n\ndata: ok\n\n"));
        assert_eq!(
            got,
            vec![
                Err(()),
                Ok(Event {
                    name: String::new(),
                    data: "ok".into()
                })
            ]
        );
    }

    #[test]
    fn the_endpoint_must_be_on_the_servers_origin() {
        let base = url::Url::parse("http://127.0.0.1:3001/sse").unwrap();
        assert_eq!(
            same_origin(&base, "/message?sessionId=a").unwrap(),
            "http://127.0.0.1:3001/message?sessionId=a"
        );
        for elsewhere in [
            "http://evil.example/m",
            "//evil.example/m",
            "https://127.0.0.1:3001/m",
            "http://127.0.0.1:3002/m",
        ] {
            assert!(same_origin(&base, elsewhere).is_err(), "{elsewhere}");
        }
    }
}
