//! Where mailed links may send a browser: GoTrue's `IsRedirectURLValid`. A `redirect_to` is
//! honoured when it is the site (same scheme and host, any port on loopback), a loopback
//! address, or matches `GOTRUE_URI_ALLOW_LIST`; otherwise links lead to the site URL.

use axum::http::HeaderMap;
use serde::Deserialize;
use url::{Host, Url};

use super::settings::AuthSettings;
use crate::gateway::header_str;

/// The `?redirect_to=` auth-js adds for `emailRedirectTo` / `redirectTo`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RedirectQuery {
    pub redirect_to: Option<String>,
}

/// GoTrue's `GetReferrer`: the requested `redirect_to`, else the `Referer`, else the site URL.
pub fn redirect_target(
    settings: &AuthSettings,
    requested: Option<&str>,
    headers: &HeaderMap,
) -> String {
    [requested, header_str(headers, "referer")]
        .into_iter()
        .flatten()
        .find(|candidate| is_allowed(settings, candidate))
        .map_or_else(|| settings.site_url.clone(), str::to_owned)
}

pub fn is_allowed(settings: &AuthSettings, candidate: &str) -> bool {
    let (Ok(site), Ok(target)) = (Url::parse(&settings.site_url), Url::parse(candidate)) else {
        return false;
    };
    let loopback = |url: &Url| match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if site.host_str() == target.host_str()
        && site.scheme() == target.scheme()
        && (site.port() == target.port() || loopback(&target))
    {
        return true;
    }
    match target.host() {
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => return loopback(&target),
        Some(Host::Domain(d)) if d.bytes().all(|b| b.is_ascii_digit()) => return false,
        _ => {}
    }
    let without_fragment = candidate.split('#').next().unwrap_or(candidate);
    settings
        .uri_allow_list
        .iter()
        .any(|pattern| glob_match(pattern.as_bytes(), without_fragment.as_bytes()))
}

/// The globs GoTrue's allow list takes: `**` matches anything, `*` anything but `.` and `/`.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        [b'*', rest @ ..] => {
            let span = text
                .iter()
                .position(|&b| b == b'.' || b == b'/')
                .unwrap_or(text.len());
            (0..=span).any(|i| glob_match(rest, &text[i..]))
        }
        [p, rest @ ..] => text.first() == Some(p) && glob_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            site_url: "https://app.example.com".into(),
            uri_allow_list: vec!["myapp://callback".into(), "https://*.example.org/**".into()],
            ..AuthSettings::default()
        }
    }

    #[test]
    fn the_site_loopback_and_the_allow_list_pass() {
        let s = settings();
        for ok in [
            "https://app.example.com/reset",
            "http://127.0.0.1:5173/account",
            "myapp://callback",
            "https://staging.example.org/a/b#frag",
        ] {
            assert!(is_allowed(&s, ok), "{ok}");
        }
        for bad in [
            "https://evil.example.net/",
            // Only loopback addresses, not the name, pass without being the site (GoTrue).
            "http://localhost:3000/",
            "http://app.example.com/",
            "https://10.0.0.1/",
            "https://a.b.example.org/x",
            "not a url",
            "",
        ] {
            assert!(!is_allowed(&s, bad), "{bad}");
        }
    }

    #[test]
    fn refused_targets_fall_back_to_the_site() {
        let s = settings();
        let headers = HeaderMap::new();
        assert_eq!(
            redirect_target(&s, Some("https://evil.example.net/"), &headers),
            "https://app.example.com"
        );
        assert_eq!(
            redirect_target(&s, Some("http://127.0.0.1:1/x"), &headers),
            "http://127.0.0.1:1/x"
        );
    }
}
