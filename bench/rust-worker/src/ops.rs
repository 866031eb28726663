//! The shared crates' hot operations in a loop, for per-operation times inside workerd.

#[cfg(target_arch = "wasm32")]
use std::cell::RefCell;
#[cfg(target_arch = "wasm32")]
use std::rc::Rc;

use edge_auth::{FetchError, UnixTime};
use edge_crypto::{Aad, WebhookHeaders, WebhookVerifier};
use uuid::Uuid;

use crate::peer::{FIELD, PeerState};
use crate::primitives::RustPrimitives;
#[cfg(target_arch = "wasm32")]
use crate::primitives::WebCryptoPrimitives;

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
    /// HMAC-SHA256 (the project secret) of the HS256 token's signing input, in Rust.
    Hmac,
    /// The same through `crypto.subtle.sign`, called from Rust.
    HmacWebCrypto,
    /// AES-256-GCM encryption of the connection secret (binding AAD), in Rust.
    AesGcmSeal,
    /// The same through `crypto.subtle.encrypt`, called from Rust.
    AesGcmSealWebCrypto,
    /// AES-256-GCM decryption of that ciphertext, in Rust.
    AesGcmOpen,
    /// The same through `crypto.subtle.decrypt`, called from Rust.
    AesGcmOpenWebCrypto,
    /// Awaiting an already resolved JS promise from Rust (wasm-bindgen-futures' `JsFuture`):
    /// the fixed price of every `fetch`, `text()` or `subtle.*` a function awaits.
    AwaitPromise,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::Hs256Verify,
        Op::Es256Verify,
        Op::Seal,
        Op::Open,
        Op::WebhookVerify,
        Op::Hmac,
        Op::HmacWebCrypto,
        Op::AesGcmSeal,
        Op::AesGcmSealWebCrypto,
        Op::AesGcmOpen,
        Op::AesGcmOpenWebCrypto,
        Op::AwaitPromise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Hs256Verify => "hs256_verify",
            Op::Es256Verify => "es256_verify",
            Op::Seal => "seal",
            Op::Open => "open",
            Op::WebhookVerify => "webhook_verify",
            Op::Hmac => "hmac",
            Op::HmacWebCrypto => "hmac_webcrypto",
            Op::AesGcmSeal => "aes_gcm_seal",
            Op::AesGcmSealWebCrypto => "aes_gcm_seal_webcrypto",
            Op::AesGcmOpen => "aes_gcm_open",
            Op::AesGcmOpenWebCrypto => "aes_gcm_open_webcrypto",
            Op::AwaitPromise => "await_promise",
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
    jwt_secret: String,
    rust: RustPrimitives,
    /// The AAD and ciphertext of the AES-GCM loops.
    aad: Vec<u8>,
    sealed: Vec<u8>,
    #[cfg(target_arch = "wasm32")]
    webcrypto: RefCell<Option<Rc<WebCryptoPrimitives>>>,
}

impl OpInputs {
    /// Reads `BENCH_*` settings through `get` (empty when unset).
    pub fn from_settings(get: impl Fn(&str) -> String) -> Result<Self, String> {
        let owner =
            Uuid::try_parse(&get("BENCH_OWNER")).map_err(|e| format!("BENCH_OWNER: {e}"))?;
        let webhook = WebhookVerifier::from_secret_list(&get("BENCH_WEBHOOK_SECRET"))
            .map_err(|e| format!("BENCH_WEBHOOK_SECRET: {e}"))?;
        let rust = RustPrimitives::default();
        let aad = format!("{owner}:{}", get("BENCH_ROW")).into_bytes();
        let sealed = rust.seal(get("BENCH_SECRET").as_bytes(), &aad)?;
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
            jwt_secret: get("SUPABASE_JWT_SECRET"),
            rust,
            aad,
            sealed,
            #[cfg(target_arch = "wasm32")]
            webcrypto: RefCell::new(None),
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
                Op::Hmac => self
                    .rust
                    .hmac_sha256(self.jwt_secret.as_bytes(), self.signing_input())
                    .len(),
                Op::AesGcmSeal => self.rust.seal(self.secret.as_bytes(), &self.aad)?.len(),
                Op::AesGcmOpen => self.rust.open(&self.sealed, &self.aad)?.len(),
                Op::HmacWebCrypto | Op::AesGcmSealWebCrypto | Op::AesGcmOpenWebCrypto => {
                    self.webcrypto_op(op).await?
                }
                Op::AwaitPromise => await_resolved_promise().await?,
            };
            checksum = checksum.wrapping_mul(31).wrapping_add(len as u64);
        }
        Ok(checksum)
    }

    /// `<header>.<payload>` of the HS256 token.
    fn signing_input(&self) -> &[u8] {
        let (input, _) = self.hs256_token.rsplit_once('.').unwrap_or_default();
        input.as_bytes()
    }

    #[cfg(target_arch = "wasm32")]
    async fn webcrypto_op(&self, op: Op) -> Result<usize, String> {
        let existing = self.webcrypto.borrow().clone();
        let webcrypto = match existing {
            Some(primitives) => primitives,
            None => {
                let imported =
                    Rc::new(WebCryptoPrimitives::import(self.jwt_secret.as_bytes()).await?);
                *self.webcrypto.borrow_mut() = Some(imported.clone());
                imported
            }
        };
        let out = match op {
            Op::HmacWebCrypto => webcrypto.hmac_sha256(self.signing_input()).await?,
            Op::AesGcmSealWebCrypto => webcrypto.seal(self.secret.as_bytes(), &self.aad).await?,
            _ => webcrypto.open(&self.sealed, &self.aad).await?,
        };
        Ok(out.len())
    }

    #[cfg(not(target_arch = "wasm32"))]
    async fn webcrypto_op(&self, _op: Op) -> Result<usize, String> {
        Err("WebCrypto exists only inside the Worker".to_owned())
    }
}

/// Awaits `Promise.resolve(1)` through `JsFuture`; its value, 1.
#[cfg(target_arch = "wasm32")]
async fn await_resolved_promise() -> Result<usize, String> {
    use worker::js_sys::Promise;
    use worker::wasm_bindgen::JsValue;
    use worker::wasm_bindgen_futures::JsFuture;

    let value = JsFuture::from(Promise::resolve(&JsValue::from(1)))
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(value.as_f64().unwrap_or_default() as usize)
}

#[cfg(not(target_arch = "wasm32"))]
async fn await_resolved_promise() -> Result<usize, String> {
    Err("JS promises exist only inside the Worker".to_owned())
}
