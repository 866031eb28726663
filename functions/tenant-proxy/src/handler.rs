//! The relay: find the caller's connection, open its key, forward, stream the answer back.

use std::time::Duration;

use edge_crypto::Aad;
use edge_http::ApiError;
use edge_worker::{RequestContext, Rest, authenticate, internal_error, optional_setting, sub_path};
use futures_util::future::{Either, select};
use serde::Deserialize;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
    Response, ResponseBody, ResponseBuilder,
};

use crate::proxy_path::ProxyPath;
use crate::relay_headers::{REQUEST_HEADERS, RESPONSE_HEADERS, allowed};
use crate::tenant_key::tenant_auth_headers;

/// How long a tenant has to start answering, unless `TENANT_TIMEOUT_MS` says otherwise.
const DEFAULT_TIMEOUT_MS: u64 = 15_000;

/// What tenant-proxy reads of a stored connection (with the service key: the envelopes are
/// not readable with the caller's token).
#[derive(Deserialize)]
struct StoredConnection {
    url: String,
    allow_writes: bool,
    service_role_key_encrypted: String,
}

pub async fn relay(ctx: RequestContext) -> Result<Response, ApiError> {
    let auth = authenticate(&ctx.req, &ctx.config).await?;
    let url = ctx
        .req
        .url()
        .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
    let path = url.path().to_owned();
    let target = ProxyPath::parse(sub_path(&path, crate::SPEC.name))?;
    let owner = auth.caller.user_id;

    // The owner filter is what keeps one user's request away from another's connection;
    // "not yours" and "does not exist" answer the same 404.
    let lookup = Rest::as_service(&ctx.config)
        .from("connections")
        .select("url,allow_writes,service_role_key_encrypted")
        .eq("user_id", owner.to_string())
        .eq("name", target.connection);
    let rows: Vec<StoredConnection> = Rest::run(lookup)
        .await?
        .map_err(|e| e.unexpected("looking up a connection"))?;
    let connection = rows
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("No connection named {}", target.connection)))?;

    let method = ctx.req.method();
    let writes = !matches!(method, Method::Get | Method::Head);
    if writes && !connection.allow_writes {
        return Err(ApiError::forbidden(
            "writes_not_allowed",
            "This connection is read-only; save it with allow_writes to send POST, PATCH, PUT or DELETE",
        ));
    }

    let key_ring = edge_worker::key_ring(&ctx.env)?;
    let aad = Aad {
        owner,
        row: target.connection,
        field: "service_role_key",
    };
    let key = key_ring
        .open_str(&connection.service_role_key_encrypted, aad)
        .map_err(|e| {
            worker::console_error!("{} opening a connection key failed: {e}", ctx.request_id);
            ApiError::conflict(
                "connection_keys_unreadable",
                "The stored keys of this connection cannot be decrypted; save the connection again",
            )
        })?;

    let upstream_url = match url.query() {
        Some(query) => format!("{}{}?{query}", connection.url, target.rest_path),
        None => format!("{}{}", connection.url, target.rest_path),
    };
    let headers = Headers::new();
    let incoming = ctx.req.headers().entries().collect::<Vec<_>>();
    for (name, value) in allowed(incoming, REQUEST_HEADERS) {
        set(&headers, &name, &value)?;
    }
    for (name, value) in tenant_auth_headers(key.expose()) {
        set(&headers, name, &value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if writes {
        // The body streams through; it is never buffered here.
        init.with_body(ctx.req.inner().body().map(Into::into));
    }
    let outgoing = Request::new_with_init(&upstream_url, &init)
        .map_err(|e| internal_error("building the tenant request", e))?;

    let timeout_ms = optional_setting(&ctx.env, "TENANT_TIMEOUT_MS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    let upstream = fetch_with_timeout(outgoing, Duration::from_millis(timeout_ms)).await?;
    relay_answer(upstream)
}

/// Fetches without following redirects; 504 when the tenant has not answered in time, 502 when
/// it cannot be reached.
async fn fetch_with_timeout(request: Request, timeout: Duration) -> Result<Response, ApiError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = Box::pin(fetch.send_with_signal(&signal));
    let deadline = Box::pin(Delay::from(timeout));
    match select(sending, deadline).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(e), _)) => {
            worker::console_error!("tenant unreachable: {e}");
            Err(ApiError::bad_gateway(
                "The tenant's project could not be reached",
            ))
        }
        Either::Right(((), _)) => {
            controller.abort();
            Err(ApiError::gateway_timeout(
                "The tenant's project did not answer in time",
            ))
        }
    }
}

/// The tenant's status and PostgREST headers, and its body streamed unchanged. A redirect is
/// not followed and not passed on: a Supabase project does not redirect its API.
fn relay_answer(upstream: Response) -> Result<Response, ApiError> {
    let status = upstream.status_code();
    if (300..400).contains(&status) {
        return Err(ApiError::bad_gateway(
            "The tenant's project answered with a redirect",
        ));
    }
    let headers = Headers::new();
    for (name, value) in allowed(upstream.headers().entries(), RESPONSE_HEADERS) {
        set(&headers, &name, &value)?;
    }
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers);
    Ok(match upstream.body() {
        ResponseBody::Stream(stream) => builder.stream(stream.clone()),
        ResponseBody::Body(bytes) => builder.fixed(bytes.clone()),
        ResponseBody::Empty => builder.empty(),
    })
}

fn set(headers: &Headers, name: &str, value: &str) -> Result<(), ApiError> {
    headers
        .set(name, value)
        .map_err(|e| internal_error("copying a header", e))
}
