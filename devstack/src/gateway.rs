//! What Supabase's API gateway does before a request reaches PostgREST or Auth: require a
//! project API key, and turn the request's credentials into the JWT claims that pick its role.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::config::ProjectConfig;
use crate::jwt::{JwtError, JwtSigner};

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
/// the `apikey` header must be one of the project's keys; the `Authorization` bearer, if any,
/// decides the role (a user's access token → its own `role` claim); without one the key does.
pub fn authenticate(
    headers: &HeaderMap,
    project: &ProjectConfig,
    signer: &JwtSigner,
) -> Result<RequestAuth, GatewayError> {
    let apikey = header_str(headers, "apikey");
    let bearer = header_str(headers, "authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
    });
    let key = match (apikey, bearer) {
        (Some(key), _) => key,
        // supabase-js always sends apikey; a bare project key as bearer is accepted too.
        (None, Some(token)) if is_project_key(token, project) => token,
        (None, _) => return Err(GatewayError::MissingApiKey),
    };
    if !is_project_key(key, project) {
        return Err(GatewayError::InvalidApiKey);
    }
    let token = match bearer {
        Some(token) if !token.is_empty() => token,
        _ => key,
    };
    credentials_for_token(token, project, signer)
}

/// Claims for one credential: an opaque project key maps to its role; a JWT is verified.
pub fn credentials_for_token(
    token: &str,
    project: &ProjectConfig,
    signer: &JwtSigner,
) -> Result<RequestAuth, GatewayError> {
    if token == project.publishable_key {
        return Ok(RequestAuth {
            claims: json!({"role": "anon"}),
        });
    }
    if token == project.secret_key {
        return Ok(RequestAuth {
            claims: json!({"role": "service_role"}),
        });
    }
    let claims = signer.verify(token)?;
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

    fn project() -> (ProjectConfig, JwtSigner) {
        let dir = std::env::temp_dir().join(format!("devstack-gw-{}", uuid::Uuid::new_v4()));
        let config = ProjectConfig::load_or_create(&dir, "test", 1, "db").unwrap();
        let signer = JwtSigner::new(config.jwt_secret.as_bytes());
        (config, signer)
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
        let forged = JwtSigner::new(b"not-the-project-secret-not-the-project")
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
}
