//! A token as jwt-compact parses it, together with the exact bytes its signature covers.

use jwt_compact::UntrustedToken;

use crate::AuthError;

/// One access token, parsed once: jwt-compact's view of it (header, claims, signature bytes)
/// and its JWS signing input (`<header>.<payload>` as sent), both taken from the same string,
/// so a signature checked outside jwt-compact is always checked over this token's own bytes.
pub(crate) struct ParsedToken<'a> {
    untrusted: UntrustedToken<'a>,
    signing_input: &'a [u8],
}

impl<'a> ParsedToken<'a> {
    /// Anything that is not three base64url parts with a JSON header is [`AuthError::Malformed`].
    pub(crate) fn parse(token: &'a str) -> Result<Self, AuthError> {
        let untrusted = UntrustedToken::new(token).map_err(|_| AuthError::Malformed)?;
        // jwt-compact accepted exactly three parts; it signs and verifies over the same prefix.
        let (signing_input, _) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        Ok(Self {
            untrusted,
            signing_input: signing_input.as_bytes(),
        })
    }

    pub(crate) fn untrusted(&self) -> &UntrustedToken<'a> {
        &self.untrusted
    }

    /// The bytes the signature is over: `<header>.<payload>`, base64url as sent.
    #[cfg_attr(not(webcrypto), allow(dead_code))]
    pub(crate) fn signing_input(&self) -> &'a [u8] {
        self.signing_input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a signature is checked over is exactly the token's `<header>.<payload>` as sent, the
    /// bytes jwt-compact signs and verifies: never re-encoded claims, never another token's.
    #[test]
    fn signing_input_is_the_header_and_payload_as_sent() {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let parsed = ParsedToken::parse(token).unwrap();
        assert_eq!(
            parsed.signing_input(),
            b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0"
        );
        assert_eq!(parsed.untrusted().signature_bytes(), b"sig");
        for malformed in ["", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9.e30"] {
            assert!(
                matches!(ParsedToken::parse(malformed), Err(AuthError::Malformed)),
                "{malformed}"
            );
        }
    }
}
