//! The claims of a Supabase access token as they arrive, before they are checked.
//!
//! Every field is optional or lax here so that a missing or odd value turns into the precise
//! [`crate::AuthError`] variant in the verifier, not into a generic deserialization error.

use serde::Deserialize;
use serde_json::{Map, Value};

/// `aud` may be one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn contains(&self, expected: &str) -> bool {
        match self {
            Self::One(aud) => aud == expected,
            Self::Many(auds) => auds.iter().any(|aud| aud == expected),
        }
    }
}

/// The custom (non-time) claims Supabase Auth puts into access tokens. `exp`, `nbf` and `iat`
/// are parsed by jwt-compact's `Claims` around this struct.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SupabaseClaims {
    pub(crate) sub: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) iss: Option<String>,
    pub(crate) role: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    #[serde(default)]
    pub(crate) is_anonymous: bool,
    pub(crate) session_id: Option<String>,
    pub(crate) aal: Option<String>,
    #[serde(default)]
    pub(crate) app_metadata: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_string_or_array() {
        let one: Audience = serde_json::from_str(r#""authenticated""#).unwrap();
        assert!(one.contains("authenticated"));
        let many: Audience = serde_json::from_str(r#"["x","authenticated"]"#).unwrap();
        assert!(many.contains("authenticated"));
        let other: Audience = serde_json::from_str(r#"["x"]"#).unwrap();
        assert!(!other.contains("authenticated"));
    }

    #[test]
    fn lax_about_absent_fields() {
        let claims: SupabaseClaims = serde_json::from_str("{}").unwrap();
        assert!(claims.sub.is_none() && !claims.is_anonymous && claims.app_metadata.is_empty());
    }
}
