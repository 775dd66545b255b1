//! `fetch_url`: one web page, as readable text. http(s) only. The host is resolved first and
//! every address checked ([`super::net::forbidden`]: loopback, private, link-local, CGNAT,
//! metadata…); the connection then goes to the address that was checked (no second lookup
//! an attacker's DNS could answer differently). Redirects are followed by hand, each hop
//! checked the same way, at most [`MAX_REDIRECTS`]; the body is capped at [`MAX_BODY_BYTES`].

use super::tool::{Risk, Tool, ToolContext, ToolError};
use futures::future::BoxFuture;
use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
/// The most bytes of a response read.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The most text returned to the model.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// Looks up a host's addresses. Tests give their own.
pub trait Resolve: Send + Sync {
    /// The addresses of `host`.
    fn lookup(&self, host: &str, port: u16)
        -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>;
}

/// The system's resolver.
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }
}

/// Which addresses are refused (a test may allow its own loopback server).
pub type Policy = fn(IpAddr) -> Option<&'static str>;

/// Arguments of `fetch_url`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchUrlInput {
    /// The http(s) address of the page.
    pub url: String,
}

/// Fetches a public web page.
pub struct FetchUrl {
    resolver: Arc<dyn Resolve>,
    policy: Policy,
}

impl FetchUrl {
    /// Public addresses only, resolved by the system.
    pub fn new() -> Self {
        FetchUrl {
            resolver: Arc::new(SystemResolver),
            policy: super::net::forbidden,
        }
    }

    /// With a resolver and an address policy of the caller's (tests).
    pub fn with(resolver: Arc<dyn Resolve>, policy: Policy) -> Self {
        FetchUrl { resolver, policy }
    }
}

impl Default for FetchUrl {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for FetchUrl {
    type Input = FetchUrlInput;

    fn name(&self) -> &'static str {
        "fetch_url"
    }

    fn description(&self) -> &'static str {
        "Fetch a public web page (http or https) and return its text. Private and local addresses are refused."
    }

    fn base_risk(&self) -> Risk {
        Risk::Network
    }

    fn risk(&self, _input: &FetchUrlInput, _ctx: &ToolContext) -> Risk {
        Risk::Network
    }

    fn run(
        &self,
        input: FetchUrlInput,
        ctx: ToolContext,
    ) -> BoxFuture<'static, Result<String, ToolError>> {
        let resolver = self.resolver.clone();
        let policy = self.policy;
        Box::pin(async move { fetch(&input.url, resolver.as_ref(), policy, &ctx).await })
    }
}

fn refuse(msg: String) -> ToolError {
    ToolError::RespondToModel(msg)
}

/// The address to connect to for `url`, after checking every address the host resolves to.
pub async fn checked_target(
    url: &url::Url,
    resolver: &dyn Resolve,
    policy: Policy,
) -> Result<SocketAddr, ToolError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(format!(
            "Only http and https addresses can be fetched, not {}:.",
            url.scheme()
        )));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match url.host() {
        None => return Err(refuse(format!("{url} has no host."))),
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(d)) => resolver
            .lookup(d, port)
            .await
            .map_err(|e| refuse(format!("{d} could not be resolved: {e}.")))?,
    };
    if addrs.is_empty() {
        return Err(refuse(format!("{url} resolves to no address.")));
    }
    // One bad address refuses the host: a resolver answering with a mix is not trusted.
    for a in &addrs {
        if let Some(why) = policy(a.ip()) {
            return Err(refuse(format!(
                "{} is refused: it resolves to {} ({why}). Only public addresses can be fetched.",
                url.host_str().unwrap_or_default(),
                a.ip()
            )));
        }
    }
    Ok(addrs[0])
}

/// `raw`'s page as text, following redirects by hand, each hop checked before it is connected to.
async fn fetch(
    raw: &str,
    resolver: &dyn Resolve,
    policy: Policy,
    ctx: &ToolContext,
) -> Result<String, ToolError> {
    let mut url = url::Url::parse(raw.trim())
        .map_err(|e| refuse(format!("{raw:?} is not a valid address: {e}.")))?;
    for _hop in 0..=MAX_REDIRECTS {
        let addr = checked_target(&url, resolver, policy).await?;
        let client = pinned_client(&url, addr)?;
        let resp = tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(refuse("Cancelled by user.".into())),
            r = crate::ledger::send(client.get(url.clone()), Some(parley_protocol::OutboundPurpose::FetchUrl), None) => r.map_err(|e| refuse(format!("{url} could not be fetched: {e}.")))?,
        };
        let status = resp.status();
        if status.is_redirection() {
            url = redirected(&url, &resp)?;
            continue;
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let (body, mut cut) = capped_body(&url, resp, ctx).await?;
        let mut text = page_text(&url, &content_type, &body, ctx).await?;
        if text.chars().count() > MAX_TEXT_CHARS {
            text = text.chars().take(MAX_TEXT_CHARS).collect();
            cut = true;
        }
        let mut out = format!("URL: {url}\nStatus: {}\n\n{text}", status.as_u16());
        if cut {
            out.push_str("\n[the page was longer; the rest was cut]\n");
        }
        if !status.is_success() {
            return Err(refuse(out));
        }
        return Ok(out);
    }
    Err(refuse(format!(
        "{raw} redirects more than {MAX_REDIRECTS} times; not followed further."
    )))
}

/// An HTTP client for one hop that follows no redirect, uses no proxy and connects `url`'s
/// host to `addr`, the address that was checked (no second lookup).
fn pinned_client(url: &url::Url, addr: SocketAddr) -> Result<reqwest::Client, ToolError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent("Parley (fetch_url)");
    if let Some(url::Host::Domain(d)) = url.host() {
        builder = builder.resolve(d, addr);
    }
    builder
        .build()
        .map_err(|e| ToolError::Fatal(format!("the HTTP client could not start: {e}")))
}

/// Where a redirect from `url` leads (its `Location`, relative to `url`).
fn redirected(url: &url::Url, resp: &reqwest::Response) -> Result<url::Url, ToolError> {
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refuse(format!("{url} redirects without saying where.")))?;
    url.join(location)
        .map_err(|e| refuse(format!("{url} redirects to a bad address: {e}.")))
}

/// The response's body, at most [`MAX_BODY_BYTES`] of it, and whether it was cut; raced with
/// the stop button.
async fn capped_body(
    url: &url::Url,
    resp: reqwest::Response,
    ctx: &ToolContext,
) -> Result<(Vec<u8>, bool), ToolError> {
    let mut body = Vec::new();
    let mut cut = false;
    let mut stream = crate::ledger::body(resp);
    loop {
        let chunk = tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(refuse("Cancelled by user.".into())),
            c = stream.next() => c,
        };
        match chunk {
            None => break,
            Some(Err(e)) => return Err(refuse(format!("{url}: the page broke off: {e}."))),
            Some(Ok(b)) => {
                let room = MAX_BODY_BYTES - body.len();
                body.extend_from_slice(&b[..b.len().min(room)]);
                if b.len() > room {
                    cut = true;
                    break;
                }
            }
        }
    }
    Ok((body, cut))
}

/// The body as text (HTML made readable), or a refusal when it is not text.
async fn page_text(
    url: &url::Url,
    content_type: &str,
    body: &[u8],
    ctx: &ToolContext,
) -> Result<String, ToolError> {
    let textual = content_type.is_empty()
        || content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || content_type.contains("javascript");
    if !textual || body.iter().take(8192).any(|b| *b == 0) {
        return Err(refuse(format!(
            "{url} is not text ({content_type}, {} bytes); only text and HTML pages are returned.",
            body.len()
        )));
    }
    let raw_text = String::from_utf8_lossy(body);
    if content_type.contains("html")
        || (content_type.is_empty() && raw_text.trim_start().starts_with('<'))
    {
        // Linear, but off the async workers and raced with the stop button.
        let html = raw_text.into_owned();
        tokio::select! {
            _ = ctx.cancel.cancelled() => Err(refuse("Cancelled by user.".into())),
            t = tokio::task::spawn_blocking(move || html_to_text(&html)) => {
                t.map_err(|e| ToolError::Fatal(format!("the page could not be read: {e}")))
            }
        }
    } else {
        Ok(raw_text.into_owned())
    }
}

/// HTML as readable text: scripts, styles and comments dropped, block elements on their own
/// lines, list items marked, entities decoded, blank runs collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            if lower[i..].starts_with("<!--") {
                i = lower[i..].find("-->").map_or(bytes.len(), |e| i + e + 3);
                continue;
            }
            let end = match lower[i..].find('>') {
                Some(e) => i + e,
                None => break,
            };
            let tag = &lower[i + 1..end];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let closing = tag.starts_with('/');
            if !closing
                && matches!(
                    name.as_str(),
                    "script" | "style" | "noscript" | "template" | "svg"
                )
            {
                let close = format!("</{name}");
                i = lower[end..].find(&close).map_or(bytes.len(), |e| {
                    let from = end + e;
                    lower[from..]
                        .find('>')
                        .map_or(bytes.len(), |g| from + g + 1)
                });
                continue;
            }
            match name.as_str() {
                "br" | "p" | "div" | "section" | "article" | "header" | "footer" | "tr"
                | "table" | "ul" | "ol" | "pre" | "blockquote" | "h1" | "h2" | "h3" | "h4"
                | "h5" | "h6" | "title" | "main" | "nav" | "hr" => out.push('\n'),
                "li" if !closing => out.push_str("\n- "),
                "td" | "th" if closing => out.push('\t'),
                _ => {}
            }
            i = end + 1;
        } else {
            let next = html[i..].find('<').map_or(html.len(), |n| i + n);
            out.push_str(&decode_entities(&html[i..next]));
            i = next;
        }
    }
    // Collapse whitespace: trim lines, at most one blank line in a row.
    let mut text = String::new();
    let mut blank = 0;
    for line in out.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank += 1;
            if blank > 1 || text.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.trim_end().to_owned() + "\n"
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Only a short entity counts: look for its `;` in the next few bytes, never further
        // (searching the whole rest for each `&` made a page of `&` quadratic).
        let semi = rest.as_bytes()[..rest.len().min(11)]
            .iter()
            .position(|b| *b == b';');
        let decoded = semi.and_then(|n| {
            let ent = &rest[1..n];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                    u32::from_str_radix(&ent[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, n + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_pages_convert_in_linear_time() {
        // Four times the page must take about four times as long (quadratic work: sixteen).
        // A 2 MB page of `&` took ~80 s of CPU before.
        let units: [&str; 12] = [
            "&",
            "&#",
            "&amp",
            "&#x1F600",
            "<",
            "<a ",
            "<a>",
            "<!--",
            "<script>",
            "<li>&nbsp;",
            "x ",
            "\n",
        ];
        let time = |page: &str| {
            let t = std::time::Instant::now();
            let text = html_to_text(page);
            assert!(text.len() <= page.len() * 2 + 1);
            t.elapsed()
        };
        for unit in units {
            let small = unit.repeat(128 * 1024 / unit.len());
            let large = unit.repeat(512 * 1024 / unit.len());
            let (a, b) = (time(&small), time(&large));
            assert!(
                b < a * 10 + std::time::Duration::from_millis(60),
                "{unit:?}: 128 KiB took {a:?}, 512 KiB took {b:?}"
            );
        }
    }

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><title>T &amp; co</title><style>p{}</style><script>alert(1)</script></head>\
            <body><!-- hidden --><h1>Head</h1><p>One&nbsp;two &lt;b&gt; &#233;&#x263A;</p>\
            <ul><li>a</li><li>b</li></ul><SCRIPT>evil()</SCRIPT><p>end</p></body></html>";
        assert_eq!(
            html_to_text(html),
            "T & co\n\nHead\n\nOne two <b> é☺\n\n- a\n- b\n\nend\n"
        );
    }
}
