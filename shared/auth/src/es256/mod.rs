//! ES256 (ECDSA P-256 with SHA-256) signatures of access tokens: which code checks them.
//!
//! * Native builds, the unit tests and the fuzz targets: p256 through jwt-compact
//!   ([`rustcrypto`]).
//! * Beside either, with the `driven` feature and a verifier configured for it
//!   (`VerifierConfig::with_driven_es256`): the driver of a sans-IO flow (edge-step) imports
//!   the key and checks the signature ([`driven`]; the JavaScript driver calls WebCrypto).
//! * wasm32 with the `webcrypto` feature (edge-worker turns it on for the Workers): the
//!   runtime's WebCrypto, `crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, …)`
//!   ([`webcrypto`]). p256 compiled to wasm took ~1.3 ms per token inside workerd, WebCrypto
//!   ~0.08 ms (bench/HISTORY.md).
//!
//! jwt-compact parses the token and yields its claims on both; only the signature check
//! differs. Both backends give the same [`crate::AuthError`] for the same token: a signature
//! that is not 64 bytes, or whose `r`/`s` is not in `1..n`, is `BadSignature` before the claims
//! are read (jwt-compact's order), malformed claims are `MalformedClaims`, and only then is the
//! signature verified. The vectors in `verifier_tests.rs` (native) and
//! `tests/es256-vectors.test.mjs` (the Workers in workerd) check that.

#[cfg(any(webcrypto, feature = "driven"))]
use jwt_compact::Claims;

#[cfg(any(webcrypto, feature = "driven"))]
use crate::{
    AuthError, claims::SupabaseClaims, token::ParsedToken, verifier::map_validation_error,
};

#[cfg(feature = "driven")]
pub(crate) mod driven;
#[cfg(not(webcrypto))]
mod rustcrypto;
#[cfg(webcrypto)]
mod webcrypto;

#[cfg(not(webcrypto))]
pub(crate) use rustcrypto::{Es256Key, import_key, verify};
#[cfg(webcrypto)]
pub(crate) use webcrypto::{Es256Key, import_key, verify};

/// The order n of the P-256 group, big-endian.
#[cfg(any(test, webcrypto, feature = "driven"))]
pub(crate) const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Whether `signature` is a JWS ES256 signature at all: 64 bytes `r ‖ s`, big-endian, each in
/// `1..n` — what p256's `Signature::try_from` accepts (a DER-encoded signature is not one).
#[cfg(any(test, webcrypto, feature = "driven"))]
pub(crate) fn is_well_formed_signature(signature: &[u8]) -> bool {
    let in_range = |scalar: &[u8]| scalar.iter().any(|&b| b != 0) && scalar < ORDER.as_slice();
    signature.len() == 64 && in_range(&signature[..32]) && in_range(&signature[32..])
}

/// A token's signature and claims, with jwt-compact's verdicts before the signature check (see
/// above): what a backend whose check happens outside Rust's crypto verifies next.
#[cfg(any(webcrypto, feature = "driven"))]
pub(crate) fn signature_and_claims<'t>(
    token: &'t ParsedToken<'_>,
) -> Result<(&'t [u8], Claims<SupabaseClaims>), AuthError> {
    let signature = token.untrusted().signature_bytes();
    if !is_well_formed_signature(signature) {
        return Err(AuthError::BadSignature);
    }
    let claims = token
        .untrusted()
        .deserialize_claims_unchecked()
        .map_err(map_validation_error)?;
    Ok((signature, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n + delta` (delta may be negative) as 32 big-endian bytes.
    fn order_plus(delta: i16) -> [u8; 32] {
        let mut out = ORDER;
        let mut carry = i32::from(delta);
        for byte in out.iter_mut().rev() {
            let sum = i32::from(*byte) + carry;
            *byte = sum.rem_euclid(256) as u8;
            carry = sum.div_euclid(256);
        }
        out
    }

    /// The check the WebCrypto backend makes before the claims agrees with p256's parse, which
    /// is what the native backend (jwt-compact) does at that point.
    #[test]
    fn well_formed_signature_check_agrees_with_p256() {
        let one = {
            let mut b = [0u8; 32];
            b[31] = 1;
            b
        };
        let scalars = [
            [0u8; 32],
            one,
            order_plus(-1),
            ORDER,
            order_plus(1),
            [0xff; 32],
            [0x7f; 32],
        ];
        for r in &scalars {
            for s in &scalars {
                let signature = [r.as_slice(), s.as_slice()].concat();
                assert_eq!(
                    is_well_formed_signature(&signature),
                    p256::ecdsa::Signature::from_slice(&signature).is_ok(),
                    "r={r:02x?} s={s:02x?}"
                );
            }
        }
        for len in [0, 32, 63, 65, 70, 72] {
            assert!(!is_well_formed_signature(&vec![1; len]), "{len} bytes");
        }
    }
}
