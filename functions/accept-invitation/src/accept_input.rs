//! The token and the password, checked before anything is looked up or created.

use edge_http::ApiError;
use serde::Deserialize;

/// Supabase Auth's default minimum, counted in characters as it counts them.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// bcrypt reads 72 bytes; Supabase Auth refuses longer passwords rather than cut them.
pub const PASSWORD_MAX_BYTES: usize = 72;
/// `edge_crypto::random_token`: 32 bytes as unpadded base64url.
const TOKEN_LEN: usize = 43;

/// `POST` body. Unknown fields are refused, so `{"token", "pasword"}` is a 400 naming it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    pub token: String,
    pub password: String,
}

/// A link token's shape (43 characters of base64url). A malformed one is a 400; a well-formed
/// one is looked up by its hash, so an unknown token costs the same as a known one.
pub fn check_token(token: &str) -> Result<(), ApiError> {
    let well_formed = token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_token",
            "token is not an invitation token (43 characters of A-Z, a-z, 0-9, '-', '_')",
        ))
    }
}

/// The password policy: Supabase Auth's default (at least 8 characters), bcrypt's limit (at
/// most 72 bytes), not blank, and not the invited address or its part before the `@`.
pub fn check_password(password: &str, email: &str) -> Result<(), ApiError> {
    let weak = |message: String| Err(ApiError::bad_request("weak_password", message));
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return weak(format!(
            "password must be at least {PASSWORD_MIN_CHARS} characters long"
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return weak(format!(
            "password must be at most {PASSWORD_MAX_BYTES} bytes long (UTF-8)"
        ));
    }
    if password.trim().is_empty() {
        return weak("password must not be blank".to_owned());
    }
    let lowered = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or(email);
    if lowered == email.to_lowercase() || lowered == local_part.to_lowercase() {
        return weak("password must not be the e-mail address".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";

    #[test]
    fn tokens_have_the_shape_random_token_makes() {
        assert!(check_token(TOKEN).is_ok());
        assert!(check_token(&edge_crypto::random_token().unwrap()).is_ok());
        let too_long = format!("{TOKEN}x");
        let padded = format!("{}=", &TOKEN[..42]);
        for bad in ["", "short", &too_long, &padded, &TOKEN.replace('a', "/")] {
            let err = check_token(bad).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_token"), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters_and_at_most_72_bytes() {
        assert!(check_password("correct horse", "ada@example.com").is_ok());
        assert!(check_password("12345678", "ada@example.com").is_ok());
        // Eight characters of two bytes each: long enough, within the byte limit.
        assert!(check_password("éééééééé", "ada@example.com").is_ok());
        assert!(check_password(&"x".repeat(72), "ada@example.com").is_ok());
        for bad in ["", "1234567", "ééééééé", &"x".repeat(73), &"é".repeat(37)] {
            let err = check_password(bad, "ada@example.com").unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "weak_password"), "{bad}");
        }
    }

    #[test]
    fn blank_or_email_passwords_are_weak() {
        for bad in ["        ", "ada@example.com", "ADA@EXAMPLE.COM"] {
            assert_eq!(
                check_password(bad, "ada@example.com").unwrap_err().code(),
                "weak_password",
                "{bad}"
            );
        }
        let err = check_password("lovelace", "lovelace@example.com").unwrap_err();
        assert_eq!(err.message(), "password must not be the e-mail address");
    }
}
