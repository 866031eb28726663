//! Requests from a Worker to the project's Supabase Auth (GoTrue) API.

use edge_auth::{ApiKeyFormat, api_key_format};
use edge_http::ApiError;
use uuid::Uuid;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use crate::config::SupabaseConfig;
use crate::respond::internal_error;

/// Asks Auth for its current error body, `{code, message}` with a string `code`.
const AUTH_API_VERSION: &str = "2024-01-01";

/// Sends `method` to `{SUPABASE_URL}/auth/v1{path}` with `key` and returns Auth's status and
/// body. A legacy JWT key goes as `apikey` and bearer; an opaque `sb_…` key as `apikey` only
/// (it is not a JWT; Supabase's gateway maps it to its role). 502 when Auth cannot be reached.
pub async fn auth_request(
    config: &SupabaseConfig,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(u16, String), ApiError> {
    let build = || -> worker::Result<Request> {
        let headers = Headers::new();
        headers.set("apikey", key)?;
        if matches!(
            api_key_format(key),
            Some(ApiKeyFormat::LegacyJwt { .. }) | None
        ) {
            headers.set("authorization", &format!("Bearer {key}"))?;
        }
        headers.set("x-supabase-api-version", AUTH_API_VERSION)?;
        if body.is_some() {
            headers.set("content-type", "application/json")?;
        }
        if let Some(ua) = user_agent {
            headers.set("user-agent", ua)?;
        }
        let mut init = RequestInit::new();
        init.with_method(method)
            .with_headers(headers)
            .with_body(body.map(Into::into));
        Request::new_with_init(&format!("{}/auth/v1{path}", config.url), &init)
    };
    let request = build().map_err(|e| internal_error("building a Supabase Auth request", e))?;
    let mut response = Fetch::Request(request).send().await.map_err(|e| {
        worker::console_error!("Supabase Auth unreachable: {e}");
        ApiError::bad_gateway("Supabase Auth is not reachable")
    })?;
    let text = response.text().await.map_err(|e| {
        worker::console_error!("reading Supabase Auth's answer failed: {e}");
        ApiError::bad_gateway("Supabase Auth's answer could not be read")
    })?;
    Ok((response.status_code(), text))
}

/// `DELETE /auth/v1/admin/users/{id}` with the service key, to undo an account a failed flow
/// created. An account already gone counts as deleted. The error is for the log only: the
/// request has failed already and answers with its own error.
pub async fn delete_auth_user(config: &SupabaseConfig, id: Uuid) -> Result<(), String> {
    let path = format!("/admin/users/{id}");
    match auth_request(
        config,
        Method::Delete,
        &path,
        &config.service_role_key,
        None,
        None,
    )
    .await
    {
        Ok((200 | 204 | 404, _)) => Ok(()),
        Ok((status, text)) => Err(format!("Supabase Auth answered {status}: {text}")),
        Err(e) => Err(e.message().to_owned()),
    }
}
