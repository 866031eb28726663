//! The knobs of Supabase Auth that devstack honours, read from GoTrue's own environment
//! variable names so a developer who knows GoTrue knows these.

use std::time::Duration;

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
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            password_min_length: 6,
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_reuse_interval: Duration::from_secs(10),
            anonymous_users_enabled: true,
            signup_disabled: false,
        }
    }
}

impl AuthSettings {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
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
            _ => None,
        });
        assert_eq!(s.password_min_length, 10);
        assert_eq!(s.access_token_lifetime, Duration::from_secs(60));
        assert!(!s.anonymous_users_enabled);
        assert_eq!(s.refresh_token_reuse_interval, Duration::from_secs(10));
    }
}
