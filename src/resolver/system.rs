//! The system's resolver configuration (`/etc/resolv.conf`): read in one
//! place, for both engines, only when no `--nameserver` is given.
//!
//! What is read: `nameserver` lines (IPv4, IPv6, and scoped link-local
//! IPv6 such as `fe80::1%eth0`, as hosts configured by router
//! advertisements have them, through the same address parser as `-n`), and
//! `options timeout:N attempts:N`, whose product (glibc's longest wait for
//! one server) becomes the default deadline when `--timeout` is not given.
//! `rotate` changes nothing (mxlookup always spreads questions across the
//! servers in turn) and neither do `ndots` and `search` (every input is
//! looked up as the absolute name it is). A line that names no usable
//! server is skipped with a warning.
//!
//! Parsed here rather than with the resolv-conf crate: that crate refuses
//! zone names with `.` or `-` (VLAN interfaces such as `eth0.100`), and a
//! second address parser beside `-n`'s would disagree with it.

use super::nameserver::address;
use crate::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

/// Where the configuration is read from.
pub(crate) const PATH: &str = "/etc/resolv.conf";

/// What the system's configuration says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemConfig {
    /// The nameservers, in order, each once.
    pub servers: Vec<SocketAddr>,
    /// Lines that named a server mxlookup cannot use, and why.
    pub skipped: Vec<String>,
    /// `timeout` × `attempts`, when either is set.
    pub deadline: Option<Duration>,
}

impl SystemConfig {
    /// Read [`PATH`] (or the file `MXLOOKUP_RESOLV_CONF` names: a test's
    /// own, since a test must not touch the host's).
    pub fn read() -> Result<SystemConfig, Error> {
        let path = std::env::var("MXLOOKUP_RESOLV_CONF").unwrap_or_else(|_| PATH.into());
        let shown = crate::text::escape_text(&path);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::ResolverConfig(format!("reading {shown}: {e}")))?;
        Ok(SystemConfig::parse(&text, &shown))
    }

    /// Parse a resolv.conf; `source` names it in messages.
    pub fn parse(text: &str, source: &str) -> SystemConfig {
        let mut c = SystemConfig::default();
        let (mut timeout, mut attempts) = (None, None);
        for (i, line) in text.lines().enumerate() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    let Some(server) = words.next() else { continue };
                    match address(server, &crate::text::escape_text(server), 53) {
                        Ok(a) if !c.servers.contains(&a) => c.servers.push(a),
                        Ok(_) => {}
                        Err(why) => c.skipped.push(format!("{source}:{}: {why}", i + 1)),
                    }
                }
                Some("options") => {
                    for option in words {
                        let number = |prefix: &str| -> Option<u64> {
                            option.strip_prefix(prefix)?.parse().ok()
                        };
                        if let Some(n) = number("timeout:") {
                            timeout = Some(n.clamp(1, 30));
                        } else if let Some(n) = number("attempts:") {
                            attempts = Some(n.clamp(1, 5));
                        }
                    }
                }
                _ => {}
            }
        }
        if timeout.is_some() || attempts.is_some() {
            // glibc's defaults: 5 s, 2 attempts.
            let secs = timeout.unwrap_or(5) * attempts.unwrap_or(2);
            c.deadline = Some(Duration::from_secs(secs.clamp(1, 60)));
        }
        c
    }

    /// The servers, or an error when there is none.
    pub fn servers(self) -> Result<Vec<SocketAddr>, Error> {
        if self.servers.is_empty() {
            let mut why = format!("{PATH} names no nameserver mxlookup can use");
            if !self.skipped.is_empty() {
                why = format!("{why} ({})", self.skipped.join("; "));
            }
            return Err(Error::ResolverConfig(why));
        }
        Ok(self.servers)
    }
}

/// The nameservers the system's configuration names, in order.
pub(super) fn nameservers() -> Result<Vec<SocketAddr>, Error> {
    SystemConfig::read()?.servers()
}

/// Whether a socket can be pointed at `addr`: connecting a UDP socket sends
/// nothing, and fails at once for an address this host cannot reach (a
/// link-local address without its interface, IPv6 on a host without it).
pub fn usable(addr: SocketAddr) -> Result<(), String> {
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    std::net::UdpSocket::bind(local)
        .and_then(|s| s.connect(addr))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_options_and_what_is_skipped() {
        let c = SystemConfig::parse(
            "# generated\nnameserver 127.0.0.53\nnameserver fe80::1%1 ; the router\n\
             nameserver 2001:db8::53\nnameserver not-an-address\nnameserver 127.0.0.53\n\
             search example.com\noptions rotate ndots:2 timeout:1 attempts:3\n",
            "resolv.conf",
        );
        let want: Vec<SocketAddr> = vec![
            "127.0.0.53:53".parse().unwrap(),
            "[fe80::1%1]:53".parse().unwrap(),
            "[2001:db8::53]:53".parse().unwrap(),
        ];
        assert_eq!(c.servers, want);
        assert_eq!(c.skipped.len(), 1);
        assert!(
            c.skipped[0].starts_with("resolv.conf:5: "),
            "{:?}",
            c.skipped
        );
        assert_eq!(c.deadline, Some(Duration::from_secs(3)));
        assert_eq!(
            SystemConfig::parse("nameserver 10.0.0.1\n", "x").deadline,
            None
        );
        assert_eq!(
            SystemConfig::parse("options timeout:2\n", "x").deadline,
            Some(Duration::from_secs(4))
        );
        let none = SystemConfig::parse("nameserver fe80::1%no-such-if0\n", "x");
        assert!(
            none.clone()
                .servers()
                .unwrap_err()
                .to_string()
                .contains("no-such-if0")
        );
    }
}
