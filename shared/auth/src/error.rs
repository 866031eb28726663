//! Why a credential was refused, each with a stable machine code.

use thiserror::Error;

/// Why a request's credentials were refused.
///
/// Every variant maps to one stable machine code ([`AuthError::code`]) that clients may match on,
/// and to an HTTP status ([`AuthError::status`]): 401 for everything the caller can fix by
/// signing in again, 503 for [`AuthError::KeysUnavailable`], which is the server's problem.
/// The `Display` text is safe to show to the caller: it never contains the token or key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header was sent.
    #[error("missing Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("Authorization header must be 'Bearer <access token>'")]
    NotBearer,
    /// The token is not a well-formed JWS compact serialization (three base64url parts,
    /// JSON header).
    #[error("access token is malformed")]
    Malformed,
    /// The header's `alg` is not on the allow-list (this includes `none`), or no key is
    /// configured for it.
    #[error("access token algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// An ES256/RS256 token carries no `kid`, so no JWKS key can be chosen.
    #[error("access token has no key id")]
    MissingKeyId,
    /// The `kid` is not in the project's JWKS, even after refetching it.
    #[error("access token was signed with an unknown key")]
    UnknownKeyId,
    /// The `kid` names a key of another type than the header's `alg` (e.g. `RS256` with an EC
    /// key), which would be an algorithm-confusion attempt.
    #[error("access token algorithm does not match its key")]
    KeyAlgorithmMismatch,
    /// The signature does not verify (forged, altered, or signed with another key).
    #[error("access token signature is invalid")]
    BadSignature,
    /// The token has no `exp` claim.
    #[error("access token has no expiry")]
    MissingExpiry,
    /// `exp` (plus leeway) is in the past.
    #[error("access token has expired")]
    Expired,
    /// `nbf` or `iat` (minus leeway) is in the future.
    #[error("access token is not valid yet")]
    NotYetValid,
    /// `aud` does not include the expected audience (`authenticated`).
    #[error("access token audience is not accepted")]
    WrongAudience,
    /// `iss` differs from the configured issuer.
    #[error("access token issuer is not accepted")]
    WrongIssuer,
    /// `role` is not `authenticated` (or is missing). Supabase Auth gives every user session,
    /// anonymous ones included, the role `authenticated`; a token with `service_role` or `anon`
    /// signed with the project's key is not a user, and forwarded to PostgREST it would switch
    /// to that role (`service_role` bypasses row-level security).
    #[error("access token role is not accepted; a user session has role 'authenticated'")]
    WrongRole,
    /// `sub` is missing or is not a UUID (API keys, for instance, have no `sub`).
    #[error("access token subject is not a user id")]
    BadSubject,
    /// A claim has the wrong JSON type (e.g. `"role": 5`).
    #[error("access token claims are malformed")]
    MalformedClaims,
    /// The JWKS could not be fetched or parsed and no cached copy exists. Answered with 503:
    /// the caller's token may be fine.
    #[error("authentication keys are unavailable; try again later")]
    KeysUnavailable,
}

impl AuthError {
    /// Stable machine-readable code, e.g. `token_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthorization => "missing_authorization",
            Self::NotBearer => "not_bearer",
            Self::Malformed => "token_malformed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::MissingKeyId => "missing_key_id",
            Self::UnknownKeyId => "unknown_key_id",
            Self::KeyAlgorithmMismatch => "key_algorithm_mismatch",
            Self::BadSignature => "bad_signature",
            Self::MissingExpiry => "missing_expiry",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongRole => "wrong_role",
            Self::BadSubject => "bad_subject",
            Self::MalformedClaims => "malformed_claims",
            Self::KeysUnavailable => "auth_keys_unavailable",
        }
    }

    /// HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::KeysUnavailable => 503,
            _ => 401,
        }
    }
}

/// A [`crate::VerifierConfig`] that cannot be used safely.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The HS256 secret is shorter than 32 bytes (Supabase's own minimum).
    #[error("JWT secret must be at least 32 bytes long")]
    WeakSecret,
    /// The allow-list holds no algorithm that has a key source.
    #[error("no usable JWT algorithm is allowed")]
    NoAlgorithm,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let all = [
            AuthError::MissingAuthorization,
            AuthError::NotBearer,
            AuthError::Malformed,
            AuthError::UnsupportedAlgorithm,
            AuthError::MissingKeyId,
            AuthError::UnknownKeyId,
            AuthError::KeyAlgorithmMismatch,
            AuthError::BadSignature,
            AuthError::MissingExpiry,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::WrongAudience,
            AuthError::WrongIssuer,
            AuthError::WrongRole,
            AuthError::BadSubject,
            AuthError::MalformedClaims,
            AuthError::KeysUnavailable,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(AuthError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            all.iter()
                .all(|e| e.status() == 401 || e.code() == "auth_keys_unavailable")
        );
    }
}
