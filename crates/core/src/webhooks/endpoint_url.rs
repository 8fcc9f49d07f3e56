//! The endpoint URL rule: where a developer may ask us to deliver webhooks.
//!
//! `https://` only, to a public host. Loopback (127.0.0.0/8, `::1`, `localhost` and
//! `*.localhost`) is allowed, over `http://` too, only when the worker runs with
//! `ALLOW_LOOPBACK_WEBHOOKS=true` (local development and tests). Private, link-local,
//! unique-local, shared, multicast, broadcast, reserved and unspecified addresses are
//! always refused ([`super::address`]), and so are credentials in the URL.
//!
//! The workspace has no URL crate, and this rule needs less than one: it parses the
//! one shape it accepts, `scheme://host[:port][/path][?query]`, and refuses everything
//! a browser's (WHATWG) URL parser — which is what `fetch` uses — would read
//! differently from a plain reading: backslashes, percent-escapes or other characters
//! outside `[a-z0-9._-]` in the host, and hosts whose last label is a number, which
//! WHATWG parses as IPv4 in decimal, octal or hex (`2130706433`, `0177.0.0.1`, `0x7f.1`
//! are all 127.0.0.1). Such a host is accepted only as four canonical decimal octets.
//!
//! A host *name* that resolves to a private address can only be caught when the
//! delivery is made (Cloudflare's `fetch` does not reach private networks), so this
//! check is the first of two, not the only one. The delivery must not follow redirects
//! either: a `3xx` counts as a failed attempt.

use super::address::{classify, AddressKind};
use crate::error::Invalid;
use serde::{Serialize, Serializer};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Whether loopback endpoints are allowed: `ALLOW_LOOPBACK_WEBHOOKS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loopback {
    Refused,
    Allowed,
}

impl Loopback {
    /// `ALLOW_LOOPBACK_WEBHOOKS`: exactly `true` allows loopback; unset or anything else
    /// refuses it, so a typo never opens a production worker to its own machine.
    pub fn from_env(value: Option<&str>) -> Self {
        if value.map(str::trim) == Some("true") {
            Self::Allowed
        } else {
            Self::Refused
        }
    }
}

/// The host of an accepted endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lowercased, without a trailing dot.
    Name(String),
    Ip(IpAddr),
}

/// An endpoint URL that passed the rule above; its text is kept as the developer wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    text: String,
    host: Host,
}

impl EndpointUrl {
    pub fn parse(s: &str, loopback: Loopback) -> Result<Self, Invalid> {
        if s.is_empty() {
            return Err(Invalid::new("url is required"));
        }
        if s.len() > MAX_URL_LEN {
            return Err(Invalid::new(format!("url must be at most {MAX_URL_LEN} characters")));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Invalid::new(
                "url must be printable ASCII without spaces (percent-encode other characters)",
            ));
        }
        if s.contains('\\') {
            return Err(Invalid::new("url must not contain a backslash"));
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(must_use_https)?;
        let secure = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(must_use_https());
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if tail.contains('#') {
            return Err(Invalid::new("url must not have a fragment (#…)"));
        }
        if authority.contains('@') {
            return Err(Invalid::new("url must not contain credentials (user:password@)"));
        }
        let host = parse_authority(authority)?;
        let is_loopback = match &host {
            Host::Ip(ip) => match classify(*ip) {
                Some(AddressKind::Loopback) => true,
                Some(kind) => return Err(Invalid::new(format!("url points at {kind} ({ip})"))),
                None => false,
            },
            Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
        };
        if is_loopback && loopback == Loopback::Refused {
            let shown = match &host {
                Host::Ip(ip) => ip.to_string(),
                Host::Name(name) => name.clone(),
            };
            return Err(Invalid::new(format!("url points at a loopback address ({shown})")));
        }
        if !secure && !is_loopback {
            return Err(must_use_https());
        }
        Ok(Self { text: s.to_owned(), host })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn host(&self) -> &Host {
        &self.host
    }
}

impl Serialize for EndpointUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

fn must_use_https() -> Invalid {
    Invalid::new("url must use https://")
}

/// `host[:port]` or `[ipv6][:port]`.
fn parse_authority(authority: &str) -> Result<Host, Invalid> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed
                .split_once(']')
                .ok_or_else(|| Invalid::new("url has an unclosed [ in its host"))?;
            let ip: Ipv6Addr = inside.parse().map_err(|_| {
                Invalid::new(format!("url host [{inside}] is not a valid IPv6 address"))
            })?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(bad_port)?),
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        }
        None => {
            let (host, port) = match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            (parse_host(host)?, port)
        }
    };
    if let Some(port) = port {
        let valid = port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(bad_port());
        }
    }
    Ok(host)
}

fn bad_port() -> Invalid {
    Invalid::new("url has an invalid port (a number from 1 to 65535)")
}

/// A DNS name or a canonical dotted-quad IPv4 address.
fn parse_host(written: &str) -> Result<Host, Invalid> {
    let lower = written.to_ascii_lowercase();
    // WHATWG drops one trailing dot before deciding whether a host is an address.
    let host = lower.strip_suffix('.').unwrap_or(&lower);
    if host.is_empty() {
        return Err(Invalid::new("url must name a host"));
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if host.len() > 253 || !labels.iter().all(label_ok) {
        return Err(Invalid::new(format!("url host {written} is not a valid host name")));
    }
    let last = labels.last().copied().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last.strip_prefix("0x").is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !numeric {
        return Ok(Host::Name(host.to_owned()));
    }
    // The standard library reads only four decimal octets without leading zeros.
    match host.parse::<Ipv4Addr>() {
        Ok(ip) if labels.len() == 4 => Ok(Host::Ip(IpAddr::V4(ip))),
        _ => Err(Invalid::new(format!(
            "url host {written} is not a canonical IPv4 address \
             (write it as four decimal numbers, such as 203.0.113.7)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        match EndpointUrl::parse(url, Loopback::Refused) {
            Ok(ok) => panic!("{url} was accepted as {ok:?}"),
            Err(e) => e.0,
        }
    }

    fn accepted(url: &str, loopback: Loopback) -> EndpointUrl {
        EndpointUrl::parse(url, loopback).unwrap_or_else(|e| panic!("{url} refused: {e}"))
    }

    #[test]
    fn https_urls_to_public_hosts_are_accepted_as_written() {
        for url in [
            "https://example.com",
            "https://example.com/",
            "https://Hooks.Example.COM:8443/dream/webhooks?team=7",
            "https://203.0.113.7/hook",
            "https://[2606:4700:4700::1111]:443/x",
            "HTTPS://example.com./x",
            "https://my_host.example.com/a@b",
        ] {
            assert_eq!(accepted(url, Loopback::Refused).as_str(), url);
        }
        let url = accepted("https://Hooks.Example.COM./x", Loopback::Refused);
        assert_eq!(url.host(), &Host::Name("hooks.example.com".into()));
    }

    #[test]
    fn other_schemes_and_plain_http_are_refused_naming_https() {
        for url in [
            "http://example.com",
            "ftp://example.com",
            "example.com",
            "https:/example.com",
            "https:example.com",
            "javascript:alert(1)//://x",
        ] {
            assert_eq!(refused(url), "url must use https://", "{url}");
        }
        assert_eq!(
            EndpointUrl::parse("http://example.com", Loopback::Allowed).map_err(|e| e.0),
            Err("url must use https://".to_owned())
        );
    }

    #[test]
    fn private_link_local_and_other_internal_addresses_are_refused_naming_the_address() {
        assert_eq!(refused("https://10.0.0.1/"), "url points at a private address (10.0.0.1)");
        assert_eq!(
            refused("https://169.254.169.254/latest/meta-data"),
            "url points at a link-local address (169.254.169.254)"
        );
        assert_eq!(refused("https://[fd00::1]/"), "url points at a unique-local address (fd00::1)");
        assert_eq!(
            refused("https://[::ffff:192.168.1.1]/"),
            "url points at a private address (::ffff:192.168.1.1)"
        );
        for url in [
            "https://172.16.0.1",
            "https://192.168.0.10:8443/",
            "https://100.64.0.1",
            "https://0.0.0.0",
            "https://224.0.0.1",
            "https://255.255.255.255",
            "https://[fe80::1]",
            "https://[::]",
            "http://10.0.0.1",
        ] {
            assert!(refused(url).starts_with("url points at "), "{url}");
            assert!(EndpointUrl::parse(url, Loopback::Allowed).is_err(), "{url}");
        }
    }

    #[test]
    fn loopback_is_refused_unless_allowed_and_then_plain_http_is_allowed_too() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "https://127.0.0.1",
            "http://127.1.2.3",
            "http://[::1]:8080/",
            "http://localhost:3000/webhooks",
            "http://LOCALHOST./",
            "http://receiver.localhost/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(refused(url).starts_with("url points at a loopback address ("), "{url}");
            accepted(url, Loopback::Allowed);
        }
        assert_eq!(
            refused("http://localhost:3000/"),
            "url points at a loopback address (localhost)"
        );
        assert_eq!(refused("http://[::1]:80/"), "url points at a loopback address (::1)");
        accepted("https://notlocalhost/", Loopback::Refused);
        accepted("https://localhost.example.com/", Loopback::Refused);
    }

    #[test]
    fn numeric_hosts_other_than_four_decimal_octets_are_refused() {
        for url in [
            "http://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f.1/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://127.0.0.01/",
            "https://1.2.3.4.5/",
            "https://example.0x10/",
            "https://example.123/",
            "https://0x/",
        ] {
            let message = EndpointUrl::parse(url, Loopback::Allowed).map(|_| ()).expect_err(url).0;
            assert!(message.contains("is not a canonical IPv4 address"), "{url}: {message}");
        }
        assert_eq!(accepted("https://8.8.8.8./", Loopback::Refused).as_str(), "https://8.8.8.8./");
        assert_eq!(
            accepted("https://0x7f.example.com/", Loopback::Refused).host(),
            &Host::Name("0x7f.example.com".into())
        );
    }

    #[test]
    fn credentials_backslashes_escapes_and_spaces_are_refused() {
        assert_eq!(
            refused("https://user:pass@example.com/"),
            "url must not contain credentials (user:password@)"
        );
        assert!(refused("https://example.com@10.0.0.1/").contains("credentials"));
        assert!(refused("https://example.com\\@10.0.0.1/").contains("backslash"));
        assert!(refused("https://127.0.0.%31/").contains("not a valid host name"));
        assert!(refused("https://exa mple.com/").contains("printable ASCII"));
        assert!(refused("https://exämple.com/").contains("printable ASCII"));
        assert!(refused("https://example.com/\n").contains("printable ASCII"));
    }

    #[test]
    fn malformed_hosts_ports_and_fragments_are_refused_with_a_message() {
        let cases = [
            ("https://", "url must name a host"),
            ("https:///path", "url must name a host"),
            ("https://.", "url must name a host"),
            ("https://a..b/", "url host a..b is not a valid host name"),
            ("https://example.com:0/", "url has an invalid port (a number from 1 to 65535)"),
            ("https://example.com:65536/", "url has an invalid port (a number from 1 to 65535)"),
            ("https://example.com:/", "url has an invalid port (a number from 1 to 65535)"),
            ("https://example.com:1:2/", "url has an invalid port (a number from 1 to 65535)"),
            ("https://[::1/", "url has an unclosed [ in its host"),
            ("https://[::1]x/", "url has an invalid port (a number from 1 to 65535)"),
            ("https://[fe80::1%25eth0]/", "url host [fe80::1%25eth0] is not a valid IPv6 address"),
            ("https://example.com/#top", "url must not have a fragment (#…)"),
            ("", "url is required"),
        ];
        for (url, message) in cases {
            assert_eq!(refused(url), message, "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(refused(&long), "url must be at most 2048 characters");
        let label = "a".repeat(64);
        assert!(refused(&format!("https://{label}.com/")).contains("not a valid host name"));
    }

    #[test]
    fn only_the_exact_word_true_allows_loopback() {
        assert_eq!(Loopback::from_env(Some("true")), Loopback::Allowed);
        for other in [None, Some(""), Some("1"), Some("TRUE "), Some("yes"), Some("false")] {
            assert_eq!(Loopback::from_env(other), Loopback::Refused, "{other:?}");
        }
    }
}
