//! The relay: find the caller's connection, check its URL, open its key, forward, stream the
//! answer back.

use std::time::Duration;

use edge_http::ApiError;
use edge_worker::{
    Answer, FetchFailure, RequestContext, authenticate, fetch_init, internal_error,
    optional_setting, sub_path,
};
use worker::Method;
use worker::web_sys::{self, RequestInit};

use crate::proxy_path::ProxyPath;
use crate::relay::{ended_when_idle, fetch_within};
use crate::relay_headers::{REQUEST_HEADERS, RESPONSE_HEADERS, allowed};
use crate::stored_connection;
use crate::tenant_key::tenant_auth_headers;

/// How long a tenant has to start answering, unless `TENANT_TIMEOUT_MS` says otherwise.
const DEFAULT_TIMEOUT_MS: u64 = 15_000;

/// How long a tenant may go without sending a byte of its body, unless
/// `TENANT_IDLE_TIMEOUT_MS` says otherwise.
const DEFAULT_IDLE_TIMEOUT_MS: u64 = 10_000;

pub async fn relay(ctx: RequestContext) -> Result<Answer, ApiError> {
    let auth = authenticate(&ctx).await?;
    let url = ctx
        .req
        .url()
        .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
    let path = url.path().to_owned();
    let target = ProxyPath::parse(sub_path(&path, crate::SPEC.name))?;
    let owner = auth.caller.user_id;

    let connection = stored_connection::find(&ctx, owner, target.connection).await?;

    let method = ctx.req.method();
    let writes = !matches!(method, Method::Get | Method::Head);
    if writes && !connection.allow_writes {
        return Err(ApiError::forbidden(
            "writes_not_allowed",
            "This connection is read-only; save it with allow_writes to send POST, PATCH, PUT or DELETE",
        ));
    }

    let tenant_url = connection.checked_url(&ctx)?;
    let key = connection.service_key(&ctx, owner, target.connection, &tenant_url)?;

    let upstream_url = match url.query() {
        Some(query) => format!("{}{}?{query}", tenant_url.as_str(), target.rest_path),
        None => format!("{}{}", tenant_url.as_str(), target.rest_path),
    };
    let incoming = ctx.req.headers();
    let mut headers: Vec<(&str, String)> =
        allowed(REQUEST_HEADERS, |name| incoming.get(name).ok().flatten()).collect();
    headers.extend(tenant_auth_headers(key.expose()));
    // Not followed: a Supabase project does not redirect its API (see `relay_answer`).
    let init = fetch_init(method.as_ref(), &headers, Some("manual"))
        .map_err(|e| internal_error("building the tenant request", format!("{e:?}")))?;
    if writes {
        // The body streams through; it is never buffered here.
        if let Some(body) = ctx.req.inner().body() {
            init.set_body(&body);
        }
    }

    let timeout = millis_setting(&ctx, "TENANT_TIMEOUT_MS", DEFAULT_TIMEOUT_MS);
    let idle = millis_setting(&ctx, "TENANT_IDLE_TIMEOUT_MS", DEFAULT_IDLE_TIMEOUT_MS);
    let upstream = fetch_with_timeout(&upstream_url, &init, timeout).await?;
    relay_answer(&upstream, idle)
}

/// A duration setting in milliseconds; `default` when it is unset or not a number.
fn millis_setting(ctx: &RequestContext, name: &str, default: u64) -> Duration {
    let millis = optional_setting(&ctx.env, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_millis(millis)
}

/// Fetches without following redirects; 504 when the tenant has not answered in time, 502 when
/// it cannot be reached.
async fn fetch_with_timeout(
    url: &str,
    init: &RequestInit,
    timeout: Duration,
) -> Result<web_sys::Response, ApiError> {
    fetch_within(url, init, timeout).await.map_err(|e| match e {
        FetchFailure::TimedOut => {
            ApiError::gateway_timeout("The tenant's project did not answer in time")
        }
        FetchFailure::Failed(e) => {
            worker::console_error!("tenant unreachable: {e}");
            ApiError::bad_gateway("The tenant's project could not be reached")
        }
    })
}

/// The tenant's status and PostgREST headers, and its body streamed unchanged until the tenant
/// sends nothing for `idle` (then the stream fails). A redirect is not followed and not passed
/// on: a Supabase project does not redirect its API.
fn relay_answer(upstream: &web_sys::Response, idle: Duration) -> Result<Answer, ApiError> {
    let status = upstream.status();
    if (300..400).contains(&status) {
        return Err(ApiError::bad_gateway(
            "The tenant's project answered with a redirect",
        ));
    }
    let answered = upstream.headers();
    let headers = allowed(RESPONSE_HEADERS, move |name| {
        answered.get(name).ok().flatten()
    })
    .collect();
    let body = upstream.body().map(|body| ended_when_idle(&body, idle));
    Ok(Answer::relayed(status, headers, body))
}
