//! `/functions/v1/*`: forwarded to the Workers under `wrangler dev`, as Supabase's gateway
//! forwards to its edge runtime. Like Kong, the gateway first resolves dot segments (`.`, `..`,
//! also percent-encoded as `%2e`, which the functions server's URL parser would resolve too): a
//! path that then still lies under `/functions/v1/` is forwarded resolved, anything else (and any
//! raw `\`, which that parser reads as `/`) is answered as an unrouted path and never forwarded.
//! An encoded `/` or `\` stays inside its segment, as Kong and the WHATWG parser keep it, and the
//! function answers for it (tenant-proxy's 400 for `..%2F..` in a table name).

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
    let Some(path) = resolved_functions_path(request.uri().path()) else {
        return no_route();
    };
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let url = format!("{}{path}{query}", base.trim_end_matches('/'));
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

/// The path with its dot segments resolved (RFC 3986 §5.2.4, a segment counting as `.` or `..`
/// also percent-encoded, in any case), when it still lies under `/functions/v1/`; `None` for any
/// other, or for a raw `\\`.
fn resolved_functions_path(path: &str) -> Option<String> {
    if path.contains('\\') {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, segment) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        match percent_decode(segment).as_slice() {
            b"." => {}
            b".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
        // A final `.` or `..` leaves the path ending in `/`, as RFC 3986 resolves it.
        if last && matches!(percent_decode(segment).as_slice(), b"." | b"..") {
            segments.push("");
        }
    }
    let resolved = format!("/{}", segments.join("/"));
    resolved.starts_with("/functions/v1/").then_some(resolved)
}

/// `%XX` decoded once; anything else kept as it is.
fn percent_decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// What the Supabase gateway (Kong) answers for a path that matches none of its routes.
fn no_route() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "no Route matched with those values"})),
    )
        .into_response()
}

fn unavailable(message: &str) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        axum::Json(json!({"code": "BOOT_ERROR", "message": message})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::resolved_functions_path;

    #[test]
    fn paths_under_functions_v1_are_forwarded_resolved() {
        for (path, resolved) in [
            ("/functions/v1/guest-signup", "/functions/v1/guest-signup"),
            (
                "/functions/v1/tenant-proxy/acme/rest/v1/a.b",
                "/functions/v1/tenant-proxy/acme/rest/v1/a.b",
            ),
            (
                "/functions/v1/tenant-proxy/acme/...",
                "/functions/v1/tenant-proxy/acme/...",
            ),
            (
                "/functions/v1/tenant-proxy/acme/%252e%252e",
                "/functions/v1/tenant-proxy/acme/%252e%252e",
            ),
            ("/functions/v1/./guest-signup", "/functions/v1/guest-signup"),
            (
                "/functions/v1/tenant-proxy/acme/rest/v1/%2e%2e/%2E%2E/auth/v1/admin/users",
                "/functions/v1/tenant-proxy/acme/auth/v1/admin/users",
            ),
            // Encoded separators stay inside their segment: the function answers for them.
            (
                "/functions/v1/tenant-proxy/acme/rest/v1/..%2F..%2Fauth%2Fv1",
                "/functions/v1/tenant-proxy/acme/rest/v1/..%2F..%2Fauth%2Fv1",
            ),
            (
                "/functions/v1/guest-signup%2f..%2f__scheduled",
                "/functions/v1/guest-signup%2f..%2f__scheduled",
            ),
            (
                "/functions/v1/guest-signup%5c..%5c__scheduled",
                "/functions/v1/guest-signup%5c..%5c__scheduled",
            ),
        ] {
            assert_eq!(
                resolved_functions_path(path).as_deref(),
                Some(resolved),
                "{path}"
            );
        }
    }

    #[test]
    fn paths_that_resolve_outside_functions_v1_are_refused() {
        for path in [
            "/functions/v1/%2e%2e/%2e%2e/__scheduled",
            "/functions/v1/%2E%2E/__scheduled",
            "/functions/v1/.%2e/x",
            "/functions/v1/%2e./x",
            "/functions/v1/../__scheduled",
            "/functions/v1/guest-signup/../../__scheduled",
            "/functions/v1/..",
            "/functions/v1/guest-signup\\..\\__scheduled",
        ] {
            assert_eq!(resolved_functions_path(path), None, "{path}");
        }
    }
}
