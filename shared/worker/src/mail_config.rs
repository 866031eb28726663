//! Which transport sends e-mail and as whom, from the Worker's settings.
//!
//! | setting | meaning |
//! | --- | --- |
//! | `MAIL_TRANSPORT` | `resend` (a Resend-style HTTP API: `POST {MAIL_API_URL}/emails`), `cloudflare` (the `send_email` binding), unset: no e-mail |
//! | `MAIL_FROM` | the sender, `addr@example.com` or `Name <addr@example.com>` (required with a transport) |
//! | `MAIL_API_URL` | the HTTP API's base URL, default `https://api.resend.com` |
//! | `MAIL_API_KEY` | its key (a Worker secret), required for `resend` |
//! | `MAIL_BINDING` | the `[[send_email]]` binding's name, default `EMAIL` |
//! | `MAIL_TIMEOUT_MS` | how long one send may take, default 10000 |

use std::time::Duration;

use edge_http::ApiError;
use worker::Env;

use crate::config::optional_setting;

pub const DEFAULT_MAIL_API_URL: &str = "https://api.resend.com";
pub const DEFAULT_MAIL_BINDING: &str = "EMAIL";
pub const DEFAULT_MAIL_TIMEOUT_MS: u64 = 10_000;

#[derive(Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// `POST {base_url}/emails` with a bearer key and an `Idempotency-Key`, as Resend's API.
    HttpApi { base_url: String, api_key: String },
    /// Cloudflare's `send_email` binding (Email Service), by binding name.
    Cloudflare { binding: String },
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HttpApi { base_url, .. } => f
                .debug_struct("HttpApi")
                .field("base_url", base_url)
                .finish_non_exhaustive(),
            Self::Cloudflare { binding } => f
                .debug_struct("Cloudflare")
                .field("binding", binding)
                .finish(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub transport: MailTransport,
    pub from: String,
    pub timeout: Duration,
}

impl MailConfig {
    /// The mail settings of `env`: `Ok(None)` when `MAIL_TRANSPORT` is unset (e-mail is off),
    /// a 500 `mail_not_configured` naming the setting that is missing or wrong otherwise.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ApiError> {
        Self::parse(|name| optional_setting(env, name)).map_err(mail_not_configured)
    }

    /// [`MailConfig::from_env`] over any source of settings.
    pub fn parse(setting: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let Some(kind) = setting("MAIL_TRANSPORT") else {
            return Ok(None);
        };
        let transport = match kind.trim() {
            "resend" => MailTransport::HttpApi {
                base_url: http_url(
                    setting("MAIL_API_URL")
                        .as_deref()
                        .unwrap_or(DEFAULT_MAIL_API_URL),
                )?,
                api_key: setting("MAIL_API_KEY")
                    .ok_or("MAIL_TRANSPORT=resend needs MAIL_API_KEY (a Worker secret)")?,
            },
            "cloudflare" => MailTransport::Cloudflare {
                binding: setting("MAIL_BINDING").unwrap_or_else(|| DEFAULT_MAIL_BINDING.into()),
            },
            other => {
                return Err(format!(
                    "MAIL_TRANSPORT must be `resend` or `cloudflare`, not {other:?}"
                ));
            }
        };
        let from = setting("MAIL_FROM").ok_or("MAIL_FROM is not set: e-mail has no sender")?;
        if !sender_is_plausible(&from) {
            return Err(format!(
                "MAIL_FROM must be `addr@example.com` or `Name <addr@example.com>`, not {from:?}"
            ));
        }
        let timeout_ms = match setting("MAIL_TIMEOUT_MS") {
            None => DEFAULT_MAIL_TIMEOUT_MS,
            Some(ms) => ms
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| (100..=60_000).contains(ms))
                .ok_or_else(|| format!("MAIL_TIMEOUT_MS must be 100..60000, not {ms:?}"))?,
        };
        Ok(Some(Self {
            transport,
            from: from.trim().to_owned(),
            timeout: Duration::from_millis(timeout_ms),
        }))
    }
}

/// The error for mail settings that are missing or wrong: it names the setting (never a value
/// of a secret), so the operator sees what to fix; nothing has been written when it is raised.
pub fn mail_not_configured(reason: impl Into<String>) -> ApiError {
    let reason = reason.into();
    worker::console_error!("e-mail is not configured: {reason}");
    ApiError::new(
        500,
        "mail_not_configured",
        format!("E-mail is not configured: {reason}"),
    )
}

fn http_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    match worker::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(format!(
            "MAIL_API_URL must be an http(s) URL, not {value:?}"
        )),
    }
}

/// `addr@domain` alone or inside `<…>` after a display name; no line breaks (header injection).
fn sender_is_plausible(from: &str) -> bool {
    if from.contains(['\r', '\n']) {
        return false;
    }
    let from = from.trim();
    let address = match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => from,
        _ => return false,
    };
    matches!(address.split_once('@'), Some((local, domain))
        if !local.is_empty() && domain.contains('.') && !address.contains([' ', '<', '>']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<MailConfig>, String> {
        MailConfig::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn without_a_transport_mail_is_off() {
        assert_eq!(parse(&[("MAIL_FROM", "a@b.co")]), Ok(None));
    }

    #[test]
    fn the_http_api_defaults_to_resend() {
        let config = parse(&[
            ("MAIL_TRANSPORT", "resend"),
            ("MAIL_API_KEY", "re_123"),
            ("MAIL_FROM", "Invitations <invites@example.com>"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            config.transport,
            MailTransport::HttpApi {
                base_url: DEFAULT_MAIL_API_URL.into(),
                api_key: "re_123".into()
            }
        );
        assert_eq!(
            config.timeout,
            Duration::from_millis(DEFAULT_MAIL_TIMEOUT_MS)
        );
        assert!(
            !format!("{config:?}").contains("re_123"),
            "the key stays out of logs"
        );
    }

    #[test]
    fn the_cloudflare_binding_has_a_default_name() {
        let config = parse(&[
            ("MAIL_TRANSPORT", "cloudflare"),
            ("MAIL_FROM", "invites@example.com"),
            ("MAIL_TIMEOUT_MS", "2500"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            config.transport,
            MailTransport::Cloudflare {
                binding: "EMAIL".into()
            }
        );
        assert_eq!(config.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn missing_or_wrong_settings_are_named() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("MAIL_TRANSPORT", "smtp")], "MAIL_TRANSPORT"),
            (
                &[("MAIL_TRANSPORT", "resend"), ("MAIL_FROM", "a@b.co")],
                "MAIL_API_KEY",
            ),
            (
                &[("MAIL_TRANSPORT", "resend"), ("MAIL_API_KEY", "k")],
                "MAIL_FROM",
            ),
            (
                &[
                    ("MAIL_TRANSPORT", "cloudflare"),
                    ("MAIL_FROM", "x\r\nBcc: all@example.com"),
                ],
                "MAIL_FROM",
            ),
            (
                &[
                    ("MAIL_TRANSPORT", "resend"),
                    ("MAIL_API_KEY", "k"),
                    ("MAIL_FROM", "a@b.co"),
                    ("MAIL_API_URL", "ftp://x"),
                ],
                "MAIL_API_URL",
            ),
            (
                &[
                    ("MAIL_TRANSPORT", "cloudflare"),
                    ("MAIL_FROM", "a@b.co"),
                    ("MAIL_TIMEOUT_MS", "0"),
                ],
                "MAIL_TIMEOUT_MS",
            ),
        ];
        for (pairs, named) in cases {
            let error = parse(pairs).unwrap_err();
            assert!(error.contains(named), "{error} should name {named}");
        }
    }

    #[test]
    fn senders_are_an_address_with_an_optional_name() {
        for good in [
            "a@b.co",
            "Invites <a@b.co>",
            "\"Acme, Inc\" <no-reply@acme.example>",
        ] {
            assert!(sender_is_plausible(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "<a@b.co",
            "Name a@b.co>",
            "a b@c.co",
            "a@b.co\n",
        ] {
            assert!(!sender_is_plausible(bad), "{bad}");
        }
    }
}
