//! save-connection: a signed-in user stores the URL and keys of their own Supabase project.
//! The URL is checked against edge-tenant's rules, the keys are sealed with the server's key
//! ring (bound to owner, name, URL and field) before they reach the database, and only this
//! function writes them: `rpc/save_connection` is executable by the service role alone.
#![forbid(unsafe_code)]

mod connection_input;
mod handler;

pub use connection_input::{ConnectionInput, key_hint};

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "save-connection",
    methods: &["GET", "POST", "DELETE"],
    extra_request_headers: &[],
    exposed_headers: &[],
};

/// Answers one request to `/functions/v1/save-connection`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::route).await
}

edge_worker::standalone_worker!(handle);
