//! Parsing a project's JSON Web Key Set (`/auth/v1/.well-known/jwks.json`) into verifying keys.

use std::collections::HashMap;
#[cfg(feature = "rsa")]
use std::sync::Arc;

use jwt_compact::jwk::JsonWebKey;
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::JwtAlgorithm;
use crate::es256::{self, Es256Key};

/// RSA moduli below this many bits are refused (RFC 7518 §3.3).
#[cfg(feature = "rsa")]
const MIN_RSA_BITS: usize = 2048;

/// A public key from the JWKS, already bound to the one algorithm it may verify.
#[derive(Debug, Clone)]
pub(crate) enum VerifyingKey {
    Es256(Es256Key),
    /// A key the flow's driver holds (see [`KeyBackend::Driven`]).
    #[cfg(feature = "driven")]
    DrivenEs256(es256::driven::Es256Key),
    #[cfg(feature = "rsa")]
    Rs256(Arc<rsa::RsaPublicKey>),
}

impl VerifyingKey {
    pub(crate) fn algorithm(&self) -> JwtAlgorithm {
        match self {
            Self::Es256(_) => JwtAlgorithm::Es256,
            #[cfg(feature = "driven")]
            Self::DrivenEs256(_) => JwtAlgorithm::Es256,
            #[cfg(feature = "rsa")]
            Self::Rs256(_) => JwtAlgorithm::Rs256,
        }
    }
}

/// Who holds a JWKS's ES256 keys and checks their signatures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum KeyBackend {
    /// This crate: p256, or the runtime's WebCrypto awaited from Rust (`webcrypto`).
    #[default]
    Builtin,
    /// The driver of a sans-IO flow, through edge-step's needs (`driven` feature).
    #[cfg(feature = "driven")]
    Driven,
}

/// The JWKS document could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JwksError {
    /// Not JSON, or no `keys` array.
    #[error("JWKS document is not a JSON object with a `keys` array")]
    NotAKeySet,
}

/// The usable signature keys of a JWKS, by `kid`.
///
/// Entries are skipped, not fatal, when they lack a `kid`, are not signature keys (`use` other
/// than `sig`), are symmetric (`oct` keys never verify tokens here: that would let a published
/// secret forge tokens), name an `alg` other than ES256/RS256 or one that contradicts their key
/// type, are malformed, or (for RSA) are shorter than 2048 bits or the `rsa` feature is off.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: HashMap<String, VerifyingKey>,
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<Value>,
}

impl JwkSet {
    /// Parses a JWKS document and prepares its keys for verifying (with the `webcrypto`
    /// backend that means importing them into WebCrypto, which is asynchronous; it happens
    /// once per fetched set, not per token).
    pub async fn from_json(json: &str) -> Result<Self, JwksError> {
        Self::from_json_for(json, KeyBackend::Builtin).await
    }

    /// [`JwkSet::from_json`], the ES256 keys prepared for `backend`.
    pub(crate) async fn from_json_for(json: &str, backend: KeyBackend) -> Result<Self, JwksError> {
        let raw: RawKeySet = serde_json::from_str(json).map_err(|_| JwksError::NotAKeySet)?;
        let mut keys = HashMap::with_capacity(raw.keys.len());
        for entry in &raw.keys {
            if let Some((kid, key)) = parse_entry(entry, backend).await {
                keys.insert(kid, key);
            }
        }
        Ok(Self { keys })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no entry was usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a usable key has this `kid`.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }
}

async fn parse_entry(entry: &Value, backend: KeyBackend) -> Option<(String, VerifyingKey)> {
    let kid = entry.get("kid")?.as_str()?.to_owned();
    if entry
        .get("use")
        .is_some_and(|key_use| key_use.as_str() != Some("sig"))
    {
        return None;
    }
    let declared_alg = match entry.get("alg") {
        Some(alg) => Some(JwtAlgorithm::from_name(alg.as_str()?)?),
        None => None,
    };
    let jwk: JsonWebKey<'static> = serde_json::from_value(entry.clone()).ok()?;
    let key = match &jwk {
        JsonWebKey::EllipticCurve { .. } => match backend {
            KeyBackend::Builtin => VerifyingKey::Es256(es256::import_key(&jwk).await?),
            #[cfg(feature = "driven")]
            KeyBackend::Driven => VerifyingKey::DrivenEs256(es256::driven::import_key(&jwk).await?),
        },
        #[cfg(feature = "rsa")]
        JsonWebKey::Rsa { .. } => {
            use rsa::traits::PublicKeyParts;
            let key = rsa::RsaPublicKey::try_from(&jwk).ok()?;
            if key.size() * 8 < MIN_RSA_BITS {
                return None;
            }
            VerifyingKey::Rs256(Arc::new(key))
        }
        _ => return None,
    };
    if declared_alg.is_some_and(|alg| alg != key.algorithm()) {
        return None;
    }
    Some((kid, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, es256_jwk, es256_signing_key};

    #[test]
    fn parses_ec_keys_and_skips_unusable_entries() {
        let good = es256_jwk(&es256_signing_key(1), "ec-1");
        let mut no_kid = good.clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        let mut enc_use = es256_jwk(&es256_signing_key(2), "ec-enc");
        enc_use["use"] = "enc".into();
        let mut wrong_alg = es256_jwk(&es256_signing_key(3), "ec-rs");
        wrong_alg["alg"] = "RS256".into();
        let mut hs_alg = es256_jwk(&es256_signing_key(4), "ec-hs");
        hs_alg["alg"] = "HS256".into();
        let oct = serde_json::json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0", "alg": "HS256"});
        let mut bad_point = es256_jwk(&es256_signing_key(5), "ec-bad");
        bad_point["x"] = "AAAA".into();
        let okp = serde_json::json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"});
        let doc = serde_json::json!({
            "keys": [good, no_kid, enc_use, wrong_alg, hs_alg, oct, bad_point, okp]
        });

        let set = block_on(JwkSet::from_json(&doc.to_string())).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.contains("ec-1"));
        assert_eq!(set.get("ec-1").unwrap().algorithm(), JwtAlgorithm::Es256);
    }

    #[test]
    fn refuses_documents_that_are_not_key_sets() {
        for doc in ["", "[]", "{}", r#"{"keys": {}}"#, "not json"] {
            assert_eq!(
                block_on(JwkSet::from_json(doc)).unwrap_err(),
                JwksError::NotAKeySet,
                "{doc}"
            );
        }
        assert!(
            block_on(JwkSet::from_json(r#"{"keys": []}"#))
                .unwrap()
                .is_empty()
        );
    }

    #[cfg(feature = "rsa")]
    #[test]
    fn parses_rsa_keys_and_refuses_short_ones() {
        use crate::test_support::{rsa_jwk, rsa_signing_key};
        let long = rsa_jwk(&rsa_signing_key(2048), "rsa-2048");
        let short = rsa_jwk(&rsa_signing_key(1024), "rsa-1024");
        let doc = serde_json::json!({ "keys": [long, short] });
        let set = block_on(JwkSet::from_json(&doc.to_string())).unwrap();
        assert!(set.contains("rsa-2048"));
        assert!(!set.contains("rsa-1024"));
        assert_eq!(
            set.get("rsa-2048").unwrap().algorithm(),
            JwtAlgorithm::Rs256
        );
    }
}
