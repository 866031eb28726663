//! GoTrue's error responses.
//!
//! GoTrue answers in one of two shapes, chosen by the request's `X-Supabase-Api-Version` header:
//! without it (or before 2024-01-01) `{"code": <status>, "error_code": "...", "msg": "..."}`
//! plus an `x-sb-error-code` header; from 2024-01-01 on `{"code": "...", "message": "..."}` with
//! the version echoed back. auth-js sends `2024-01-01` and reads `code` only when the response
//! carries that header, so both shapes matter.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// The only dated API version GoTrue knows.
const API_VERSION_2024_01_01: &str = "2024-01-01";

/// An error as GoTrue reports it: a status, a machine code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub message: String,
    /// Set only for `weak_password`: which rules the password broke.
    pub weak_password_reasons: Vec<&'static str>,
}

pub type AuthResult<T> = Result<T, AuthError>;

impl AuthError {
    pub fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            message: message.into(),
            weak_password_reasons: Vec::new(),
        }
    }

    pub fn bad_request(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error_code, message)
    }

    pub fn forbidden(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, error_code, message)
    }

    pub fn not_found(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error_code, message)
    }

    pub fn unprocessable(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, error_code, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request("validation_failed", message)
    }

    /// A server-side failure; the cause goes to the log, never to the client.
    pub fn internal(message: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!("auth: {message}: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            message,
        )
    }

    pub fn weak_password(message: String, reasons: Vec<&'static str>) -> Self {
        Self {
            weak_password_reasons: reasons,
            ..Self::unprocessable("weak_password", message)
        }
    }

    /// The body GoTrue sends to clients that ask for no API version.
    fn legacy_body(&self) -> Value {
        let mut body = json!({
            "code": self.status.as_u16(),
            "error_code": self.error_code,
            "msg": self.message,
        });
        self.add_weak_password(&mut body);
        body
    }

    /// The body GoTrue sends to clients that ask for API version 2024-01-01.
    fn dated_body(&self) -> Value {
        let mut body = json!({"code": self.error_code, "message": self.message});
        self.add_weak_password(&mut body);
        body
    }

    fn add_weak_password(&self, body: &mut Value) {
        if !self.weak_password_reasons.is_empty() {
            body["weak_password"] = json!({"reasons": self.weak_password_reasons});
        }
    }
}

impl From<tokio_postgres::Error> for AuthError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::internal("Database error", e)
    }
}

impl From<deadpool_postgres::PoolError> for AuthError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::internal("Database connection error", e)
    }
}

impl IntoResponse for AuthError {
    /// Renders the legacy shape; [`apply_api_version`] swaps it for the dated one when asked.
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.legacy_body())).into_response();
        if let Ok(code) = HeaderValue::from_str(self.error_code) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-sb-error-code"), code);
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// Whether a request's `X-Supabase-Api-Version` selects the 2024-01-01 error shape
/// (any valid date on or after it does; anything unparsable falls back to the initial shape).
pub fn wants_dated_errors(header: Option<&str>) -> bool {
    let Some(date) = header.map(str::trim) else {
        return false;
    };
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .is_ok_and(|d| d >= chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date"))
}

/// Middleware: re-renders [`AuthError`] responses in the shape the request's API version asks for.
pub async fn apply_api_version(request: Request, next: Next) -> Response {
    let dated = wants_dated_errors(
        request
            .headers()
            .get(API_VERSION_HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    let response = next.run(request).await;
    if !dated {
        return response;
    }
    let Some(error) = response.extensions().get::<AuthError>().cloned() else {
        return response;
    };
    let mut dated_response = (error.status, axum::Json(error.dated_body())).into_response();
    let headers = dated_response.headers_mut();
    headers.insert(
        HeaderName::from_static(API_VERSION_HEADER),
        HeaderValue::from_static(API_VERSION_2024_01_01),
    );
    if let Some(code) = response.headers().get("x-sb-error-code") {
        headers.insert(HeaderName::from_static("x-sb-error-code"), code.clone());
    }
    dated_response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_shape_has_numeric_code_and_msg() {
        let e = AuthError::bad_request("invalid_credentials", "Invalid login credentials");
        assert_eq!(
            e.legacy_body(),
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        );
    }

    #[test]
    fn dated_shape_has_string_code_and_message() {
        let e = AuthError::weak_password(
            "Password should be at least 6 characters.".into(),
            vec!["length"],
        );
        assert_eq!(
            e.dated_body(),
            json!({
                "code": "weak_password",
                "message": "Password should be at least 6 characters.",
                "weak_password": {"reasons": ["length"]},
            })
        );
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn api_version_header_parsing() {
        assert!(!wants_dated_errors(None));
        assert!(!wants_dated_errors(Some("not-a-date")));
        assert!(!wants_dated_errors(Some("2023-12-31")));
        assert!(wants_dated_errors(Some("2024-01-01")));
        assert!(wants_dated_errors(Some("2025-06-30")));
    }
}
