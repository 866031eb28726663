//! HS256 tokens signed and checked the way Supabase Auth and PostgREST do with a project secret.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("JWT expired")]
    Expired,
    #[error("JWT cryptographic operation failed")]
    BadSignature,
    #[error("Expected 3 parts in JWT; got {0}")]
    Malformed(usize),
    #[error("JWT could not be decoded")]
    Undecodable,
    #[error("JWT algorithm is not allowed")]
    WrongAlgorithm,
}

/// Signs and verifies a project's HS256 tokens.
#[derive(Clone)]
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Checks signature and `exp` (no leeway, as PostgREST) and returns the claims.
    /// `aud` is not checked here: PostgREST leaves it alone unless configured.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let parts = token.split('.').count();
        if parts != 3 {
            return Err(JwtError::Malformed(parts));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        jsonwebtoken::decode::<Value>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtError::BadSignature,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwtError::WrongAlgorithm,
                _ => JwtError::Undecodable,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_refusals() {
        let signer = JwtSigner::new(b"a-secret-of-at-least-thirty-two-bytes!!");
        let now = chrono::Utc::now().timestamp();
        let token = signer.sign(&json!({"sub": "x", "exp": now + 60})).unwrap();
        assert_eq!(signer.verify(&token).unwrap()["sub"], "x");

        let expired = signer.sign(&json!({"sub": "x", "exp": now - 1})).unwrap();
        assert_eq!(signer.verify(&expired), Err(JwtError::Expired));

        let other = JwtSigner::new(b"another-secret-of-at-least-32-bytes!!!");
        assert_eq!(other.verify(&token), Err(JwtError::BadSignature));

        assert_eq!(signer.verify("abc"), Err(JwtError::Malformed(1)));
        assert_eq!(signer.verify("a.b.c"), Err(JwtError::Undecodable));
    }
}
