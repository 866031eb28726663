//! Verification of Supabase credentials inside a Worker, with no network call per request.
//!
//! * [`TokenVerifier`] checks a Supabase access token (HS256 with the project's JWT secret,
//!   ES256 — and RS256 with the `rsa` feature — through the project's JWKS) and yields a typed
//!   [`Caller`].
//! * [`bearer_token`] takes the token out of an `Authorization` header value.
//! * [`ProjectApiKeys`] recognises the project's own API keys (`apikey` header), and
//!   [`api_key_format`] tells which Supabase key format any string has.
//!
//! Nothing here depends on the `worker` crate: a function passes header values, the current
//! time and a JWKS fetcher in, and maps [`AuthError`] to its HTTP answer.
//!
//! ```
//! use edge_auth::{bearer_token, NoJwks, TokenVerifier, UnixTime, VerifierConfig};
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! let config = VerifierConfig::new("super-secret-jwt-token-with-at-least-32-characters-long");
//! let verifier = TokenVerifier::new(config).expect("valid configuration");
//!
//! let header = Some("Bearer not-a-jwt");
//! let result = bearer_token(header).and_then(|token| {
//!     block_on(verifier.verify(token, UnixTime::from_secs(1_700_000_000), &NoJwks))
//! });
//! let err = result.unwrap_err();
//! assert_eq!(err.code(), "token_malformed");
//! assert_eq!(err.status(), 401);
//! ```
#![forbid(unsafe_code)]

mod algorithm;
mod api_key;
mod bearer;
mod caller;
mod claims;
mod constant_time;
mod error;
mod es256;
mod jwks;
mod jwks_cache;
mod time;
mod token;
mod verifier;

#[cfg(test)]
mod test_support;

pub use algorithm::JwtAlgorithm;
pub use api_key::{ApiKeyFormat, ApiKeyKind, ProjectApiKeys, api_key_format};
pub use bearer::bearer_token;
pub use caller::{AuthAssurance, Caller};
pub use constant_time::constant_time_eq;
pub use error::{AuthError, ConfigError};
pub use jwks::{JwkSet, JwksError};
pub use jwks_cache::{FetchError, JwksFetcher, NoJwks};
pub use time::UnixTime;
pub use verifier::{TokenVerifier, Verified, VerifierConfig};
