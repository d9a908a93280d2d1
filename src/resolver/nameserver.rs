//! Where to send questions, as the user wrote it: plain DNS (UDP, and TCP
//! for truncated answers or `--tcp`) at `IP[:PORT]`, DNS over TLS at
//! `tls://IP[:PORT]` (RFC 7858, port 853), DNS over HTTPS at
//! `https://IP[:PORT][/PATH]` (RFC 8484, port 443, path `/dns-query`).
//! Addresses only: a nameserver named by a host name would need a resolver
//! to find the resolver. The certificate name is the address unless
//! `--tls-name` says otherwise.

use crate::text::escape_text;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// The path of a DoH endpoint when none is given (RFC 8484 §4.1 example).
pub(super) const DOH_PATH: &str = "/dns-query";

/// A nameserver as the user named it: the transport and the address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Nameserver {
    /// UDP, with TCP for truncated answers (or only TCP with `--tcp`).
    Plain(SocketAddr),
    /// DNS over TLS.
    Tls(SocketAddr),
    /// DNS over HTTPS (HTTP/2): the address and the path.
    Https(SocketAddr, String),
}

impl Nameserver {
    /// The server's address and port.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Nameserver::Plain(a) | Nameserver::Tls(a) | Nameserver::Https(a, _) => *a,
        }
    }

    /// Encrypted: only the hickory engine speaks it.
    pub fn is_encrypted(&self) -> bool {
        !matches!(self, Nameserver::Plain(_))
    }
}

impl From<SocketAddr> for Nameserver {
    fn from(a: SocketAddr) -> Nameserver {
        Nameserver::Plain(a)
    }
}

impl fmt::Display for Nameserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nameserver::Plain(a) => write!(f, "{a}"),
            Nameserver::Tls(a) => write!(f, "tls://{a}"),
            Nameserver::Https(a, path) => write!(f, "https://{a}{path}"),
        }
    }
}

/// The interface index of a zone: a number, or an interface's name (read
/// from /sys/class/net, Linux's list of interfaces).
fn zone_index(zone: &str, whole: &str) -> Result<u32, String> {
    if let Ok(n) = zone.parse::<u32>() {
        return Ok(n);
    }
    let plausible = !zone.is_empty()
        && zone.len() <= 15
        && zone != "."
        && zone != ".."
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    let index = plausible
        .then(|| std::fs::read_to_string(format!("/sys/class/net/{zone}/ifindex")).ok())
        .flatten()
        .and_then(|t| t.trim().parse::<u32>().ok());
    index.ok_or_else(|| {
        format!(
            "'{whole}': this host has no network interface '{}'",
            escape_text(zone)
        )
    })
}

/// `IPv6%ZONE` or `[IPv6%ZONE]:PORT`: a scoped (link-local) address.
fn scoped(s: &str, whole: &str, default_port: u16) -> Result<SocketAddr, String> {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{whole}' is not [IPv6%ZONE]:PORT"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p
                    .parse::<u16>()
                    .map_err(|_| format!("'{whole}': '{}' is not a port", escape_text(p)))?,
                None if after.is_empty() => default_port,
                None => return Err(format!("'{whole}' is not [IPv6%ZONE]:PORT")),
            };
            (host, port)
        }
        None => (s, default_port),
    };
    let (ip, zone) = host.split_once('%').unwrap_or((host, ""));
    let ip = ip
        .parse::<std::net::Ipv6Addr>()
        .map_err(|_| format!("'{whole}': only an IPv6 address has a zone (%INTERFACE)"))?;
    let index = zone_index(zone, whole)?;
    Ok(SocketAddr::V6(std::net::SocketAddrV6::new(
        ip, port, 0, index,
    )))
}

/// `IP`, `[IPv6]` or either with `:PORT`, and scoped IPv6 (`fe80::1%eth0`,
/// `[fe80::1%eth0]:53`): the address, or the port defaulted. `whole` is
/// the user's text, already escaped, for messages.
pub(super) fn address(s: &str, whole: &str, default_port: u16) -> Result<SocketAddr, String> {
    let addr = match s.parse::<SocketAddr>() {
        _ if s.contains('%') => scoped(s, whole, default_port)?,
        Ok(addr) => addr,
        Err(_) => {
            let bare = s
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(s);
            let ip = bare.parse::<IpAddr>().map_err(|_| {
                if bare.chars().any(|c| c.is_ascii_alphabetic()) && !bare.contains(':') {
                    format!(
                        "'{whole}': a nameserver is given by its address (IP, IP:PORT, [IPv6]:PORT); \
                         for TLS, set the certificate's name with --tls-name"
                    )
                } else {
                    format!("'{whole}' is not IP, IP:PORT or [IPv6]:PORT")
                }
            })?;
            SocketAddr::new(ip, default_port)
        }
    };
    if addr.port() == 0 {
        return Err(format!(
            "'{whole}': port 0 is not a port a nameserver can listen on"
        ));
    }
    if addr.ip().is_unspecified() {
        return Err(format!(
            "'{whole}': the unspecified address is not a nameserver"
        ));
    }
    if let SocketAddr::V6(v6) = addr
        && v6.ip().is_unicast_link_local()
        && v6.scope_id() == 0
    {
        return Err(format!(
            "'{whole}': a link-local address needs its interface (fe80::1%eth0)"
        ));
    }
    Ok(addr)
}

impl FromStr for Nameserver {
    type Err = String;

    /// `IP[:PORT]`, `udp://IP[:PORT]`, `tls://IP[:PORT]`,
    /// `https://IP[:PORT][/PATH]`. Port 0 and the unspecified address are
    /// refused: nothing can answer from them.
    fn from_str(s: &str) -> Result<Nameserver, String> {
        // Messages quote what the user wrote, escaped: it reaches a terminal.
        let shown = escape_text(s);
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("https://").map(|_| &s[8..]) {
            let (host, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, DOH_PATH),
            };
            if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(format!(
                    "'{shown}': the path must be printable, without spaces"
                ));
            }
            return Ok(Nameserver::Https(
                address(host, &shown, 443)?,
                path.to_string(),
            ));
        }
        if let Some(rest) = lower.strip_prefix("tls://").map(|_| &s[6..]) {
            return Ok(Nameserver::Tls(address(
                rest.trim_end_matches('/'),
                &shown,
                853,
            )?));
        }
        if let Some(rest) = lower.strip_prefix("udp://").map(|_| &s[6..]) {
            return Ok(Nameserver::Plain(address(
                rest.trim_end_matches('/'),
                &shown,
                53,
            )?));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(format!(
                "'{shown}': '{}://' is not a transport mxlookup speaks (udp://, tls://, https://)",
                escape_text(scheme)
            ));
        }
        Ok(Nameserver::Plain(address(s, &shown, 53)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> Nameserver {
        s.parse().unwrap()
    }

    #[test]
    fn every_form() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(ns("127.0.0.1"), Nameserver::Plain(a("127.0.0.1:53")));
        assert_eq!(ns("127.0.0.1:5353"), Nameserver::Plain(a("127.0.0.1:5353")));
        assert_eq!(ns("[::1]:5353"), Nameserver::Plain(a("[::1]:5353")));
        assert_eq!(ns("::1"), Nameserver::Plain(a("[::1]:53")));
        assert_eq!(ns("[::1]"), Nameserver::Plain(a("[::1]:53")));
        assert_eq!(ns("udp://127.0.0.1"), Nameserver::Plain(a("127.0.0.1:53")));
        assert_eq!(ns("tls://127.0.0.1"), Nameserver::Tls(a("127.0.0.1:853")));
        assert_eq!(ns("TLS://[::1]:8853"), Nameserver::Tls(a("[::1]:8853")));
        assert_eq!(
            ns("https://127.0.0.1"),
            Nameserver::Https(a("127.0.0.1:443"), "/dns-query".into())
        );
        assert_eq!(
            ns("https://[::1]:8443/q"),
            Nameserver::Https(a("[::1]:8443"), "/q".into())
        );
        assert_eq!(
            ns("https://[::1]:8443/q").to_string(),
            "https://[::1]:8443/q"
        );
        assert_eq!(ns("tls://127.0.0.1").to_string(), "tls://127.0.0.1:853");
        // Scoped link-local addresses: the zone by number, or by the name
        // of an interface this host has (lo is index 1 on Linux).
        assert_eq!(ns("fe80::1%1"), Nameserver::Plain(a("[fe80::1%1]:53")));
        assert_eq!(ns("fe80::1%lo"), Nameserver::Plain(a("[fe80::1%1]:53")));
        assert_eq!(
            ns("[fe80::1%lo]:5353"),
            Nameserver::Plain(a("[fe80::1%1]:5353"))
        );
        assert_eq!(
            ns("tls://[fe80::1%lo]"),
            Nameserver::Tls(a("[fe80::1%1]:853"))
        );
    }

    #[test]
    fn what_is_refused_says_why() {
        let err = |s: &str| s.parse::<Nameserver>().unwrap_err();
        assert!(err("dns.example").contains("by its address"));
        assert!(err("tls://dns.example").contains("--tls-name"));
        assert!(err("127.0.0.1:0").contains("port 0"));
        assert!(err("tls://127.0.0.1:0").contains("port 0"));
        assert!(err("0.0.0.0").contains("unspecified"));
        assert!(err("quic://127.0.0.1").contains("'quic://' is not a transport"));
        assert!(err("300.1.1.1").contains("is not IP"));
        assert!(err("https://127.0.0.1/a b").contains("printable"));
        assert!(err("fe80::1").contains("needs its interface"));
        assert!(err("fe80::1%nosuchif9").contains("no network interface 'nosuchif9'"));
        assert!(err("127.0.0.1%lo").contains("only an IPv6 address"));
        assert!(err("fe80::1%../../etc").contains("no network interface"));
        // What the user wrote is quoted escaped: no control character
        // reaches the terminal.
        for bad in [
            "1.2.3.4\x1b[31m",
            "x\x1b]0;title\x07://1.2.3.4",
            "https://127.0.0.1/\x1b[2J",
            "tls://\u{202e}1.2.3.4",
        ] {
            let e = err(bad);
            assert!(
                !e.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{e:?}"
            );
        }
    }
}
