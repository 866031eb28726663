//! GoTrue's bound on every request (`GOTRUE_API_MAX_REQUEST_DURATION`, 10 s by default): a
//! request still running then is answered `504 request_timeout`, so a database that is stuck
//! or frozen never holds a client.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AuthError;
use super::validate::go_duration;

/// GoTrue's default.
const DEFAULT: Duration = Duration::from_secs(10);

/// `GOTRUE_API_MAX_REQUEST_DURATION` (a Go duration: `10s`, `1m30s`, `500ms`), else 10 s.
pub fn from_env() -> Duration {
    match std::env::var("GOTRUE_API_MAX_REQUEST_DURATION") {
        Err(_) => DEFAULT,
        Ok(value) => positive_duration(&value).unwrap_or_else(|| {
            tracing::warn!("GOTRUE_API_MAX_REQUEST_DURATION={value} is not a duration; using 10s");
            DEFAULT
        }),
    }
}

fn positive_duration(value: &str) -> Option<Duration> {
    go_duration(value.trim()).filter(|d| !d.is_zero())
}

/// The middleware: the rest of the stack's response, or GoTrue's timeout error after `limit`.
pub async fn bound(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    within(limit, next.run(request)).await
}

async fn within(limit: Duration, response: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, response).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("auth request still running after {limit:?}: answered 504");
            AuthError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "request_timeout",
                "Processing this request timed out, please retry after a moment.",
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_positive_go_durations() {
        assert_eq!(positive_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(positive_duration(" 1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(positive_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(positive_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(positive_duration("10"), None);
        assert_eq!(positive_duration("0s"), None);
        assert_eq!(positive_duration(""), None);
        assert_eq!(positive_duration("ten seconds"), None);
    }

    #[tokio::test]
    async fn a_request_past_the_limit_is_a_504_request_timeout() {
        let limit = Duration::from_millis(100);
        let started = std::time::Instant::now();
        let slow = within(limit, async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late".into_response()
        })
        .await;
        assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(started.elapsed() < Duration::from_secs(5));
        let body = axum::body::to_bytes(slow.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error_code"], "request_timeout");
        assert_eq!(body["code"], 504);
        let fast = within(limit, async { "ok".into_response() }).await;
        assert_eq!(fast.status(), StatusCode::OK);
    }
}
