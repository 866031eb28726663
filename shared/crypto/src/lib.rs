//! Cryptography for the edge functions, with keys that only ever come from Worker secrets.
//!
//! * [`KeyRing`]: AES-256-GCM keys by id, one of them active, parsed from one secret string
//!   (format in [`key_ring`](KeyRing::parse)). [`KeyRing::seal`] makes a self-describing
//!   envelope `enc:v1:<key-id>:<base64url(nonce ‖ ciphertext ‖ tag)>` bound by [`Aad`] to its
//!   owner, row and field; [`KeyRing::open`], [`KeyRing::reseal`] and
//!   [`KeyRing::needs_rotation`] read and rotate them.
//! * [`random_token`] / [`hash_token`]: unguessable URL-safe tokens (invitation links) and the
//!   SHA-256 hex digest that is stored instead of the token.
//! * [`WebhookVerifier`]: Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`) HMAC-SHA256 verification, and [`hmac_sha256`] itself.
//!
//! Key bytes never appear in `Debug` output or error messages, and are zeroed on drop.
//!
//! ```
//! use edge_crypto::{Aad, KeyRing};
//! use uuid::Uuid;
//!
//! let ring = KeyRing::parse(
//!     "v1;active=k1;k1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
//! ).unwrap();
//! let owner = Uuid::nil();
//! let aad = Aad { owner, row: "connections/prod", field: "service_role_key" };
//!
//! let envelope = ring.seal_str("sb_secret_abc", aad).unwrap();
//! assert!(envelope.starts_with("enc:v1:k1:"));
//! assert_eq!(ring.open_str(&envelope, aad).unwrap().expose(), "sb_secret_abc");
//!
//! // The same ciphertext copied into another field does not open.
//! let other = Aad { field: "anon_key", ..aad };
//! assert!(ring.open_str(&envelope, other).is_err());
//! ```
#![forbid(unsafe_code)]

mod aad;
mod envelope;
mod key_ring;
mod mac;
mod random;
mod secret;
mod token;
mod webhook;

pub use aad::Aad;
pub use envelope::{EnvelopeError, envelope_key_id};
pub use key_ring::{GenerateError, KeyId, KeyRing, KeyRingError};
pub use mac::hmac_sha256;
pub use random::{RandomError, random_bytes};
pub use secret::SecretString;
pub use token::{hash_token, random_token, to_hex};
pub use webhook::{
    InvalidWebhookSecret, VerifiedWebhook, WebhookError, WebhookHeaders, WebhookSecret,
    WebhookVerifier,
};
