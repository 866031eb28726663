//! Keys, tokens and a tiny executor for the unit tests.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_compact::alg::{Es256, Hs256, Hs256Key};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::Value;

/// Drives a future that never really waits (all test fetchers answer at once).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// A deterministic P-256 key, distinct per `seed`.
pub(crate) fn es256_signing_key(seed: u8) -> p256::ecdsa::SigningKey {
    let mut bytes = [0x11_u8; 32];
    bytes[31] = seed;
    p256::ecdsa::SigningKey::from_slice(&bytes).expect("valid scalar")
}

/// The public JWK of `key` as Supabase publishes it.
pub(crate) fn es256_jwk(key: &p256::ecdsa::SigningKey, kid: &str) -> Value {
    let mut jwk = serde_json::to_value(JsonWebKey::from(key.verifying_key())).unwrap();
    jwk["kid"] = kid.into();
    jwk["alg"] = "ES256".into();
    jwk["use"] = "sig".into();
    jwk
}

pub(crate) fn hs256_token(secret: &str, claims: &Value) -> String {
    Hs256
        .token(
            &Header::empty(),
            &Claims::new(claims.clone()),
            &Hs256Key::new(secret),
        )
        .unwrap()
}

pub(crate) fn es256_token(
    key: &p256::ecdsa::SigningKey,
    kid: Option<&str>,
    claims: &Value,
) -> String {
    let header = match kid {
        Some(kid) => Header::empty().with_key_id(kid),
        None => Header::empty(),
    };
    Es256
        .token(&header, &Claims::new(claims.clone()), key)
        .unwrap()
}

/// A token put together by hand: any header, any claims, any signature bytes.
pub(crate) fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// HMAC-SHA256 signature over `header.payload` of a hand-made token, for confusion attacks.
pub(crate) fn hs256_sign_raw(key: &[u8], header: &Value, claims: &Value) -> String {
    let unsigned = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    format!(
        "{unsigned}.{}",
        URL_SAFE_NO_PAD.encode(hmac_sha256(key, unsigned.as_bytes()))
    )
}

/// HMAC-SHA256 through jwt-compact's HS256, applied to bytes we put together ourselves.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use jwt_compact::{Algorithm, AlgorithmSignature};
    Hs256
        .sign(&Hs256Key::new(key), message)
        .as_bytes()
        .into_owned()
}

#[cfg(feature = "rsa")]
pub(crate) fn rsa_signing_key(bits: usize) -> rsa::RsaPrivateKey {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(bits as u64);
    rsa::RsaPrivateKey::new(&mut rng, bits).unwrap()
}

#[cfg(feature = "rsa")]
pub(crate) fn rsa_jwk(key: &rsa::RsaPrivateKey, kid: &str) -> Value {
    let public = key.to_public_key();
    let mut jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap();
    jwk["kid"] = kid.into();
    jwk["alg"] = "RS256".into();
    jwk["use"] = "sig".into();
    jwk
}

#[cfg(feature = "rsa")]
pub(crate) fn rs256_token(key: &rsa::RsaPrivateKey, kid: &str, claims: &Value) -> String {
    jwt_compact::alg::Rsa::rs256()
        .token(
            &Header::empty().with_key_id(kid),
            &Claims::new(claims.clone()),
            key,
        )
        .unwrap()
}
