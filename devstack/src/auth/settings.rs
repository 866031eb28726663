//! The knobs of Supabase Auth that devstack honours, read from GoTrue's own environment
//! variable names so a developer who knows GoTrue knows these.

use std::time::Duration;

use super::rate_limit::RateLimits;

/// Auth behaviour for one devstack process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `GOTRUE_PASSWORD_MIN_LENGTH`: 6, as `supabase start` sets it.
    pub password_min_length: usize,
    /// `GOTRUE_JWT_EXP`: access token lifetime, 3600 s by default.
    pub access_token_lifetime: Duration,
    /// `GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL`: how long a rotated refresh token may still
    /// be replayed (concurrent tabs, lost responses) before reuse counts as theft; 10 s.
    pub refresh_token_reuse_interval: Duration,
    /// `GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED`: on by default here, because the project's guest
    /// flows need it (the Supabase CLI's default is off).
    pub anonymous_users_enabled: bool,
    /// `GOTRUE_DISABLE_SIGNUP`.
    pub signup_disabled: bool,
    /// `GOTRUE_MAILER_AUTOCONFIRM`: on unless `devstack start --email-confirmations` (the CLI's
    /// `[auth.email] enable_confirmations = false` default); off, sign-up mails a confirmation.
    pub mailer_autoconfirm: bool,
    /// `GOTRUE_MAILER_OTP_EXP`: how long a mailed link or code stays valid (the CLI's
    /// `otp_expiry = 3600`).
    pub mailer_otp_exp: Duration,
    /// `GOTRUE_MAILER_OTP_LENGTH`: digits of a mailed code (the CLI's `otp_length = 6`).
    pub mailer_otp_length: usize,
    /// `GOTRUE_SMTP_MAX_FREQUENCY`: the least time between two mails of one kind to one
    /// address (the CLI's `max_frequency = "1s"`); a Go duration.
    pub smtp_max_frequency: Duration,
    /// `GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED`: both addresses confirm an e-mail change
    /// (the CLI's `double_confirm_changes = true`).
    pub secure_email_change: bool,
    /// `GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION`: a password change needs a
    /// mailed nonce (the CLI's `secure_password_change = false`).
    pub secure_password_change: bool,
    /// `GOTRUE_SITE_URL`: where mailed links lead by default; devstack's default is the
    /// project's own API URL, where `--web-dir` serves the app.
    pub site_url: String,
    /// `GOTRUE_URI_ALLOW_LIST`: further `redirect_to` targets (comma-separated globs).
    pub uri_allow_list: Vec<String>,
    /// `[auth.rate_limit]`: `devstack start --auth-rate-limit-*`.
    pub rate_limits: RateLimits,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            password_min_length: 6,
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_reuse_interval: Duration::from_secs(10),
            anonymous_users_enabled: true,
            signup_disabled: false,
            mailer_autoconfirm: true,
            mailer_otp_exp: Duration::from_secs(3600),
            mailer_otp_length: 6,
            smtp_max_frequency: Duration::from_secs(1),
            secure_email_change: true,
            secure_password_change: false,
            site_url: "http://127.0.0.1:3000".to_owned(),
            uri_allow_list: Vec::new(),
            rate_limits: RateLimits::default(),
        }
    }
}

impl AuthSettings {
    /// The settings of one project: its environment, with `--email-confirmations`, the rate
    /// limits and the project's URL (the site URL unless `GOTRUE_SITE_URL` says otherwise).
    pub fn for_project(email_confirmations: bool, rate_limits: RateLimits, api_url: &str) -> Self {
        let mut settings = Self::from_lookup(|name| std::env::var(name).ok());
        settings.rate_limits = rate_limits;
        if email_confirmations {
            settings.mailer_autoconfirm = false;
        }
        if std::env::var_os("GOTRUE_SITE_URL").is_none() {
            api_url.clone_into(&mut settings.site_url);
        }
        settings
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let defaults = Self::default();
        let number = |name: &str, default: u64| -> u64 {
            match lookup(name) {
                None => default,
                Some(v) => v.trim().parse().unwrap_or_else(|_| {
                    tracing::warn!("{name}={v} is not a number; using {default}");
                    default
                }),
            }
        };
        let flag = |name: &str, default: bool| match lookup(name).as_deref().map(str::trim) {
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            _ => default,
        };
        Self {
            password_min_length: number(
                "GOTRUE_PASSWORD_MIN_LENGTH",
                defaults.password_min_length as u64,
            ) as usize,
            access_token_lifetime: Duration::from_secs(number(
                "GOTRUE_JWT_EXP",
                defaults.access_token_lifetime.as_secs(),
            )),
            refresh_token_reuse_interval: Duration::from_secs(number(
                "GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL",
                defaults.refresh_token_reuse_interval.as_secs(),
            )),
            anonymous_users_enabled: flag(
                "GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED",
                defaults.anonymous_users_enabled,
            ),
            signup_disabled: flag("GOTRUE_DISABLE_SIGNUP", defaults.signup_disabled),
            mailer_autoconfirm: flag("GOTRUE_MAILER_AUTOCONFIRM", defaults.mailer_autoconfirm),
            mailer_otp_exp: Duration::from_secs(number(
                "GOTRUE_MAILER_OTP_EXP",
                defaults.mailer_otp_exp.as_secs(),
            )),
            mailer_otp_length: number(
                "GOTRUE_MAILER_OTP_LENGTH",
                defaults.mailer_otp_length as u64,
            )
            .clamp(6, 10) as usize,
            smtp_max_frequency: lookup("GOTRUE_SMTP_MAX_FREQUENCY")
                .and_then(|v| super::validate::go_duration(v.trim()))
                .unwrap_or(defaults.smtp_max_frequency),
            secure_email_change: flag(
                "GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED",
                defaults.secure_email_change,
            ),
            secure_password_change: flag(
                "GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION",
                defaults.secure_password_change,
            ),
            site_url: lookup("GOTRUE_SITE_URL").unwrap_or(defaults.site_url),
            uri_allow_list: lookup("GOTRUE_URI_ALLOW_LIST")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            rate_limits: defaults.rate_limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(AuthSettings::from_lookup(|_| None), AuthSettings::default());
        let s = AuthSettings::from_lookup(|name| match name {
            "GOTRUE_PASSWORD_MIN_LENGTH" => Some("10".into()),
            "GOTRUE_JWT_EXP" => Some("60".into()),
            "GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED" => Some("false".into()),
            "GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL" => Some("oops".into()),
            "GOTRUE_MAILER_AUTOCONFIRM" => Some("false".into()),
            "GOTRUE_SMTP_MAX_FREQUENCY" => Some("1m0s".into()),
            "GOTRUE_URI_ALLOW_LIST" => Some("myapp://callback, https://*.example.com/**".into()),
            _ => None,
        });
        assert!(!s.mailer_autoconfirm);
        assert_eq!(s.smtp_max_frequency, Duration::from_secs(60));
        assert_eq!(
            s.uri_allow_list,
            ["myapp://callback", "https://*.example.com/**"]
        );
        assert_eq!(s.password_min_length, 10);
        assert_eq!(s.access_token_lifetime, Duration::from_secs(60));
        assert!(!s.anonymous_users_enabled);
        assert_eq!(s.refresh_token_reuse_interval, Duration::from_secs(10));
    }
}
