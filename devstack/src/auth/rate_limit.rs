//! GoTrue's per-client request limits on the endpoints that check a secret: `/verify`
//! (`GOTRUE_RATE_LIMIT_VERIFY`, the CLI's `token_verifications = 30`) and `/token`
//! (`GOTRUE_RATE_LIMIT_TOKEN_REFRESH`, the CLI's `token_refresh = 150`), each so many requests
//! per 5 minutes with a burst of 30, as GoTrue's token buckets. Without them a mailed 6-digit
//! code could be guessed within its hour. Over the limit: `429 over_request_rate_limit`.
//!
//! A client is the value of the `GOTRUE_RATE_LIMIT_HEADER` request header when that is set (as
//! behind the hosted platform's proxy), else the connection's peer address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AuthError;

/// GoTrue's bucket size for every per-client limit.
const BURST: f64 = 30.0;
/// The window GoTrue's rates are given per.
const PER: Duration = Duration::from_secs(5 * 60);
/// Past this many tracked clients, those whose bucket has refilled are forgotten.
const PRUNE_AT: usize = 10_000;

/// One limit: a token bucket per client.
#[derive(Clone)]
pub struct Limiter {
    per_second: f64,
    key_header: Option<String>,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    fn new(per_window: f64, key_header: Option<String>) -> Self {
        Self {
            per_second: per_window / PER.as_secs_f64(),
            key_header,
            buckets: Arc::default(),
        }
    }

    /// The `/verify` limit from `GOTRUE_RATE_LIMIT_VERIFY` (30 per 5 minutes).
    pub fn verify_from_env() -> Self {
        Self::from_env("GOTRUE_RATE_LIMIT_VERIFY", 30.0)
    }

    /// The `/token` limit from `GOTRUE_RATE_LIMIT_TOKEN_REFRESH` (150 per 5 minutes).
    pub fn token_from_env() -> Self {
        Self::from_env("GOTRUE_RATE_LIMIT_TOKEN_REFRESH", 150.0)
    }

    fn from_env(name: &str, default: f64) -> Self {
        let rate = match std::env::var(name) {
            Err(_) => default,
            Ok(v) => v.trim().parse().unwrap_or_else(|_| {
                tracing::warn!("{name}={v} is not a number; using {default}");
                default
            }),
        };
        let header = std::env::var("GOTRUE_RATE_LIMIT_HEADER")
            .ok()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        Self::new(rate, header)
    }

    /// Takes one request's token from `client`'s bucket; false when it is empty.
    fn admit(&self, client: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_AT {
            let per_second = self.per_second;
            buckets.retain(|_, b| b.refilled(per_second, now) < BURST);
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        let tokens = bucket.refilled(self.per_second, now);
        let admitted = tokens >= 1.0;
        *bucket = Bucket {
            tokens: if admitted { tokens - 1.0 } else { tokens },
            at: now,
        };
        admitted
    }

    /// Who sent `request`; none when the configured header is missing (GoTrue then does not
    /// limit it, and logs so).
    fn client_of(&self, request: &Request) -> Option<String> {
        if let Some(header) = &self.key_header {
            let value = request.headers().get(header.as_str());
            let client = value
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty());
            if client.is_none() {
                tracing::warn!("request without {header}: rate limiting is not applied");
            }
            return client.map(str::to_owned);
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
    }

    /// Whether `request` may go on.
    fn admits(&self, request: &Request) -> bool {
        self.client_of(request)
            .is_none_or(|client| self.admit(&client, Instant::now()))
    }
}

impl Bucket {
    fn refilled(self, per_second: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * per_second).min(BURST)
    }
}

/// GoTrue's answer over a limit.
fn over_limit() -> Response {
    AuthError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "over_request_rate_limit",
        "Request rate limit reached",
    )
    .into_response()
}

/// The middleware for a route every request of which counts (`/verify`).
pub async fn limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    if !limiter.admits(&request) {
        return over_limit();
    }
    next.run(request).await
}

/// The middleware for `/token`: GoTrue counts the grants it serves, after refusing an unknown
/// `grant_type`.
pub async fn limit_token_grants(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let served_grant = request.uri().query().is_some_and(|query| {
        url_query_grant(query).is_some_and(|g| matches!(g, "password" | "refresh_token" | "pkce"))
    });
    if served_grant && !limiter.admits(&request) {
        return over_limit();
    }
    next.run(request).await
}

fn url_query_grant(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("grant_type="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_thirty_then_one_per_refill_interval() {
        let limiter = Limiter::new(30.0, None);
        let start = Instant::now();
        for _ in 0..30 {
            assert!(limiter.admit("1.2.3.4", start));
        }
        assert!(!limiter.admit("1.2.3.4", start));
        assert!(
            limiter.admit("5.6.7.8", start),
            "another client has its own"
        );
        // 30 per 5 minutes: one more every 10 seconds.
        assert!(!limiter.admit("1.2.3.4", start + Duration::from_secs(9)));
        assert!(limiter.admit("1.2.3.4", start + Duration::from_secs(10)));
        assert!(!limiter.admit("1.2.3.4", start + Duration::from_secs(10)));
        assert!(limiter.admit("1.2.3.4", start + PER));
    }

    #[test]
    fn the_grant_type_is_read_from_the_query() {
        assert_eq!(url_query_grant("grant_type=password"), Some("password"));
        assert_eq!(url_query_grant("a=1&grant_type=pkce"), Some("pkce"));
        assert_eq!(url_query_grant("a=1"), None);
    }
}
