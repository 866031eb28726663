//! The per-IP sign-up limit: a token bucket in Postgres (`take_rate_limit_token`), so it holds
//! across requests, isolates and Cloudflare locations alike, keyed by a keyed hash of the IP so
//! the table never holds an address.

use std::net::IpAddr;

use edge_crypto::{hmac_sha256, to_hex};

/// The bucket scope; keys are `guest-signup:<64 hex>`.
const SCOPE: &str = "guest-signup";
/// Without a `GUEST_SIGNUP_RATE_LIMIT` setting: 10 guest accounts per IP per hour (a burst of
/// 10, then one every 6 minutes).
pub const DEFAULT_LIMIT: SignupRateLimit = SignupRateLimit {
    requests: 10,
    window_secs: 3600,
};

/// How many sign-ups one IP may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignupRateLimit {
    pub requests: u32,
    pub window_secs: u32,
}

impl SignupRateLimit {
    /// Parses `<requests>/<seconds>` (e.g. `10/3600`), within what the database function accepts
    /// (1..=100000 requests, 1..=604800 seconds).
    pub fn parse(setting: &str) -> Result<Self, String> {
        let (requests, window) = setting
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("expected <requests>/<seconds>, got {setting:?}"))?;
        let requests: u32 = requests
            .trim()
            .parse()
            .map_err(|_| format!("bad request count in {setting:?}"))?;
        let window_secs: u32 = window
            .trim()
            .parse()
            .map_err(|_| format!("bad window in {setting:?}"))?;
        if !(1..=100_000).contains(&requests) || !(1..=604_800).contains(&window_secs) {
            return Err(format!(
                "{setting:?} is out of range (1..=100000 per 1..=604800 s)"
            ));
        }
        Ok(Self {
            requests,
            window_secs,
        })
    }
}

/// The bucket key for a client: HMAC-SHA256 of its network (see [`rate_limit_subject`]) under
/// the Worker's `RATE_LIMIT_SECRET`. Requests without a usable `CF-Connecting-IP` (not possible
/// behind Cloudflare; possible locally) share one bucket, so they are limited too.
pub fn bucket_key(secret: &[u8], ip: Option<IpAddr>) -> String {
    let subject = ip.map_or_else(|| "unknown".to_owned(), rate_limit_subject);
    format!(
        "{SCOPE}:{}",
        to_hex(&hmac_sha256(secret, subject.as_bytes()))
    )
}

/// What one bucket stands for: an IPv4 address, or the /64 network of an IPv6 address. An IPv6
/// client is usually given a whole /64 (one LAN, one subscriber) and picks addresses in it at
/// will, so a per-address bucket would let it rotate past the limit. An IPv4-mapped IPv6
/// address (`::ffff:a.b.c.d`) is that IPv4 client.
fn rate_limit_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_setting() {
        assert_eq!(SignupRateLimit::parse("10/3600"), Ok(DEFAULT_LIMIT));
        assert_eq!(
            SignupRateLimit::parse(" 3 / 60 "),
            Ok(SignupRateLimit {
                requests: 3,
                window_secs: 60
            })
        );
        for bad in [
            "",
            "10",
            "10/",
            "/60",
            "0/60",
            "10/0",
            "x/60",
            "10/604801",
            "-1/60",
            "100001/60",
        ] {
            assert!(SignupRateLimit::parse(bad).is_err(), "{bad}");
        }
    }

    /// The attack: an IPv6 client owns a /64 and rotates through its addresses, one sign-up
    /// per address. All of them must land in one bucket.
    #[test]
    fn ipv6_clients_rotating_addresses_in_their_64_share_one_bucket() {
        let key = |ip: &str| bucket_key(b"secret", Some(ip.parse().unwrap()));
        let home = key("2001:db8:aa:bb::1");
        for same_network in [
            "2001:db8:aa:bb::2",
            "2001:db8:aa:bb:ffff:ffff:ffff:ffff",
            "2001:db8:aa:bb:1234:5678:9abc:def0",
            "2001:DB8:AA:BB:0:0:0:1",
        ] {
            assert_eq!(key(same_network), home, "{same_network}");
        }
        for other_network in [
            "2001:db8:aa:bc::1",
            "2001:db8:ab:bb::1",
            "2001:db9:aa:bb::1",
        ] {
            assert_ne!(key(other_network), home, "{other_network}");
        }
        assert_eq!(
            rate_limit_subject("2001:db8:aa:bb:1:2:3:4".parse().unwrap()),
            "2001:db8:aa:bb::/64"
        );
        // IPv4 stays per address; an IPv4-mapped IPv6 address is that IPv4 client.
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
    }

    #[test]
    fn keys_hide_the_address() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let key = bucket_key(b"secret-1", Some(ip));
        assert!(key.starts_with("guest-signup:"));
        assert_eq!(key.len(), "guest-signup:".len() + 64);
        assert!(!key.contains("203.0.113.7"));
        assert_eq!(
            key,
            bucket_key(b"secret-1", Some(ip)),
            "stable for one secret"
        );
        assert_ne!(
            key,
            bucket_key(b"secret-2", Some(ip)),
            "another secret, another key"
        );
        assert_ne!(
            key,
            bucket_key(b"secret-1", Some("203.0.113.8".parse().unwrap()))
        );
        assert_eq!(bucket_key(b"s", None), bucket_key(b"s", None));
        // The key shape the database requires: '^[a-z][a-z0-9_-]{0,39}:[0-9a-f]{64}$'.
        let hex = key.split_once(':').unwrap().1;
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
