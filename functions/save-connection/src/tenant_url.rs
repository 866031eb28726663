//! The URL of a tenant's Supabase project: where tenant-proxy will send requests with the
//! tenant's service key attached, so it must be exactly a project origin and nothing else.

use std::net::IpAddr;

use url::{Host, Url};

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
    /// A private, link-local or loopback address (without the local switch).
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
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn is_public(host: &Host<&str>) -> bool {
    let ip: IpAddr = match host {
        Host::Domain(name) => return !name.eq_ignore_ascii_case("localhost") && name.contains('.'),
        Host::Ipv4(ip) => (*ip).into(),
        Host::Ipv6(ip) => (*ip).into(),
    };
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64) // 100.64/10, carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
