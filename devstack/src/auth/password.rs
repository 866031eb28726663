//! Password rules and bcrypt hashing, as GoTrue applies them.

use super::error::{AuthError, AuthResult};

/// bcrypt reads at most 72 bytes; GoTrue refuses longer passwords rather than truncate them.
pub const MAX_PASSWORD_LENGTH: usize = 72;
/// GoTrue's bcrypt cost.
const BCRYPT_COST: u32 = 10;

/// Checks a new password against the length rules, with GoTrue's messages and reasons.
pub fn check_strength(password: &str, min_length: usize) -> AuthResult<()> {
    if password.len() > MAX_PASSWORD_LENGTH {
        return Err(AuthError::validation(format!(
            "Password cannot be longer than {MAX_PASSWORD_LENGTH} characters"
        )));
    }
    if password.chars().count() < min_length {
        return Err(AuthError::weak_password(
            format!("Password should be at least {min_length} characters."),
            vec!["length"],
        ));
    }
    Ok(())
}

/// Hashes off the async runtime: bcrypt at cost 10 takes tens of milliseconds.
pub async fn hash(password: &str) -> AuthResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, BCRYPT_COST))
        .await
        .map_err(|e| AuthError::internal("Error hashing password", e))?
        .map_err(|e| AuthError::internal("Error hashing password", e))
}

/// Whether `password` matches a stored bcrypt hash; a malformed hash never matches.
pub async fn verify(password: &str, stored_hash: &str) -> bool {
    let (password, stored_hash) = (password.to_owned(), stored_hash.to_owned());
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &stored_hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(check_strength("123456", 6).is_ok());
        let short = check_strength("12345", 6).unwrap_err();
        assert_eq!(short.error_code, "weak_password");
        assert_eq!(short.message, "Password should be at least 6 characters.");
        assert_eq!(short.weak_password_reasons, vec!["length"]);
        let long = check_strength(&"x".repeat(73), 6).unwrap_err();
        assert_eq!(long.error_code, "validation_failed");
        assert_eq!(long.status.as_u16(), 400);
    }

    #[tokio::test]
    async fn hash_round_trip() {
        let stored = hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$2b$10$"));
        assert!(verify("correct horse", &stored).await);
        assert!(!verify("wrong", &stored).await);
        assert!(!verify("x", "not-a-hash").await);
    }
}
