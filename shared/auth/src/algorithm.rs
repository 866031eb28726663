//! The JWS algorithms an access token may use.

/// A JWS algorithm Supabase Auth signs access tokens with. Anything else (`none`, `HS384`,
/// `PS256`, …) is refused before any key is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with the project's JWT secret (legacy and default local setup).
    Hs256,
    /// ECDSA P-256 with a key from the project's JWKS (Supabase's asymmetric default).
    Es256,
    /// RSA PKCS#1 v1.5 SHA-256 with a key from the project's JWKS (needs the `rsa` feature).
    Rs256,
}

impl JwtAlgorithm {
    /// Parses the header's `alg` value; names are case-sensitive (RFC 7518).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::Hs256),
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }

    /// The `alg` value as written in a JWT header or a JWK.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_names_only() {
        for alg in [
            JwtAlgorithm::Hs256,
            JwtAlgorithm::Es256,
            JwtAlgorithm::Rs256,
        ] {
            assert_eq!(JwtAlgorithm::from_name(alg.name()), Some(alg));
        }
        for bad in [
            "none", "None", "hs256", "HS384", "PS256", "ES256K", "EdDSA", "",
        ] {
            assert_eq!(JwtAlgorithm::from_name(bad), None, "{bad}");
        }
    }
}
