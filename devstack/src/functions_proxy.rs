//! `/functions/v1/*`: forwarded unchanged to the Workers under `wrangler dev`, as Supabase's
//! gateway forwards to its edge runtime.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::project::SharedProject;

/// Hop-by-hop headers, which a proxy must not forward (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

pub async fn forward(State(project): State<SharedProject>, request: Request) -> Response {
    let Some(base) = project.functions_url.as_deref() else {
        return unavailable("Edge Functions are not running: start devstack with --functions-url");
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{}", base.trim_end_matches('/'), path_and_query);
    let (parts, body) = request.into_parts();
    let mut outgoing = project.http.request(parts.method, &url);
    for (name, value) in &parts.headers {
        if name != header::HOST && !HOP_BY_HOP.contains(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let body = reqwest::Body::wrap_stream(body.into_data_stream());
    match outgoing.body(body).send().await {
        Ok(upstream) => {
            let mut response = Response::builder().status(upstream.status());
            for (name, value) in upstream.headers() {
                if !HOP_BY_HOP.contains(name) {
                    response = response.header(name, value);
                }
            }
            response
                .body(Body::from_stream(upstream.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => {
            tracing::warn!(%url, "functions upstream failed: {e}");
            unavailable("Edge Functions are not reachable (is `wrangler dev` running?)")
        }
    }
}

fn unavailable(message: &str) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        axum::Json(json!({"code": "BOOT_ERROR", "message": message})),
    )
        .into_response()
}
