//! GoTrue's mailed one-time tokens: a numeric code for people to type and, standing for it in
//! links, its hash `hex(sha224(address ‖ code))`. Only the hash is stored (in the user's
//! `confirmation_token`, `recovery_token`, … column), so a code is worth nothing once its column
//! is cleared by use or replaced by a newer mail, and nothing after `mailer_otp_exp`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha224};

use super::error::AuthError;

/// One mailed token: what the person gets and what is stored.
pub struct MailedToken {
    pub code: String,
    pub hash: String,
}

impl MailedToken {
    /// A fresh code of `digits` digits for `address`.
    pub fn generate(address: &str, digits: usize) -> Self {
        let mut rng = rand::thread_rng();
        let code: String = (0..digits)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect();
        Self {
            hash: token_hash(address, &code),
            code,
        }
    }
}

/// The hash that stands for `code` sent to `address`.
pub fn token_hash(address: &str, code: &str) -> String {
    Sha224::digest(format!("{address}{code}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a token sent at `sent_at` has outlived `lifetime`.
pub fn is_expired(sent_at: Option<DateTime<Utc>>, lifetime: Duration, now: DateTime<Utc>) -> bool {
    sent_at.is_none_or(|sent| {
        now > sent + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX)
    })
}

/// GoTrue's per-address limit: one mail of a kind per `max_frequency`, else a 429 saying how
/// long to wait (whole seconds, rounded down as GoTrue does).
pub fn check_frequency(
    last_sent: Option<DateTime<Utc>>,
    max_frequency: Duration,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let Some(last) = last_sent else {
        return Ok(());
    };
    let next = last + chrono::Duration::from_std(max_frequency).unwrap_or(chrono::Duration::MAX);
    if next <= now {
        return Ok(());
    }
    let wait = (next - now).num_seconds();
    Err(AuthError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "over_email_send_rate_limit",
        format!("For security purposes, you can only request this after {wait} seconds."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_digits_and_hashes_are_sha224_hex() {
        let token = MailedToken::generate("ann@example.com", 6);
        assert_eq!(token.code.len(), 6);
        assert!(token.code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(token.hash, token_hash("ann@example.com", &token.code));
        // sha224("ann@example.com123456"), as GoTrue's crypto.GenerateTokenHash computes it.
        assert_eq!(token_hash("ann@example.com", "123456").len(), 56);
        assert_ne!(
            token_hash("ann@example.com", "123456"),
            token_hash("bob@example.com", "123456")
        );
    }

    #[test]
    fn expiry() {
        let now = Utc::now();
        let hour = Duration::from_secs(3600);
        assert!(!is_expired(
            Some(now - chrono::Duration::minutes(59)),
            hour,
            now
        ));
        assert!(is_expired(
            Some(now - chrono::Duration::minutes(61)),
            hour,
            now
        ));
        assert!(is_expired(None, hour, now));
    }

    #[test]
    fn frequency_limit_says_how_long_to_wait() {
        let now = Utc::now();
        let minute = Duration::from_secs(60);
        assert!(check_frequency(None, minute, now).is_ok());
        assert!(check_frequency(Some(now - chrono::Duration::seconds(61)), minute, now).is_ok());
        let e =
            check_frequency(Some(now - chrono::Duration::seconds(15)), minute, now).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.error_code),
            (429, "over_email_send_rate_limit")
        );
        assert_eq!(
            e.message,
            "For security purposes, you can only request this after 45 seconds."
        );
    }
}
