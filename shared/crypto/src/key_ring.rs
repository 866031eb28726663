//! The master keys, by id, from one Worker secret.
//!
//! # Format
//!
//! ```text
//! v1;active=<key-id>;<key-id>=<base64 of 32 bytes>[;<key-id>=<base64 of 32 bytes>…]
//! ```
//!
//! * `v1` — the format version.
//! * `active=<key-id>` — the key new envelopes are sealed with; it must be listed.
//! * every other entry is a key: an id of 1–32 characters from `[A-Za-z0-9_-]` (so it can sit
//!   inside an envelope), `=`, and 32 bytes in base64 (standard or URL-safe alphabet, padding
//!   optional). Ids are unique.
//! * whitespace and newlines around entries are ignored, so a long ring can be one key a line.
//!
//! Make a key with `openssl rand -base64 32`, or a whole ring with
//! `cargo run -p edge-crypto --example generate-key-ring -- <key-id>`.
//!
//! # Rotation
//!
//! 1. Add a new key and make it active, keeping the old one listed:
//!    `v1;active=k2;k1=…;k2=…`. New writes use `k2`; old envelopes still open with `k1`.
//! 2. Re-encrypt stored envelopes with [`KeyRing::reseal`] where [`KeyRing::needs_rotation`]
//!    says so.
//! 3. When none is left under `k1`, drop it from the ring.

use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::random_bytes;

pub(crate) const KEY_LEN: usize = 32;
const VERSION: &str = "v1";
const MAX_KEY_ID_LEN: usize = 32;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Why a key-ring secret was refused. Messages name key ids at most, never key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The string does not start with `v1;`.
    #[error("key ring must start with 'v1;'")]
    UnsupportedVersion,
    /// No `active=<key-id>` entry, or more than one.
    #[error("key ring needs exactly one 'active=<key-id>' entry")]
    MissingActive,
    /// The active id names no listed key.
    #[error("active key '{0}' is not in the key ring")]
    ActiveNotListed(String),
    /// An entry is not `<key-id>=<base64>`.
    #[error("key ring entry {0} is not '<key-id>=<base64 key>'")]
    MalformedEntry(usize),
    /// A key id is empty, too long or uses characters outside `[A-Za-z0-9_-]`.
    #[error("key id '{0}' must be 1-32 characters of A-Z a-z 0-9 _ -")]
    InvalidKeyId(String),
    /// Two keys share an id.
    #[error("key id '{0}' is listed twice")]
    DuplicateKeyId(String),
    /// A key is not base64 of exactly 32 bytes.
    #[error("key '{0}' is not base64 of exactly 32 bytes")]
    InvalidKey(String),
}

/// A key id as it appears in the ring and in envelopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Checks the id's syntax.
    pub fn parse(id: &str) -> Result<Self, KeyRingError> {
        let valid = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(KeyRingError::InvalidKeyId(id.to_owned()))
        }
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of AES-256 keys by id, one of them active. `Debug` shows ids only.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<(KeyId, Zeroizing<[u8; KEY_LEN]>)>,
    active: usize,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing")
            .field("active", &self.active_key_id().as_str())
            .field("key_ids", &ids)
            .finish()
    }
}

impl KeyRing {
    /// Parses a key-ring secret (format in the [module docs](self)).
    pub fn parse(secret: &str) -> Result<Self, KeyRingError> {
        let mut entries = secret.split(';').map(str::trim);
        if entries.next() != Some(VERSION) {
            return Err(KeyRingError::UnsupportedVersion);
        }
        let mut active = None;
        let mut keys: Vec<(KeyId, Zeroizing<[u8; KEY_LEN]>)> = Vec::new();
        for (index, entry) in entries.enumerate().filter(|(_, entry)| !entry.is_empty()) {
            let (name, value) = entry
                .split_once('=')
                .map(|(name, value)| (name.trim(), value.trim()))
                .ok_or(KeyRingError::MalformedEntry(index + 1))?;
            if name == "active" {
                if active.replace(value).is_some() {
                    return Err(KeyRingError::MissingActive);
                }
                continue;
            }
            let id = KeyId::parse(name)?;
            if keys.iter().any(|(existing, _)| *existing == id) {
                return Err(KeyRingError::DuplicateKeyId(id.0));
            }
            let key = decode_key(value).ok_or_else(|| KeyRingError::InvalidKey(id.0.clone()))?;
            keys.push((id, key));
        }
        let active = active.ok_or(KeyRingError::MissingActive)?;
        let active = keys
            .iter()
            .position(|(id, _)| id.as_str() == active)
            .ok_or_else(|| KeyRingError::ActiveNotListed(active.to_owned()))?;
        Ok(Self { keys, active })
    }

    /// A new ring secret with one fresh random key, ready to store as a Worker secret.
    pub fn generate_secret(key_id: &str) -> Result<Zeroizing<String>, GenerateError> {
        let id = KeyId::parse(key_id)?;
        let key = Zeroizing::new(random_bytes::<KEY_LEN>()?);
        let encoded = Zeroizing::new(STANDARD_LENIENT.encode(key.as_slice()));
        Ok(Zeroizing::new(format!(
            "{VERSION};active={id};{id}={}",
            encoded.as_str()
        )))
    }

    /// The id new envelopes are sealed with.
    pub fn active_key_id(&self) -> &KeyId {
        &self.keys[self.active].0
    }

    /// All ids, active or retired.
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.iter().map(|(id, _)| id)
    }

    pub(crate) fn active_key(&self) -> (&KeyId, &[u8; KEY_LEN]) {
        let (id, key) = &self.keys[self.active];
        (id, key)
    }

    pub(crate) fn key(&self, id: &str) -> Option<&[u8; KEY_LEN]> {
        self.keys
            .iter()
            .find(|(key_id, _)| key_id.as_str() == id)
            .map(|(_, key)| &**key)
    }
}

/// [`KeyRing::generate_secret`] failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenerateError {
    /// The requested id is not a valid key id.
    #[error(transparent)]
    KeyId(#[from] KeyRingError),
    /// No randomness.
    #[error(transparent)]
    Random(#[from] crate::RandomError),
}

fn decode_key(value: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let bytes = Zeroizing::new(
        STANDARD_LENIENT
            .decode(value)
            .or_else(|_| URL_SAFE_LENIENT.decode(value))
            .ok()?,
    );
    let key: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// base64 of the bytes 0..32.
    pub(crate) const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const K2_URL_SAFE: &str = "_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-8=";

    #[test]
    fn parses_rings() {
        let ring =
            KeyRing::parse(&format!("v1;active=k2;k1={K1};\n k2 = {K2_URL_SAFE} ;")).unwrap();
        assert_eq!(ring.active_key_id().as_str(), "k2");
        let ids: Vec<_> = ring.key_ids().map(KeyId::as_str).collect();
        assert_eq!(ids, ["k1", "k2"]);
        assert_eq!(ring.key("k1").unwrap()[31], 31);
        assert!(ring.key("k3").is_none());
    }

    #[test]
    fn refuses_bad_rings() {
        let cases = [
            ("", KeyRingError::UnsupportedVersion),
            (
                &format!("v2;active=k1;k1={K1}") as &str,
                KeyRingError::UnsupportedVersion,
            ),
            (&format!("v1;k1={K1}"), KeyRingError::MissingActive),
            (
                &format!("v1;active=k1;active=k1;k1={K1}"),
                KeyRingError::MissingActive,
            ),
            (
                &format!("v1;active=k2;k1={K1}"),
                KeyRingError::ActiveNotListed("k2".into()),
            ),
            (
                &format!("v1;active=k1;k1{K1}"),
                KeyRingError::MalformedEntry(2),
            ),
            (
                &format!("v1;active=k1;k:1={K1}"),
                KeyRingError::InvalidKeyId("k:1".into()),
            ),
            (
                &format!("v1;active=k1;={K1}"),
                KeyRingError::InvalidKeyId(String::new()),
            ),
            (
                &format!("v1;active=k1;k1={K1};k1={K1}"),
                KeyRingError::DuplicateKeyId("k1".into()),
            ),
            (
                "v1;active=k1;k1=AAAA",
                KeyRingError::InvalidKey("k1".into()),
            ),
            (
                "v1;active=k1;k1=not base64!",
                KeyRingError::InvalidKey("k1".into()),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(KeyRing::parse(input).unwrap_err(), expected, "{input}");
        }
    }

    #[test]
    fn debug_and_errors_never_show_keys() {
        let ring = KeyRing::parse(&format!("v1;active=k1;k1={K1}")).unwrap();
        let debug = format!("{ring:?}");
        assert!(debug.contains("k1") && !debug.contains(K1) && !debug.contains("[0, 1, 2"));
        let err = KeyRing::parse(&format!("v1;active=k1;k1={K1}x")).unwrap_err();
        assert!(!err.to_string().contains(K1));
    }

    #[test]
    fn generated_secret_parses() {
        let secret = KeyRing::generate_secret("2025-06").unwrap();
        let ring = KeyRing::parse(&secret).unwrap();
        assert_eq!(ring.active_key_id().as_str(), "2025-06");
        assert!(KeyRing::generate_secret("bad id").is_err());
    }
}
