//! Which IP addresses an outgoing webhook may reach. A developer's endpoint URL is
//! fetched from inside our network, so an address that is not globally reachable would
//! let anyone with an API key make us call our own infrastructure (the cloud metadata
//! service at 169.254.169.254, a private network, the machine itself).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// 127.0.0.0/8, ::1: allowed only with `ALLOW_LOOPBACK_WEBHOOKS=true`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, and IPv6 site-local fec0::/10.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    /// 100.64/10, carrier-grade NAT.
    SharedNat,
    /// 0.0.0.0/8 and `::` (0.0.0.0 reaches the local machine on most systems).
    Unspecified,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Blocks reserved for protocols, benchmarks or the future (192.0.0/24, 198.18/15,
    /// 240/4), and the deprecated IPv4-compatible IPv6 addresses (::/96).
    Reserved,
}

impl AddressKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::UniqueLocal => "a unique-local address",
            Self::SharedNat => "a shared (carrier-grade NAT) address",
            Self::Unspecified => "an unspecified address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// `None` for an address webhooks may reach; otherwise what it is. An IPv6 address that
/// carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// is judged by the IPv4 address, which is where the packets end up.
pub fn classify(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_block(ip: Ipv4Addr, base: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(base)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    use AddressKind::*;
    const BLOCKS: [([u8; 4], u32, AddressKind); 12] = [
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, SharedNat),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Reserved),
        ([224, 0, 0, 0], 4, Multicast),
        ([255, 255, 255, 255], 32, Broadcast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    BLOCKS.iter().find(|(base, prefix, _)| in_block(ip, *base, *prefix)).map(|(_, _, kind)| *kind)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() {
        Some(AddressKind::Unspecified)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if let Some(v4) = ip.to_ipv4_mapped() {
        classify_v4(v4)
    } else if s[..6] == [0; 6] {
        Some(AddressKind::Reserved)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        classify_v4(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        classify_v4(embedded(s[1], s[2]))
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some(AddressKind::LinkLocal)
    } else if s[0] & 0xffc0 == 0xfec0 {
        Some(AddressKind::Private)
    } else if s[0] & 0xfe00 == 0xfc00 {
        Some(AddressKind::UniqueLocal)
    } else if s[0] & 0xff00 == 0xff00 {
        Some(AddressKind::Multicast)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind(s: &str) -> Option<AddressKind> {
        classify(s.parse().expect("an IP address"))
    }

    #[test]
    fn every_refused_ipv4_block_is_recognised_at_both_ends() {
        use AddressKind::*;
        let cases = [
            ("0.0.0.0", "0.255.255.255", Unspecified),
            ("10.0.0.0", "10.255.255.255", Private),
            ("100.64.0.0", "100.127.255.255", SharedNat),
            ("127.0.0.0", "127.255.255.255", Loopback),
            ("169.254.0.0", "169.254.255.255", LinkLocal),
            ("172.16.0.0", "172.31.255.255", Private),
            ("192.168.0.0", "192.168.255.255", Private),
            ("224.0.0.0", "239.255.255.255", Multicast),
            ("240.0.0.0", "255.255.255.254", Reserved),
        ];
        for (first, last, expected) in cases {
            assert_eq!(kind(first), Some(expected), "{first}");
            assert_eq!(kind(last), Some(expected), "{last}");
        }
        assert_eq!(kind("255.255.255.255"), Some(Broadcast));
        assert_eq!(kind("169.254.169.254"), Some(LinkLocal));
    }

    #[test]
    fn public_ipv4_addresses_next_to_the_refused_blocks_are_allowed() {
        for public in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "203.0.113.7",
            "223.255.255.255",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
    }

    #[test]
    fn ipv6_internal_addresses_and_those_carrying_an_internal_ipv4_one_are_recognised() {
        use AddressKind::*;
        let cases = [
            ("::1", Some(Loopback)),
            ("::", Some(Unspecified)),
            ("fe80::1", Some(LinkLocal)),
            ("febf:ffff::1", Some(LinkLocal)),
            ("fec0::1", Some(Private)),
            ("fc00::1", Some(UniqueLocal)),
            ("fdff:ffff::1", Some(UniqueLocal)),
            ("ff02::1", Some(Multicast)),
            ("::7f00:1", Some(Reserved)),
            ("2606:4700:4700::1111", None),
            ("fbff::1", None),
            // Judged by the IPv4 address they carry: mapped, NAT64, 6to4.
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::192.168.0.1", Some(Private)),
            ("2002:7f00:1::", Some(Loopback)),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::8.8.8.8", None),
        ];
        for (address, expected) in cases {
            assert_eq!(kind(address), expected, "{address}");
        }
    }

    proptest! {
        #[test]
        fn a_mapped_ipv6_address_is_judged_exactly_as_its_ipv4_address(raw: u32) {
            let v4 = Ipv4Addr::from(raw);
            prop_assert_eq!(classify(IpAddr::V6(v4.to_ipv6_mapped())), classify(IpAddr::V4(v4)));
        }

        #[test]
        fn every_address_of_10_slash_8_is_private(low: u32) {
            let ip = Ipv4Addr::from(0x0a00_0000 | (low & 0x00ff_ffff));
            prop_assert_eq!(classify(IpAddr::V4(ip)), Some(AddressKind::Private));
        }
    }
}
