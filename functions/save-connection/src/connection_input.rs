//! The body of `POST /save-connection`, checked before anything is sealed or written.

use edge_auth::{ApiKeyFormat, api_key_format};
use edge_http::ApiError;
use edge_tenant::{KeyRole, TenantUrl};
use serde::Deserialize;

/// Keys longer than this are not Supabase keys (legacy JWT keys are ~220 characters).
const MAX_KEY_LEN: usize = 2048;
/// How much of a key a hint shows.
const HINT_CHARS: usize = 6;

/// What the client sends. Unknown fields are refused, so a typo (`allowWrites`) is a 400,
/// not a silently ignored setting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionInput {
    pub name: String,
    pub url: String,
    pub anon_key: String,
    pub service_role_key: String,
    pub allow_writes: Option<bool>,
}

/// A validated connection, ready to seal and store.
#[derive(Debug)]
pub struct ValidConnection {
    pub name: String,
    pub url: TenantUrl,
    pub anon_key: String,
    pub service_role_key: String,
    pub allow_writes: Option<bool>,
}

impl ConnectionInput {
    pub fn validate(self, allow_loopback_http: bool) -> Result<ValidConnection, ApiError> {
        validate_name(&self.name)?;
        let url = TenantUrl::parse(&self.url, allow_loopback_http)
            .map_err(|e| ApiError::bad_request("invalid_url", e.message()))?;
        check_key(&self.anon_key, KeyRole::Anon)?;
        check_key(&self.service_role_key, KeyRole::ServiceRole)?;
        Ok(ValidConnection {
            name: self.name,
            url,
            anon_key: self.anon_key,
            service_role_key: self.service_role_key,
            allow_writes: self.allow_writes,
        })
    }
}

/// Connection names appear in tenant-proxy URLs: 1–63 of `[A-Za-z0-9_-]`, starting with a
/// letter or digit (the same rule as the table's check constraint).
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_name",
            "name must be 1-63 characters of letters, digits, '_' or '-', starting with a letter or digit",
        ))
    }
}

fn check_key(key: &str, role: KeyRole) -> Result<(), ApiError> {
    let field = role.field();
    if key.len() > MAX_KEY_LEN {
        return Err(ApiError::bad_request(
            "invalid_key",
            format!("{field} is too long to be a Supabase key"),
        ));
    }
    let fits = match (api_key_format(key), role) {
        (Some(ApiKeyFormat::Publishable), KeyRole::Anon)
        | (Some(ApiKeyFormat::Secret), KeyRole::ServiceRole) => true,
        (
            Some(ApiKeyFormat::LegacyJwt {
                role: Some(claimed),
            }),
            KeyRole::Anon,
        ) => claimed == "anon",
        (
            Some(ApiKeyFormat::LegacyJwt {
                role: Some(claimed),
            }),
            KeyRole::ServiceRole,
        ) => claimed == "service_role",
        _ => false,
    };
    if fits {
        return Ok(());
    }
    let expected = match role {
        KeyRole::Anon => {
            "the project's anon key (a JWT with role \"anon\") or an sb_publishable_ key"
        }
        KeyRole::ServiceRole => {
            "the project's service_role key (a JWT with role \"service_role\") or an sb_secret_ key"
        }
    };
    Err(ApiError::bad_request(
        "invalid_key",
        format!("{field} must be {expected}"),
    ))
}

/// The first characters of a key, enough for a person to tell keys apart.
pub fn key_hint(key: &str) -> String {
    key.chars().take(HINT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(role: &str) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(&format!(r#"{{"role":"{role}"}}"#))
        )
    }

    fn input(name: &str, url: &str, anon: &str, service: &str) -> ConnectionInput {
        ConnectionInput {
            name: name.into(),
            url: url.into(),
            anon_key: anon.into(),
            service_role_key: service.into(),
            allow_writes: None,
        }
    }

    #[test]
    fn both_key_formats_are_accepted() {
        let legacy = input(
            "prod",
            "https://abc.supabase.co",
            &jwt("anon"),
            &jwt("service_role"),
        );
        assert!(legacy.validate(false).is_ok());
        let opaque = input(
            "prod",
            "https://abc.supabase.co",
            "sb_publishable_abc123",
            "sb_secret_xyz789",
        );
        assert!(opaque.validate(false).is_ok());
    }

    #[test]
    fn swapped_or_implausible_keys_are_refused() {
        let cases = [
            (jwt("service_role"), jwt("service_role")),
            (jwt("anon"), jwt("anon")),
            ("sb_secret_abc".to_owned(), "sb_secret_abc".to_owned()),
            (
                "sb_publishable_abc".to_owned(),
                "sb_publishable_abc".to_owned(),
            ),
            ("hello".to_owned(), "sb_secret_abc".to_owned()),
            (
                "sb_publishable_abc".to_owned(),
                format!("sb_secret_{}", "a".repeat(3000)),
            ),
        ];
        for (anon, service) in cases {
            let err = input("prod", "https://abc.supabase.co", &anon, &service)
                .validate(false)
                .unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(err.code(), "invalid_key");
        }
    }

    #[test]
    fn names_follow_the_url_safe_rule() {
        for good in ["a", "prod", "my_project-2", &"x".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-lead",
            "_lead",
            "has space",
            "dot.name",
            "slash/name",
            "ünï",
            &"x".repeat(64),
        ] {
            assert_eq!(
                validate_name(bad).unwrap_err().code(),
                "invalid_name",
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_urls_are_400_with_the_reason() {
        let err = input("p", "http://example.com", "sb_publishable_a", "sb_secret_b")
            .validate(false)
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_url"));
        assert_eq!(err.message(), "url must use https");
    }

    #[test]
    fn hints_show_six_characters_at_most() {
        assert_eq!(key_hint("sb_secret_abcdef"), "sb_sec");
        assert_eq!(key_hint("abc"), "abc");
    }
}
