//! Where a provider's key may go: a base address checked, the scheme, host and port a key is
//! bound to when it is saved, whether an address still matches that binding, and the warning
//! for plain HTTP to another machine.

use crate::error::CoreError;

pub(super) fn validate_base_url(raw: &str) -> Result<url::Url, CoreError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        CoreError::InvalidInput(format!(
            "\"{raw}\" is not a valid URL ({e}). Use a full address such as http://127.0.0.1:8080/v1."
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(CoreError::InvalidInput(format!(
            "The base URL must start with http:// or https://, not {}://.",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(CoreError::InvalidInput(format!(
            "The base URL \"{raw}\" has no host."
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CoreError::InvalidInput(
            "Do not put credentials in the base URL; save the API key instead (it goes to the keychain).".into(),
        ));
    }
    Ok(url)
}

/// `scheme://host:port` (the port written out, default or not) — what a saved key is bound
/// to. Editing any of the three moves the provider away from its key.
pub(super) fn key_host(url: &url::Url) -> String {
    crate::net::key_host(url)
}

/// A URL's host and port (the default port written out).
pub(super) fn server_of(url: &str) -> Option<(String, u16)> {
    let u = url::Url::parse(url).ok()?;
    Some((u.host_str()?.to_owned(), u.port_or_known_default()?))
}

/// Whether a key saved with binding `bound` (for a provider whose URL was `saved_url`) may be
/// sent to `url`. Bindings saved before keys named their scheme (`host[:port]`) count as the
/// scheme and port of the URL they were saved with.
pub(super) fn key_matches(bound: &str, saved_url: &str, url: &url::Url) -> bool {
    if bound.contains("://") {
        return bound == key_host(url);
    }
    url::Url::parse(saved_url).is_ok_and(|old| {
        let legacy = match (old.host_str(), old.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        legacy == bound && key_host(&old) == key_host(url)
    })
}

/// Why sending a key to `url` is unsafe, if it is: plain http to a host that is not this
/// machine (anyone on the way reads the key).
pub(super) fn plain_http_warning(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if u.scheme() != "http" {
        return None;
    }
    let loopback = match u.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    };
    (!loopback).then(|| {
        format!(
            "The API key is sent unencrypted: {} is plain http to another machine. Use https if the server offers it.",
            u.host_str().unwrap_or_default()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn a_key_goes_only_to_the_scheme_host_and_port_it_was_saved_for() {
        let saved = "https://api.example.com/v1";
        let bound = key_host(&u(saved));
        assert_eq!(bound, "https://api.example.com:443");
        let same = [
            "https://api.example.com/v1",
            "https://api.example.com:443/v2",
            "https://API.example.com/v1",
        ];
        for to in same {
            assert!(key_matches(&bound, saved, &u(to)), "{to}");
        }
        let other = [
            "http://api.example.com/v1",
            "http://api.example.com:443/v1",
            "https://api.example.com:8443/v1",
            "https://api.example.com.evil.net/v1",
            "https://evil.net/api.example.com",
            "https://example.com/v1",
            "ws://api.example.com/v1",
        ];
        for to in other {
            assert!(!key_matches(&bound, saved, &u(to)), "{to}");
        }
        // A binding from before keys named their scheme counts with the saved URL's scheme.
        for (legacy, saved, to, ok) in [
            (
                "api.example.com",
                "https://api.example.com/v1",
                "https://api.example.com/x",
                true,
            ),
            (
                "api.example.com",
                "https://api.example.com/v1",
                "http://api.example.com/v1",
                false,
            ),
            (
                "127.0.0.1:8080",
                "http://127.0.0.1:8080/v1",
                "http://127.0.0.1:8080/v1",
                true,
            ),
            (
                "127.0.0.1:8080",
                "http://127.0.0.1:8080/v1",
                "https://127.0.0.1:8080/v1",
                false,
            ),
            (
                "127.0.0.1:8080",
                "http://127.0.0.1:8080/v1",
                "http://127.0.0.1:8081/v1",
                false,
            ),
            (
                "other.com",
                "https://api.example.com/v1",
                "https://api.example.com/v1",
                false,
            ),
        ] {
            assert_eq!(
                key_matches(legacy, saved, &u(to)),
                ok,
                "{legacy} {saved} → {to}"
            );
        }
    }

    #[test]
    fn plain_http_to_another_machine_warns() {
        for url in [
            "http://api.example.com/v1",
            "http://192.168.1.20:11434",
            "http://10.0.0.1/v1",
            "http://[2001:db8::1]:8080",
            "http://localhost.evil.com/v1",
        ] {
            assert!(plain_http_warning(url).is_some(), "{url}");
        }
        for url in [
            "https://api.example.com/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.9.9.9/v1",
            "http://localhost:11434",
            "http://LOCALHOST:1234",
            "http://[::1]:8080",
            "http://my.localhost/v1",
        ] {
            assert!(plain_http_warning(url).is_none(), "{url}");
        }
    }
}
