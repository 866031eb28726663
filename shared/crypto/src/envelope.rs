//! Sealing and opening `enc:v1:<key-id>:<base64url(nonce ‖ ciphertext ‖ tag)>` envelopes.
//!
//! AES-256-GCM with a fresh random 96-bit nonce per envelope. With random nonces one key
//! should seal well under 2^32 envelopes; rotate the active key long before that.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::key_ring::KEY_LEN;
use crate::{Aad, KeyRing, RandomError, SecretString, random_bytes};

const PREFIX: &str = "enc";
const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Why an envelope could not be sealed or opened. Messages carry no key or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not `enc:<version>:<key-id>:<base64url>`, or the payload is too short or not base64url.
    #[error("ciphertext is not an 'enc:v1:<key-id>:<data>' envelope")]
    Malformed,
    /// A format version this build does not know.
    #[error("ciphertext format version is not supported")]
    UnsupportedVersion,
    /// The key id is not in the key ring (retired and removed too early, or foreign data).
    #[error("ciphertext key '{0}' is not in the key ring")]
    UnknownKeyId(String),
    /// Authentication failed: the envelope was altered, belongs to another owner, row or field,
    /// or was sealed with a different key under the same id.
    #[error("ciphertext failed authentication")]
    Forged,
    /// The plaintext is not UTF-8 (only from [`KeyRing::open_str`]).
    #[error("decrypted value is not UTF-8 text")]
    NotUtf8,
    /// No randomness for a nonce.
    #[error(transparent)]
    Random(#[from] RandomError),
}

struct Envelope<'a> {
    key_id: &'a str,
    header: &'a str,
    data: Vec<u8>,
}

impl<'a> Envelope<'a> {
    fn parse(text: &'a str) -> Result<Self, EnvelopeError> {
        let mut parts = text.splitn(4, ':');
        let (Some(PREFIX), Some(version), Some(key_id), Some(data)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(EnvelopeError::Malformed);
        };
        if version != VERSION {
            return Err(EnvelopeError::UnsupportedVersion);
        }
        let data = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| EnvelopeError::Malformed)?;
        if key_id.is_empty() || data.len() < NONCE_LEN + TAG_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let header = &text[..PREFIX.len() + VERSION.len() + key_id.len() + 2];
        Ok(Self {
            key_id,
            header,
            data,
        })
    }
}

/// The key id an envelope was sealed with (e.g. to report which key protects a row).
pub fn envelope_key_id(envelope: &str) -> Result<&str, EnvelopeError> {
    Envelope::parse(envelope).map(|parsed| parsed.key_id)
}

fn cipher(key: &[u8; KEY_LEN]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
}

impl KeyRing {
    /// Encrypts `plaintext` under the active key, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: Aad<'_>) -> Result<String, EnvelopeError> {
        let (key_id, key) = self.active_key();
        let header = format!("{PREFIX}:{VERSION}:{key_id}");
        let nonce = random_bytes::<NONCE_LEN>()?;
        let aad_bytes = aad.encode(&header);
        let sealed = cipher(key)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad_bytes,
                },
            )
            .expect("AES-GCM seals any plaintext below 64 GiB");
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        Ok(format!("{header}:{}", URL_SAFE_NO_PAD.encode(data)))
    }

    /// [`KeyRing::seal`] for text.
    pub fn seal_str(&self, plaintext: &str, aad: Aad<'_>) -> Result<String, EnvelopeError> {
        self.seal(plaintext.as_bytes(), aad)
    }

    /// Decrypts an envelope sealed with any key of the ring, checking it belongs to `aad`.
    pub fn open(&self, envelope: &str, aad: Aad<'_>) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let parsed = Envelope::parse(envelope)?;
        let key = self
            .key(parsed.key_id)
            .ok_or_else(|| EnvelopeError::UnknownKeyId(parsed.key_id.to_owned()))?;
        let (nonce, sealed) = parsed.data.split_at(NONCE_LEN);
        let aad_bytes = aad.encode(parsed.header);
        cipher(key)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad_bytes,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| EnvelopeError::Forged)
    }

    /// [`KeyRing::open`] for text.
    pub fn open_str(&self, envelope: &str, aad: Aad<'_>) -> Result<SecretString, EnvelopeError> {
        let mut bytes = self.open(envelope, aad)?;
        let text = String::from_utf8(std::mem::take(&mut *bytes)).map_err(|err| {
            // Zero the rejected bytes too.
            drop(Zeroizing::new(err.into_bytes()));
            EnvelopeError::NotUtf8
        })?;
        Ok(SecretString::new(text))
    }

    /// Opens `envelope` and seals its plaintext again under the active key (with a new nonce).
    pub fn reseal(&self, envelope: &str, aad: Aad<'_>) -> Result<String, EnvelopeError> {
        let plaintext = self.open(envelope, aad)?;
        self.seal(&plaintext, aad)
    }

    /// Whether `envelope` was sealed with a key other than the active one. Only the header is
    /// read; a malformed envelope is an error.
    pub fn needs_rotation(&self, envelope: &str) -> Result<bool, EnvelopeError> {
        Ok(envelope_key_id(envelope)? != self.active_key_id().as_str())
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
