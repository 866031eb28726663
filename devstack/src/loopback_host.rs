//! Every devstack port answers only requests addressed to a loopback host, so that a web page on
//! another site cannot reach the stack through DNS rebinding (its requests carry that site's
//! name in `Host`). Allowed: `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Refuses (`403 host_not_allowed`) a request whose `Host` (or, in HTTP/2, `:authority`) is
/// missing or not a loopback host.
pub async fn require_loopback_host(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(is_loopback_host) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({
            "code": "host_not_allowed",
            "message": "devstack answers requests to 127.0.0.1, localhost or [::1] only",
        })),
    )
        .into_response()
}

/// Whether a `Host` value names a loopback host.
fn is_loopback_host(value: &str) -> bool {
    let Ok(authority) = value.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    let host = authority.host();
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        None => host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts_with_or_without_a_port() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:54321",
            "127.1.2.3:80",
            "localhost",
            "LocalHost:54321",
            "[::1]",
            "[::1]:54321",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for host in [
            "evil.example",
            "evil.example:54321",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "0.0.0.0",
            "10.0.0.1:54321",
            "[::2]",
            "[::ffff:127.0.0.1]",
            "2130706433",
            "0x7f.0.0.1",
            "user@127.0.0.1",
            "",
            "127.0.0.1:54321/x",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
