//! The shared crates' hot operations in a loop, for per-operation times inside workerd.

use edge_auth::{FetchError, UnixTime};
use edge_crypto::{Aad, WebhookHeaders, WebhookVerifier};
use uuid::Uuid;

use crate::peer::{FIELD, PeerState};

/// One operation of the shared crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `TokenVerifier::verify` of an HS256 access token (signature and claims).
    Hs256Verify,
    /// `TokenVerifier::verify` of an ES256 access token (key from the cached JWKS).
    Es256Verify,
    /// `KeyRing::seal_str` of a connection secret.
    Seal,
    /// `KeyRing::open_str` of that envelope.
    Open,
    /// `WebhookVerifier::verify` of a Standard Webhooks delivery (1 KiB body).
    WebhookVerify,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::Hs256Verify,
        Op::Es256Verify,
        Op::Seal,
        Op::Open,
        Op::WebhookVerify,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Hs256Verify => "hs256_verify",
            Op::Es256Verify => "es256_verify",
            Op::Seal => "seal",
            Op::Open => "open",
            Op::WebhookVerify => "webhook_verify",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// What the operations work on, from the benchmark's settings.
pub struct OpInputs {
    hs256_token: String,
    es256_token: String,
    jwks: String,
    owner: Uuid,
    row: String,
    secret: String,
    envelope: String,
    webhook: WebhookVerifier,
    webhook_id: String,
    webhook_timestamp: String,
    webhook_signature: String,
    webhook_body: String,
}

impl OpInputs {
    /// Reads `BENCH_*` settings through `get` (empty when unset).
    pub fn from_settings(get: impl Fn(&str) -> String) -> Result<Self, String> {
        let owner =
            Uuid::try_parse(&get("BENCH_OWNER")).map_err(|e| format!("BENCH_OWNER: {e}"))?;
        let webhook = WebhookVerifier::from_secret_list(&get("BENCH_WEBHOOK_SECRET"))
            .map_err(|e| format!("BENCH_WEBHOOK_SECRET: {e}"))?;
        Ok(Self {
            hs256_token: get("BENCH_HS256_TOKEN"),
            es256_token: get("BENCH_ES256_TOKEN"),
            jwks: get("BENCH_JWKS"),
            owner,
            row: get("BENCH_ROW"),
            secret: get("BENCH_SECRET"),
            envelope: get("BENCH_ENVELOPE"),
            webhook,
            webhook_id: get("BENCH_WEBHOOK_ID"),
            webhook_timestamp: get("BENCH_WEBHOOK_TIMESTAMP"),
            webhook_signature: get("BENCH_WEBHOOK_SIGNATURE"),
            webhook_body: get("BENCH_WEBHOOK_BODY"),
        })
    }

    /// Runs `op` `n` times; returns a number that depends on every result, so no iteration
    /// can be optimised away, or the first error.
    pub async fn run(
        &self,
        state: &PeerState,
        op: Op,
        n: u32,
        now: UnixTime,
    ) -> Result<u64, String> {
        let aad = Aad {
            owner: self.owner,
            row: &self.row,
            field: FIELD,
        };
        let jwks = || async { Ok::<_, FetchError>(self.jwks.clone()) };
        let mut checksum = 0_u64;
        for _ in 0..n {
            let len = match op {
                Op::Hs256Verify => state
                    .verifier()
                    .verify(&self.hs256_token, now, &jwks)
                    .await
                    .map(|c| c.expires_at as usize)
                    .map_err(|e| e.to_string())?,
                Op::Es256Verify => state
                    .verifier()
                    .verify(&self.es256_token, now, &jwks)
                    .await
                    .map(|c| c.expires_at as usize)
                    .map_err(|e| e.to_string())?,
                Op::Seal => state
                    .ring()
                    .seal_str(&self.secret, aad)
                    .map(|e| e.len())
                    .map_err(|e| e.to_string())?,
                Op::Open => state
                    .ring()
                    .open_str(&self.envelope, aad)
                    .map(|s| s.expose().len())
                    .map_err(|e| e.to_string())?,
                Op::WebhookVerify => {
                    let headers = WebhookHeaders {
                        id: Some(&self.webhook_id),
                        timestamp: Some(&self.webhook_timestamp),
                        signature: Some(&self.webhook_signature),
                    };
                    let timestamp: i64 = self.webhook_timestamp.parse().unwrap_or_default();
                    self.webhook
                        .verify(headers, self.webhook_body.as_bytes(), timestamp)
                        .map(|v| v.id.len())
                        .map_err(|e| e.to_string())?
                }
            };
            checksum = checksum.wrapping_mul(31).wrapping_add(len as u64);
        }
        Ok(checksum)
    }
}
