//! save-connection: a signed-in user stores the URL and keys of their own Supabase project.
//! The keys are sealed with the server's key ring before they reach the database, and the
//! write goes through PostgREST with the caller's token, so RLS is the second lock.
#![forbid(unsafe_code)]

mod connection_input;
mod handler;
mod tenant_url;

pub use connection_input::{ConnectionInput, KeyRole, key_hint};
pub use tenant_url::{TenantUrl, TenantUrlError};

use edge_worker::FunctionSpec;
use worker::{Env, Request, Response};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "save-connection",
    methods: &["GET", "POST", "DELETE"],
    extra_request_headers: &[],
    exposed_headers: &[],
};

/// Answers one request to `/functions/v1/save-connection`.
pub async fn handle(req: Request, env: Env) -> worker::Result<Response> {
    edge_worker::serve(req, env, &SPEC, handler::route).await
}

edge_worker::standalone_worker!(handle);
