//! Storage's error answers: a JSON body `{statusCode, code, error, message}` where `statusCode`
//! is the error's own status as a string, sent with HTTP 400 for every client error (Storage
//! answers its errors 400 unless they are its own 5xx, or a few it marks with another status:
//! 403 for a role refused outright, 413 and 415 for bodies it will not take, 404 for unknown
//! routes). Internal failures are logged and answered without their details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::jwt::JwtError;

pub type StorageResult<T> = Result<T, StorageError>;

#[derive(Debug)]
pub struct StorageError {
    /// The HTTP status of the response.
    status: StatusCode,
    /// The status the body names (`statusCode`).
    status_code: u16,
    code: &'static str,
    /// The body's `error`: the code unless the error has a legacy name of its own.
    error: &'static str,
    message: String,
}

impl StorageError {
    fn new(status_code: u16, code: &'static str, error: &'static str, message: String) -> Self {
        let status = if status_code >= 500 {
            StatusCode::from_u16(status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        } else {
            StatusCode::BAD_REQUEST
        };
        Self {
            status,
            status_code,
            code,
            error,
            message,
        }
    }

    /// Sent with its own status instead of 400.
    fn with_http_status(mut self) -> Self {
        self.status = StatusCode::from_u16(self.status_code).unwrap_or(StatusCode::BAD_REQUEST);
        self
    }

    #[cfg(test)]
    pub fn status_code(&self) -> u16 {
        self.status_code
    }

    pub fn no_such_bucket() -> Self {
        Self::new(
            404,
            "NoSuchBucket",
            "Bucket not found",
            "Bucket not found".into(),
        )
    }

    pub fn no_such_key() -> Self {
        Self::new(404, "NoSuchKey", "not_found", "Object not found".into())
    }

    pub fn bucket_not_empty() -> Self {
        Self::new(
            409,
            "ResourceNotEmpty",
            "ResourceNotEmpty",
            "The bucket you tried to delete is not empty".into(),
        )
    }

    pub fn already_exists() -> Self {
        Self::new(
            409,
            "ResourceAlreadyExists",
            "Duplicate",
            "The resource already exists".into(),
        )
    }

    pub fn key_already_exists() -> Self {
        Self::new(
            409,
            "KeyAlreadyExists",
            "Duplicate",
            "The resource already exists".into(),
        )
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", "Unauthorized", message.into())
    }

    /// A role the route does not serve at all (Storage's role check, sent as a real 403).
    pub fn role_refused(message: &str) -> Self {
        Self::access_denied(message).with_http_status()
    }

    /// A bearer token that does not verify, in the words of the JWT library Storage uses.
    pub fn bad_jwt(e: &JwtError) -> Self {
        Self::access_denied(jwt_message(e))
    }

    /// A signed URL's token that does not verify.
    pub fn invalid_jwt(e: &JwtError) -> Self {
        Self::new(400, "InvalidJWT", "InvalidJWT", jwt_message(e))
    }

    pub fn invalid_signature(message: &str) -> Self {
        Self::new(400, "InvalidSignature", "InvalidSignature", message.into())
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequest", "InvalidRequest", message.into())
    }

    pub fn invalid_key(key: &str) -> Self {
        Self::new(
            400,
            "InvalidKey",
            "InvalidKey",
            format!("Invalid key: {key}"),
        )
    }

    pub fn invalid_bucket_name() -> Self {
        Self::new(
            400,
            "InvalidBucketName",
            "Invalid Input",
            "Bucket name invalid".into(),
        )
    }

    pub fn invalid_mime_type(mime: &str) -> Self {
        Self::new(
            415,
            "InvalidMimeType",
            "invalid_mime_type",
            format!("mime type {mime} is not supported"),
        )
        .with_http_status()
    }

    pub fn entity_too_large() -> Self {
        Self::new(
            413,
            "EntityTooLarge",
            "Payload too large",
            "The object exceeded the maximum allowed size".into(),
        )
        .with_http_status()
    }

    pub fn invalid_range() -> Self {
        Self::new(
            400,
            "InvalidRange",
            "invalid_range",
            "invalid range provided".into(),
        )
    }

    pub fn no_content() -> Self {
        Self::new(
            400,
            "InvalidRequest",
            "InvalidRequest",
            "No content provided".into(),
        )
    }

    /// What Storage answers for a route it does not serve (image transformations, S3, TUS
    /// when disabled): its not-found handler, a real 404.
    pub fn route_not_found(method: &str, path: &str) -> Self {
        Self::new(
            404,
            "InvalidRequest",
            "Not Found",
            format!("Route {method}:{path} not found"),
        )
        .with_http_status()
    }

    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!("storage: {context}: {e}");
        Self::new(
            500,
            "InternalError",
            "internal",
            "Internal server error".into(),
        )
    }

    /// A Postgres error, by Storage's table: RLS and privileges refuse (403), duplicates
    /// conflict (409), a missing referenced row is a 404; the rest is a database error.
    pub fn from_db(e: &tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            return Self::internal("database", e);
        };
        match db.code().code() {
            "42501" => Self::access_denied(if db.message().contains("row-level security") {
                "new row violates row-level security policy".to_owned()
            } else {
                db.message().to_owned()
            }),
            "23505" => Self::already_exists(),
            "23503" => Self::new(
                404,
                "InvalidRequest",
                "InvalidRequest",
                "The related resource does not exist".into(),
            ),
            code => {
                tracing::warn!("storage: database error {code}: {}", db.message());
                Self::new(
                    500,
                    "DatabaseError",
                    "DatabaseError",
                    format!("database error, code: {code}"),
                )
            }
        }
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::from_db(&e)
    }
}

/// The `jsonwebtoken` (Node) library's messages, which Storage passes on.
fn jwt_message(e: &JwtError) -> String {
    match e {
        JwtError::Expired => "jwt expired".into(),
        JwtError::BadSignature => "invalid signature".into(),
        JwtError::Malformed(_) | JwtError::Undecodable => "jwt malformed".into(),
        other => other.to_string(),
    }
}

impl IntoResponse for StorageError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({
                "statusCode": self.status_code.to_string(),
                "code": self.code,
                "error": self.error,
                "message": self.message,
            })),
        )
            .into_response()
    }
}
