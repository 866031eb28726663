//! The Cloudflare Workers side of the shared layer. `edge-auth`, `edge-crypto` and `edge-http`
//! are pure logic; this crate connects them to the runtime's `Request`/`Response` and `Env`:
//!
//! * [`serve`]: one entry for every function — CORS preflight, method check, JSON errors that
//!   never leak internals, a log line for a server error with the request's id; the request as
//!   an [`IncomingRequest`], the answer as an [`Answer`], both with few crossings into JS; work
//!   that may finish after the answer through [`Defer`] (`ctx.waitUntil`).
//! * [`SupabaseConfig`]: the project URL and keys from the Worker's secrets.
//! * [`authenticate`]: the caller from `Authorization: Bearer`, verified locally
//!   ([`verify_access_token`] for a token from elsewhere); [`require_api_key`]: the `apikey`.
//! * [`Rest`]: PostgREST clients acting as the caller (so RLS holds) or as the service role.
//! * [`auth_request`], [`delete_auth_user`]: calls to the project's Supabase Auth.
//! * [`run_scheduled`]: a cron-triggered job with the project's config, its outcome logged.
//! * [`FetchFailure`]: why an outgoing request with a deadline gave no answer.
//! * [`MailConfig`], [`send_mail`]: e-mail through a Resend-style HTTP API or Cloudflare's
//!   `send_email` binding, chosen by the Worker's settings.
//! * [`standalone_worker!`]: a function's own `#[event(fetch)]` (and `scheduled`) entry.
#![forbid(unsafe_code)]

mod api_key;
mod auth_client;
mod caller;
mod config;
mod defer;
mod fetch;
mod js_init;
mod mail_config;
mod mail_send;
mod mail_text;
mod request;
mod respond;
mod rest;
mod scheduled;
mod serve;
mod standalone;
mod timed_fetch;

pub use api_key::require_api_key;
pub use auth_client::{auth_request, delete_auth_user};
pub use caller::{Authenticated, authenticate, verify_access_token};
pub use config::{SupabaseConfig, key_ring, once_per_isolate, optional_setting, required_secret};
pub use defer::Defer;
pub use fetch::{FetchError, fetch_init, fetch_text, timer_millis};
pub use mail_config::{MailConfig, MailTransport, mail_not_configured};
pub use mail_send::{MailFailure, OutgoingMail, SentMail, send_mail};
pub use mail_text::{escape_html, person_name, plain_name, readable_time};
pub use request::{IncomingRequest, read_json_body, sub_path};
pub use respond::{Answer, empty_response, internal_error, json_response};
pub use rest::{Refusal, Rest, RestError};
pub use scheduled::run_scheduled;
pub use serve::{FunctionSpec, RequestContext, serve};
pub use timed_fetch::FetchFailure;

/// The time, from the Workers clock (`Date.now()`: one call, no `Date` object as
/// `worker::Date::now()` makes).
pub fn now() -> edge_auth::UnixTime {
    edge_auth::UnixTime::from_millis(worker::js_sys::Date::now() as u64)
}

/// The time as a Postgres `timestamptz` reads in JSON (`2026-12-07T01:03:16.123+00:00`), from
/// the Workers clock: for an answer that shows what the database records after it.
pub fn timestamp_now() -> String {
    let iso: String = worker::js_sys::Date::new_0().to_iso_string().into();
    match iso.strip_suffix('Z') {
        Some(time) => format!("{time}+00:00"),
        None => iso,
    }
}
