//! The JSON error answer: `{"error": "<human message>", "code": "<machine_code>"}`.

use std::borrow::Cow;
use std::fmt;

use edge_auth::AuthError;
use serde::Serialize;

/// An error answer. It carries only what the client may see: internal details belong in the
/// function's log line, never here ([`ApiError::internal`] has a fixed, generic message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    code: Cow<'static, str>,
    message: String,
    headers: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
}

impl ApiError {
    /// Any status, code and message.
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400: malformed or invalid input.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// 401: missing, invalid or expired credentials.
    pub fn unauthorized(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }

    /// 404 with code `not_found` (also for objects of other users).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 405 with an `Allow` header listing `allowed`.
    pub fn method_not_allowed(method: &str, allowed: &[&str]) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("method {method} is not allowed here"),
        )
        .with_header("allow", allowed.join(", "))
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// 410: the thing existed but is no longer usable (e.g. an expired invitation).
    pub fn gone(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(410, code, message)
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 429 with a `Retry-After` header.
    pub fn too_many_requests(retry_after_secs: u32) -> Self {
        Self::new(
            429,
            "rate_limited",
            format!("too many requests; retry after {retry_after_secs} seconds"),
        )
        .with_header("retry-after", retry_after_secs.to_string())
    }

    /// 502: an upstream answered badly or not at all.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(502, "bad_gateway", message)
    }

    /// 504: an upstream took too long.
    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(504, "gateway_timeout", message)
    }

    /// 500 with a fixed message: whatever went wrong stays in the logs.
    pub fn internal() -> Self {
        Self::new(500, "internal_error", "internal server error")
    }

    /// Adds a response header (lower-case name).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Machine code, e.g. `token_expired`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Extra response headers (`allow`, `retry-after`), besides `content-type: application/json`.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(&Body {
            error: &self.message,
            code: &self.code,
        })
        .expect("two strings always serialize")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// 401 (503 for unavailable keys) with the auth error's own code and message.
impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        Self::new(err.status(), err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_exactly_error_and_code() {
        let err = ApiError::forbidden("guest_not_allowed", r#"guests may not "save""#);
        assert_eq!(err.status(), 403);
        assert_eq!(
            err.body(),
            r#"{"error":"guests may not \"save\"","code":"guest_not_allowed"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&err.body()).unwrap();
        assert_eq!(parsed.as_object().unwrap().len(), 2);
    }

    #[test]
    fn constructors_set_status_code_and_headers() {
        let cases = [
            (
                ApiError::bad_request("invalid_body", "x"),
                400,
                "invalid_body",
            ),
            (
                ApiError::unauthorized("missing_api_key", "x"),
                401,
                "missing_api_key",
            ),
            (ApiError::not_found("no such connection"), 404, "not_found"),
            (
                ApiError::method_not_allowed("PUT", &["GET", "POST"]),
                405,
                "method_not_allowed",
            ),
            (
                ApiError::conflict("already_linked", "x"),
                409,
                "already_linked",
            ),
            (
                ApiError::gone("invitation_expired", "x"),
                410,
                "invitation_expired",
            ),
            (ApiError::payload_too_large(1024), 413, "payload_too_large"),
            (ApiError::too_many_requests(30), 429, "rate_limited"),
            (
                ApiError::bad_gateway("tenant unreachable"),
                502,
                "bad_gateway",
            ),
            (
                ApiError::gateway_timeout("tenant too slow"),
                504,
                "gateway_timeout",
            ),
            (ApiError::internal(), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code));
        }
        let allow = ApiError::method_not_allowed("PUT", &["GET", "POST"]);
        assert_eq!(allow.headers(), [("allow", "GET, POST".to_owned())]);
        assert_eq!(
            ApiError::too_many_requests(30).headers(),
            [("retry-after", "30".to_owned())]
        );
        assert_eq!(ApiError::internal().message(), "internal server error");
    }

    #[test]
    fn auth_errors_keep_their_code() {
        let err = ApiError::from(AuthError::Expired);
        assert_eq!((err.status(), err.code()), (401, "token_expired"));
        assert_eq!(err.message(), "access token has expired");
        assert_eq!(ApiError::from(AuthError::KeysUnavailable).status(), 503);
    }
}
