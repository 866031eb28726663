//! `/functions/v1/*`: forwarded unchanged to the Workers under `wrangler dev`, as Supabase's
//! gateway forwards to its edge runtime. A path that would leave `/functions/v1` once the
//! functions server's URL parser has resolved it (`..`, `%2e%2e`, `%2f`, `\`) is answered as the
//! gateway answers a path no route matches, and never forwarded.

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
    if leaves_functions(request.uri().path()) {
        return no_route();
    }
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

/// Whether a `/functions/v1/…` path has a segment a URL parser resolves or splits: `.` or `..`
/// (also percent-encoded, in any case: the WHATWG parser reads `%2e` as `.`), an encoded `/`, or
/// a `\` (which the WHATWG parser reads as `/` in http URLs).
fn leaves_functions(path: &str) -> bool {
    let rest = path.strip_prefix("/functions/v1/").unwrap_or(path);
    rest.split('/').any(|segment| {
        let decoded = percent_decode(segment);
        matches!(decoded.as_slice(), b"." | b"..")
            || decoded.iter().any(|b| matches!(b, b'/' | b'\\'))
    })
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
    use super::leaves_functions;

    #[test]
    fn paths_that_stay_under_functions_v1_are_forwarded() {
        for path in [
            "/functions/v1/guest-signup",
            "/functions/v1/tenant-proxy/acme/rest/v1/orders",
            "/functions/v1/tenant-proxy/acme/rest/v1/a.b",
            "/functions/v1/tenant-proxy/acme/...",
            "/functions/v1/tenant-proxy/acme/%252e%252e",
            "/functions/v1/tenant-proxy/acme/%20x",
        ] {
            assert!(!leaves_functions(path), "{path}");
        }
    }

    #[test]
    fn dot_segments_and_separators_in_any_encoding_are_refused() {
        for path in [
            "/functions/v1/%2e%2e/%2e%2e/__scheduled",
            "/functions/v1/%2E%2E/__scheduled",
            "/functions/v1/.%2e/x",
            "/functions/v1/%2e./x",
            "/functions/v1/../__scheduled",
            "/functions/v1/guest-signup/../../__scheduled",
            "/functions/v1/./guest-signup",
            "/functions/v1/%2e",
            "/functions/v1/guest-signup%2f..%2f..%2f__scheduled",
            "/functions/v1/guest-signup%2F..",
            "/functions/v1/guest-signup%5c..%5c__scheduled",
            "/functions/v1/guest-signup\\..\\__scheduled",
        ] {
            assert!(leaves_functions(path), "{path}");
        }
    }
}
