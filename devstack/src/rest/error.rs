//! PostgREST's error responses: `{code, message, details, hint}` with its status for each
//! error, and the gateway's `{message}` for requests refused before PostgREST.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::query_parser::SyntaxError;
use super::schema_cache::{SchemaCache, closest_name};
use crate::gateway::GatewayError;
use crate::jwt::JwtError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    body: Value,
    www_authenticate: Option<String>,
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

impl ApiError {
    /// An error in PostgREST's shape.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        details: Option<&str>,
        hint: Option<&str>,
    ) -> Self {
        Self {
            status,
            body: json!({
                "code": code,
                "details": opt(details),
                "hint": opt(hint),
                "message": message.into(),
            }),
            www_authenticate: None,
        }
    }

    /// What the Supabase gateway answers when the API key is missing or wrong, or — for a
    /// bad JWT — what PostgREST answers.
    pub fn from_gateway(err: &GatewayError) -> Self {
        match err {
            GatewayError::MissingApiKey | GatewayError::InvalidApiKey => Self {
                status: StatusCode::UNAUTHORIZED,
                body: json!({ "message": err.to_string() }),
                www_authenticate: None,
            },
            GatewayError::BadJwt(jwt) => {
                let code = if *jwt == JwtError::Expired {
                    "PGRST303"
                } else {
                    "PGRST301"
                };
                let message = jwt.to_string();
                let mut e = Self::new(StatusCode::UNAUTHORIZED, code, &message, None, None);
                e.www_authenticate = Some(format!(
                    "Bearer error=\"invalid_token\", error_description=\"{message}\""
                ));
                e
            }
        }
    }

    /// A Postgres error, with PostgREST's SQLSTATE → HTTP status table. `anonymous` picks
    /// 401 over 403 for `42501` (insufficient privilege).
    pub fn from_db(err: &tokio_postgres::Error, anonymous: bool) -> Self {
        let Some(db) = err.as_db_error() else {
            tracing::error!("database connection error: {err}");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "PGRST001",
                "Database client error. Retrying the connection.",
                None,
                None,
            );
        };
        let code = db.code().code();
        let status = sqlstate_status(code, db.message(), anonymous);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::warn!("database error {code}: {}", db.message());
        }
        let mut e = Self::new(status, code, db.message(), db.detail(), db.hint());
        if status == StatusCode::UNAUTHORIZED {
            e.www_authenticate = Some("Bearer".to_owned());
        }
        e
    }

    /// A failure that is ours, not the client's: logged, and generic to the client.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!("{context}: {err}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PGRSTX00",
            "Internal server error",
            None,
            None,
        )
    }

    pub fn syntax(err: SyntaxError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            err.message,
            Some(&err.details),
            None,
        )
    }

    pub fn invalid_query_encoding() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            "The query string is not valid UTF-8",
            None,
            None,
        )
    }

    pub fn invalid_body(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PGRST102", message, None, None)
    }

    pub fn table_not_found(cache: &SchemaCache, schema: &str, table: &str) -> Self {
        let hint = closest_name(table, cache.table_names(schema))
            .map(|t| format!("Perhaps you meant the table '{schema}.{t}'"));
        Self::new(
            StatusCode::NOT_FOUND,
            "PGRST205",
            format!("Could not find the table '{schema}.{table}' in the schema cache"),
            None,
            hint.as_deref(),
        )
    }

    pub fn column_not_found(table: &str, column: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PGRST204",
            format!("Could not find the '{column}' column of '{table}' in the schema cache"),
            None,
            None,
        )
    }

    pub fn singular(rows: i64) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "PGRST116",
            "Cannot coerce the result to a single JSON object",
            Some(&format!("The result contains {rows} rows")),
            None,
        )
    }

    pub fn range_not_satisfiable(details: &str) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "PGRST103",
            "Requested range not satisfiable",
            Some(details),
            None,
        )
    }

    /// Postgres refuses NUL in text; say so the way Postgres would, without asking it.
    pub fn nul_byte() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "22021",
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            None,
            None,
        )
    }

    pub fn body_too_large() -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            body: json!({ "message": "Request body too large" }),
            www_authenticate: None,
        }
    }

    /// Replaces `details` with structured data (PGRST201 lists the candidate relationships).
    pub fn with_details(mut self, details: Value) -> Self {
        self.body["details"] = details;
        self
    }

    #[cfg(test)]
    pub fn body(&self) -> &Value {
        &self.body
    }
}

/// PostgREST's mapping (`mapSQLtoHTTP`); anything not listed is the client's fault: 400.
fn sqlstate_status(code: &str, message: &str, anonymous: bool) -> StatusCode {
    let s = |n: u16| StatusCode::from_u16(n).expect("valid status");
    match code {
        "23503" | "23505" => s(409),
        "25006" => s(405),
        "21000" if message.ends_with("requires a WHERE clause") => s(400),
        "21000" => s(500),
        "22023" if message.starts_with("role") && message.ends_with("does not exist") => s(401),
        "53400" => s(500),
        "57P01" => s(503),
        "P0001" => s(400),
        "42883" => s(404),
        "42P01" => s(404),
        "42P17" => s(500),
        "42501" if anonymous => s(401),
        "42501" => s(403),
        _ if code.starts_with("PT") => code[2..]
            .parse::<u16>()
            .ok()
            .and_then(|n| StatusCode::from_u16(n).ok())
            .unwrap_or(s(500)),
        _ => match &code[..2.min(code.len())] {
            "08" | "53" => s(503),
            "0L" | "0P" | "28" => s(403),
            "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0"
            | "HV" | "P0" | "XX" => s(500),
            _ => s(400),
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(value) = self
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_like_postgrest() {
        assert_eq!(sqlstate_status("23505", "", false), 409);
        assert_eq!(sqlstate_status("23503", "", false), 409);
        assert_eq!(sqlstate_status("23502", "", false), 400);
        assert_eq!(sqlstate_status("23514", "", false), 400);
        assert_eq!(sqlstate_status("22P02", "", false), 400);
        assert_eq!(sqlstate_status("P0001", "", false), 400);
        assert_eq!(sqlstate_status("42883", "", false), 404);
        assert_eq!(sqlstate_status("42P01", "", false), 404);
        assert_eq!(sqlstate_status("42501", "", true), 401);
        assert_eq!(sqlstate_status("42501", "", false), 403);
        assert_eq!(sqlstate_status("40001", "", false), 500);
        assert_eq!(sqlstate_status("08006", "", false), 503);
        assert_eq!(sqlstate_status("25006", "", false), 405);
        assert_eq!(sqlstate_status("PT402", "", false), 402);
        assert_eq!(sqlstate_status("XX000", "", false), 500);
        assert_eq!(
            sqlstate_status("22023", "role \"x\" does not exist", false),
            401
        );
    }

    #[test]
    fn jwt_errors_are_postgrest_401s() {
        let e = ApiError::from_gateway(&GatewayError::BadJwt(JwtError::Expired));
        assert_eq!(e.status, 401);
        assert_eq!(e.body()["code"], "PGRST303");
        assert_eq!(e.body()["message"], "JWT expired");
        assert_eq!(
            e.www_authenticate.as_deref(),
            Some("Bearer error=\"invalid_token\", error_description=\"JWT expired\"")
        );
        let e = ApiError::from_gateway(&GatewayError::MissingApiKey);
        assert_eq!(e.body(), &json!({"message": "No API key found in request"}));
    }
}
