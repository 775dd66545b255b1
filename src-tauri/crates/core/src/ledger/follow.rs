//! A GET whose redirects are followed by hand, each hop sent (and recorded) through
//! [`super::send`]: within the first address's origin, or to https; never to plain http
//! elsewhere, never more than a few times. Model downloads and updates use it (their clients
//! follow no redirect themselves); each says in its own words what went wrong.

use parley_protocol::OutboundPurpose;

/// The most redirects followed for one request.
pub(crate) const REDIRECTS: usize = 5;

/// How a GET with its redirects ended.
pub(crate) enum Followed {
    /// A response that is not a redirect (any status).
    Answered(reqwest::Response),
    /// No response from `at`.
    Unreachable { at: url::Url, error: reqwest::Error },
    /// A redirect without a (readable) location.
    NoLocation,
    /// A redirect to `to`, which may not be followed.
    Refused { to: url::Url },
    /// More than [`REDIRECTS`].
    TooMany,
}

/// A redirect from `from` is followed within its origin, or to any https address — never to
/// an address with a user name or password in it (reqwest would send them), and never from
/// the network to this computer.
pub fn may_follow(from: &url::Url, to: &url::Url) -> bool {
    let same = to.scheme() == from.scheme()
        && to.host_str() == from.host_str()
        && to.port_or_known_default() == from.port_or_known_default();
    let credentials = !to.username().is_empty() || to.password().is_some();
    let inward = crate::net::is_loopback(to) && !crate::net::is_loopback(from);
    (same || to.scheme() == "https") && !credentials && !inward
}

/// `scheme://host[:port]` of `u`, for sentences.
pub fn origin(u: &url::Url) -> String {
    match u.port() {
        Some(p) => format!("{}://{}:{p}", u.scheme(), u.host_str().unwrap_or("?")),
        None => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")),
    }
}

/// GETs `url` with `headers`, following the redirects [`may_follow`] allows from `first`.
pub(crate) async fn get_following(
    client: &reqwest::Client,
    first: &url::Url,
    mut url: url::Url,
    headers: &[(reqwest::header::HeaderName, String)],
    purpose: OutboundPurpose,
) -> Followed {
    for _ in 0..=REDIRECTS {
        let mut req = client.get(url.clone());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let resp = match super::send(req, Some(purpose), None).await {
            Ok(r) => r,
            Err(error) => return Followed::Unreachable { at: url, error },
        };
        if !resp.status().is_redirection() {
            return Followed::Answered(resp);
        }
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok());
        match to {
            None => return Followed::NoLocation,
            Some(to) if !may_follow(first, &to) => return Followed::Refused { to },
            Some(to) => url = to,
        }
    }
    Followed::TooMany
}
