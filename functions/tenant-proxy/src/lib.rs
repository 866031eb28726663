//! tenant-proxy: `/functions/v1/tenant-proxy/<connection>/rest/v1/<path>?<query>` is relayed to
//! `<connection url>/rest/v1/<path>?<query>` with the tenant's key, decrypted on the server,
//! attached there. The client never sees a tenant secret, and the tenant never sees the
//! client's credentials.
#![forbid(unsafe_code)]

mod connection_cache;
mod handler;
mod proxy_path;
mod relay;
mod relay_headers;
mod stored_connection;
mod tenant_key;

pub use proxy_path::ProxyPath;
pub use relay_headers::{REQUEST_HEADERS, RESPONSE_HEADERS};
pub use tenant_key::tenant_auth_headers;

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "tenant-proxy",
    methods: &["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"],
    extra_request_headers: &[
        "accept",
        "accept-profile",
        "content-profile",
        "prefer",
        "range",
        "range-unit",
    ],
    exposed_headers: RESPONSE_HEADERS,
};

/// Answers one request to `/functions/v1/tenant-proxy/…`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::relay).await
}

edge_worker::standalone_worker!(handle);
