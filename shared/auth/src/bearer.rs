//! Extracting the token from an `Authorization: Bearer …` header value.

use crate::AuthError;

/// Returns the token of an `Authorization` header value of the form `Bearer <token>`.
///
/// The scheme is matched case-insensitively (RFC 7235); the token must be non-empty and contain
/// no whitespace. Pass `None` when the header is absent.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::MissingAuthorization)?.trim();
    if value.is_empty() {
        return Err(AuthError::MissingAuthorization);
    }
    let (scheme, rest) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = rest.trim_start();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(AuthError::NotBearer);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bearer_in_any_case() {
        assert_eq!(bearer_token(Some("Bearer abc.def.ghi")), Ok("abc.def.ghi"));
        assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("BEARER   abc ")), Ok("abc"));
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(bearer_token(None), Err(AuthError::MissingAuthorization));
        assert_eq!(
            bearer_token(Some("  ")),
            Err(AuthError::MissingAuthorization)
        );
        assert_eq!(
            bearer_token(Some("Basic dXNlcjpwYXNz")),
            Err(AuthError::NotBearer)
        );
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer ")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer a b")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearerabc")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer\ta")), Err(AuthError::NotBearer));
    }
}
