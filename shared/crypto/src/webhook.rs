//! Standard Webhooks signature verification (<https://www.standardwebhooks.com/>).
//!
//! The sender signs `"<webhook-id>.<webhook-timestamp>.<body>"` with HMAC-SHA256 under the
//! shared secret (`whsec_<base64>`; the HMAC key is the decoded bytes) and sends
//! `webhook-signature: v1,<base64 signature>`, possibly several space-separated (during secret
//! rotation). The receiver accepts when any `v1` signature matches under any of its secrets
//! and the timestamp is within the tolerance (5 minutes by default) in either direction.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::hmac_sha256;

const SECRET_PREFIX: &str = "whsec_";
const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a webhook delivery was refused, one variant per check. Each has a stable
/// [`WebhookError::code`]; all are answered with 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `webhook-id` header.
    #[error("missing webhook-id header")]
    MissingId,
    /// No `webhook-timestamp` header.
    #[error("missing webhook-timestamp header")]
    MissingTimestamp,
    /// No `webhook-signature` header.
    #[error("missing webhook-signature header")]
    MissingSignature,
    /// `webhook-timestamp` is not whole seconds since the epoch.
    #[error("webhook-timestamp is not an integer number of seconds")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance (a replay, or a badly delayed retry).
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance.
    #[error("webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` signature in the header matches under any configured secret.
    #[error("no valid webhook signature")]
    NoMatchingSignature,
}

impl WebhookError {
    /// Stable machine code, e.g. `webhook_timestamp_too_old`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingId => "webhook_missing_id",
            Self::MissingTimestamp => "webhook_missing_timestamp",
            Self::MissingSignature => "webhook_missing_signature",
            Self::InvalidTimestamp => "webhook_invalid_timestamp",
            Self::TimestampTooOld => "webhook_timestamp_too_old",
            Self::TimestampTooNew => "webhook_timestamp_too_new",
            Self::NoMatchingSignature => "webhook_bad_signature",
        }
    }
}

/// A Standard Webhooks signing secret. `Debug` is redacted; bytes are zeroed on drop.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A webhook secret is not `whsec_` followed by base64 of at least 16 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("webhook secret must be 'whsec_' followed by base64 of at least 16 bytes")]
pub struct InvalidWebhookSecret;

impl WebhookSecret {
    /// Parses `whsec_<base64>` (the prefix is optional, as in the reference libraries).
    pub fn parse(secret: &str) -> Result<Self, InvalidWebhookSecret> {
        let encoded = secret.trim();
        let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
        let bytes = Zeroizing::new(STANDARD.decode(encoded).map_err(|_| InvalidWebhookSecret)?);
        if bytes.len() < 16 {
            return Err(InvalidWebhookSecret);
        }
        Ok(Self(bytes))
    }

    /// The `webhook-signature` value (`v1,<base64>`) for a delivery: what a sender (or a test)
    /// puts in the header.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(id, &timestamp.to_string(), body))
        )
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        content.extend_from_slice(id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(timestamp.as_bytes());
        content.push(b'.');
        content.extend_from_slice(body);
        hmac_sha256(&self.0, &content)
    }
}

/// The three Standard Webhooks headers as the request carried them (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`
    pub id: Option<&'a str>,
    /// `webhook-timestamp`
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`
    pub signature: Option<&'a str>,
}

/// A delivery whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook<'a> {
    /// `webhook-id`: the same for every retry of one message; use it for idempotency.
    pub id: &'a str,
    /// `webhook-timestamp`, seconds since the epoch.
    pub timestamp: i64,
}

/// Verifies deliveries against one or more secrets (several during rotation).
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    secrets: Vec<WebhookSecret>,
    tolerance_secs: i64,
}

impl WebhookVerifier {
    /// A verifier for these secrets with the default 5-minute tolerance.
    pub fn new(secrets: Vec<WebhookSecret>) -> Self {
        Self {
            secrets,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
        }
    }

    /// Parses a whitespace- or comma-separated list of `whsec_…` secrets (one Worker secret).
    pub fn from_secret_list(list: &str) -> Result<Self, InvalidWebhookSecret> {
        let secrets = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(WebhookSecret::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if secrets.is_empty() {
            return Err(InvalidWebhookSecret);
        }
        Ok(Self::new(secrets))
    }

    /// Changes the allowed clock difference (both directions).
    pub fn with_tolerance_secs(mut self, tolerance_secs: u32) -> Self {
        self.tolerance_secs = i64::from(tolerance_secs);
        self
    }

    /// Checks a delivery's headers and raw body at time `now` (seconds since the epoch).
    ///
    /// The body must be the exact bytes received, before any JSON parsing.
    pub fn verify<'a>(
        &self,
        headers: WebhookHeaders<'a>,
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        let id = headers.id.ok_or(WebhookError::MissingId)?;
        let timestamp_text = headers.timestamp.ok_or(WebhookError::MissingTimestamp)?;
        let signatures = headers.signature.ok_or(WebhookError::MissingSignature)?;
        let timestamp: i64 = timestamp_text
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp)?;
        if now.saturating_sub(timestamp) > self.tolerance_secs {
            return Err(WebhookError::TimestampTooOld);
        }
        if timestamp.saturating_sub(now) > self.tolerance_secs {
            return Err(WebhookError::TimestampTooNew);
        }
        let candidates: Vec<Vec<u8>> = signatures
            .split_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| STANDARD.decode(encoded).ok())
            .collect();
        let mut matched = subtle::Choice::from(0);
        for secret in &self.secrets {
            let expected = secret.mac(id, timestamp_text, body);
            for candidate in &candidates {
                matched |= expected.as_slice().ct_eq(candidate);
            }
        }
        if bool::from(matched) {
            Ok(VerifiedWebhook { id, timestamp })
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
