//! The scripted HTTP/1.1 server: drip-fed chunked bodies and injected faults (stalls,
//! keep-alives, disconnects, error bodies), and what it received.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a scripted response body.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes as one chunk.
    Bytes(Vec<u8>),
    /// Wait.
    Sleep(Duration),
    /// Stop sending but keep the connection open until the client goes away.
    Stall,
    /// Close the connection abruptly (no terminating chunk).
    Disconnect,
    /// A text delta whose content is `⟦unix ms⟧ `, stamped at the moment it is written (latency
    /// benchmarks).
    StampedText,
    /// Send an SSE comment every `every` for `total`, then continue.
    KeepAlive {
        /// Interval between comments.
        every: Duration,
        /// How long to keep it up.
        total: Duration,
    },
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Content type.
    pub content_type: String,
    /// The body, step by step.
    pub steps: Vec<Step>,
}

impl Reply {
    /// A 200 SSE response with these steps.
    pub fn sse(steps: Vec<Step>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            content_type: "text/event-stream".into(),
            steps,
        }
    }

    /// No response at all: the connection closes right after the request (a server that
    /// dropped a kept-alive connection, a proxy that gave up).
    pub fn hang_up() -> Reply {
        Reply {
            status: 0,
            headers: Vec::new(),
            content_type: String::new(),
            steps: Vec::new(),
        }
    }

    /// A JSON response with a status.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json".into(),
            steps: vec![Step::Bytes(body.as_bytes().to_vec())],
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the content type.
    pub fn content_type(mut self, ct: &str) -> Reply {
        self.content_type = ct.into();
        self
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// True once the client closed the connection while the reply was still being sent.
    pub client_went_away: Arc<std::sync::atomic::AtomicBool>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    script: Vec<Reply>,
    fallback: Option<Reply>,
    received: Vec<Received>,
    gets: Option<Reply>,
    get_received: Vec<Received>,
}

/// A scripted HTTP server on 127.0.0.1. Replies are used in order; once the script is used up
/// the fallback (if any) answers, else 500.
#[derive(Clone)]
pub struct MockServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    /// Starts a server on a free loopback port.
    pub async fn start() -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
        MockServer { addr, state }
    }

    /// Queues replies.
    pub fn push(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().script.push(reply);
        self
    }

    /// Sets the reply used when the script is exhausted.
    pub fn fallback(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().fallback = Some(reply);
        self
    }

    /// Answers every GET (model lists, which a window fetches whenever it likes) with `reply`,
    /// outside the script; such requests are listed by [`MockServer::gets`], not `received`.
    pub fn answer_gets(&self, reply: Reply) -> &Self {
        self.state.lock().unwrap().gets = Some(reply);
        self
    }

    /// The GET requests answered by [`MockServer::answer_gets`].
    pub fn gets(&self) -> Vec<Received> {
        self.state.lock().unwrap().get_received.clone()
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

async fn serve(mut sock: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let went_away = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let Some(req) = read_request(&mut sock, &went_away).await? else {
        return Ok(());
    };
    let reply = next_reply(&state, req);
    if reply.status == 0 {
        let _ = sock.shutdown().await;
        return Ok(());
    }
    write_head(&mut sock, &reply).await?;
    if play(&mut sock, reply.steps, &went_away).await? {
        return Ok(());
    }
    mark_gone(&went_away, sock.write_all(b"0\r\n\r\n").await)?;
    let _ = sock.shutdown().await;
    Ok(())
}

/// One request off the socket (its head, then a body of its content-length); `None` when the
/// client closed before a whole head arrived.
async fn read_request(
    sock: &mut TcpStream,
    went_away: &Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<Option<Received>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let header_end = loop {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(Received {
        method,
        path,
        headers,
        body,
        client_went_away: went_away.clone(),
    }))
}

/// The reply to a request, by the script: the GET reply for GETs when one is set, else the
/// next scripted reply, else the fallback. The request is recorded.
fn next_reply(state: &Mutex<State>, req: Received) -> Reply {
    let mut st = state.lock().unwrap();
    if let (Some(reply), "GET") = (st.gets.clone(), req.method.as_str()) {
        st.get_received.push(req);
        reply
    } else if st.script.is_empty() {
        st.received.push(req);
        st.fallback
            .clone()
            .unwrap_or_else(|| Reply::json(500, "{\"error\":{\"message\":\"script exhausted\"}}"))
    } else {
        st.received.push(req);
        st.script.remove(0)
    }
}

/// The status line and headers of a chunked reply.
async fn write_head(sock: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
        reply.status, reply.content_type
    );
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await
}

/// Notes that the client went away when a write failed.
fn mark_gone(
    went_away: &std::sync::atomic::AtomicBool,
    r: std::io::Result<()>,
) -> std::io::Result<()> {
    if r.is_err() {
        went_away.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    r
}

/// Plays a reply's steps; true when the reply ended early (a stall, a disconnect, the client
/// gone), with nothing more to write.
async fn play(
    sock: &mut TcpStream,
    steps: Vec<Step>,
    went_away: &std::sync::atomic::AtomicBool,
) -> std::io::Result<bool> {
    for step in steps {
        match step {
            Step::Bytes(b) => {
                if b.is_empty() {
                    continue;
                }
                mark_gone(went_away, write_chunk(sock, &b).await)?;
            }
            Step::Sleep(d) => {
                // Notice a client that hangs up while we wait.
                if wait_or_gone(sock, d).await {
                    went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                    return Ok(true);
                }
            }
            Step::StampedText => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64() * 1000.0)
                    .unwrap_or(0.0);
                let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": format!("⟦{now:.3}⟧ ")}, "finish_reason": null}]});
                mark_gone(
                    went_away,
                    write_chunk(sock, format!("data: {chunk}\n\n").as_bytes()).await,
                )?;
            }
            Step::Stall => {
                wait_or_gone(sock, Duration::from_secs(3600)).await;
                went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                return Ok(true);
            }
            Step::Disconnect => {
                let _ = sock.shutdown().await;
                return Ok(true);
            }
            Step::KeepAlive { every, total } => {
                let end = tokio::time::Instant::now() + total;
                while tokio::time::Instant::now() < end {
                    mark_gone(went_away, write_chunk(sock, b": keep-alive\n\n").await)?;
                    if wait_or_gone(sock, every).await {
                        went_away.store(true, std::sync::atomic::Ordering::SeqCst);
                        return Ok(true);
                    }
                }
            }
        }
    }
    Ok(false)
}

async fn write_chunk(sock: &mut TcpStream, b: &[u8]) -> std::io::Result<()> {
    let mut out = format!("{:x}\r\n", b.len()).into_bytes();
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
    sock.write_all(&out).await?;
    sock.flush().await
}

/// Waits `d`; returns true if the client closed the connection meanwhile.
async fn wait_or_gone(sock: &mut TcpStream, d: Duration) -> bool {
    let mut tmp = [0u8; 64];
    match tokio::time::timeout(d, sock.read(&mut tmp)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

// ----- SSE builders for OpenAI-compatible streams -----
