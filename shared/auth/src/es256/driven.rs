//! ES256 through the driver of a sans-IO flow (edge-step): the key is imported by the driver
//! once, when the JWKS is fetched, under a number this isolate gives it; each signature check
//! is a need the driver answers (WebCrypto's `verify` in the JavaScript driver). The verdicts
//! and their order are the webcrypto backend's, so both give the same errors for a token.

use std::cell::Cell;

use edge_step::{Got, Need, need};
use jwt_compact::Claims;
use jwt_compact::jwk::JsonWebKey;

use super::signature_and_claims;
use crate::AuthError;
use crate::claims::SupabaseClaims;
use crate::token::ParsedToken;

/// A P-256 public key the driver holds under this number.
#[derive(Debug, Clone)]
pub(crate) struct Es256Key(u32);

thread_local! {
    static NEXT_KEY: Cell<u32> = const { Cell::new(0) };
}

/// The key of an `EC` JWK on P-256, or `None` when it is not one (other curve, bad lengths, not
/// a point of the curve: checked here with p256, as WebCrypto's import would refuse it) or the
/// driver could not import it.
pub(crate) async fn import_key(jwk: &JsonWebKey<'_>) -> Option<Es256Key> {
    let key = p256::ecdsa::VerifyingKey::try_from(jwk).ok()?;
    let point = key.to_encoded_point(false).as_bytes().to_vec();
    let number = NEXT_KEY.with(|next| {
        let number = next.get();
        next.set(number.wrapping_add(1));
        number
    });
    match need(Need::ImportEs256 { key: number, point }).await {
        Got::Done(true) => Some(Es256Key(number)),
        _ => None,
    }
}

/// The token's claims when its signature is `key`'s; the same verdicts, in the same order, as
/// jwt-compact's `Es256` validator (see the module above).
pub(crate) async fn verify(
    key: &Es256Key,
    token: &ParsedToken<'_>,
) -> Result<Claims<SupabaseClaims>, AuthError> {
    let (signature, claims) = signature_and_claims(token)?;
    let verdict = need(Need::VerifyEs256 {
        key: key.0,
        signature: signature.to_vec(),
        data: token.signing_input().to_vec(),
    })
    .await;
    match verdict {
        Got::Done(true) => Ok(claims),
        _ => Err(AuthError::BadSignature),
    }
}
