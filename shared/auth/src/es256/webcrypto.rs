//! ES256 through the runtime's WebCrypto (`crypto.subtle`): the Workers (wasm32, `webcrypto`
//! feature). Keys are imported once, when the JWKS is fetched, and kept in the JWKS cache.

use js_sys::{Array, Reflect, Uint8Array};
use jwt_compact::Claims;
use jwt_compact::jwk::JsonWebKey;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, EcKeyImportParams, EcdsaParams, SubtleCrypto};

use super::signature_and_claims;
use crate::AuthError;
use crate::claims::SupabaseClaims;
use crate::token::ParsedToken;

/// Bytes of one P-256 coordinate.
const COORDINATE_LEN: usize = 32;

/// A P-256 public key imported into WebCrypto for `ECDSA` `verify`.
#[derive(Debug, Clone)]
pub(crate) struct Es256Key(CryptoKey);

thread_local! {
    /// The runtime's `crypto.subtle` (`None` outside a JS runtime with WebCrypto, where no key
    /// imports and every ES256 token is refused), looked up once per isolate.
    static SUBTLE: Option<SubtleCrypto> = Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|crypto| Reflect::get(&crypto, &"subtle".into()))
        .ok()
        .filter(|subtle| subtle.is_object())
        .map(JsCast::unchecked_into);
    /// `{name: "ECDSA", hash: "SHA-256"}`, built once and passed to every `verify`.
    static ECDSA_SHA256: EcdsaParams = EcdsaParams::new_with_str("ECDSA", "SHA-256");
}

/// The key of an `EC` JWK on P-256, or `None` when it is not one (other curve, bad lengths, not
/// a point of the curve: WebCrypto refuses those, as p256 does).
pub(crate) async fn import_key(jwk: &JsonWebKey<'_>) -> Option<Es256Key> {
    let JsonWebKey::EllipticCurve { curve, x, y, .. } = jwk else {
        return None;
    };
    if curve.as_ref() != "P-256" || x.len() != COORDINATE_LEN || y.len() != COORDINATE_LEN {
        return None;
    }
    // SEC 1 uncompressed point, WebCrypto's `raw` format for EC public keys.
    let point = [&[0x04][..], &x[..], &y[..]].concat();
    let params = EcKeyImportParams::new("ECDSA");
    params.set_named_curve("P-256");
    let usages = Array::of1(&JsValue::from_str("verify"));
    let import = SUBTLE.with(|subtle| {
        subtle
            .as_ref()?
            .import_key_with_object(
                "raw",
                &Uint8Array::from(point.as_slice()),
                &params,
                false,
                &usages,
            )
            .ok()
    })?;
    let key = JsFuture::from(import).await.ok()?;
    Some(Es256Key(key.unchecked_into()))
}

/// The token's claims when its signature is `key`'s; the same verdicts, in the same order, as
/// jwt-compact's `Es256` validator (see the module above).
pub(crate) async fn verify(
    key: &Es256Key,
    token: &ParsedToken<'_>,
) -> Result<Claims<SupabaseClaims>, AuthError> {
    let (signature, claims) = signature_and_claims(token)?;
    let check = SUBTLE.with(|subtle| {
        let subtle = subtle.as_ref()?;
        ECDSA_SHA256.with(|algorithm| {
            subtle
                .verify_with_object_and_u8_array_and_u8_array(
                    algorithm,
                    &key.0,
                    signature,
                    token.signing_input(),
                )
                .ok()
        })
    });
    let verdict = match check {
        Some(promise) => JsFuture::from(promise).await.ok(),
        None => None,
    };
    match verdict.and_then(|valid| valid.as_bool()) {
        Some(true) => Ok(claims),
        _ => Err(AuthError::BadSignature),
    }
}
