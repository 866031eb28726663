//! Supabase API keys: telling their formats apart and recognising the project's own keys.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::constant_time_eq;

const PUBLISHABLE_PREFIX: &str = "sb_publishable_";
const SECRET_PREFIX: &str = "sb_secret_";

/// What a project API key lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyKind {
    /// Safe to ship in apps: `sb_publishable_…` or the legacy `anon` JWT.
    Publishable,
    /// Server-only, bypasses RLS: `sb_secret_…` or the legacy `service_role` JWT.
    Secret,
}

/// The shape of a Supabase API key, judged from its text alone (no signature check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyFormat {
    /// A legacy JWT key; `role` is its unverified `role` claim (`anon`, `service_role`, …).
    LegacyJwt {
        /// The `role` claim, if the payload has one.
        role: Option<String>,
    },
    /// `sb_publishable_…`
    Publishable,
    /// `sb_secret_…`
    Secret,
}

/// Tells which Supabase key format `key` has, or `None` if it is neither kind.
///
/// Used to validate keys a user hands over (e.g. a tenant project's keys): an opaque key is the
/// prefix plus at least one character of `[A-Za-z0-9_-]`; a legacy key is a three-part JWT whose
/// header is a JSON object with an `alg`.
pub fn api_key_format(key: &str) -> Option<ApiKeyFormat> {
    let opaque_body_ok = |body: &str| {
        !body.is_empty()
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if let Some(body) = key.strip_prefix(PUBLISHABLE_PREFIX) {
        return opaque_body_ok(body).then_some(ApiKeyFormat::Publishable);
    }
    if let Some(body) = key.strip_prefix(SECRET_PREFIX) {
        return opaque_body_ok(body).then_some(ApiKeyFormat::Secret);
    }
    let mut parts = key.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err()
    {
        return None;
    }
    let header = decode_json_object(header)?;
    header.get("alg")?.as_str()?;
    let payload = decode_json_object(payload)?;
    let role = payload
        .get("role")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(ApiKeyFormat::LegacyJwt { role })
}

fn decode_json_object(part: &str) -> Option<serde_json::Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The API keys of this project (from Worker secrets), to recognise an `apikey` header.
///
/// Legacy `anon`/`service_role` JWT keys and new opaque keys can be configured side by side,
/// as a project has both during migration. Comparison is constant-time and always walks every
/// configured key, so timing tells nothing about which key was close.
#[derive(Clone, Default)]
pub struct ProjectApiKeys {
    keys: Vec<(ApiKeyKind, String)>,
}

impl std::fmt::Debug for ProjectApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectApiKeys")
            .field("count", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl ProjectApiKeys {
    /// No keys: every key is unrecognised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key that may be used in public clients (`sb_publishable_…` or the legacy anon key).
    /// Empty strings (unset secrets) are ignored.
    pub fn with_publishable(self, key: impl Into<String>) -> Self {
        self.with(ApiKeyKind::Publishable, key.into())
    }

    /// Adds a server-only key (`sb_secret_…` or the legacy service_role key). Empty strings are
    /// ignored.
    pub fn with_secret(self, key: impl Into<String>) -> Self {
        self.with(ApiKeyKind::Secret, key.into())
    }

    fn with(mut self, kind: ApiKeyKind, key: String) -> Self {
        if !key.is_empty() {
            self.keys.push((kind, key));
        }
        self
    }

    /// Which kind of project key `presented` is, or `None` if it is not one of them.
    pub fn classify(&self, presented: &str) -> Option<ApiKeyKind> {
        let mut found = None;
        for (kind, key) in &self.keys {
            if constant_time_eq(key.as_bytes(), presented.as_bytes()) && found.is_none() {
                found = Some(*kind);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGACY_ANON: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

    #[test]
    fn detects_formats() {
        assert_eq!(
            api_key_format(LEGACY_ANON),
            Some(ApiKeyFormat::LegacyJwt {
                role: Some("anon".into())
            })
        );
        assert_eq!(
            api_key_format("sb_publishable_abc-DEF_123"),
            Some(ApiKeyFormat::Publishable)
        );
        assert_eq!(
            api_key_format("sb_secret_abc123"),
            Some(ApiKeyFormat::Secret)
        );
        for bad in [
            "",
            "sb_publishable_",
            "sb_secret_",
            "sb_secret_has space",
            "sb_other_abc",
            "a.b",
            "a.b.c.d",
            "e30.e30.",
            "bm90anNvbg.e30.c2ln",
            "e30.e30.c2ln",
        ] {
            assert_eq!(api_key_format(bad), None, "{bad}");
        }
    }

    #[test]
    fn classifies_project_keys() {
        let keys = ProjectApiKeys::new()
            .with_publishable(LEGACY_ANON)
            .with_publishable("sb_publishable_pub")
            .with_secret("sb_secret_sec")
            .with_secret("");
        assert_eq!(keys.classify(LEGACY_ANON), Some(ApiKeyKind::Publishable));
        assert_eq!(
            keys.classify("sb_publishable_pub"),
            Some(ApiKeyKind::Publishable)
        );
        assert_eq!(keys.classify("sb_secret_sec"), Some(ApiKeyKind::Secret));
        assert_eq!(keys.classify("sb_secret_se"), None);
        assert_eq!(keys.classify(""), None);
        assert!(!format!("{keys:?}").contains("sb_secret_sec"));
    }
}
