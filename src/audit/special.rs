//! Special-purpose addresses (RFC 6890 and the registries it set up): a
//! mail exchange that resolves to one of these cannot be reached from the
//! Internet at large.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of special-purpose address `ip` is, if it is one.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => special_v6(a),
    }
}

fn special_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    let in_net = |net: [u8; 4], bits: u32| {
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        u32::from(a) & mask == u32::from(Ipv4Addr::from(net)) & mask
    };
    Some(match () {
        _ if in_net([0, 0, 0, 0], 8) => "\"this network\" (0.0.0.0/8)",
        _ if in_net([10, 0, 0, 0], 8) => "private (10.0.0.0/8)",
        _ if in_net([100, 64, 0, 0], 10) => "shared address space (100.64.0.0/10)",
        _ if in_net([127, 0, 0, 0], 8) => "loopback (127.0.0.0/8)",
        _ if in_net([169, 254, 0, 0], 16) => "link-local (169.254.0.0/16)",
        _ if in_net([172, 16, 0, 0], 12) => "private (172.16.0.0/12)",
        _ if in_net([192, 0, 0, 0], 24) => "IETF protocol assignments (192.0.0.0/24)",
        _ if in_net([192, 0, 2, 0], 24) => "documentation (192.0.2.0/24)",
        _ if in_net([192, 88, 99, 0], 24) => "6to4 relay anycast (192.88.99.0/24)",
        _ if in_net([192, 168, 0, 0], 16) => "private (192.168.0.0/16)",
        _ if in_net([198, 18, 0, 0], 15) => "benchmarking (198.18.0.0/15)",
        _ if in_net([198, 51, 100, 0], 24) => "documentation (198.51.100.0/24)",
        _ if in_net([203, 0, 113, 0], 24) => "documentation (203.0.113.0/24)",
        _ if o[0] >= 224 && o[0] < 240 => "multicast (224.0.0.0/4)",
        _ if o == [255, 255, 255, 255] => "limited broadcast (255.255.255.255)",
        _ if o[0] >= 240 => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn special_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    // Forms that hold an IPv4 address are judged by it as well.
    let o = a.octets();
    let inner = |b: [u8; 4]| special_v4(Ipv4Addr::from(b));
    if a.to_ipv4_mapped().is_some() {
        // Not an address on the wire at all: a socket API's notation.
        return Some("IPv4-mapped (::ffff:0:0/96: no host has it on the wire)");
    }
    if s[..6] == [0; 6] && !a.is_unspecified() && !a.is_loopback() {
        return Some("IPv4-compatible (::/96, deprecated by RFC 4291)");
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return inner([o[12], o[13], o[14], o[15]])
            .map(|_| "NAT64 (64:ff9b::/96) form of a special-purpose IPv4");
    }
    if s[0] == 0x2002 {
        return inner([o[2], o[3], o[4], o[5]])
            .map(|_| "6to4 (2002::/16) form of a special-purpose IPv4");
    }
    Some(match () {
        _ if a.is_unspecified() => "unspecified (::)",
        _ if a.is_loopback() => "loopback (::1)",
        _ if s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1 => {
            "local-use IPv4/IPv6 translation (64:ff9b:1::/48)"
        }
        _ if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 => "discard-only (100::/64)",
        _ if s[0] == 0x2001 && s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        _ if s[0] == 0x2001 && s[1] < 0x0200 => "IETF protocol assignments (2001::/23)",
        _ if s[0] == 0x3fff && s[1] < 0x1000 => "documentation (3fff::/20)",
        _ if s[0] & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        _ if s[0] & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        _ if s[0] & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(s: &str) -> Option<&'static str> {
        special(s.parse().unwrap())
    }

    #[test]
    fn special_purpose_ranges_are_named_and_public_ones_pass() {
        for (ip, word) in [
            ("10.1.2.3", "private"),
            ("172.31.255.255", "private"),
            ("192.168.0.1", "private"),
            ("127.0.0.1", "loopback"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared"),
            ("0.1.2.3", "this network"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.99", "documentation"),
            ("198.19.0.1", "benchmarking"),
            ("224.0.0.251", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd00::1", "unique local"),
            ("2001:db8::25", "documentation"),
            ("ff02::1", "multicast"),
            ("::ffff:10.0.0.1", "mapped"),
            ("::ffff:93.184.215.14", "mapped"),
            ("::10.0.0.1", "compatible"),
            ("::93.184.215.14", "compatible"),
            ("64:ff9b::10.0.0.1", "NAT64"),
            ("64:ff9b::127.0.0.1", "NAT64"),
            ("2002:0a00:0001::1", "6to4"),
            ("2002:c000:0201::1", "6to4"),
        ] {
            let got = sp(ip).unwrap_or_else(|| panic!("{ip} is special"));
            assert!(got.contains(word), "{ip}: {got}");
        }
        for public in [
            "93.184.215.14",
            "172.32.0.1",
            "192.169.0.1",
            "100.128.0.1",
            "2a00:1450::1",
            "2606:4700::1111",
            "64:ff9b::93.184.215.14",
            "2002:5db8:d70e::1",
        ] {
            assert_eq!(sp(public), None, "{public}");
        }
    }
}
