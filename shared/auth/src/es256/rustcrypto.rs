//! ES256 through p256, as jwt-compact's `Es256` verifies it: native builds and the fuzz targets.

use jwt_compact::alg::Es256;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims};

use crate::AuthError;
use crate::claims::SupabaseClaims;
use crate::token::ParsedToken;
use crate::verifier::claims_of;

/// A P-256 public key from the JWKS.
pub(crate) type Es256Key = p256::ecdsa::VerifyingKey;

/// The key of an `EC` JWK on P-256, or `None` when it is not one (other curve, bad lengths,
/// not a point of the curve).
pub(crate) async fn import_key(jwk: &JsonWebKey<'_>) -> Option<Es256Key> {
    Es256Key::try_from(jwk).ok()
}

/// The token's claims when its signature is `key`'s.
pub(crate) async fn verify(
    key: &Es256Key,
    token: &ParsedToken<'_>,
) -> Result<Claims<SupabaseClaims>, AuthError> {
    claims_of(Es256.validator(key).validate(token.untrusted()))
}
