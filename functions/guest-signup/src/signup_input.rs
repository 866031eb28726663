//! The body of `POST /guest-signup`: what the app knows about the visit, all optional, checked
//! before any account is made.
//!
//! Unknown fields are refused (400 naming them), so a typo such as `utmSource` is seen at once
//! instead of silently losing the campaign. Empty strings count as absent, since that is what
//! browsers give for "no referrer" (`document.referrer === ""`). The limits are the `visitor`
//! table's own, so the database refuses nothing that passed here.

use edge_http::{ApiError, parse_json};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

const MAX_URL_LEN: usize = 2048;
const MAX_UTM_LEN: usize = 200;
const MAX_APP_NAME_LEN: usize = 100;
const MAX_APP_VERSION_LEN: usize = 50;
const MAX_TIMEZONE_LEN: usize = 64;
const MAX_SCREEN_PX: i64 = 100_000;

/// What the client sends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupInput {
    pub landing_url: Option<String>,
    pub referrer: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub screen_width: Option<i64>,
    pub screen_height: Option<i64>,
    pub touch_support: Option<bool>,
    pub app_platform: Option<String>,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
    pub display_mode: Option<String>,
    pub install_source: Option<String>,
    pub timezone_guess: Option<String>,
}

/// The client-reported visitor attributes, validated, under the `visitor` column names.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedVisit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landing_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_height: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub touch_support: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone_guess: Option<String>,
}

const APP_PLATFORMS: &[&str] = &["browser", "pwa", "native_app", "webview"];
const DISPLAY_MODES: &[&str] = &["browser", "standalone", "minimal-ui", "fullscreen"];
const INSTALL_SOURCES: &[&str] = &["store", "add_to_home", "direct"];

impl SignupInput {
    /// Parses a request body: empty means "nothing reported" (supabase-js sends no body without
    /// `body`); otherwise it must be a JSON object (serde would also take a positional array).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            None => Ok(Self::default()),
            Some(b'{') => parse_json(body),
            Some(_) => match parse_json::<serde_json::Value>(body) {
                Ok(_) => Err(invalid("the body must be a JSON object")),
                Err(syntax) => Err(syntax),
            },
        }
    }

    /// Checks every field; the first problem is a 400 `invalid_body` naming the field.
    pub fn validate(self) -> Result<ReportedVisit, ApiError> {
        Ok(ReportedVisit {
            landing_url: present(self.landing_url)
                .map(|v| landing_url(&v))
                .transpose()?,
            referrer_host: present(self.referrer)
                .map(|v| referrer_host(&v))
                .transpose()?
                .flatten(),
            utm_source: text("utm_source", self.utm_source, MAX_UTM_LEN)?,
            utm_medium: text("utm_medium", self.utm_medium, MAX_UTM_LEN)?,
            utm_campaign: text("utm_campaign", self.utm_campaign, MAX_UTM_LEN)?,
            utm_term: text("utm_term", self.utm_term, MAX_UTM_LEN)?,
            utm_content: text("utm_content", self.utm_content, MAX_UTM_LEN)?,
            screen_width: pixels("screen_width", self.screen_width)?,
            screen_height: pixels("screen_height", self.screen_height)?,
            touch_support: self.touch_support,
            app_platform: one_of("app_platform", self.app_platform, APP_PLATFORMS)?,
            app_name: text("app_name", self.app_name, MAX_APP_NAME_LEN)?,
            app_version: text("app_version", self.app_version, MAX_APP_VERSION_LEN)?,
            display_mode: one_of("display_mode", self.display_mode, DISPLAY_MODES)?,
            install_source: one_of("install_source", self.install_source, INSTALL_SOURCES)?,
            timezone_guess: timezone(self.timezone_guess)?,
        })
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_body", message)
}

/// `None` for absent, empty or blank values; the value trimmed otherwise.
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Free text up to `max` characters, with no control characters.
fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = present(value) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(invalid(format!("{field} is longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{field} contains control characters")));
    }
    Ok(Some(value))
}

fn one_of(
    field: &str,
    value: Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match present(value) {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(_) => Err(invalid(format!(
            "{field} must be one of {}",
            allowed.join(", ")
        ))),
    }
}

fn pixels(field: &str, value: Option<i64>) -> Result<Option<i64>, ApiError> {
    match value {
        Some(px) if !(1..=MAX_SCREEN_PX).contains(&px) => Err(invalid(format!(
            "{field} must be between 1 and {MAX_SCREEN_PX}"
        ))),
        other => Ok(other),
    }
}

/// An absolute `http(s)` URL, as the page's `location.href` is.
fn web_url(field: &str, value: &str) -> Result<Url, ApiError> {
    if value.len() > MAX_URL_LEN {
        return Err(invalid(format!(
            "{field} is longer than {MAX_URL_LEN} characters"
        )));
    }
    let shaped = value.chars().all(|c| !c.is_whitespace() && !c.is_control());
    let url = Url::parse(value)
        .ok()
        .filter(|u| shaped && matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| invalid(format!("{field} must be an absolute http(s) URL")))?;
    Ok(url)
}

/// The URL as sent (it is stored as sent, so it must also read as `http(s)://…` literally:
/// the URL parser alone also takes `HTTPS://…`, `https:/…` and `https:\\…`, which the
/// column's check `^https?://` refuses).
fn landing_url(value: &str) -> Result<String, ApiError> {
    web_url("landing_url", value)?;
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err(invalid("landing_url must start with http:// or https://"));
    }
    Ok(value.to_owned())
}

/// The referrer's host (and port when not the scheme's default): only the host is kept, since
/// a full referrer URL can carry another site's tokens or personal data in its path or query.
/// An IP-literal host is kept for IPv4 and dropped for IPv6 (the column holds a host name).
fn referrer_host(value: &str) -> Result<Option<String>, ApiError> {
    let url = web_url("referrer", value)?;
    let host = match url.host() {
        Some(Host::Domain(name)) => name.trim_end_matches('.').to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(_)) | None => return Ok(None),
    };
    if host.len() > 253 || !storable_host(&host) {
        return Err(invalid("referrer has no usable host name"));
    }
    Ok(Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }))
}

/// A host name the `referrer_host` column takes: `[a-z0-9.-]`, starting and ending with a
/// letter or digit. The URL parser lower-cases and punycodes names but also lets through `_`,
/// `!`, `*`, `~` and a leading or trailing `-`.
fn storable_host(host: &str) -> bool {
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = host.as_bytes();
    bytes.first().copied().is_some_and(edge)
        && bytes.last().copied().is_some_and(edge)
        && bytes.iter().all(|&b| edge(b) || b == b'.' || b == b'-')
}

/// An IANA zone name as `Intl.DateTimeFormat().resolvedOptions().timeZone` gives it
/// (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`, `UTC`).
fn timezone(value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(zone) = present(value) else {
        return Ok(None);
    };
    let shaped = zone.len() <= MAX_TIMEZONE_LEN
        && zone.starts_with(|c: char| c.is_ascii_alphabetic())
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        && !zone.contains("//")
        && !zone.ends_with('/');
    if !shaped {
        return Err(invalid(
            "timezone_guess must be an IANA time zone name such as Europe/Berlin",
        ));
    }
    Ok(Some(zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(body: &str) -> Result<ReportedVisit, ApiError> {
        SignupInput::parse(body.as_bytes())?.validate()
    }

    #[test]
    fn bodies_are_objects_or_nothing() {
        assert_eq!(validate("").unwrap(), ReportedVisit::default());
        assert_eq!(validate(" \n ").unwrap(), ReportedVisit::default());
        assert_eq!(validate("{}").unwrap(), ReportedVisit::default());
        for body in [r#"["https://a.example"]"#, "null", "42", r#""x""#] {
            assert_eq!(message(body), "the body must be a JSON object", "{body}");
        }
        let err = validate("[1,").unwrap_err();
        assert_eq!(err.code(), "invalid_json");
        assert_eq!(validate("{").unwrap_err().code(), "invalid_json");
    }

    fn message(body: &str) -> String {
        let err = validate(body).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_body"), "{body}");
        err.message().to_owned()
    }

    #[test]
    fn accepts_a_full_visit() {
        let visit = validate(
            r#"{"landing_url": "https://app.example.com/pricing?utm_source=news#top",
                "referrer": "https://News.Example.com:8443/story/42?session=secret",
                "utm_source": " news ", "utm_medium": "email", "utm_campaign": "launch",
                "utm_term": "shoes", "utm_content": "banner",
                "screen_width": 412, "screen_height": 915, "touch_support": true,
                "app_platform": "pwa", "app_name": "Vision", "app_version": "1.2.3",
                "display_mode": "standalone", "install_source": "add_to_home",
                "timezone_guess": "America/Argentina/Buenos_Aires"}"#,
        )
        .unwrap();
        assert_eq!(
            visit.landing_url.as_deref(),
            Some("https://app.example.com/pricing?utm_source=news#top")
        );
        assert_eq!(
            visit.referrer_host.as_deref(),
            Some("news.example.com:8443")
        );
        assert_eq!(visit.utm_source.as_deref(), Some("news"));
        assert_eq!(visit.screen_width, Some(412));
        assert_eq!(visit.display_mode.as_deref(), Some("standalone"));
        let json = serde_json::to_value(&visit).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 16);
        assert!(json.get("referrer").is_none(), "only the host is kept");
    }

    #[test]
    fn empty_values_are_absent() {
        let visit =
            validate(r#"{"referrer": "", "utm_source": "  ", "timezone_guess": null}"#).unwrap();
        assert_eq!(visit, ReportedVisit::default());
        assert_eq!(serde_json::to_string(&visit).unwrap(), "{}");
        assert_eq!(
            validate(r#"{"referrer": "http://[::1]:3000/"}"#)
                .unwrap()
                .referrer_host,
            None
        );
        assert_eq!(
            validate(r#"{"referrer": "http://192.0.2.1/x"}"#)
                .unwrap()
                .referrer_host
                .as_deref(),
            Some("192.0.2.1")
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let long = "x".repeat(201);
        let cases = [
            (
                r#"{"landing_url": "javascript:alert(1)"}"#.to_owned(),
                "landing_url must be an absolute http(s) URL",
            ),
            (
                r#"{"landing_url": "/pricing"}"#.to_owned(),
                "landing_url must be an absolute http(s) URL",
            ),
            (
                format!(
                    r#"{{"landing_url": "https://a.example/{}"}}"#,
                    "p".repeat(2048)
                ),
                "landing_url is longer than 2048 characters",
            ),
            (
                r#"{"referrer": "ftp://files.example.com"}"#.to_owned(),
                "referrer must be an absolute http(s) URL",
            ),
            (
                format!(r#"{{"utm_source": "{long}"}}"#),
                "utm_source is longer than 200 characters",
            ),
            (
                r#"{"utm_campaign": "a\u0000b"}"#.to_owned(),
                "utm_campaign contains control characters",
            ),
            (
                r#"{"screen_width": 0}"#.to_owned(),
                "screen_width must be between 1 and 100000",
            ),
            (
                r#"{"screen_height": 100001}"#.to_owned(),
                "screen_height must be between 1 and 100000",
            ),
            (
                r#"{"app_platform": "toaster"}"#.to_owned(),
                "app_platform must be one of browser, pwa, native_app, webview",
            ),
            (
                r#"{"display_mode": "window"}"#.to_owned(),
                "display_mode must be one of browser, standalone, minimal-ui, fullscreen",
            ),
            (
                r#"{"install_source": "sideload"}"#.to_owned(),
                "install_source must be one of store, add_to_home, direct",
            ),
            (
                r#"{"app_version": "1.0.0-beta.1+build.123456789012345678901234567890123"}"#
                    .to_owned(),
                "app_version is longer than 50 characters",
            ),
            (
                r#"{"timezone_guess": "Europe/Berlin; drop table"}"#.to_owned(),
                "timezone_guess must be an IANA time zone name such as Europe/Berlin",
            ),
            (
                r#"{"screen_width": 1.5}"#.to_owned(),
                "field `screen_width`: invalid type: floating point `1.5`, expected i64",
            ),
            (
                r#"{"touch_support": "yes"}"#.to_owned(),
                "field `touch_support`: invalid type: string \"yes\", expected a boolean",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(message(&body), expected, "{body}");
        }
        assert!(message(r#"{"utmSource": "news"}"#).starts_with("unknown field `utmSource`"));
        assert!(message(r#"{"level": 5}"#).starts_with("unknown field `level`"));
    }

    /// Found by `fuzz/fuzz_targets/guest_signup_body.rs` (fuzz/regressions/guest_signup_body/):
    /// the URL parser took these, the `visitor` table's checks did not, so the insert failed
    /// after the account was made. Each is a 400 now.
    #[test]
    fn refuses_what_the_visitor_columns_cannot_hold() {
        for (body, expected) in [
            (
                r#"{"referrer": "http:/0n_"}"#,
                "referrer has no usable host name",
            ),
            (
                r#"{"referrer": "https://my_site.example/"}"#,
                "referrer has no usable host name",
            ),
            (
                r#"{"referrer": "https://-a.example/"}"#,
                "referrer has no usable host name",
            ),
            (
                r#"{"landing_url": "HTTPS://app.example.com/"}"#,
                "landing_url must start with http:// or https://",
            ),
            (
                r#"{"landing_url": "https:/app.example.com/"}"#,
                "landing_url must start with http:// or https://",
            ),
            (
                r#"{"landing_url": "https:\\\\app.example.com/"}"#,
                "landing_url must start with http:// or https://",
            ),
        ] {
            assert_eq!(message(body), expected, "{body}");
        }
        let kept = validate(r#"{"referrer": "https://News.Example.com./x"}"#).unwrap();
        assert_eq!(kept.referrer_host.as_deref(), Some("news.example.com"));
    }
}
