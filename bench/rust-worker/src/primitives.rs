//! HMAC-SHA256 and AES-256-GCM alone, in Rust and through the runtime's WebCrypto called from
//! Rust: whether moving HS256, the envelopes or the webhook signatures to WebCrypto would pay
//! once the wasm↔JS crossing and the promise are counted (bench/HISTORY.md, "what we chose and
//! why"). Fixed key and nonce: these loops only time the primitives, they protect nothing.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

/// The AES-256 key of the loops (JavaScript's `ops` uses the same bytes).
pub const AES_KEY: [u8; 32] = [7; 32];
/// The nonce of the loops.
pub const NONCE: [u8; 12] = [9; 12];

/// The pure-Rust primitives the shared crates use.
pub struct RustPrimitives {
    aes: Aes256Gcm,
}

impl Default for RustPrimitives {
    fn default() -> Self {
        Self {
            aes: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&AES_KEY)),
        }
    }
}

impl RustPrimitives {
    pub fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Vec<u8> {
        edge_crypto::hmac_sha256(key, message).to_vec()
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        self.aes
            .encrypt(Nonce::from_slice(&NONCE), payload)
            .map_err(|e| e.to_string())
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
        let payload = Payload { msg: sealed, aad };
        self.aes
            .decrypt(Nonce::from_slice(&NONCE), payload)
            .map_err(|e| e.to_string())
    }
}

#[cfg(target_arch = "wasm32")]
pub use webcrypto::WebCryptoPrimitives;

#[cfg(target_arch = "wasm32")]
mod webcrypto {
    use js_sys::{Array, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AesGcmParams, CryptoKey, HmacImportParams, SubtleCrypto};

    use super::{AES_KEY, NONCE};

    /// The same operations through `crypto.subtle`, keys imported once.
    pub struct WebCryptoPrimitives {
        subtle: SubtleCrypto,
        hmac: CryptoKey,
        aes: CryptoKey,
    }

    fn js_error(e: JsValue) -> String {
        format!("{e:?}")
    }

    async fn resolve(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, String> {
        JsFuture::from(promise.map_err(js_error)?)
            .await
            .map_err(js_error)
    }

    fn bytes(buffer: JsValue) -> Vec<u8> {
        Uint8Array::new(&buffer).to_vec()
    }

    impl WebCryptoPrimitives {
        pub async fn import(hmac_key: &[u8]) -> Result<Self, String> {
            let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(js_error)?;
            let subtle: SubtleCrypto = Reflect::get(&crypto, &"subtle".into())
                .map_err(js_error)?
                .unchecked_into();
            let usages = |a: &str, b: &str| Array::of2(&a.into(), &b.into());
            let hmac = resolve(subtle.import_key_with_object(
                "raw",
                &Uint8Array::from(hmac_key),
                &HmacImportParams::new_with_str("HMAC", "SHA-256"),
                false,
                &usages("sign", "verify"),
            ))
            .await?;
            let aes = resolve(subtle.import_key_with_str(
                "raw",
                &Uint8Array::from(AES_KEY.as_slice()),
                "AES-GCM",
                false,
                &usages("encrypt", "decrypt"),
            ))
            .await?;
            Ok(Self {
                subtle,
                hmac: hmac.unchecked_into(),
                aes: aes.unchecked_into(),
            })
        }

        pub async fn hmac_sha256(&self, message: &[u8]) -> Result<Vec<u8>, String> {
            let mac = self
                .subtle
                .sign_with_str_and_u8_array("HMAC", &self.hmac, message);
            Ok(bytes(resolve(mac).await?))
        }

        fn params(aad: &[u8]) -> AesGcmParams {
            let params =
                AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(NONCE.as_slice()));
            params.set_additional_data_u8_array(&Uint8Array::from(aad));
            params
        }

        pub async fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
            let sealed = self.subtle.encrypt_with_object_and_u8_array(
                &Self::params(aad),
                &self.aes,
                plaintext,
            );
            Ok(bytes(resolve(sealed).await?))
        }

        pub async fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
            let opened =
                self.subtle
                    .decrypt_with_object_and_u8_array(&Self::params(aad), &self.aes, sealed);
            Ok(bytes(resolve(opened).await?))
        }
    }
}
