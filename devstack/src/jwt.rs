//! The project's JWT keys, signed and checked the way Supabase Auth and PostgREST do: the legacy
//! HS256 secret (API keys, and every token of a `--legacy-jwt` project) plus, by default, an
//! asymmetric key set in GoTrue's format ([`crate::signing_keys`]). [`JwtKeys::verify`] is the one
//! verification entry point for everything that accepts a bearer token (`/rest/v1`, `/auth/v1`,
//! Realtime).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

use crate::signing_keys::{KeySet, SigningKey};

/// Why a bearer token was refused (PostgREST's wording).
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
    /// An asymmetric token whose `kid` is not in the key set (never added, or revoked).
    #[error("No suitable key or wrong key type")]
    UnknownKey,
}

/// Signs and verifies a project's tokens. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct JwtKeys {
    secret_encoding: EncodingKey,
    secret_decoding: DecodingKey,
    asymmetric: Option<Arc<LiveKeySet>>,
}

impl JwtKeys {
    /// HS256 only: the legacy secret signs and verifies everything.
    pub fn legacy(secret: &[u8]) -> Self {
        Self {
            secret_encoding: EncodingKey::from_secret(secret),
            secret_decoding: DecodingKey::from_secret(secret),
            asymmetric: None,
        }
    }

    /// The legacy secret plus the key file at `path`, re-read whenever it changes on disk
    /// (`devstack keys …` edits it while the stack runs).
    pub fn with_key_file(secret: &[u8], path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            asymmetric: Some(Arc::new(LiveKeySet::load(path)?)),
            ..Self::legacy(secret)
        })
    }

    /// The key set, if the project has one (its state now).
    pub fn key_set(&self) -> Option<Arc<KeySet>> {
        self.asymmetric.as_ref().map(|live| live.current())
    }

    /// Signs with the legacy secret (HS256, no `kid`): the `anon`/`service_role` API keys, which
    /// the Supabase CLI keeps HS256.
    pub fn sign_with_secret(&self, claims: &Value) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.secret_encoding,
        )?)
    }

    /// Signs an access token as GoTrue does: with the current signing key and its `kid`, or
    /// HS256 with the secret when the project has no key set.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let Some(set) = self.key_set() else {
            return self.sign_with_secret(claims);
        };
        let key = set.current();
        let mut header = Header::new(key.alg.jwt_algorithm());
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
    }

    /// Checks signature and `exp` (no leeway, as PostgREST) and returns the claims. HS256 tokens
    /// verify with the legacy secret; ES256/RS256 tokens with the key their `kid` names, which
    /// must be in the set (current, standby or previously used) and of that algorithm. `aud` is
    /// not checked here: PostgREST leaves it alone unless configured.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let parts = token.split('.').count();
        if parts != 3 {
            return Err(JwtError::Malformed(parts));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Undecodable)?;
        match header.alg {
            Algorithm::HS256 => decode(token, Algorithm::HS256, &self.secret_decoding),
            Algorithm::ES256 | Algorithm::RS256 => {
                let set = self.key_set().ok_or(JwtError::WrongAlgorithm)?;
                let key = find_key(&set, header.kid.as_deref(), header.alg)?;
                decode(token, header.alg, &key.decoding)
            }
            _ => Err(JwtError::WrongAlgorithm),
        }
    }
}

/// The key a token names; a token without `kid` is tried against the one key of its algorithm
/// that signs now (what a single-key JWKS gives PostgREST).
fn find_key<'a>(
    set: &'a KeySet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<&'a SigningKey, JwtError> {
    let key = match kid {
        Some(kid) => set.get(kid),
        None => Some(set.current()),
    };
    key.filter(|k| k.alg.jwt_algorithm() == alg)
        .ok_or(JwtError::UnknownKey)
}

fn decode(token: &str, alg: Algorithm, key: &DecodingKey) -> Result<Value, JwtError> {
    let mut validation = Validation::new(alg);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.validate_exp = true;
    jsonwebtoken::decode::<Value>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwtError::WrongAlgorithm,
            _ => JwtError::Undecodable,
        })
}

/// A key file and its parsed content, parsed again whenever the file's bytes change (a small
/// file read per use: modification times are too coarse to catch two quick edits). A file that
/// fails to parse (e.g. edited by hand) is logged and the last good set stays in use.
struct LiveKeySet {
    path: PathBuf,
    loaded: RwLock<(Vec<u8>, Arc<KeySet>)>,
}

impl LiveKeySet {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading signing keys {}", path.display()))?;
        let set = parse(path, &bytes)?;
        Ok(Self {
            path: path.to_owned(),
            loaded: RwLock::new((bytes, Arc::new(set))),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        {
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if loaded.0 == bytes {
                return loaded.1.clone();
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        match parse(&self.path, &bytes) {
            Ok(set) => {
                tracing::info!(path = %self.path.display(), "signing keys reloaded");
                *loaded = (bytes, Arc::new(set));
            }
            Err(e) => {
                tracing::warn!("keeping the previous signing keys: {e:#}");
                loaded.0 = bytes;
            }
        }
        loaded.1.clone()
    }
}

fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<KeySet> {
    KeySet::parse(&String::from_utf8_lossy(bytes))
        .with_context(|| format!("signing keys {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_keys::{KeyAlgorithm, KeyFile};
    use serde_json::json;

    const SECRET: &[u8] = b"a-secret-of-at-least-thirty-two-bytes!!";

    fn key_file() -> (PathBuf, KeyFile) {
        let path = std::env::temp_dir().join(format!("jwt-keys-{}.json", uuid::Uuid::new_v4()));
        let file = KeyFile::create(&path, KeyAlgorithm::Es256).unwrap();
        (path, file)
    }

    fn exp() -> i64 {
        chrono::Utc::now().timestamp() + 60
    }

    #[test]
    fn legacy_round_trip_and_refusals() {
        let keys = JwtKeys::legacy(SECRET);
        let token = keys.sign(&json!({"sub": "x", "exp": exp()})).unwrap();
        assert_eq!(keys.verify(&token).unwrap()["sub"], "x");

        let expired = keys.sign(&json!({"sub": "x", "exp": exp() - 120})).unwrap();
        assert_eq!(keys.verify(&expired), Err(JwtError::Expired));

        let other = JwtKeys::legacy(b"another-secret-of-at-least-32-bytes!!!");
        assert_eq!(other.verify(&token), Err(JwtError::BadSignature));

        assert_eq!(keys.verify("abc"), Err(JwtError::Malformed(1)));
        assert_eq!(keys.verify("a.b.c"), Err(JwtError::Undecodable));
    }

    #[test]
    fn asymmetric_tokens_carry_kid_and_the_legacy_secret_still_verifies() {
        let (path, _) = key_file();
        let keys = JwtKeys::with_key_file(SECRET, &path).unwrap();
        let token = keys.sign(&json!({"sub": "x", "exp": exp()})).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(
            header.kid.as_deref(),
            Some(keys.key_set().unwrap().current().kid.as_str())
        );
        assert_eq!(keys.verify(&token).unwrap()["sub"], "x");
        let legacy = keys
            .sign_with_secret(&json!({"role": "anon", "exp": exp()}))
            .unwrap();
        assert_eq!(keys.verify(&legacy).unwrap()["role"], "anon");
        // An HS256-only project refuses asymmetric tokens.
        assert_eq!(
            JwtKeys::legacy(SECRET).verify(&token),
            Err(JwtError::WrongAlgorithm)
        );
    }

    #[test]
    fn a_known_kid_signed_by_another_key_is_refused() {
        let (path, _) = key_file();
        let keys = JwtKeys::with_key_file(SECRET, &path).unwrap();
        let (other_path, _) = key_file();
        let other = JwtKeys::with_key_file(SECRET, &other_path).unwrap();
        let other_key = other.key_set().unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(keys.key_set().unwrap().current().kid.clone());
        let forged = jsonwebtoken::encode(
            &header,
            &json!({"role": "service_role", "exp": exp()}),
            &other_key.current().encoding,
        )
        .unwrap();
        assert_eq!(keys.verify(&forged), Err(JwtError::BadSignature));
        let unknown = other.sign(&json!({"exp": exp()})).unwrap();
        assert_eq!(keys.verify(&unknown), Err(JwtError::UnknownKey));
    }

    #[test]
    fn rotation_and_revocation_apply_while_running() {
        let (path, mut file) = key_file();
        let keys = JwtKeys::with_key_file(SECRET, &path).unwrap();
        let old = keys.sign(&json!({"exp": exp()})).unwrap();
        file.add(KeyAlgorithm::Es256).unwrap();
        let new_kid = file.rotate(None).unwrap();
        let new = keys.sign(&json!({"exp": exp()})).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&new).unwrap().kid,
            Some(new_kid)
        );
        assert!(keys.verify(&old).is_ok(), "the previous key still verifies");
        let old_kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
        file.revoke(&old_kid).unwrap();
        assert_eq!(keys.verify(&old), Err(JwtError::UnknownKey));
        assert!(keys.verify(&new).is_ok());
    }
}
