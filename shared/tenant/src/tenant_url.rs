//! The URL of a tenant's Supabase project: where tenant-proxy will send requests with the
//! tenant's service key attached, so it must be exactly a project origin and nothing else.
//!
//! Parsed with the `url` crate, which implements the WHATWG URL Standard, as the Workers
//! runtime's `fetch` does (compatibility flag `fetch_standard_url`, on by default since
//! 2024-06-03): a host written as `2130706433`, `0x7f.1`, `0177.0.0.1` or `127.1` is the IPv4
//! address 127.0.0.1 to both, and IDNA maps `ｌｏｃａｌｈｏｓｔ` to `localhost`, so the rules
//! below see the address that would be fetched.

use std::net::IpAddr;

use url::{Host, Url};

use crate::special_purpose_block;

/// The local-development switch (a Worker variable, `"true"`) that lets a connection point at
/// `http://127.0.0.1:…`. Never set in production.
pub const LOOPBACK_SWITCH: &str = "ALLOW_LOOPBACK_TENANTS";

/// Whether [`LOOPBACK_SWITCH`] is on, given its value (unset is off).
pub fn loopback_allowed(setting: Option<String>) -> bool {
    setting.is_some_and(|value| value == "true")
}

/// Domain suffixes of IANA's special-use domain names registry (and ICANN's `internal`) that
/// never name a public host: `localhost` and its subdomains resolve to loopback, the others
/// are local, private, test-only or not on the DNS at all.
const SPECIAL_USE_DOMAINS: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "home.arpa",
    "test",
    "invalid",
    "onion",
    "alt",
];

/// A validated project URL, kept as its origin (`https://abc.supabase.co`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUrl(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantUrlError {
    Malformed,
    TooLong,
    /// Only `https` (and `http` to loopback with the local-development switch).
    InsecureScheme,
    CredentialsInUrl,
    PathQueryOrFragment,
    /// `https://example.com.`: a fully-qualified name a resolver treats differently from the
    /// name without the dot (`localhost.` is loopback); a project URL never has one.
    TrailingDot,
    /// An address of a special-purpose block, a special-use or single-label name (without the
    /// local switch).
    NonPublicHost,
}

impl TenantUrlError {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed => "url is not a valid absolute URL",
            Self::TooLong => "url is longer than 2048 characters",
            Self::InsecureScheme => "url must use https",
            Self::CredentialsInUrl => "url must not contain a user name or password",
            Self::PathQueryOrFragment => {
                "url must be the project's base URL, with no path, query or fragment"
            }
            Self::TrailingDot => "url host must not end with a dot",
            Self::NonPublicHost => "url must point to a public host",
        }
    }
}

impl TenantUrl {
    /// Accepts `https://host[:port][/]`. With `allow_loopback_http` (local development only),
    /// also `http://` to `localhost`, `127.0.0.0/8` or `[::1]` — and loopback over https.
    pub fn parse(raw: &str, allow_loopback_http: bool) -> Result<Self, TenantUrlError> {
        if raw.len() > 2048 {
            return Err(TenantUrlError::TooLong);
        }
        let url = Url::parse(raw.trim()).map_err(|_| TenantUrlError::Malformed)?;
        let host = url.host().ok_or(TenantUrlError::Malformed)?;
        if matches!(host, Host::Domain(name) if name.ends_with('.')) {
            return Err(TenantUrlError::TrailingDot);
        }
        let loopback = is_loopback(&host);
        match url.scheme() {
            "https" => {}
            "http" if allow_loopback_http && loopback => {}
            _ => return Err(TenantUrlError::InsecureScheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TenantUrlError::CredentialsInUrl);
        }
        if (url.path() != "/" && !url.path().is_empty())
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(TenantUrlError::PathQueryOrFragment);
        }
        let reachable = is_public(&host) || (loopback && allow_loopback_http);
        if !reachable {
            return Err(TenantUrlError::NonPublicHost);
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn is_public(host: &Host<&str>) -> bool {
    match host {
        // The url crate has lowercased and IDNA-mapped the name already.
        Host::Domain(name) => {
            name.contains('.')
                && !SPECIAL_USE_DOMAINS.iter().any(|special| {
                    name.strip_suffix(special)
                        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
                })
        }
        Host::Ipv4(ip) => special_purpose_block(IpAddr::V4(*ip)).is_none(),
        Host::Ipv6(ip) => special_purpose_block(IpAddr::V6(*ip)).is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> TenantUrlError {
        TenantUrl::parse(raw, false).expect_err(raw)
    }

    #[test]
    fn accepts_project_origins() {
        let url = TenantUrl::parse("https://abcd.supabase.co/", false).unwrap();
        assert_eq!(url.as_str(), "https://abcd.supabase.co");
        assert_eq!(
            TenantUrl::parse("https://db.example.com:8443", false)
                .unwrap()
                .as_str(),
            "https://db.example.com:8443"
        );
        for public in [
            "https://8.8.8.8",
            "https://1.0.0.0",
            "https://[2606:4700::6810:85e5]",
            "https://mylocal.example.com",
            "https://localhost.example.com",
            "https://ABCD.Supabase.CO",
        ] {
            assert!(TenantUrl::parse(public, false).is_ok(), "{public}");
        }
    }

    #[test]
    fn refuses_what_a_proxy_must_never_reach() {
        let cases = [
            ("file:///etc/passwd", TenantUrlError::Malformed),
            ("http://abcd.supabase.co", TenantUrlError::InsecureScheme),
            ("http://127.0.0.1:54331", TenantUrlError::InsecureScheme),
            ("ftp://example.com", TenantUrlError::InsecureScheme),
            (
                "https://user:pw@example.com",
                TenantUrlError::CredentialsInUrl,
            ),
            (
                "https://example.com/rest/v1",
                TenantUrlError::PathQueryOrFragment,
            ),
            (
                "https://example.com/?a=1",
                TenantUrlError::PathQueryOrFragment,
            ),
            (
                "https://example.com/#x",
                TenantUrlError::PathQueryOrFragment,
            ),
            ("https://10.0.0.5", TenantUrlError::NonPublicHost),
            ("https://192.168.1.1", TenantUrlError::NonPublicHost),
            ("https://169.254.169.254", TenantUrlError::NonPublicHost),
            ("https://[::1]", TenantUrlError::NonPublicHost),
            ("https://[fd00::1]", TenantUrlError::NonPublicHost),
            ("https://[::ffff:10.0.0.1]", TenantUrlError::NonPublicHost),
            ("https://localhost", TenantUrlError::NonPublicHost),
            ("https://intranet", TenantUrlError::NonPublicHost),
            ("not a url", TenantUrlError::Malformed),
            ("", TenantUrlError::Malformed),
        ];
        for (raw, expected) in cases {
            assert_eq!(TenantUrl::parse(raw, false), Err(expected), "{raw}");
        }
        assert_eq!(
            TenantUrl::parse(&format!("https://{}.com", "a".repeat(2050)), false),
            Err(TenantUrlError::TooLong)
        );
    }

    /// The SSRF: a stored URL that cuts the proxied path off with `#`.
    #[test]
    fn a_fragment_that_cuts_the_proxied_path_off_is_refused() {
        for raw in [
            "http://127.0.0.1:8080/internal-admin#",
            "https://example.com/internal-admin#",
            "https://example.com#",
            "https://example.com?",
        ] {
            assert!(TenantUrl::parse(raw, true).is_err(), "{raw}");
        }
    }

    #[test]
    fn a_trailing_dot_host_is_refused() {
        for raw in [
            "https://localhost.",
            "https://localhost./",
            "https://abcd.supabase.co.",
            "https://localhost%2e",
            "https://LOCALHOST.:443",
        ] {
            assert_eq!(refused(raw), TenantUrlError::TrailingDot, "{raw}");
        }
        assert_eq!(
            TenantUrl::parse("http://localhost.:54331", true),
            Err(TenantUrlError::TrailingDot),
            "not even with the local switch"
        );
    }

    /// What the WHATWG host parser makes of numbers: the same address the runtime would fetch.
    #[test]
    fn ipv4_in_decimal_octal_hex_and_short_forms_is_refused() {
        let loopback = [
            "https://2130706433",
            "https://0x7f000001",
            "https://0x7f.1",
            "https://0x7F.0.0.1",
            "https://0177.0.0.1",
            "https://0177.1",
            "https://017700000001",
            "https://127.1",
            "https://127.0.1",
            "https://127.0.0.1.",
            "https://127。0。0。1",
            "https://%31%32%37.0.0.1",
        ];
        for raw in loopback {
            assert_eq!(refused(raw), TenantUrlError::NonPublicHost, "{raw}");
            // With the local switch they are loopback, and stored as the plain address.
            assert_eq!(
                TenantUrl::parse(raw, true).map(|u| u.0),
                Ok("https://127.0.0.1".to_owned()),
                "{raw}"
            );
        }
        for (raw, address) in [
            ("https://167772161", "10.0.0.1"),
            ("https://0xa.1", "10.0.0.1"),
            ("https://012.0.0.1", "10.0.0.1"),
            ("https://0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
            ("https://2852039166", "169.254.169.254"),
            ("https://0", "0.0.0.0"),
            ("https://0x64.0x40.0.1", "100.64.0.1"),
            ("https://3232235777", "192.168.1.1"),
        ] {
            let url = Url::parse(raw).unwrap();
            assert_eq!(url.host_str(), Some(address), "{raw}");
            assert_eq!(refused(raw), TenantUrlError::NonPublicHost, "{raw}");
        }
        // An all-numeric host that is no IPv4 address is not a URL at all.
        for raw in [
            "https://1.2.3.4.5",
            "https://4294967296",
            "https://0x1.0x2.0x3.0x4.0x5",
        ] {
            assert_eq!(refused(raw), TenantUrlError::Malformed, "{raw}");
        }
        assert_eq!(
            TenantUrl::parse("https://0x8.0x8.0x8.0x8", false).map(|u| u.0),
            Ok("https://8.8.8.8".to_owned()),
            "a public address written in hex is stored in dotted decimal"
        );
    }

    #[test]
    fn special_purpose_ipv4_ranges_are_refused() {
        for raw in [
            "https://0.0.0.0",
            "https://0.1.2.3",
            "https://100.64.0.1",
            "https://100.127.255.255",
            "https://192.0.0.1",
            "https://192.0.0.255",
            "https://198.18.0.1",
            "https://198.19.255.255",
            "https://224.0.0.1",
            "https://239.255.255.255",
            "https://240.0.0.1",
            "https://255.255.255.255",
            "https://192.0.2.1",
            "https://203.0.113.9",
        ] {
            assert_eq!(refused(raw), TenantUrlError::NonPublicHost, "{raw}");
        }
        for raw in [
            "https://100.63.255.255",
            "https://100.128.0.0",
            "https://192.0.1.0",
            "https://198.17.255.255",
            "https://198.20.0.0",
            "https://223.255.255.255",
        ] {
            assert!(TenantUrl::parse(raw, false).is_ok(), "{raw}");
        }
    }

    #[test]
    fn ipv6_that_embeds_or_reaches_a_private_address_is_refused() {
        for raw in [
            "https://[::ffff:127.0.0.1]",
            "https://[::ffff:7f00:1]",
            "https://[::127.0.0.1]",
            "https://[::a00:1]",
            "https://[::]",
            "https://[64:ff9b::7f00:1]",
            "https://[64:ff9b::a9fe:a9fe]",
            "https://[64:ff9b:1::1]",
            "https://[2002:7f00:1::]",
            "https://[2002:a9fe:a9fe::1]",
            "https://[2001::1]",
            "https://[2001:db8::1]",
            "https://[fec0::1]",
            "https://[feff::1]",
            "https://[fe80::1]",
            "https://[fc00::1]",
            "https://[ff02::1]",
            "https://[ff0e::1]",
            "https://[100::1]",
            "https://[3fff::1]",
            "https://[5f00::1]",
            "https://[4000::1]",
        ] {
            assert_eq!(refused(raw), TenantUrlError::NonPublicHost, "{raw}");
        }
        assert_eq!(
            TenantUrl::parse("http://[::ffff:127.0.0.1]:54331", true),
            Err(TenantUrlError::InsecureScheme),
            "the switch opens ::1 only, not loopback embedded in another block"
        );
    }

    #[test]
    fn special_use_names_are_refused() {
        for raw in [
            "https://localhost",
            "https://db.localhost",
            "https://ｌｏｃａｌｈｏｓｔ",
            "https://printer.local",
            "https://db.internal",
            "https://router.home.arpa",
            "https://project.test",
            "https://project.invalid",
            "https://hidden.onion",
            "https://name.alt",
        ] {
            assert_eq!(refused(raw), TenantUrlError::NonPublicHost, "{raw}");
        }
    }

    #[test]
    fn loopback_only_with_the_local_switch() {
        assert_eq!(
            TenantUrl::parse("http://127.0.0.1:54331", true)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:54331"
        );
        assert_eq!(
            TenantUrl::parse("http://localhost:54331/", true)
                .unwrap()
                .as_str(),
            "http://localhost:54331"
        );
        assert_eq!(
            TenantUrl::parse("http://[::1]:54331", true)
                .unwrap()
                .as_str(),
            "http://[::1]:54331"
        );
        // The switch opens loopback only, not other plain-http hosts or private ranges.
        assert_eq!(
            TenantUrl::parse("http://example.com", true),
            Err(TenantUrlError::InsecureScheme)
        );
        assert_eq!(
            TenantUrl::parse("https://10.1.2.3", true),
            Err(TenantUrlError::NonPublicHost)
        );
        assert_eq!(
            TenantUrl::parse("http://db.localhost:54331", true),
            Err(TenantUrlError::InsecureScheme)
        );
    }
}
