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

/// The bucket key for a client: HMAC-SHA256 of its address under the Worker's
/// `RATE_LIMIT_SECRET`. Requests without a usable `CF-Connecting-IP` (not possible behind
/// Cloudflare; possible locally) share one bucket, so they are limited too.
pub fn bucket_key(secret: &[u8], ip: Option<IpAddr>) -> String {
    let subject = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    format!(
        "{SCOPE}:{}",
        to_hex(&hmac_sha256(secret, subject.as_bytes()))
    )
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
