//! accept-invitation: the register page's backend. The link's token is the credential (no JWT):
//! `GET ?token=` shows what the page needs, `POST {token, password}` creates the Supabase Auth
//! account through the admin API and links it to the invited profile in one Postgres function,
//! deleting the account again if linking fails, so nothing half-made remains.
//!
//! Invitations are found by the token's SHA-256 only (one indexed lookup, whatever the token),
//! and the token is never logged.
#![forbid(unsafe_code)]

mod accept_input;
mod auth_admin;
mod handler;
mod invitation_rpc_error;
mod inviter_notice;

pub use accept_input::{
    AcceptInput, PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS, check_password, check_token,
};

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "accept-invitation",
    methods: &["GET", "POST"],
    extra_request_headers: &[],
    exposed_headers: &[],
};

/// Answers one request to `/functions/v1/accept-invitation`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::route).await
}

edge_worker::standalone_worker!(handle);
