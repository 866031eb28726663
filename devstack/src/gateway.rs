//! What Supabase's API gateway does before a request reaches PostgREST or Auth: require a
//! project API key, and turn the request's credentials into the JWT claims that pick its role.

use axum::http::HeaderMap;
use serde_json::Value;

use crate::config::ProjectConfig;
use crate::jwt::{JwtError, JwtKeys};

/// The credentials a request carries, once checked.
#[derive(Debug, Clone)]
pub struct RequestAuth {
    /// The claims PostgREST puts in `request.jwt.claims`.
    pub claims: Value,
}

impl RequestAuth {
    /// The database role the claims select (`anon` when they name none).
    pub fn role(&self) -> &str {
        self.claims
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("anon")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GatewayError {
    /// No `apikey` header and no bearer token: the gateway refuses before any service sees it.
    #[error("No API key found in request")]
    MissingApiKey,
    #[error("Invalid API key")]
    InvalidApiKey,
    /// The bearer token is a JWT that failed verification.
    #[error("{0}")]
    BadJwt(#[from] JwtError),
}

/// Resolves a request's role the way the Supabase gateway and PostgREST do together:
/// the `apikey` header must be one of the project's keys; then the credential that
/// [`effective_token`] picks decides the role (a user's access token → its own `role` claim).
pub fn authenticate(
    headers: &HeaderMap,
    project: &ProjectConfig,
    keys: &JwtKeys,
) -> Result<RequestAuth, GatewayError> {
    let key = match (header_str(headers, "apikey"), bearer(headers)) {
        (Some(key), _) => key,
        // supabase-js always sends apikey; a bare project key as bearer is accepted too.
        (None, Some(token)) if is_project_key(token, project) => token,
        (None, _) => return Err(GatewayError::MissingApiKey),
    };
    if !is_project_key(key, project) {
        return Err(GatewayError::InvalidApiKey);
    }
    credentials_for_token(effective_token(headers).unwrap_or(key), project, keys)
}

/// The credential a request stands for, by the Supabase CLI gateway's rule: `Authorization`
/// passes through unless it is absent or `Bearer sb_…` (an opaque key is not a JWT); then the
/// `apikey` header stands in (and [`credentials_for_token`] maps an opaque key to its role).
pub fn effective_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers)
        .filter(|token| !token.starts_with("sb_"))
        .or_else(|| header_str(headers, "apikey"))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, "authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    })
}

/// Claims for one credential. An opaque project key stands for the legacy JWT key of its role,
/// as the CLI's gateway swaps `sb_secret_…` for the `service_role` key and `sb_publishable_…`
/// for the `anon` key; a JWT is verified with the project's keys.
pub fn credentials_for_token(
    token: &str,
    project: &ProjectConfig,
    keys: &JwtKeys,
) -> Result<RequestAuth, GatewayError> {
    let token = if token == project.secret_key {
        project.service_role_key.as_str()
    } else if token == project.publishable_key {
        project.anon_key.as_str()
    } else {
        token
    };
    let claims = keys.verify(token)?;
    Ok(RequestAuth { claims })
}

pub fn is_project_key(key: &str, project: &ProjectConfig) -> bool {
    [
        &project.anon_key,
        &project.service_role_key,
        &project.publishable_key,
        &project.secret_key,
    ]
    .iter()
    .any(|k| k.as_str() == key)
}

pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn project() -> (ProjectConfig, JwtKeys) {
        let dir = std::env::temp_dir().join(format!("devstack-gw-{}", uuid::Uuid::new_v4()));
        let choice = crate::config::SigningKeysChoice::Generated;
        let config = ProjectConfig::load_or_create(&dir, "test", 1, "db", &choice).unwrap();
        let keys = config.jwt_keys().unwrap();
        (config, keys)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn keys_pick_roles() {
        let (p, s) = project();
        let anon = authenticate(&headers(&[("apikey", &p.anon_key)]), &p, &s).unwrap();
        assert_eq!(anon.role(), "anon");
        let service = authenticate(&headers(&[("apikey", &p.service_role_key)]), &p, &s).unwrap();
        assert_eq!(service.role(), "service_role");
        let secret = authenticate(&headers(&[("apikey", &p.secret_key)]), &p, &s).unwrap();
        assert_eq!(secret.role(), "service_role");
        let publishable =
            authenticate(&headers(&[("apikey", &p.publishable_key)]), &p, &s).unwrap();
        assert_eq!(publishable.role(), "anon");
    }

    #[test]
    fn bearer_decides_role_and_bad_keys_fail() {
        let (p, s) = project();
        let user = s
            .sign(&json!({"sub": "u", "role": "authenticated", "exp": 4_000_000_000u64}))
            .unwrap();
        let auth = authenticate(
            &headers(&[
                ("apikey", &p.anon_key),
                ("authorization", &format!("Bearer {user}")),
            ]),
            &p,
            &s,
        )
        .unwrap();
        assert_eq!(auth.role(), "authenticated");
        assert_eq!(
            authenticate(&headers(&[]), &p, &s).unwrap_err(),
            GatewayError::MissingApiKey
        );
        assert_eq!(
            authenticate(&headers(&[("apikey", "nope")]), &p, &s).unwrap_err(),
            GatewayError::InvalidApiKey
        );
        let forged = JwtKeys::legacy(b"not-the-project-secret-not-the-project")
            .sign(&json!({"role": "service_role"}))
            .unwrap();
        let err = authenticate(
            &headers(&[
                ("apikey", &p.anon_key),
                ("authorization", &format!("Bearer {forged}")),
            ]),
            &p,
            &s,
        )
        .unwrap_err();
        assert_eq!(err, GatewayError::BadJwt(JwtError::BadSignature));
    }

    #[test]
    fn an_opaque_bearer_gives_way_to_the_apikey() {
        let (p, s) = project();
        let auth = authenticate(
            &headers(&[
                ("apikey", &p.secret_key),
                ("authorization", &format!("Bearer {}", p.publishable_key)),
            ]),
            &p,
            &s,
        )
        .unwrap();
        assert_eq!(
            auth.role(),
            "service_role",
            "the apikey decides, as the CLI's gateway"
        );
        assert_eq!(
            auth.claims["ref"], "test",
            "the claims of the legacy service_role key"
        );
        let legacy_bearer = s
            .sign_with_secret(&json!({"role": "authenticated", "exp": 4_000_000_000u64}))
            .unwrap();
        let auth = authenticate(
            &headers(&[
                ("apikey", &p.secret_key),
                ("authorization", &format!("Bearer {legacy_bearer}")),
            ]),
            &p,
            &s,
        )
        .unwrap();
        assert_eq!(auth.role(), "authenticated", "a JWT bearer passes through");
    }
}
