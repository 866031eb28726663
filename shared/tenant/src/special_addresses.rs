//! The address blocks of IANA's special-purpose registries that are not globally reachable
//! (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>), plus multicast and the
//! deprecated or address-embedding IPv6 blocks through which a host could reach a private IPv4
//! address. A tenant URL may point at none of them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A block: its first address, prefix length and what IANA calls it.
type Block<A> = (A, u8, &'static str);

const V4_BLOCKS: &[Block<Ipv4Addr>] = &[
    (
        Ipv4Addr::new(0, 0, 0, 0),
        8,
        "\"this network\" 0.0.0.0/8 (RFC 791)",
    ),
    (
        Ipv4Addr::new(10, 0, 0, 0),
        8,
        "private-use 10.0.0.0/8 (RFC 1918)",
    ),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space 100.64.0.0/10 (RFC 6598)",
    ),
    (
        Ipv4Addr::new(127, 0, 0, 0),
        8,
        "loopback 127.0.0.0/8 (RFC 1122)",
    ),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local 169.254.0.0/16 (RFC 3927)",
    ),
    (
        Ipv4Addr::new(172, 16, 0, 0),
        12,
        "private-use 172.16.0.0/12 (RFC 1918)",
    ),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments 192.0.0.0/24 (RFC 6890)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation 192.0.2.0/24 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "deprecated 6to4 relay anycast 192.88.99.0/24 (RFC 7526)",
    ),
    (
        Ipv4Addr::new(192, 168, 0, 0),
        16,
        "private-use 192.168.0.0/16 (RFC 1918)",
    ),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "benchmarking 198.18.0.0/15 (RFC 2544)",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation 198.51.100.0/24 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation 203.0.113.0/24 (RFC 5737)",
    ),
    (
        Ipv4Addr::new(224, 0, 0, 0),
        4,
        "multicast 224.0.0.0/4 (RFC 5771)",
    ),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved 240.0.0.0/4 (RFC 1112), with broadcast 255.255.255.255",
    ),
];

const V6_BLOCKS: &[Block<Ipv6Addr>] = &[
    // ::/96 holds the unspecified address ::, loopback ::1 and the deprecated IPv4-compatible
    // addresses ::a.b.c.d (RFC 4291 2.5.5.1).
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
        "unspecified, loopback and IPv4-compatible ::/96 (RFC 4291)",
    ),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
        96,
        "IPv4-mapped ::ffff:0:0/96 (RFC 4291)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4/IPv6 translation 64:ff9b::/96 (RFC 6052)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local-use IPv4/IPv6 translation 64:ff9b:1::/48 (RFC 8215)",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only 100::/64 (RFC 6666)",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
        "dummy prefix 100:0:0:1::/64 (RFC 9780)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation 2001:db8::/32 (RFC 3849)",
    ),
    // Teredo (2001::/32), benchmarking (2001:2::/48), ORCHID and the rest: infrastructure, never
    // a project's API, even where a few anycast addresses in it are globally reachable.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments 2001::/23 (RFC 2928)",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4 2002::/16 (RFC 3056)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation 3fff::/20 (RFC 9637)",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing SIDs 5f00::/16 (RFC 9602)",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique-local fc00::/7 (RFC 4193)",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "link-local fe80::/10 (RFC 4291)",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "deprecated site-local fec0::/10 (RFC 3879)",
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "multicast ff00::/8 (RFC 4291)",
    ),
];

/// IANA allocates global unicast IPv6 from 2000::/3 only; everything outside it is reserved.
const V6_GLOBAL_UNICAST: Block<Ipv6Addr> = (
    Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0),
    3,
    "global unicast 2000::/3",
);

/// The special-purpose block `ip` lies in, as a readable name, or `None` for an address that
/// may be globally reachable.
pub fn special_purpose_block(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => V4_BLOCKS
            .iter()
            .find(|(first, len, _)| {
                same_prefix(v4.to_bits().into(), first.to_bits().into(), *len, 32)
            })
            .map(|(_, _, name)| *name),
        IpAddr::V6(v6) => {
            let bits = v6.to_bits();
            V6_BLOCKS
                .iter()
                .find(|(first, len, _)| same_prefix(bits, first.to_bits(), *len, 128))
                .map(|(_, _, name)| *name)
                .or_else(|| {
                    let (first, len, _) = V6_GLOBAL_UNICAST;
                    (!same_prefix(bits, first.to_bits(), len, 128))
                        .then_some("reserved IPv6 space outside global unicast 2000::/3")
                })
        }
    }
}

/// Whether the first `prefix_len` of `width` bits of `a` and `b` are equal.
fn same_prefix(a: u128, b: u128, prefix_len: u8, width: u32) -> bool {
    let shift = width - u32::from(prefix_len);
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Option<&'static str> {
        special_purpose_block(IpAddr::V4(text.parse().unwrap()))
    }

    fn v6(text: &str) -> Option<&'static str> {
        special_purpose_block(IpAddr::V6(text.parse().unwrap()))
    }

    /// Each range of the issue, its first and last address refused, the addresses just outside
    /// it not (or refused as another block, named differently).
    #[test]
    fn ipv4_ranges_are_refused_up_to_their_limits() {
        let ranges = [
            ("0.0.0.0", "0.255.255.255", None, Some("1.0.0.0")),
            (
                "10.0.0.0",
                "10.255.255.255",
                Some("9.255.255.255"),
                Some("11.0.0.0"),
            ),
            (
                "100.64.0.0",
                "100.127.255.255",
                Some("100.63.255.255"),
                Some("100.128.0.0"),
            ),
            (
                "127.0.0.0",
                "127.255.255.255",
                Some("126.255.255.255"),
                Some("128.0.0.0"),
            ),
            (
                "169.254.0.0",
                "169.254.255.255",
                Some("169.253.255.255"),
                Some("169.255.0.0"),
            ),
            (
                "172.16.0.0",
                "172.31.255.255",
                Some("172.15.255.255"),
                Some("172.32.0.0"),
            ),
            (
                "192.0.0.0",
                "192.0.0.255",
                Some("191.255.255.255"),
                Some("192.0.1.0"),
            ),
            (
                "192.0.2.0",
                "192.0.2.255",
                Some("192.0.1.255"),
                Some("192.0.3.0"),
            ),
            (
                "192.88.99.0",
                "192.88.99.255",
                Some("192.88.98.255"),
                Some("192.88.100.0"),
            ),
            (
                "192.168.0.0",
                "192.168.255.255",
                Some("192.167.255.255"),
                Some("192.169.0.0"),
            ),
            (
                "198.18.0.0",
                "198.19.255.255",
                Some("198.17.255.255"),
                Some("198.20.0.0"),
            ),
            (
                "198.51.100.0",
                "198.51.100.255",
                Some("198.51.99.255"),
                Some("198.51.101.0"),
            ),
            (
                "203.0.113.0",
                "203.0.113.255",
                Some("203.0.112.255"),
                Some("203.0.114.0"),
            ),
            (
                "224.0.0.0",
                "239.255.255.255",
                Some("223.255.255.255"),
                None,
            ),
            ("240.0.0.0", "255.255.255.255", None, None),
        ];
        for (first, last, below, above) in ranges {
            assert!(v4(first).is_some(), "{first}");
            assert!(v4(last).is_some(), "{last}");
            assert_eq!(v4(first), v4(last), "{first}..{last} is one block");
            for outside in [below, above].into_iter().flatten() {
                assert_eq!(v4(outside), None, "{outside} is public");
            }
        }
        // Multicast and reserved touch: 239.255.255.255 and 240.0.0.0 are different blocks.
        assert_ne!(v4("239.255.255.255"), v4("240.0.0.0"));
    }

    #[test]
    fn ipv6_ranges_are_refused_up_to_their_limits() {
        let ranges = [
            // IPv4-compatible (and ::, ::1), IPv4-mapped, NAT64.
            ("::", "::ffff:ffff", None),
            ("::ffff:0.0.0.0", "::ffff:255.255.255.255", None),
            ("64:ff9b::", "64:ff9b::ffff:ffff", None),
            ("64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", None),
            ("100::", "100::ffff:ffff:ffff:ffff", None),
            (
                "2001::",
                "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("2001:200::"),
            ),
            (
                "2001:db8::",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("2001:db9::"),
            ),
            (
                "2002::",
                "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("2003::"),
            ),
            ("3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ];
        for (first, last, public_neighbour) in ranges {
            assert!(v6(first).is_some(), "{first}");
            assert_eq!(v6(first), v6(last), "{first}..{last} is one block");
            if let Some(outside) = public_neighbour {
                assert_eq!(v6(outside), None, "{outside} is public");
            }
        }
        // Neighbours that are another special block are named as that block.
        let neighbours = [
            ("::1:0:0", "::ffff:ffff"),
            ("::fffe:ffff:ffff", "::ffff:0.0.0.0"),
            ("::1:0:0:0", "::ffff:255.255.255.255"),
            ("64:ff9b::1:0:0", "64:ff9b::"),
            ("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::"),
            ("64:ff9b:2::", "64:ff9b:1::"),
            ("100:0:0:2::", "100::"),
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::"),
            ("fe00::", "fc00::"),
            ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::"),
            ("fec0::", "fe80::"),
            ("fe80::", "fec0::"),
            ("ff00::", "fec0::"),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::"),
            ("5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f00::"),
            ("5f01::", "5f00::"),
        ];
        for (outside, inside) in neighbours {
            assert!(v6(outside).is_some(), "{outside} is special too");
            assert_ne!(
                v6(outside),
                v6(inside),
                "{outside} is not in {inside}'s block"
            );
        }
        for public in [
            "2001:200::",
            "2001:4860:4860::8888",
            "2606:4700::6810:85e5",
            "2a00:1450:4001::1",
            "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
            "2003::",
            "3ffe:ffff::",
            "3fff:1000::",
        ] {
            assert_eq!(v6(public), None, "{public}");
        }
    }

    #[test]
    fn outside_global_unicast_is_reserved() {
        for reserved in [
            "1::",
            "1fff:ffff::",
            "4000::",
            "8000::",
            "e000::",
            "::2:0:0:0",
        ] {
            assert!(v6(reserved).is_some(), "{reserved}");
        }
        assert_eq!(v6("2000::"), None);
        assert_eq!(v6("3fef:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), None);
    }
}
