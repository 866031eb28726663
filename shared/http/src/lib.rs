//! HTTP conventions shared by every edge function, with no web framework in sight: a function
//! feeds header values and body bytes in and copies status, headers and body out into its
//! `worker::Response`.
//!
//! * [`ApiError`]: `{"error": "<message>", "code": "<machine_code>"}` with the right status.
//! * [`Cors`]: Supabase-style CORS headers and the `OPTIONS` preflight answer.
//! * [`BodyLimit`], [`LimitedBody`] and [`parse_json`]: 413 for oversized bodies (counted while
//!   they stream), 400 naming what is wrong.
//! * [`request_id`]: an id for log lines.
//!
//! ```
//! use edge_http::{ApiError, BodyLimit, Cors, LimitedBody, parse_json};
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Invite { profile_id: String }
//!
//! let cors = Cors::new(&["GET", "POST", "DELETE"]);
//! let limit = BodyLimit::new(16 * 1024);
//! let mut body = LimitedBody::new(limit);
//! let answer = limit
//!     .check_declared(Some("27"))
//!     .and_then(|()| body.push(br#"{"profile_id": 5, "x": 1}"#))
//!     .and_then(|()| parse_json::<Invite>(&body.into_bytes()));
//! let err = answer.err().unwrap();
//! assert_eq!(err.status(), 400);
//! assert_eq!(
//!     err.body(),
//!     r#"{"error":"field `profile_id`: invalid type: integer `5`, expected a string","code":"invalid_body"}"#
//! );
//! assert!(cors.headers().iter().any(|(name, value)| *name == "access-control-allow-origin" && value == "*"));
//! ```
#![forbid(unsafe_code)]

mod body;
mod cors;
mod error;
mod request_id;

pub use body::{BodyLimit, LimitedBody, parse_json, parse_json_object};
pub use cors::{Cors, Preflight, SUPABASE_CLIENT_HEADERS};
pub use error::ApiError;
pub use request_id::request_id;
